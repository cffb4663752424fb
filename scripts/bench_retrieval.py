"""Seed-corpus benchmark: cold/warm build, embedding throughput, search/ask/check latency, index size, memory.

Usage: .venv/bin/python scripts/bench_retrieval.py [--questions eval/dev.jsonl]
Builds into a temporary index folder (the model cache must be warm: scripts/setup.sh). Prints Markdown. Not a CI step.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.pipeline import Assistant, passage_for_embedding
from assistant.search.bridge import load_bridge
from assistant.settings import load_settings


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def token_counts(embedder: object, texts: list[str]) -> list[int]:
    """Tokens per text with the embedder's own tokenizer (OpenVINO or sentence-transformers); [] when it has none."""
    load = getattr(embedder, "_load", None)
    model = load() if load else None
    tokenizer = getattr(embedder, "_tokenizer", None)  # the OpenVINO runtime's tokenizers.Tokenizer
    if tokenizer is not None:
        return [len(e.ids) for e in tokenizer.encode_batch(texts)]
    if model is not None and hasattr(model, "tokenizer"):
        return [len(model.tokenizer(t)["input_ids"]) for t in texts]
    return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default="eval/dev.jsonl")
    args = parser.parse_args()
    rows = [json.loads(line) for line in Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [r["question"] for r in rows]
    claims = [r["question"] for r in rows if r["type"] == "claim"]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(overrides={"paths": {"index": tmp}})
        assistant = Assistant(settings)
        started = time.perf_counter()
        assistant.embedder.embed_queries(["预热"])  # model load, timed separately
        load_s = time.perf_counter() - started
        cold = assistant.build(force=True)
        warm = assistant.build()
        index = assistant.open_index()
        passages = [passage_for_embedding(c) for c in index.chunks]
        lengths = token_counts(assistant.embedder, [settings.embedding.passage_prefix + p for p in passages])
        sample = passages[:128]
        started = time.perf_counter()
        assistant.embedder.embed_passages(sample)
        throughput = len(sample) / (time.perf_counter() - started)
        started = time.perf_counter()
        load_bridge()  # the dictionary bridge is read on the first English question: timed apart
        bridge_s = time.perf_counter() - started
        print(f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}; model "
              f"{assistant.embedder.model_id}; fusion {settings.retrieval.fusion} (dense scale "
              f"{settings.retrieval.dense_scale}), keyword tokens {settings.retrieval.bm25_tokens}, expansion "
              f"{settings.retrieval.expansion}, dictionary bridge {settings.retrieval.bridge}\n")
        print("| measure | value |\n|---|---|")
        print(f"| model load (first query) | {load_s:.1f} s |")
        print(f"| dictionary bridge load (first English question) | {bridge_s:.1f} s |")
        print(f"| cold build ({cold.documents} documents, {cold.chunks} chunks, model loaded) | {cold.seconds:.1f} s |")
        print(f"| warm build, nothing changed | {warm.seconds:.2f} s |")
        print(f"| embedding throughput (batch {settings.embedding.batch_size}) | {throughput:.1f} passages/s |")
        if lengths:
            mean, p95 = statistics.mean(lengths), pct(lengths, 95)
            print(f"| passage tokens: mean / p95 / max | {mean:.0f} / {p95:.0f} / {max(lengths)} |")
        print(f"| index folder size | {folder_mb(assistant.store_dir):.1f} MB |")
        print("\n| operation | n | p50 ms | p95 ms |\n|---|---|---|---|")
        for mode in ("bm25", "dense", "hybrid"):
            times = []
            for q in questions:
                t0 = time.perf_counter()
                assistant.search(q, k=10, mode=mode)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"| search {mode} | {len(times)} | {pct(times, 50):.1f} | {pct(times, 95):.1f} |")
        for name, call, items in (("ask (extractive)", assistant.ask, questions), ("check", assistant.check, claims)):
            times = []
            for q in items:
                t0 = time.perf_counter()
                call(q)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"| {name} | {len(times)} | {pct(times, 50):.1f} | {pct(times, 95):.1f} |")
        print(f"\nprocess peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
