#!/usr/bin/env bash
# The project's demo command (README.rst).
#
#   utils/demo.sh [--count N]
#
# Sets up .venv with the project (as utils/test.sh does), starts the local
# RabbitMQ (utils/broker.sh start) and runs examples/demo_roundtrip.py, which
# publishes messages through the broker and consumes them back with
# pika.BlockingConnection (or, until that adapter exists, proves that the
# broker answers and that the codec round-trips a message).

set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$REPO_ROOT" || exit 1

setup_venv || {
    echo "demo.sh: setting up $VENV failed" >&2
    exit 1
}
start_broker || {
    echo "demo.sh: the broker is not available" >&2
    exit 1
}
say "python examples/demo_roundtrip.py $*"
python examples/demo_roundtrip.py "$@"
