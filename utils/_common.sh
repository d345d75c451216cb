# Shared set-up for utils/test.sh and utils/demo.sh (sourced, not run).
#
# setup_venv    create .venv (or $PIKA_VENV) with python3 and install the
#               project into it: pip install -e '.[dev,tornado,twisted,gevent]'.
#               Reinstalls only when pyproject.toml / setup.py change.
# start_broker  utils/broker.sh start, and export where the tests find it.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${PIKA_VENV:-$REPO_ROOT/.venv}
EXTRAS=${PIKA_EXTRAS:-dev,tornado,twisted,gevent}

say() { echo "==> $*"; }

setup_venv() {
    local python=${PYTHON:-python3}
    # One installer at a time when several shells run the commands at once.
    local lock
    lock="/tmp/pika-venv-$(echo "$VENV" | sha256sum | cut -c1-12).lock"
    exec 8>"$lock"
    flock 8
    if [ -e "$VENV" ] && ! "$VENV/bin/python" -c '' 2>/dev/null; then
        say "$VENV is broken; recreating it"
        rm -rf "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtual environment $VENV ($("$python" --version 2>&1))"
        "$python" -m venv "$VENV" || return 1
    fi
    local stamp
    stamp=$(cat "$REPO_ROOT/pyproject.toml" "$REPO_ROOT/setup.py" 2>/dev/null |
        sha256sum | cut -c1-64)
    stamp="$stamp $REPO_ROOT $EXTRAS"
    if [ "$(cat "$VENV/.pika-installed" 2>/dev/null)" != "$stamp" ]; then
        say "installing the project into $VENV: pip install -e '.[$EXTRAS]'"
        if ! (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install \
            --disable-pip-version-check -e ".[$EXTRAS]" \
            </dev/null >"$VENV/pip-install.log" 2>&1); then
            tail -n 40 "$VENV/pip-install.log" >&2
            echo "pip install failed; full log in $VENV/pip-install.log" >&2
            return 1
        fi
        echo "$stamp" >"$VENV/.pika-installed"
    fi
    flock -u 8
    exec 8>&-
    export PATH="$VENV/bin:$PATH"
}

start_broker() {
    say "broker: utils/broker.sh start"
    "$REPO_ROOT/utils/broker.sh" start || return 1
    export PIKA_TEST_HOST=${PIKA_TEST_HOST:-127.0.0.1}
    export PIKA_TEST_PORT=${PIKA_TEST_PORT:-5672}
    export PIKA_TEST_TLS_PORT=${PIKA_TEST_TLS_PORT:-5671}
    export PIKA_TEST_CERTS_DIR=${PIKA_TEST_CERTS_DIR:-${PIKA_BROKER_DIR:-/tmp/pika-test-broker}/certs}
}
