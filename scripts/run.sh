#!/usr/bin/env bash
# Set everything up, then start the main job: the UI over corpus/ (http://127.0.0.1:7860).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/assistant serve "$@"
