#!/usr/bin/env bash
# A local 3-node RabbitMQ cluster on 127.0.0.1 for the recovery tests.
#
#   utils/cluster.sh start         install rabbitmq-server if missing, start
#                                  the three nodes, join them, wait for them
#   utils/cluster.sh stop          stop every node and delete the cluster's state
#   utils/cluster.sh status        say which nodes answer AMQP and who is clustered
#   utils/cluster.sh stop-node N   stop node N (1-3) cleanly (rabbitmqctl stop)
#   utils/cluster.sh kill-node N   kill node N's Erlang VM (SIGKILL, no goodbye)
#   utils/cluster.sh start-node N  start node N again; it rejoins the cluster
#   utils/cluster.sh ports         print the AMQP ports, one line: 5681 5682 5683
#
# Node N is pika-cN@localhost, AMQP on 127.0.0.1:$((PIKA_CLUSTER_BASE_PORT+N))
# (5681-5683 by default), Erlang distribution on 25681-25683; guest/guest works
# from 127.0.0.1. Each node keeps its state and logs in
# $PIKA_CLUSTER_DIR/nodeN (default /tmp/pika-test-cluster). The nodes share the
# rabbitmq user's Erlang cookie, so this cluster can run beside the single
# test broker of utils/broker.sh (which uses other ports and another name).
#
# Environment (all optional): PIKA_CLUSTER_DIR, PIKA_CLUSTER_BASE_PORT (5680),
# PIKA_CLUSTER_START_TIMEOUT (seconds per node, 120).
# Needs root: to install the package and to run the nodes as user rabbitmq.

set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"

HOST=127.0.0.1
CLUSTER_DIR=${PIKA_CLUSTER_DIR:-/tmp/pika-test-cluster}
BASE_PORT=${PIKA_CLUSTER_BASE_PORT:-5680}
START_TIMEOUT=${PIKA_CLUSTER_START_TIMEOUT:-120}
NODES=(1 2 3)

log() { echo "cluster.sh: $*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

node_name() { echo "pika-c$1@localhost"; }
node_port() { echo $((BASE_PORT + $1)); }
node_dir() { echo "$CLUSTER_DIR/node$1"; }

check_node_arg() {
    case "${1:-}" in
    1 | 2 | 3) ;;
    *) die "node number must be 1, 2 or 3 (got '${1:-}')" ;;
    esac
}

# tcp_open PORT: true when something accepts TCP connections on HOST:PORT.
tcp_open() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# amqp_ok PORT: the broker on PORT sends Connection.Start after the header.
amqp_ok() {
    python3 - "$HOST" "$1" <<'PYEOF'
import socket
import sys

try:
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    sock.sendall(b'AMQP\x00\x00\x09\x01')
    data = sock.recv(64)
    sock.close()
except OSError:
    sys.exit(1)
sys.exit(0 if data[:1] == b'\x01' and data[7:11] == b'\x00\x0a\x00\x0a' else 1)
PYEOF
}

ensure_installed() {
    command -v rabbitmq-server >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || die "rabbitmq-server is not installed and this is not root"
    log "installing rabbitmq-server with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    if ! "${apt[@]}" rabbitmq-server </dev/null; then
        apt-get update -q </dev/null || die "apt-get update failed"
        "${apt[@]}" rabbitmq-server </dev/null || die "apt-get install rabbitmq-server failed"
    fi
}

# ctl N ARGS...: rabbitmqctl against node N.
ctl() {
    local n=$1
    shift
    rabbitmqctl -q -n "$(node_name "$n")" "$@" </dev/null
}

write_node_config() {
    local n=$1 dir
    dir=$(node_dir "$n")
    mkdir -p "$dir/mnesia" "$dir/log"
    cat >"$dir/rabbitmq.conf" <<EOF
# Written by utils/cluster.sh; rewritten on every start of this node.
listeners.tcp.1 = $HOST:$(node_port "$n")
loopback_users = none
cluster_name = pika-test-cluster
cluster_partition_handling = pause_minority
# Small test machine: do not refuse publishes because of a full disk or a
# busy memory watermark that a 3-node cluster next to the test suite reaches.
disk_free_limit.absolute = 50MB
vm_memory_high_watermark.relative = 0.8
EOF
    echo '[].' >"$dir/enabled_plugins"
    chown -R rabbitmq: "$dir" 2>/dev/null || true
}

launch_node() {
    local n=$1 dir
    dir=$(node_dir "$n")
    write_node_config "$n"
    log "starting $(node_name "$n") on $HOST:$(node_port "$n")"
    # Detached (own session, no inherited stdio) so that it outlives this
    # script and never holds a CI pipe open.
    env -u RABBITMQ_NODE_IP_ADDRESS \
        RABBITMQ_NODENAME="$(node_name "$n")" \
        RABBITMQ_NODE_PORT="$(node_port "$n")" \
        RABBITMQ_DIST_PORT=$((20000 + $(node_port "$n"))) \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$dir/mnesia" \
        RABBITMQ_LOG_BASE="$dir/log" \
        RABBITMQ_PID_FILE="$dir/node.pid" \
        setsid nohup rabbitmq-server >"$dir/server.log" 2>&1 </dev/null 8>&- 9>&- &
}

wait_node() {
    local n=$1 deadline=$((SECONDS + START_TIMEOUT))
    until amqp_ok "$(node_port "$n")"; do
        if [ $SECONDS -ge $deadline ]; then
            tail -n 30 "$(node_dir "$n")/server.log" >&2 || true
            die "$(node_name "$n") did not answer AMQP on $HOST:$(node_port "$n") within ${START_TIMEOUT}s"
        fi
        sleep 1
    done
    log "$(node_name "$n") answers on $HOST:$(node_port "$n")"
}

# running_nodes: the cluster's running members as node 1 (or the first
# reachable node) sees them.
running_nodes() {
    local n
    for n in "${NODES[@]}"; do
        if amqp_ok "$(node_port "$n")"; then
            ctl "$n" eval 'io:format("~p~n", [rabbit_nodes:all_running()]).' 2>/dev/null | head -n 1
            return 0
        fi
    done
    return 1
}

joined() { # joined N: node N is a member of node 1's cluster
    ctl 1 eval 'io:format("~p~n", [rabbit_nodes:all()]).' 2>/dev/null | grep -q "pika-c$1@localhost"
}

# wait_all_running: node 1 sees all three nodes running (a quorum queue
# declared before that would get fewer members).
wait_all_running() {
    local deadline=$((SECONDS + START_TIMEOUT)) count
    while true; do
        count=$(ctl 1 eval 'io:format("~p~n", [length(rabbit_nodes:all_running())]).' 2>/dev/null | head -n 1 || true)
        [ "$count" = 3 ] && return 0
        [ $SECONDS -lt $deadline ] || die "only ${count:-?} of 3 nodes running after ${START_TIMEOUT}s"
        sleep 1
    done
}

do_start() {
    ensure_installed
    [ "$(id -u)" = 0 ] || die "starting the cluster needs root"
    mkdir -p "$CLUSTER_DIR"
    chmod 755 "$CLUSTER_DIR"
    local n
    for n in "${NODES[@]}"; do
        if amqp_ok "$(node_port "$n")"; then
            log "$(node_name "$n") already answers on $HOST:$(node_port "$n")"
        else
            launch_node "$n"
        fi
    done
    for n in "${NODES[@]}"; do
        wait_node "$n"
    done
    for n in 2 3; do
        if joined "$n"; then
            continue
        fi
        log "joining $(node_name "$n") to $(node_name 1)"
        # rabbitmqctl logs harmless start-up chatter here: keep it in a file.
        local joinlog
        joinlog="$(node_dir "$n")/join.log"
        { ctl "$n" stop_app && ctl "$n" reset &&
            ctl "$n" join_cluster "$(node_name 1)" && ctl "$n" start_app; } >"$joinlog" 2>&1 ||
            { cat "$joinlog" >&2; die "joining $(node_name "$n") failed"; }
        wait_node "$n"
    done
    for n in "${NODES[@]}"; do
        joined "$n" || die "$(node_name "$n") is not a cluster member after joining"
    done
    wait_all_running
    log "cluster running: $(running_nodes)"
}

node_os_pid() {
    local pidfile
    pidfile="$(node_dir "$1")/node.pid"
    [ -s "$pidfile" ] && cat "$pidfile"
}

do_stop_node() {
    local n=$1
    if ! tcp_open "$(node_port "$n")" && [ -z "$(node_os_pid "$n" || true)" ]; then
        log "$(node_name "$n") is not running"
        return 0
    fi
    log "stopping $(node_name "$n")"
    if ! timeout 60 rabbitmqctl -q -n "$(node_name "$n")" stop </dev/null >/dev/null 2>&1; then
        do_kill_node "$n"
    fi
    local deadline=$((SECONDS + 60))
    while tcp_open "$(node_port "$n")"; do
        [ $SECONDS -lt $deadline ] || die "$(node_name "$n") still listens after 60s"
        sleep 0.5
    done
}

do_kill_node() {
    local n=$1 pid
    pid=$(node_os_pid "$n" || true)
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        log "$(node_name "$n") has no running VM to kill"
        return 0
    fi
    log "killing $(node_name "$n") (pid $pid)"
    kill -KILL "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null || tcp_open "$(node_port "$n")"; do
        [ $SECONDS -lt $deadline ] || die "$(node_name "$n") still alive 30s after SIGKILL"
        sleep 0.2
    done
}

do_start_node() {
    local n=$1
    if amqp_ok "$(node_port "$n")"; then
        log "$(node_name "$n") already answers"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "starting a node needs root"
    launch_node "$n"
    wait_node "$n"
    wait_all_running
}

do_stop() {
    local n
    for n in 3 2 1; do
        do_stop_node "$n"
    done
    rm -rf "$CLUSTER_DIR"
    log "stopped; state removed"
}

do_status() {
    local n rc=0
    for n in "${NODES[@]}"; do
        if amqp_ok "$(node_port "$n")"; then
            log "$(node_name "$n"): AMQP answers on $HOST:$(node_port "$n")"
        else
            log "$(node_name "$n"): not answering on $HOST:$(node_port "$n")"
            rc=3
        fi
    done
    log "running members: $(running_nodes || echo none)"
    return $rc
}

# Serialise commands that change the cluster between concurrent callers.
case "${1:-}" in
status | ports) ;;
*)
    exec 9>"${CLUSTER_DIR%/}.lock"
    flock -w 600 9 || die "another utils/cluster.sh holds ${CLUSTER_DIR%/}.lock"
    ;;
esac

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
status) do_status ;;
ports) echo "$(node_port 1) $(node_port 2) $(node_port 3)" ;;
stop-node)
    check_node_arg "${2:-}"
    do_stop_node "$2"
    ;;
kill-node)
    check_node_arg "${2:-}"
    do_kill_node "$2"
    ;;
start-node)
    check_node_arg "${2:-}"
    do_start_node "$2"
    ;;
*)
    echo "usage: $0 {start|stop|status|ports|stop-node N|kill-node N|start-node N}" >&2
    exit 2
    ;;
esac
