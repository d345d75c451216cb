#!/usr/bin/env bash
# Manage the local RabbitMQ broker that the integration tests and the demo use.
#
#   utils/broker.sh start     install rabbitmq-server if missing, start it if
#                             nothing listens on 127.0.0.1:5672, wait for it
#   utils/broker.sh stop      stop the broker listening on the AMQP port
#   utils/broker.sh restart   stop, then start with this script's configuration
#   utils/broker.sh status    say what answers on the AMQP and AMQPS ports
#
# The broker this script starts listens on 127.0.0.1 only:
#   5672  AMQP 0-9-1, guest/guest usable from 127.0.0.1
#   5671  AMQP over TLS (verify_peer, client certificate optional); EXTERNAL
#         authentication with the client certificate (CN -> broker user)
# Its configuration, state and test certificates live in $PIKA_BROKER_DIR
# (default /tmp/pika-test-broker). The certificates are generated with openssl
# on first start (never committed) into $PIKA_TEST_CERTS_DIR (default
# $PIKA_BROKER_DIR/certs):
#   ca_certificate.pem  ca_key.pem
#   server_certificate.pem  server_key.pem   (CN=localhost, SAN 127.0.0.1)
#   client_certificate.pem  client_key.pem   (CN=$PIKA_TEST_CLIENT_CN)
#
# Environment (all optional):
#   PIKA_TEST_PORT (5672), PIKA_TEST_TLS_PORT (5671), PIKA_BROKER_DIR,
#   PIKA_TEST_CERTS_DIR, PIKA_TEST_CLIENT_CN (pika-test-client),
#   PIKA_BROKER_START_TIMEOUT (seconds, 120), RABBITMQ_NODENAME.
#
# `start` never touches a broker that already answers on the AMQP port; if
# that broker has no TLS listener it says so, and `restart` reconfigures it.
# Needs root to install the package and to start the server (it runs as the
# rabbitmq user). systemd is not used: the server runs in the background.

set -euo pipefail

export PATH="$PATH:/usr/sbin:/sbin"

HOST=127.0.0.1
PORT=${PIKA_TEST_PORT:-5672}
TLS_PORT=${PIKA_TEST_TLS_PORT:-5671}
BROKER_DIR=${PIKA_BROKER_DIR:-/tmp/pika-test-broker}
CERTS_DIR=${PIKA_TEST_CERTS_DIR:-$BROKER_DIR/certs}
CLIENT_CN=${PIKA_TEST_CLIENT_CN:-pika-test-client}
START_TIMEOUT=${PIKA_BROKER_START_TIMEOUT:-120}
STOP_TIMEOUT=60

log() { echo "broker.sh: $*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

# The Erlang node name must resolve; fall back to localhost when the host
# name does not (fresh containers sometimes lack it in /etc/hosts).
if [ -z "${RABBITMQ_NODENAME:-}" ] && ! getent hosts "$(hostname -s 2>/dev/null || echo x)" >/dev/null 2>&1; then
    export RABBITMQ_NODENAME=rabbit@localhost
fi
# A node on non-default ports also needs its own distribution port.
if [ "$PORT" != 5672 ] && [ -z "${RABBITMQ_DIST_PORT:-}" ]; then
    export RABBITMQ_DIST_PORT=$((PORT + 20000))
fi

# ---------------------------------------------------------------- probes

# tcp_open PORT: true when something accepts TCP connections on HOST:PORT.
tcp_open() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# amqp_probe PORT [tls]: send the AMQP 0-9-1 protocol header and expect the
# broker's Connection.Start method frame back. With "tls", connect with TLS,
# verify the server against our CA and present the client certificate.
amqp_probe() {
    local port=$1 mode=${2:-plain}
    python3 - "$HOST" "$port" "$mode" "$CERTS_DIR" <<'PYEOF'
import os
import socket
import ssl
import struct
import sys

host, port, mode, certs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
try:
    sock = socket.create_connection((host, port), timeout=5)
    if mode == 'tls':
        ctx = ssl.create_default_context(
            cafile=os.path.join(certs, 'ca_certificate.pem'))
        ctx.load_cert_chain(os.path.join(certs, 'client_certificate.pem'),
                            os.path.join(certs, 'client_key.pem'))
        sock = ctx.wrap_socket(sock, server_hostname=host)
    sock.sendall(b'AMQP\x00\x00\x09\x01')
    data = b''
    while len(data) < 7 or len(data) < 8 + struct.unpack('>I', data[3:7])[0]:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
except (OSError, ssl.SSLError) as exc:
    print('%s:%d: %s' % (host, port, exc), file=sys.stderr)
    sys.exit(1)
if len(data) < 12 or data[0] != 1 or data[7 + struct.unpack('>I', data[3:7])[0]] != 0xCE:
    print('%s:%d: no AMQP Connection.Start (got %r)' % (host, port, data[:16]),
          file=sys.stderr)
    sys.exit(1)
class_id, method_id = struct.unpack('>HH', data[7:11])
if (class_id, method_id) != (10, 10):
    print('%s:%d: unexpected method %d.%d' % (host, port, class_id, method_id),
          file=sys.stderr)
    sys.exit(1)
PYEOF
}

# ---------------------------------------------------------------- install

ensure_installed() {
    local missing=()
    command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
    command -v openssl >/dev/null 2>&1 || missing+=(openssl)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    [ ${#missing[@]} -eq 0 ] && return 0
    is_root || die "${missing[*]} not installed and not root: run 'apt-get install ${missing[*]}' as root"
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    if ! "${apt[@]}" "${missing[@]}" </dev/null; then
        log "install failed; running apt-get update and retrying"
        apt-get update -q </dev/null || die "apt-get update failed"
        "${apt[@]}" "${missing[@]}" </dev/null || die "apt-get install ${missing[*]} failed"
    fi
    command -v rabbitmq-server >/dev/null 2>&1 || die "rabbitmq-server still missing after install"
}

# ---------------------------------------------------------------- set-up

certs_valid() {
    local f
    for f in ca_certificate.pem server_certificate.pem server_key.pem client_certificate.pem client_key.pem; do
        [ -s "$CERTS_DIR/$f" ] || return 1
    done
    openssl x509 -checkend 86400 -noout -in "$CERTS_DIR/server_certificate.pem" >/dev/null 2>&1 &&
        openssl x509 -checkend 86400 -noout -in "$CERTS_DIR/client_certificate.pem" >/dev/null 2>&1 &&
        openssl x509 -noout -subject -nameopt multiline -in "$CERTS_DIR/client_certificate.pem" |
        grep -q "commonName *= *$CLIENT_CN\$"
}

make_certs() {
    if certs_valid; then
        return 0
    fi
    log "generating test CA, server and client certificates in $CERTS_DIR"
    local tmp
    tmp=$(mktemp -d "${BROKER_DIR}/certs.tmp.XXXXXX")
    (
        cd "$tmp"
        ossl() { openssl "$@" </dev/null >>openssl.log 2>&1 || { cat openssl.log >&2; exit 1; }; }
        ossl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=pika-test-ca" \
            -keyout ca_key.pem -out ca_certificate.pem \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >server.ext
        printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
            "extendedKeyUsage=clientAuth" >client.ext
        ossl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server_key.pem -out server.csr
        ossl x509 -req -in server.csr -CA ca_certificate.pem -CAkey ca_key.pem -CAcreateserial \
            -days 3650 -extfile server.ext -out server_certificate.pem
        ossl req -newkey rsa:2048 -nodes -subj "/CN=$CLIENT_CN" -keyout client_key.pem -out client.csr
        ossl x509 -req -in client.csr -CA ca_certificate.pem -CAkey ca_key.pem -CAcreateserial \
            -days 3650 -extfile client.ext -out client_certificate.pem
        rm -f ./*.csr ./*.ext ./*.srl openssl.log
        chmod 644 ./*.pem
        chmod 600 ca_key.pem client_key.pem server_key.pem
        if is_root && id rabbitmq >/dev/null 2>&1; then
            chown rabbitmq: server_key.pem
        fi
    ) || { rm -rf "$tmp"; die "certificate generation failed"; }
    rm -rf "$CERTS_DIR"
    mkdir -p "$(dirname "$CERTS_DIR")"
    mv "$tmp" "$CERTS_DIR"
    chmod 755 "$CERTS_DIR"
}

write_config() {
    cat >"$BROKER_DIR/rabbitmq.conf" <<EOF
# Written by utils/broker.sh; rewritten on every start.
listeners.tcp.1 = $HOST:$PORT
listeners.ssl.1 = $HOST:$TLS_PORT
ssl_options.cacertfile = $CERTS_DIR/ca_certificate.pem
ssl_options.certfile = $CERTS_DIR/server_certificate.pem
ssl_options.keyfile = $CERTS_DIR/server_key.pem
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN
auth_mechanisms.3 = EXTERNAL
ssl_cert_login_from = common_name
loopback_users = none
EOF
    # Plugins are read at boot: the file must exist before the node starts.
    echo '[rabbitmq_auth_mechanism_ssl].' >"$BROKER_DIR/enabled_plugins"
    chmod 644 "$BROKER_DIR/rabbitmq.conf" "$BROKER_DIR/enabled_plugins"
}

prepare_dir() {
    mkdir -p "$BROKER_DIR"
    chmod 755 "$BROKER_DIR"
}

ctl() {
    rabbitmqctl -q "$@" </dev/null
}

# The broker user that EXTERNAL authentication maps the client cert's CN to.
ensure_users() {
    if ! ctl list_users 2>/dev/null | awk '{print $1}' | grep -qx "$CLIENT_CN"; then
        log "creating broker user '$CLIENT_CN' for EXTERNAL (client certificate) logins"
        ctl add_user "$CLIENT_CN" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >/dev/null
        ctl clear_password "$CLIENT_CN" >/dev/null
    fi
    ctl set_permissions -p / "$CLIENT_CN" '.*' '.*' '.*' >/dev/null
}

wait_for() { # wait_for DESCRIPTION TIMEOUT PID COMMAND...
    local what=$1 timeout=$2 pid=$3
    shift 3
    local deadline=$((SECONDS + timeout))
    until "$@" 2>/dev/null; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        if [ $SECONDS -ge $deadline ]; then
            return 1
        fi
        sleep 1
    done
}

show_logs() {
    local node=${RABBITMQ_NODENAME:-rabbit@$(hostname -s)}
    log "---- tail of $BROKER_DIR/server.log"
    tail -n 30 "$BROKER_DIR/server.log" >&2 2>/dev/null || true
    if [ -f "/var/log/rabbitmq/$node.log" ]; then
        log "---- tail of /var/log/rabbitmq/$node.log"
        tail -n 30 "/var/log/rabbitmq/$node.log" >&2 || true
    fi
}

# ---------------------------------------------------------------- commands

do_start() {
    ensure_installed
    if tcp_open "$PORT"; then
        amqp_probe "$PORT" || die "something listens on $HOST:$PORT but does not speak AMQP 0-9-1"
        log "broker already running on $HOST:$PORT (left as it is)"
        if [ -d "$CERTS_DIR" ] && amqp_probe "$TLS_PORT" tls 2>/dev/null; then
            log "TLS listener answers on $HOST:$TLS_PORT"
            if ! ensure_users 2>/dev/null; then
                log "WARNING: could not check broker user '$CLIENT_CN' with rabbitmqctl"
            fi
            return 0
        fi
        if ! is_root; then
            log "WARNING: no TLS listener with this script's certificates on $HOST:$TLS_PORT;"
            log "         TLS/EXTERNAL tests will fail. Run 'utils/broker.sh restart' as root."
            return 0
        fi
        # e.g. a broker the package's install started with Debian's defaults:
        # restart it with this script's configuration (TLS, EXTERNAL, users).
        log "no TLS listener with this script's certificates on $HOST:$TLS_PORT: reconfiguring"
        do_stop
    fi
    is_root || die "nothing listens on $HOST:$PORT and starting rabbitmq-server needs root"
    prepare_dir
    make_certs
    write_config
    log "starting rabbitmq-server on $HOST:$PORT (TLS $TLS_PORT), config $BROKER_DIR/rabbitmq.conf"
    # Started detached from this shell (own session, no inherited stdio or
    # lock files) so it outlives the calling script and never holds a CI pipe
    # or our lock open.
    env -u RABBITMQ_NODE_IP_ADDRESS -u RABBITMQ_NODE_PORT \
        RABBITMQ_CONFIG_FILE="$BROKER_DIR/rabbitmq.conf" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$BROKER_DIR/enabled_plugins" \
        setsid nohup rabbitmq-server >"$BROKER_DIR/server.log" 2>&1 </dev/null 8>&- 9>&- &
    local pid=$!
    echo "$pid" >"$BROKER_DIR/server.pid"
    local rc=0
    wait_for "AMQP on $PORT" "$START_TIMEOUT" "$pid" amqp_probe "$PORT" || rc=$?
    if [ $rc -ne 0 ]; then
        show_logs
        if [ $rc -eq 2 ]; then
            die "rabbitmq-server exited before accepting AMQP connections on $HOST:$PORT"
        fi
        die "rabbitmq-server did not accept an AMQP connection on $HOST:$PORT within ${START_TIMEOUT}s"
    fi
    log "AMQP answers on $HOST:$PORT after ${SECONDS}s"
    rc=0
    wait_for "AMQPS on $TLS_PORT" 30 "$pid" amqp_probe "$TLS_PORT" tls || rc=$?
    if [ $rc -ne 0 ]; then
        show_logs
        die "TLS listener on $HOST:$TLS_PORT does not answer (see logs above)"
    fi
    log "TLS answers on $HOST:$TLS_PORT"
    ensure_users || die "could not create broker user '$CLIENT_CN' with rabbitmqctl"
    log "broker ready (certificates in $CERTS_DIR)"
}

# listener_pid PORT: pid of the process listening on HOST:PORT (from /proc).
listener_pid() {
    python3 - "$1" <<'PYEOF'
import glob
import os
import sys

port = int(sys.argv[1])
inodes = set()
for table in ('/proc/net/tcp', '/proc/net/tcp6'):
    try:
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                if fields[3] == '0A' and int(fields[1].rsplit(':', 1)[1], 16) == port:
                    inodes.add('socket:[%s]' % fields[9])
    except OSError:
        pass
for fd in glob.glob('/proc/[0-9]*/fd/*'):
    try:
        if os.readlink(fd) in inodes:
            print(fd.split('/')[2])
            sys.exit(0)
    except OSError:
        pass
sys.exit(1)
PYEOF
}

do_stop() {
    if ! tcp_open "$PORT"; then
        log "no broker listening on $HOST:$PORT"
        return 0
    fi
    is_root || die "stopping the broker needs root"
    log "stopping the broker on $HOST:$PORT"
    if ! timeout "$STOP_TIMEOUT" rabbitmqctl shutdown </dev/null >/dev/null 2>&1; then
        local pid
        pid=$(listener_pid "$PORT" || true)
        [ -n "$pid" ] || die "rabbitmqctl shutdown failed and no process found listening on $PORT"
        log "rabbitmqctl shutdown failed; sending SIGTERM to the listening process $pid"
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_for "port $PORT closed" 30 "" eval '! tcp_open "$PORT"'; then
            log "still listening after 30s; sending SIGKILL to $pid"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait_for "port $PORT closed" "$STOP_TIMEOUT" "" eval '! tcp_open "$PORT"' ||
        die "the broker on $HOST:$PORT is still listening after ${STOP_TIMEOUT}s"
    rm -f "$BROKER_DIR/server.pid"
    log "stopped"
}

do_status() {
    local rc=0
    if command -v rabbitmq-server >/dev/null 2>&1; then
        log "rabbitmq-server installed ($(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?'))"
    else
        log "rabbitmq-server not installed"
    fi
    if amqp_probe "$PORT" 2>/dev/null; then
        log "AMQP answers on $HOST:$PORT"
    else
        log "AMQP: nothing answers on $HOST:$PORT"
        rc=3
    fi
    if [ -d "$CERTS_DIR" ] && amqp_probe "$TLS_PORT" tls 2>/dev/null; then
        log "AMQPS answers on $HOST:$TLS_PORT (certificates in $CERTS_DIR)"
    else
        log "AMQPS: no TLS listener with this script's certificates on $HOST:$TLS_PORT"
    fi
    return $rc
}

# Serialise start/stop/restart between concurrent callers.
if [ "${1:-}" != status ]; then
    exec 9>"${BROKER_DIR%/}.lock"
    flock -w 300 9 || die "another utils/broker.sh holds ${BROKER_DIR%/}.lock"
fi

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
restart)
    do_stop
    do_start
    ;;
status) do_status ;;
*)
    echo "usage: $0 {start|stop|status|restart}" >&2
    exit 2
    ;;
esac
