"""Calibrate the refusal threshold (and the support function's dense scaling) and the claim overlap on the tune split.

Usage: .venv/bin/python scripts/calibrate.py [--set eval/dev.jsonl]
Features are computed once per question; the grid is searched on the tune split only, and the chosen values are
then reported on the held-out test split. Put the chosen values into assistant/settings.py. Not a CI step.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from assistant.evaluation.evaluate import load_eval_set
from assistant.evaluation.metrics import refusal_scores
from assistant.pipeline import Assistant

ASK_TYPES = ("fact", "paraphrase", "section", "unanswerable")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="eval/dev.jsonl")
    args = parser.parse_args()
    assistant = Assistant()
    assistant.open_index(rebuild=True)
    items = load_eval_set(Path(args.set))
    rows = []
    for item in items:
        if item.type in ASK_TYPES:
            answer = assistant.ask(item.question)
            rows.append((item.split, item.type == "unanswerable", answer.extra["features"]))
    extractor = assistant.extractor
    grid = itertools.product((0.78, 0.82, 0.86), (0.90, 0.92, 0.94), (0.2, 0.35, 0.5), (0.0, 0.2, 0.35), (0.2, 0.4),
                             [t / 100 for t in range(20, 80, 4)])
    best = None
    for floor, ceiling, share, figure_share, penalty, threshold in grid:
        extractor.settings = assistant.settings.answer.model_copy(update={
            "dense_floor": floor, "dense_ceiling": ceiling, "dense_share": share, "figure_dense_share": figure_share,
            "missing_penalty": penalty, "refusal_threshold": threshold})
        scores = {}
        for split in ("tune", "test"):
            gold = [should for s, should, _ in rows if s == split]
            predicted = [extractor.support(f) < threshold for s, _, f in rows if s == split]
            scores[split] = {k: v for k, v in refusal_scores(gold, predicted).items() if k.startswith("refusal")}
        key = (scores["tune"]["refusal_f1"], scores["tune"]["refusal_precision"])
        if best is None or key > best[0]:
            best = (key, (floor, ceiling, share, figure_share, penalty, threshold), scores)
    _, params, scores = best
    names = ("dense_floor", "dense_ceiling", "dense_share", "figure_dense_share", "missing_penalty", "refusal_threshold")
    print("chosen on tune:", ", ".join(f"{n}={v}" for n, v in zip(names, params, strict=True)))
    for split in ("tune", "test"):
        print(split, {k: round(v, 3) for k, v in scores[split].items()})
    claims = [i for i in items if i.type == "claim"]
    print("\nclaim_min_overlap | tune accuracy | test accuracy")
    for overlap in (0.3, 0.4, 0.5, 0.6, 0.7):
        assistant.settings = assistant.settings.model_copy(
            update={"answer": assistant.settings.answer.model_copy(update={"claim_min_overlap": overlap})})
        accuracy = {}
        for split in ("tune", "test"):
            subset = [c for c in claims if c.split == split]
            accuracy[split] = sum(assistant.check(c.question).verdict == c.claim_verdict for c in subset) / len(subset)
        print(f"{overlap} | {accuracy['tune']:.3f} | {accuracy['test']:.3f}")


if __name__ == "__main__":
    main()
