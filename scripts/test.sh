#!/usr/bin/env bash
# Set everything up (with the dev extra), then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# milvus: the Milvus backend's tests run on embedded Milvus Lite (no server needed).
scripts/setup.sh ui,llamaindex,eval,milvus,dev
# Browser tests: Debian's Chromium and CJK fonts (Playwright's own browser download does not work offline).
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >/dev/null
  else
    echo "test: chromium/fonts-noto-cjk missing and not root: browser tests will be skipped" >&2
  fi
fi
.venv/bin/ruff check .
status=0
.venv/bin/python -m pytest "$@" || status=$?
# pytest exits 5 when it collected no test: that is a failure of the suite, not a pass, but say so clearly.
if [ "$status" = 5 ]; then echo "test: pytest collected no tests" >&2; fi
exit "$status"
