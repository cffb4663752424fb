"""Scale benchmark: exact vs ANN FAISS search on synthetic corpora made by perturbing real chunk embeddings.

Usage: .venv/bin/python scripts/bench_scale.py [--sizes 100000,1000000] [--queries 200] [--kinds flat,ivf,hnsw]
Needs a built index (the real vectors are taken from it). Prints a Markdown table; not a CI step.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from assistant.pipeline import Assistant
from assistant.search.store import FaissStore


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic(real: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Vectors near real ones: a random real vector plus noise of ~1/3 of the typical distance between real ones."""
    base = real[rng.integers(0, len(real), n)]
    noise = rng.standard_normal(base.shape).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    out = base + 0.35 * noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kinds", default="flat,ivf,hnsw")
    args = parser.parse_args()
    assistant = Assistant()
    real = np.asarray(assistant.open_index(rebuild=True).vectors, dtype=np.float32)
    rng = np.random.default_rng(0)
    print("| chunks | index | build s | memory MB (RSS peak) | p50 ms | p95 ms | recall@10 |")
    print("|---|---|---|---|---|---|---|")
    for n in [int(s) for s in args.sizes.split(",")]:
        data = synthetic(real, n, rng)
        queries = synthetic(real, args.queries, rng)
        truth = None
        for kind in args.kinds.split(","):
            started = time.perf_counter()
            store = FaissStore(data.shape[1], kind, hnsw_m=32, ef_search=64)
            store.add(data)
            build = time.perf_counter() - started
            times, found = [], []
            for q in queries:
                t0 = time.perf_counter()
                _, pos = store.search(q[None, :], 10)
                times.append((time.perf_counter() - t0) * 1000)
                found.append(pos[0])
            found = np.array(found)
            if kind == "flat":
                truth = found
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
            p50, p95 = np.percentile(times, [50, 95])
            print(f"| {n:,} | {kind} | {build:.1f} | {rss_mb():.0f} | {p50:.2f} | {p95:.2f} | {recall:.3f} |", flush=True)
            del store


if __name__ == "__main__":
    main()
