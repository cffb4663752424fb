#!/usr/bin/env bash
# Set everything up (with the dev extra), then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ui,llamaindex,eval,dev
.venv/bin/ruff check .
status=0
.venv/bin/python -m pytest "$@" || status=$?
# pytest exits 5 when it collected no test: that is a failure of the suite, not a pass, but say so clearly.
if [ "$status" = 5 ]; then echo "test: pytest collected no tests" >&2; fi
exit "$status"
