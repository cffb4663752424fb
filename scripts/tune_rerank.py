"""Fit the reranker's weights on tuning questions of several corpora (pairwise logistic regression).

Usage: .venv/bin/python scripts/tune_rerank.py [--bench ../shared/bench] [--limit 400] [--out docs/runs/FILE.md]

Tuning questions (nothing the product is reported on): the `tune` split of eval/dev.jsonl and eval/trust.jsonl over
corpus/, the `tune` split of eval/corpora/policy_synth, and for drcd and cmrc2018 in shared/bench the first --limit
of `questions_all.jsonl` minus the `sample*.jsonl` questions after a fixed shuffle. Each corpus is indexed with the
product's pipeline (the eval's scratch folders); each question's candidates as hybrid search hands them to the
reranker (the first 20 or 40 fused hits with reranking off, then `retrieval.sentence_candidates` chunks of the
best-matching sentences) get the product's features (`assistant.answers.rerank.features`) and a label (the chunk holds the
gold evidence, or belongs to a gold passage).

Model: for each question, every (relevant, other) pair of candidates gives the feature difference, labelled 1, and
its negation, labelled 0; a logistic regression without intercept over standardized differences, each corpus
weighing the same in total and each question the same within its corpus. The depth (20 or 40 candidates reranked)
and the regularization C are chosen by 5-fold cross-validation over questions (folds keep a question's pairs
together): the best mean out-of-fold MRR@10 over the corpora, a tie going to the shallower depth. The final
weights (fitted on all tuning questions, divided by the feature scales) are printed as the `RERANK_WEIGHTS` of
assistant/settings.py, the depth as `retrieval.rerank_depth`, and the weights of the same fit without the sentence
cosine as `RERANK_WEIGHTS_WITHOUT_SENTENCES` (for indexes that keep no sentence vectors). Not a CI step.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant.answers.rerank import FEATURES
from assistant.evaluation.bench import load_questions
from assistant.evaluation.external import _open
from assistant.evaluation.items import load_eval_set, read_ids
from assistant.evaluation.relevance import match_key, relevant_sets
from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings
from assistant.text.script import normalize

RETRIEVAL_TYPES = {"fact", "paraphrase", "section", "multi"}
GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
DEPTHS = (20, 40)  # candidates reranked (retrieval.rerank_depth); a tie goes to the shallower, cheaper one
FOLDS = 5


def _settings() -> Settings:
    """The default settings with reranking off: the candidates in fused order, as the reranker receives them."""
    settings = load_settings()
    return settings.model_copy(update={"retrieval": settings.retrieval.model_copy(update={"rerank": False})})


def candidates(assistant: Assistant, question: str, relevant: set[str], level: str) -> dict[int, dict]:
    """The question's candidates at each depth tried, as hybrid search hands them to the reranker (the first
    ``depth`` fused hits, then the chunks of the best-matching sentences): features (FEATURES order), labels, ids."""
    retriever = assistant.retriever
    hits = retriever.search(question, k=max(DEPTHS), mode="hybrid")
    mass = retriever.index.keyword.query_mass(retriever.keyword_query(normalize(question), retriever.settings.replace_english))
    out = {}
    for depth in DEPTHS:
        listed = hits[:depth] + retriever.sentence_candidates(question, hits[:depth])
        rows = retriever.reranker.features(question, listed, mass)  # the product's analysis and IDF table
        x = np.array([[row[name] for name in FEATURES] for row in rows], dtype=np.float64)
        ids = [h.chunk.chunk_id if level == "chunk" else h.chunk.doc_id for h in listed]
        out[depth] = {"x": x, "y": np.array([i in relevant for i in ids], dtype=bool), "ids": ids, "level": level,
                      "fused": depth}
    return out


def item_questions(assistant: Assistant, paths: list[Path]) -> list[dict[int, dict]]:
    keys = {c.chunk_id: match_key(c.text) for c in assistant.open_index().chunks}
    out = []
    for path in paths:
        for item in load_eval_set(path):
            if item.type in RETRIEVAL_TYPES and item.split == "tune":
                relevant = set().union(*relevant_sets(keys, item.evidence))
                out.append(candidates(assistant, item.question, relevant, "chunk"))
    return out


def bench_questions(corpus: Path, limit: int) -> list[dict[int, dict]]:
    assistant, _, _, alias = _open(_settings(), corpus / "corpus.jsonl", None)
    held_out = set().union(*(read_ids(p) for p in sorted(corpus.glob("sample*.jsonl"))))
    rows = [r for r in load_questions(corpus / "questions_all.jsonl") if str(r["id"]) not in held_out]
    random.Random(0).shuffle(rows)
    return [candidates(assistant, r["question"], {alias.get(str(g), str(g)) for g in r["gold_passage_ids"]}, "doc")
            for r in rows[:limit]]


def pairs(qs: list[dict], weight: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each question's (relevant − other) feature differences and their weights (``weight`` spread over its pairs)."""
    diffs, weights = [], []
    for q in qs:
        pos, neg = np.where(q["y"])[0], np.where(~q["y"])[0]
        if len(pos) and len(neg):
            d = (q["x"][pos][:, None, :] - q["x"][neg][None, :, :]).reshape(-1, q["x"].shape[1])
            diffs.append(d)
            weights.append(np.full(len(d), weight / len(d)))
    return diffs, weights


def fit(sets: dict[str, list[dict]], c: float, scale: np.ndarray) -> np.ndarray:
    """Feature weights from a logistic regression over the pairs, each corpus weighing the same (in feature units)."""
    diffs, weights = [], []
    for qs in sets.values():
        d, w = pairs(qs, 1.0 / max(1, len(qs)))
        diffs += d
        weights += w
    x = np.vstack(diffs) / scale
    w = np.concatenate(weights)
    x2, y2, w2 = np.vstack([x, -x]), np.r_[np.ones(len(x)), np.zeros(len(x))], np.r_[w, w]
    model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(x2, y2, sample_weight=w2 / w2.mean())
    return model.coef_[0] / scale


def metrics(qs: list[dict], weights: np.ndarray | None) -> tuple[float, float, float]:
    """hit@1, hit@5, MRR@10 with the candidates in fused order (weights None) or the model's."""
    h1 = h5 = mrr = 0.0
    for q in qs:
        order = np.arange(len(q["ids"])) if weights is None else np.argsort(-(q["x"] @ weights), kind="stable")
        ranked = list(dict.fromkeys(q["ids"][i] for i in order))  # a passage ranks where its best chunk ranks
        relevant = {q["ids"][i] for i in np.where(q["y"])[0]}
        rank = next((r for r, i in enumerate(ranked[:10], start=1) if i in relevant), None)
        h1 += rank == 1
        h5 += rank is not None and rank <= 5
        mrr += 1 / rank if rank else 0.0
    n = max(1, len(qs))
    return h1 / n, h5 / n, mrr / n


def _cell(values: tuple[float, ...]) -> str:
    return " / ".join(f"{v:.3f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default="../shared/bench", type=Path)
    parser.add_argument("--limit", default=400, type=int, help="tuning questions per bench set")
    parser.add_argument("--out", type=Path, help="also write the report (Markdown) here")
    args = parser.parse_args()
    dev = Assistant(_settings())
    dev.open_index(rebuild=True)
    policy, *_ = _open(_settings(), Path("eval/corpora/policy_synth/corpus"), None)
    sets = {
        "dev+trust tune": item_questions(dev, [Path("eval/dev.jsonl"), Path("eval/trust.jsonl")]),
        "policy_synth tune": item_questions(policy, [Path("eval/corpora/policy_synth/questions.jsonl")]),
        "drcd tune": bench_questions(args.bench / "drcd", args.limit),
        "cmrc2018 tune": bench_questions(args.bench / "cmrc2018", args.limit),
    }
    lines = [f"# tune_rerank {date.today().isoformat()}", "",
             "Tuning questions: " + ", ".join(f"{n} {len(q)}" for n, q in sets.items()),
             "Candidates: the first `depth` hybrid hits and the chunks of the best-matching sentences; "
             "out-of-fold hit@1 / hit@5 / MRR@10 (5 folds over questions)", "",
             "| depth | C | " + " | ".join(sets) + " | mean MRR@10 |", "|---|---|" + "---|" * (len(sets) + 1),
             "| | fused order | " + " | ".join(_cell(metrics([q[max(DEPTHS)] for q in qs], None)) for qs in sets.values())
             + f" | {np.mean([metrics([q[max(DEPTHS)] for q in qs], None)[2] for qs in sets.values()]):.4f} |"]
    print("\n".join(lines), flush=True)
    folds = {name: [i % FOLDS for i in random.Random(1).sample(range(len(qs)), len(qs))] for name, qs in sets.items()}
    best: tuple[float, int, float, dict, np.ndarray] | None = None
    for depth in DEPTHS:
        cut = {n: [q[depth] for q in qs] for n, qs in sets.items()}
        diffs, _ = pairs([q for qs in cut.values() for q in qs], 1.0)
        scale = np.vstack(diffs).std(axis=0) + 1e-9
        for c in GRID:
            cells = defaultdict(list)
            for fold in range(FOLDS):
                train = {n: [q for q, f in zip(qs, folds[n], strict=True) if f != fold] for n, qs in cut.items()}
                weights = fit(train, c, scale)
                for n, qs in cut.items():
                    cells[n] += [(q, weights) for q, f in zip(qs, folds[n], strict=True) if f == fold]
            scores = {n: np.mean([metrics([q], w) for q, w in cells[n]], axis=0) for n in cut}
            mean = float(np.mean([s[2] for s in scores.values()]))
            line = f"| {depth} | {c} | " + " | ".join(_cell(tuple(s)) for s in scores.values()) + f" | {mean:.4f} |"
            lines.append(line)
            print(line, flush=True)
            if best is None or mean > best[0]:
                best = (mean, depth, c, cut, scale)
    assert best is not None
    mean, depth, c, sets, scale = best
    weights = fit(sets, c, scale)
    chosen = {name: round(float(w), 4) for name, w in zip(FEATURES, weights, strict=True)}
    # An index without sentence vectors (Milvus, or retrieval.sentence_vectors off) has no sentence cosine and no
    # sentence candidates: the same depth and C fitted without them.
    keep = [i for i, name in enumerate(FEATURES) if name != "sentence_cosine"]
    chunks_only = {n: [{**q, "x": q["x"][: q["fused"], keep], "y": q["y"][: q["fused"]], "ids": q["ids"][: q["fused"]]}
                       for q in qs] for n, qs in sets.items()}
    without = fit(chunks_only, c, scale[keep])
    fallback = {FEATURES[i]: round(float(w), 4) for i, w in zip(keep, without, strict=True)}
    tail = ["", f"Chosen depth = {depth}, C = {c} (best mean out-of-fold MRR@10 {mean:.4f}); weights fitted on all tuning "
            "questions (in-sample, for reference: " + ", ".join(
                f"{n} {_cell(metrics(qs, weights))}" for n, qs in sets.items()) + ")", "",
            f"rerank_depth = {depth}", "RERANK_WEIGHTS = " + json.dumps(chosen, ensure_ascii=False), "",
            "Without sentence vectors (in-sample: " + ", ".join(
                f"{n} {_cell(metrics(qs, without))}" for n, qs in chunks_only.items()) + ")",
            "RERANK_WEIGHTS_WITHOUT_SENTENCES = " + json.dumps(fallback, ensure_ascii=False)]
    lines += tail
    print("\n".join(tail))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
