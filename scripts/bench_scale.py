"""Scale benchmark of the storage backends, through the store protocols (VectorStore + KeywordIndex).

Synthetic chunks: each vector is a real seed-corpus vector plus noise (~1/3 of the typical distance between real
ones); each text is 2–4 sentences sampled from the real chunks, so BM25 has real Chinese to index; documents of 50
chunks carry a date (2015–2024) and a region (one of six), so filters have something to select.

  stores   insert N chunks into each backend (batches committed as they come), then time 200 dense and keyword
           queries with and without a filter (region 沈阳 + since 2021: ~7 % of the chunks), recall@10 of the dense
           search against exact search, peak memory (RSS of the process running the backend) and disk size.
  add-one  build an index of N chunks through ``Assistant.build()`` (hash embedder, synthetic documents), then time
           the build after adding one document and after removing it, first as ``build()`` (lists the corpus), then
           as ``build(paths=[file])`` (what an upload runs): it should not grow with N.

Usage:
  .venv/bin/python scripts/bench_scale.py stores [--sizes 100000,1000000] [--backends faiss-ivf,milvus-lite]
  .venv/bin/python scripts/bench_scale.py add-one [--sizes 10000,100000] [--stores faiss,milvus]
Each backend and size runs in its own process (clean peak memory). Needs a built index for the real vectors
(``assistant build``). Prints Markdown tables; not a CI step. Work files go to --work (default: the system temp dir).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.search.segments import Filters  # noqa: E402
from assistant.types import Chunk  # noqa: E402

REGIONS = ["辽宁省", "沈阳市", "大连市", "鞍山市", "抚顺市", "本溪市"]
FILTER = Filters(region="沈阳", since="2021")
DOC_CHUNKS = 50
BATCH = 100_000  # chunks per upsert + commit
K = 10


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


# ----- synthetic data (made once per size, cached under --work) -----
def real_material(work: Path) -> tuple[np.ndarray, list[str]]:
    """Real vectors and sentences of the built seed index (cached)."""
    cache = work / "real.npz"
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        return data["vectors"], [str(s) for s in data["sentences"]]
    from assistant.search.index import open_snapshot
    from assistant.settings import Settings

    settings = Settings()
    snapshot = open_snapshot(settings.paths.index / "store", settings, verify=False)
    chunks = snapshot.chunks
    rows = snapshot.vectors.get([c.chunk_id for c in chunks])
    vectors = np.stack([rows[c.chunk_id].vector for c in chunks if c.chunk_id in rows]).astype(np.float32)
    sentences = [s for c in chunks for s in re.split(r"(?<=[。！？；])", c.text_norm) if len(s) >= 8]
    np.savez(cache, vectors=vectors, sentences=np.array(sentences))
    return vectors, sentences


def perturbed(real: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Vectors near real ones: a random real vector plus noise of ~1/3 of the typical distance between real ones."""
    base = real[rng.integers(0, len(real), n)]
    noise = rng.standard_normal(base.shape).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    out = base + 0.35 * noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def synthetic_text(sentences: list[str], rng: np.random.Generator) -> str:
    return "".join(sentences[i] for i in rng.integers(0, len(sentences), int(rng.integers(2, 5))))


def doc_fields(doc: int) -> tuple[str, str]:
    """Date and region of synthetic document ``doc`` (deterministic)."""
    return f"{2015 + doc % 10}-{1 + doc % 12:02d}-15", REGIONS[(doc // 10) % len(REGIONS)]


def prepare(work: Path, n: int, queries: int) -> Path:
    """Vectors, texts, queries and exact top-10 (with and without the filter) for ``n`` chunks."""
    folder = work / f"data-{n}"
    if (folder / "done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    real, sentences = real_material(work)
    rng = np.random.default_rng(n)
    vectors = np.lib.format.open_memmap(folder / "vectors.npy", mode="w+", dtype=np.float32, shape=(n, real.shape[1]))
    for start in range(0, n, BATCH):
        vectors[start : start + BATCH] = perturbed(real, min(BATCH, n - start), rng)
    vectors.flush()
    with (folder / "texts.txt").open("w", encoding="utf-8") as out:
        for _ in range(n):
            out.write(synthetic_text(sentences, rng) + "\n")
    q = perturbed(real, queries, rng)
    q_text = [sentences[i][:30] for i in rng.integers(0, len(sentences), queries)]
    docs = np.arange(n) // DOC_CHUNKS
    allowed = np.array([FILTER.region in doc_fields(d)[1] and doc_fields(d)[0] >= "2021" for d in range(docs[-1] + 1)])
    mask = allowed[docs]
    truth, truth_f = exact_top(vectors, q, None), exact_top(vectors, q, mask)
    np.savez(folder / "queries.npz", q=q, truth=truth, truth_f=truth_f, mask_share=mask.mean())
    (folder / "queries.json").write_text(json.dumps(q_text, ensure_ascii=False), encoding="utf-8")
    (folder / "done").touch()
    return folder


def exact_top(vectors: np.ndarray, q: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    best_s = np.full((len(q), K), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), K), dtype=np.int64)
    for start in range(0, len(vectors), BATCH):
        sims = q @ np.asarray(vectors[start : start + BATCH]).T
        if mask is not None:
            sims[:, ~mask[start : start + BATCH]] = -np.inf
        ids = np.arange(start, start + sims.shape[1])
        all_s = np.concatenate([best_s, sims], axis=1)
        all_i = np.concatenate([best_i, np.broadcast_to(ids, sims.shape)], axis=1)
        top = np.argsort(-all_s, axis=1, kind="stable")[:, :K]
        best_s, best_i = np.take_along_axis(all_s, top, 1), np.take_along_axis(all_i, top, 1)
    return best_i


def chunks_of(texts: list[str], start: int) -> list[Chunk]:
    out = []
    for offset, text in enumerate(texts):
        i = start + offset
        date, region = doc_fields(i // DOC_CHUNKS)
        out.append(Chunk(f"c{i:08d}", f"d{i // DOC_CHUNKS:06d}", "", (), text, text, 0, len(text), date=date,
                         region=region))
    return out


# ----- one backend, one size (run in a child process) -----
def run_store(backend: str, data: Path, root: Path) -> dict:
    from assistant.search.store import make_stores
    from assistant.settings import load_settings

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    store, kind = backend.split("-", 1)
    retrieval = {"store": "milvus" if store == "milvus" else "faiss", "dense_index": "ivf" if kind in ("ivf", "lite")
                 else kind, "milvus_uri": str(root / "milvus.db")}
    settings = load_settings(overrides={"paths": {"index": str(root)}, "retrieval": retrieval})
    vectors = np.load(data / "vectors.npy", mmap_mode="r")
    n = len(vectors)
    dense, keyword = make_stores(settings, root / "store", vectors.shape[1], None)
    started = time.perf_counter()
    with (data / "texts.txt").open(encoding="utf-8") as handle:
        for start in range(0, n, BATCH):
            texts = [handle.readline().rstrip("\n") for _ in range(min(BATCH, n - start))]
            chunks = chunks_of(texts, start)
            dense.upsert(chunks, np.asarray(vectors[start : start + len(chunks)]))
            keyword.upsert(chunks)
            dense.commit()
            keyword.commit()
            print(f"  {backend}: {start + len(chunks):,} chunks, {time.perf_counter() - started:.0f} s, "
                  f"peak RSS {rss_mb():.0f} MB", file=sys.stderr, flush=True)
    insert_s = time.perf_counter() - started
    assert dense.count() == n, (dense.count(), n)
    saved = np.load(data / "queries.npz")
    q_text = json.loads((data / "queries.json").read_text(encoding="utf-8"))
    result = {"backend": backend, "chunks": n, "insert_s": round(insert_s, 1), "insert_per_s": round(n / insert_s)}
    for name, filters, truth in (("", None, saved["truth"]), ("_filter", FILTER, saved["truth_f"])):
        times, recalls = [], []
        for qv, want in zip(saved["q"], truth, strict=True):
            t0 = time.perf_counter()
            got = dense.search(qv, K, filters)
            times.append((time.perf_counter() - t0) * 1000)
            recalls.append(len({int(cid[1:]) for cid, _ in got} & set(want.tolist())) / K)
        result[f"dense{name}_p50_ms"], result[f"dense{name}_p95_ms"] = np.percentile(times, [50, 95]).round(2).tolist()
        result[f"recall{name}@10"] = round(float(np.mean(recalls)), 3)
    result["peak_rss_after_dense_mb"] = round(rss_mb())
    print(json.dumps(result), file=sys.stderr, flush=True)  # kept even if keyword search fails below
    for name, filters in (("", None), ("_filter", FILTER)):
        times = []
        try:
            for text in q_text:
                t0 = time.perf_counter()
                keyword.search(text, K, filters)
                times.append((time.perf_counter() - t0) * 1000)
        except Exception as exc:  # Milvus Lite's BM25 at 1M: recorded as what broke, the dense numbers stay
            result[f"bm25{name}_error"] = (f"{type(exc).__name__} after {len(times)} queries, "
                                           f"{time.perf_counter() - t0:.0f} s: {str(exc)[:200]}")
            break
        result[f"bm25{name}_p50_ms"], result[f"bm25{name}_p95_ms"] = np.percentile(times, [50, 95]).round(2).tolist()
    result["peak_rss_mb"] = round(rss_mb())
    result["disk_mb"] = round(disk_mb(root))
    result["filter_share"] = round(float(saved["mask_share"]), 3)
    return result


# ----- add one document to an index of N chunks, through Assistant.build() -----
def synthetic_corpus(folder: Path, n_chunks: int, sentences: list[str], rng: np.random.Generator) -> None:
    """Documents of ~20 chunks each (~7,000 characters: paragraphs of real sentences under numbered headings)."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc in range(max(1, n_chunks // 20)):
        parts = []
        for section in range(5):
            parts.append(f"{'一二三四五'[section]}、{sentences[int(rng.integers(len(sentences)))][:14]}")
            parts += ["".join(synthetic_text(sentences, rng) for _ in range(3)) for _ in range(4)]
        (folder / f"doc{doc:06d}.txt").write_text("\n\n".join(parts), encoding="utf-8")


def run_add_one(store: str, n_chunks: int, work: Path) -> dict:
    from assistant.pipeline import Assistant
    from assistant.settings import load_settings

    _, sentences = real_material(work)
    rng = np.random.default_rng(7)
    folder = work / f"addone-{store}-{n_chunks}"
    shutil.rmtree(folder, ignore_errors=True)
    synthetic_corpus(folder / "corpus", n_chunks, sentences, rng)
    synthetic_corpus(folder / "extra", 20, sentences, rng)  # one document to add
    settings = load_settings(overrides={
        "paths": {"corpus": str(folder / "corpus"), "index": str(folder / "index"), "uploads": str(folder / "uploads")},
        "embedding": {"model": "hash:384"}, "retrieval": {"store": store}})
    assistant = Assistant(settings)
    t0 = time.perf_counter()
    first = assistant.build()
    initial = time.perf_counter() - t0
    result = {"store": store, "chunks": first.chunks, "documents": first.documents, "initial_build_s": round(initial, 1)}
    extra = next((folder / "extra").glob("*.txt"))
    for step in range(3):
        target = folder / "corpus" / f"added{step}.txt"
        shutil.copy(extra, target)
        t0 = time.perf_counter()
        added = assistant.build()
        result.setdefault("add_s", []).append(round(time.perf_counter() - t0, 2))
        result["added_chunks"] = added.chunks - first.chunks
        result["added_embedded"] = added.embedded
        target.unlink()
        t0 = time.perf_counter()
        assistant.build()
        result.setdefault("remove_s", []).append(round(time.perf_counter() - t0, 2))
    for step in range(3):  # the same, naming the file (what an upload does): the corpus is not listed
        target = folder / "corpus" / f"named{step}.txt"
        shutil.copy(extra, target)
        t0 = time.perf_counter()
        added = assistant.build(paths=[target])
        result.setdefault("add_named_s", []).append(round(time.perf_counter() - t0, 3))
        assert len(added.added) == 1, added
        target.unlink()
        t0 = time.perf_counter()
        assistant.build(paths=[target])
        result.setdefault("remove_named_s", []).append(round(time.perf_counter() - t0, 3))
    result["peak_rss_mb"] = round(rss_mb())
    return result


def child(args: list[str]) -> dict:
    """Run one measurement in a fresh process; return its JSON result."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=False, stdout=subprocess.PIPE, text=True,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        return {"error": f"exit {done.returncode}", "args": args}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["stores", "add-one", "_store", "_add"])
    parser.add_argument("--sizes", default="")
    parser.add_argument("--backends", default="faiss-ivf,milvus-lite")
    parser.add_argument("--stores", default="faiss,milvus")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "bench-scale"))
    parser.add_argument("--memory-gb", type=float, default=12, help="address-space limit of each child process")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.what in ("_store", "_add"):
        limit = int(args.memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        size = int(args.sizes)
        if args.what == "_store":
            out = run_store(args.backends, prepare(work, size, args.queries), work / f"root-{args.backends}-{size}")
        else:
            out = run_add_one(args.stores, size, work)
        print(json.dumps(out, ensure_ascii=False), flush=True)
        sys.stderr.flush()
        os._exit(0)  # Milvus Lite's server threads can outlive a failed query; the result is out
    common = ["--work", str(work), "--queries", str(args.queries), "--memory-gb", str(args.memory_gb)]
    if args.what == "stores":
        sizes = [int(s) for s in (args.sizes or "100000,1000000").split(",")]
        for size in sizes:
            prepare(work, size, args.queries)
        rows = [child(["_store", "--sizes", str(size), "--backends", backend, *common])
                for size in sizes for backend in args.backends.split(",")]
    else:
        sizes = [int(s) for s in (args.sizes or "10000,100000").split(",")]
        rows = [child(["_add", "--sizes", str(size), "--stores", store, *common])
                for size in sizes for store in args.stores.split(",")]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
