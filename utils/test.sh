#!/usr/bin/env bash
# The project's test command (README.rst; CI runs exactly this).
#
#   utils/test.sh [pytest arguments...]
#
# Sets up .venv with the project and its dev/adapter extras, starts the local
# RabbitMQ (utils/broker.sh start), then runs, in order:
#   yapf --diff -r pika tests     formatting (any diff fails)
#   ruff check pika tests         lint
#   mypy pika                     types (the project's configuration)
#   mypy --strict pika            types, as strict as users' own checks
#   sphinx-build -W -n docs       the documentation, every reference resolved
#   python -m pytest tests ...    unit + integration tests (extra args here),
#                                 with branch coverage of pika/ reported at
#                                 the end (pytest-cov; subprocesses included)
# Every step runs even when an earlier one failed; the exit status is
# non-zero when any step failed, including pytest collecting no test.

set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
cd "$REPO_ROOT" || exit 1

failed=()

setup_venv || {
    echo "test.sh: setting up $VENV failed" >&2
    exit 1
}
start_broker || failed+=("broker")

say "yapf --diff -r pika tests"
yapf --diff --parallel -r pika tests || failed+=("yapf")

say "ruff check pika tests"
ruff check --no-cache pika tests || failed+=("ruff")

say "mypy pika"
mypy pika || failed+=("mypy")

say "mypy --strict pika"
mypy --strict pika || failed+=("mypy --strict")

# Nitpicky (-n) and warnings as errors (-W): a broken reference or a
# contributor note on a user page fails the build. Offline, ~10 s.
say "sphinx-build -W -n -b html docs build/docs"
if python -c 'import sphinx' 2>/dev/null; then
    sphinx-build -q -W -n --keep-going -b html docs build/docs ||
        failed+=("docs")
elif python -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "test.sh: sphinx is not installed (it is in the dev extra)" >&2
    failed+=("docs (no sphinx)")
else
    echo "test.sh: the docs build needs Python 3.10+ (Sphinx 8); not built"
fi

# Test paths given on the command line replace the default "tests".
targets=(tests)
for arg in "$@"; do
    case $arg in
    -*) ;;
    *) if [ -e "${arg%%::*}" ]; then targets=(); fi ;;
    esac
done
coverage=(--cov=pika --cov-branch --cov-report=term)
say "python -m pytest ${coverage[*]} ${targets[*]} $*"
python -m pytest "${coverage[@]}" "${targets[@]}" "$@"
rc=$?
case $rc in
0) ;;
5)
    echo "test.sh: pytest collected no tests" >&2
    failed+=("pytest (no tests)")
    ;;
*) failed+=("pytest (exit $rc)") ;;
esac

if [ ${#failed[@]} -ne 0 ]; then
    echo "test.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "test.sh: all checks passed"
