"""Calibrate refusal on several corpora: fit the support model's weights and threshold on tune items, report test.

Usage: .venv/bin/python scripts/calibrate.py [--bench ../shared/bench] [--bench-limit 300] [--claims]

Corpora and their items (answerable → should answer, unanswerable → should refuse):
- ``bundled``: ``eval/dev.jsonl`` and ``eval/trust.jsonl`` over ``corpus/``;
- ``policy_synth``: ``eval/corpora/policy_synth/questions.jsonl`` over its own ten documents;
- ``cmrc2018``/``drcd`` (when ``--bench`` exists): questions asked without their gold passage (should refuse) and
  with it (should answer). The tune part is ``questions_all.jsonl`` minus ``sample.jsonl`` (``--bench-limit`` of
  them, a fixed shuffle); the samples are the test part.

Each question is retrieved and its evidence features computed once (the pipeline's own code); the weights of
``answer.refusal_weights`` are then fitted by L2-regularized logistic regression on the tune items only (each corpus
weighted by ``--weights``), and ``answer.refusal_threshold`` is the threshold with the best mean refusal F1 over the
tune items of the policy corpora whose false refusal rate stays within ``--max-false-refusal``. Scope-notice answers
count as refused. Put the printed values into ``assistant/settings.py`` (``REFUSAL_WEIGHTS`` and
``refusal_threshold``) and commit them with this script's output. Not a CI step.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from assistant.answers.service import query_terms, sentence_cosines
from assistant.evaluation.bench import load_questions
from assistant.evaluation.evaluate import corpus_settings, load_eval_set
from assistant.evaluation.external import ExcludingAssistant, _open
from assistant.pipeline import Assistant
from assistant.search.retrieve import Filters
from assistant.settings import REFUSAL_FEATURES, Settings, load_settings

ASK_TYPES = ("fact", "paraphrase", "section", "unanswerable")
POLICY_GROUPS = ("bundled/dev", "bundled/trust", "policy_synth")


@dataclass
class Row:
    """One asked question: where it comes from, whether it should be refused, its features and scope notice."""

    corpus: str
    id: str
    split: str
    should_refuse: bool
    features: dict[str, float]
    notice: bool
    noise: bool


def _ask_rows(assistant: Assistant, corpus: str, items: list, search: Callable) -> list[Row]:
    snapshot = assistant.open_index()
    texts, documents = snapshot.document_texts(), snapshot.documents
    rows = []
    for item_id, split, question, should_refuse, filters in items:
        hits = search(question, filters)
        terms = query_terms(assistant.retriever, question)
        evidence = assistant.extractor.evidence(question, hits, None, texts, documents, terms,
                                                sentence_cosines(assistant.retriever, question))
        rows.append(Row(corpus, item_id, split, should_refuse, evidence.features, bool(evidence.scope_mismatch),
                        bool(evidence.extra.get("noise"))))
    return rows


def collect(settings: Settings, bench: Path | None, bench_limit: int) -> list[Row]:
    """Features of every calibration question, corpus by corpus."""
    rows: list[Row] = []
    k = settings.answer.top_k
    bundled = Assistant(settings)
    bundled.open_index(rebuild=True)
    items = [i for f in ("eval/dev.jsonl", "eval/trust.jsonl") for i in load_eval_set(Path(f)) if i.type in ASK_TYPES]
    rows += _ask_rows(bundled, "bundled", [(i.id, i.split, i.question, i.type == "unanswerable", None) for i in items],
                      lambda q, f: bundled.retriever.search(q, k=k))
    synth = Assistant(corpus_settings(settings, Path("eval/corpora/policy_synth/corpus")))
    synth.open_index(rebuild=True)
    items = [i for i in load_eval_set(Path("eval/corpora/policy_synth/questions.jsonl")) if i.type in ASK_TYPES]
    rows += _ask_rows(synth, "policy_synth", [(i.id, i.split, i.question, i.type == "unanswerable", None) for i in items],
                      lambda q, f: synth.retriever.search(q, k=k))
    for name in ("cmrc2018", "drcd"):
        folder = bench / name if bench else None
        if folder is None or not (folder / "corpus.jsonl").exists():
            continue
        opened, _, _, alias = _open(settings, folder / "corpus.jsonl", None, factory=ExcludingAssistant)
        sample = load_questions(folder / "sample.jsonl")
        sample_ids = {str(r["id"]) for r in sample}
        rest = [r for r in load_questions(folder / "questions_all.jsonl") if str(r["id"]) not in sample_ids]
        random.Random(0).shuffle(rest)
        asked = []
        for split, questions in (("tune", rest[:bench_limit]), ("test", sample)):
            for r in questions:
                gold = tuple(sorted(alias.get(str(g), str(g)) for g in r["gold_passage_ids"]))
                asked += [(str(r["id"]), split, r["question"], True, Filters(exclude_doc_ids=gold)),
                          (str(r["id"]), split, r["question"], False, None)]
        rows += _ask_rows(opened, name, asked, lambda q, f, a=opened: a.retriever.search(q, k=k, filters=f))
    return rows


def fit(rows: list[Row], weights: dict[str, float], l2: float) -> dict[str, float]:
    """L2-regularized, corpus-weighted logistic regression of "answerable" on the features.

    Noise rows and scope-notice rows are left out: the pipeline refuses them whatever their support, and a
    scope-notice row's evidence is on the topic by construction (the figure for another year or place).
    """
    chosen = [r for r in rows if not r.noise and not r.notice]
    x = np.array([[r.features[f] for f in REFUSAL_FEATURES] for r in chosen])
    y = np.array([0.0 if r.should_refuse else 1.0 for r in chosen])
    counts = {c: sum(1 for r in chosen if r.corpus == c) for c in {r.corpus for r in chosen}}
    w = np.array([weights.get(r.corpus, 1.0) / counts[r.corpus] for r in chosen])
    w *= len(chosen) / w.sum()
    x1 = np.hstack([np.ones((len(x), 1)), x])

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = x1 @ beta
        p = 1 / (1 + np.exp(-z))
        eps = 1e-9
        value = -np.sum(w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))) + l2 * np.sum(beta[1:] ** 2)
        grad = x1.T @ (w * (p - y)) + 2 * l2 * np.r_[0, beta[1:]]
        return value, grad

    beta = minimize(loss, np.zeros(x1.shape[1]), jac=True, method="L-BFGS-B").x
    return {"bias": round(float(beta[0]), 3), **{f: round(float(b), 3) for f, b in zip(REFUSAL_FEATURES, beta[1:], strict=True)}}


def refused(row: Row, weights: dict[str, float], threshold: float) -> bool:
    """The pipeline's decision: noise, a scope notice, or support under the threshold."""
    z = weights["bias"] + sum(weights[f] * row.features[f] for f in REFUSAL_FEATURES)
    return row.noise or row.notice or 1 / (1 + np.exp(-z)) < threshold


def scores(rows: list[Row], weights: dict[str, float], threshold: float) -> dict[str, float]:
    """Refusal precision, recall, F1 and false refusal rate with counts."""
    tp = sum(1 for r in rows if r.should_refuse and refused(r, weights, threshold))
    fp = sum(1 for r in rows if not r.should_refuse and refused(r, weights, threshold))
    fn = sum(1 for r in rows if r.should_refuse and not refused(r, weights, threshold))
    answerable = sum(1 for r in rows if not r.should_refuse)
    p = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(rec, 3), "f1": round(2 * p * rec / (p + rec) if p + rec else 0.0, 3),
            "false_refusal": round(fp / answerable, 3) if answerable else 0.0, "answerable_refused": fp,
            "answerable": answerable, "tp": tp, "fn": fn}


def choose_threshold(tune: list[Row], weights: dict[str, float], max_false_refusal: float) -> float:
    """The refusal threshold: the middle of the thresholds whose mean refusal F1 over the policy groups' tune items
    (dev, trust, policy_synth, each apart) is within 0.01 of the best, among those that keep the false refusal rate
    of those groups' answerable tune items taken together within ``max_false_refusal`` (and each group's within twice
    that). The tune sets are small (one item moves F1 by about 0.015; one false refusal of trust's 22 answerable tune
    items is 4.5%, so the bar is on the pooled 116), and the near-best thresholds form a plateau; its middle is the
    choice least tied to single items.
    """
    by_group = {g.split()[0]: rows for g, rows in groups(tune).items() if g.split()[0] in POLICY_GROUPS}
    pooled = [r for rows in by_group.values() for r in rows]
    candidates = []
    for threshold in [t / 100 for t in range(10, 91)]:
        results = [scores(rows, weights, threshold) for rows in by_group.values()]
        if scores(pooled, weights, threshold)["false_refusal"] <= max_false_refusal and all(
                s["false_refusal"] <= 2 * max_false_refusal for s in results):
            candidates.append((sum(s["f1"] for s in results) / len(results), threshold))
    if not candidates:
        return 0.5
    best = max(f1 for f1, _ in candidates)
    plateau = [threshold for f1, threshold in candidates if f1 >= best - 0.01]
    return round((min(plateau) + max(plateau)) / 2, 2)


def groups(rows: list[Row]) -> dict[str, list[Row]]:
    """Rows per reporting group: dev and trust items apart within the bundled corpus."""
    out: dict[str, list[Row]] = {}
    for r in rows:
        name = r.corpus if r.corpus != "bundled" else ("bundled/dev" if r.id.startswith("dev") else "bundled/trust")
        out.setdefault(f"{name} {r.split}", []).append(r)
    return dict(sorted(out.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=Path("../shared/bench"), help="shared/bench folder (optional)")
    parser.add_argument("--bench-limit", type=int, default=300, help="tune questions per bench set")
    parser.add_argument("--weights", default="bundled=3,policy_synth=1,cmrc2018=0.5,drcd=0.5",
                        help="share of each corpus in the fit")
    parser.add_argument("--l2", type=float, default=0.5, help="L2 penalty on the weights")
    parser.add_argument("--max-false-refusal", type=float, default=0.05)
    parser.add_argument("--dump", type=Path, help="write the features to this JSON Lines file")
    parser.add_argument("--load", type=Path, help="read the features from a --dump file instead of asking again")
    args = parser.parse_args()
    if args.load:
        rows = [Row(**json.loads(line)) for line in args.load.read_text(encoding="utf-8").splitlines() if line]
    else:
        rows = collect(load_settings(), args.bench if args.bench.exists() else None, args.bench_limit)
    if args.dump:
        args.dump.write_text("".join(json.dumps(r.__dict__, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    share = {k: float(v) for k, v in (p.split("=") for p in args.weights.split(","))}
    tune = [r for r in rows if r.split == "tune"]
    weights = fit(tune, share, args.l2)
    threshold = choose_threshold(tune, weights, args.max_false_refusal)
    print("refusal_weights =", json.dumps(weights))
    print("refusal_threshold =", threshold)
    print("\ngroup | precision | recall | F1 | false refusal (answerable refused / answerable)")
    for name, group in groups(rows).items():
        s = scores(group, weights, threshold)
        print(f"{name} | {s['precision']} | {s['recall']} | {s['f1']} | {s['false_refusal']} "
              f"({s['answerable_refused']}/{s['answerable']})")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
