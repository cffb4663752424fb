"""Dev-set retrieval eval of the storage backends in one run: the embedded store, Milvus Lite with our bigram tokens
(the default), and Milvus Lite with Milvus' jieba analyzer (the alternative measured for docs/benchmarks.md).

Usage: .venv/bin/python scripts/bench_backends_eval.py [--work DIR]
Each variant builds its own index (default model) under --work and writes an eval run under eval/runs/. Prints one
JSON line per variant: hit@1/5/10 and MRR@10 per mode and split, search latency. Needs the milvus extra.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.evaluation.evaluate import run_eval  # noqa: E402
from assistant.search import milvus_fields  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

VARIANTS = (("faiss", "faiss", "tokens"), ("milvus-tokens", "milvus", "tokens"), ("milvus-jieba", "milvus", "jieba"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "bench-backends-eval"))
    args = parser.parse_args()
    for name, store, analyzer in VARIANTS:
        milvus_fields.ANALYZER = analyzer
        settings = load_settings(overrides={"paths": {"index": f"{args.work}/{name}"},
                                            "retrieval": {"store": store, "milvus_collection": f"chunks_{analyzer}"}})
        started = time.perf_counter()
        folder, summary = run_eval(settings, ROOT / "eval" / "dev.jsonl", modes=("bm25", "dense", "hybrid"), answers=False)
        metrics = {mode: {split: {k: round(v["all"][k], 3) for k in ("hit@1", "hit@5", "hit@10", "mrr@10", "n")}
                          for split, v in splits.items()} for mode, splits in summary["retrieval"].items()}
        print(json.dumps({"variant": name, "run": str(folder), "model_id": summary["model_id"],
                          "chunks": summary["pipeline_chunks"], "seconds": round(time.perf_counter() - started),
                          "latency_ms": summary.get("latency_ms"), **metrics}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
