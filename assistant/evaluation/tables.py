"""Tables: Markdown tables of a run summary (rows by language/kind/type, cross-language pairs, refusal, judges)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

ROW_KEYS = ("hit@1", "hit@5", "mrr@10")


def fmt(value: Any, na: str = "n/a") -> str:
    """A table cell: floats with three decimals, ``None`` as ``n/a``.

    Example: ``fmt(0.93333)`` → ``0.933``; ``fmt(None)`` → ``n/a``; ``fmt(12)`` → ``12``.
    """
    if value is None:
        return na
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> list[str]:
    """Markdown table lines (header, rule, one line per row)."""
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return lines


def count(part: Any, whole: Any) -> str:
    """``3/60`` (``n/a`` when either is missing)."""
    return "n/a" if part is None or whole is None else f"{part}/{whole}"


def render_retrieval_rows(rows: dict[str, Any], splits: Iterable[str] = ("test", "tune")) -> list[str]:
    """One table per split: hit@1 / hit@5 / MRR@10 per mode for each row.

    Rows are ``lang=en``, ``kind=colloquial``, ``type=fact``, ``batch=original`` and so on; a dimension with a single
    value is left out (it equals the split's total).
    """
    lines: list[str] = []
    modes = list(rows)
    for split in splits:
        dims: dict[str, dict[str, Any]] = {}
        for mode in modes:
            for dim, values in rows[mode].get(split, {}).items():
                dims.setdefault(dim, {}).update(dict.fromkeys(values))
        body = []
        for dim, values in dims.items():
            if len(values) < 2:
                continue
            for value in values:
                cells = [rows[m].get(split, {}).get(dim, {}).get(value) for m in modes]
                n = next((c["n"] for c in cells if c), None)
                body.append([f"{dim}={value}", n, *(" / ".join(fmt(c.get(k)) for k in ROW_KEYS) if c else "n/a"
                                                    for c in cells)])
        if body:
            lines += [f"### Rows, split `{split}` (hit@1 / hit@5 / mrr@10)", ""]
            lines += [*table(["row", "n", *modes], body), ""]
    return lines


def render_cross_language(cross: dict[str, Any]) -> list[str]:
    """English questions beside their Chinese twins: means per mode and split, then every pair of one mode."""
    if not cross:
        return []
    lines = ["### Cross-language: English questions and their Chinese twins", ""]
    body = [[mode, split, s["n"], s.get("en_hit@5"), s.get("zh_hit@5"), s.get("en_mrr@10"), s.get("zh_mrr@10"),
             s["en_worse"], s["en_better"]]
            for mode, data in cross.items() for split, s in data["splits"].items()]
    lines += [*table(["mode", "split", "pairs", "en hit@5", "zh hit@5", "en mrr@10", "zh mrr@10", "en worse",
                      "en better"], body), ""]
    mode = "hybrid" if "hybrid" in cross else next(iter(cross))
    pairs = [[p["en"], p["zh"], p["split"], p["en_hit@5"], p["zh_hit@5"], p["en_mrr@10"], p["zh_mrr@10"]]
             for p in cross[mode]["pairs"]]
    lines += [f"Pairs, mode `{mode}`:", "", *table(["en", "zh", "split", "en hit@5", "zh hit@5", "en mrr@10",
                                                       "zh mrr@10"], pairs), ""]
    return lines


def _refusal_cells(block: dict[str, Any]) -> list[Any]:
    return [block.get("refusal_precision"), block.get("refusal_recall"), block.get("refusal_f1"),
            f"{block.get('tp')}/{block.get('fp')}/{block.get('fn')}/{block.get('tn')}",
            block.get("false_refusal_rate"), count(block.get("answerable_refused"), block.get("answerable"))]


def render_refusal(answers: dict[str, Any]) -> list[str]:
    """Refusal per split, as flagged and with scope-notice answers counted as refused / as answered."""
    body = []
    for split, a in answers.items():
        if not a.get("n_ask"):
            continue
        body.append([split, "as flagged", *_refusal_cells(a)])
        for key in ("notice_as_refused", "notice_as_answered"):
            if key in a:
                body.append([split, key.replace("_", " "), *_refusal_cells(a[key])])
    if not body:
        return []
    return ["### Refusal (positive class: should refuse)", "",
            *table(["split", "scope notice", "precision", "recall", "F1", "tp/fp/fn/tn", "false refusal",
                    "answerable refused"], body), ""]


def render_answer_rows(rows: dict[str, Any]) -> list[str]:
    """Answer metrics per split and row (kind, subkind, lang, batch): refusal, false refusal, claims, scope.

    Refusal F1 is shown only for rows with unanswerable items (otherwise it is 0 by definition and says nothing).
    """
    body = []
    for split, dims in rows.items():
        for dim, values in dims.items():
            if len(values) < 2 and dim in ("lang", "batch"):
                continue  # one value: the same numbers as the split's total
            for value, row in values.items():
                scope = row.get("scope") or {}
                body.append([split, f"{dim}={value}", row["n_ask"], row.get("refusal_f1") if row.get("unanswerable") else None,
                             count(row.get("tp"), row.get("unanswerable")) if row["n_ask"] else "n/a",
                             count(row.get("answerable_refused"), row.get("answerable")) if row["n_ask"] else "n/a",
                             row["n_check"], row.get("claim_accuracy"),
                             count(scope.get("matched"), scope.get("n")), scope.get("silent")])
    if not body:
        return []
    return ["### Answers by row", "",
            *table(["split", "row", "asks", "refusal F1", "unanswerable refused", "answerable refused", "claims",
                    "claim accuracy", "scope notice matched", "silent (no notice)"], body), ""]


def render_scope(answers: dict[str, Any]) -> list[str]:
    """Questions that expect a scope notice: matched, silent (answered without any notice), ids of the silent ones."""
    body = [[split, s["n"], s["notice"], s["matched"], s["refused"], s["silent"], ", ".join(s["silent_ids"][:12]),
             count(s["unexpected_notice"], s["n_without_scope"])]
            for split, a in answers.items() if (s := a.get("scope"))]
    if not body:
        return []
    return ["### Scope notices", "", *table(["split", "items", "with notice", "matched", "refused", "silent",
                                             "silent ids", "notice where none expected"], body), ""]


def render_judges(judges: dict[str, Any]) -> list[str]:
    """Which judge decided each ask/check, with its latency."""
    body = [[mode, judge, v["n"], v["p50"], v["p95"]] for mode, by_judge in judges.items() for judge, v in by_judge.items()]
    if not body:
        return []
    return ["### Judges (the `judge` field of answers and verdicts; `none` when absent)", "",
            *table(["call", "judge", "n", "p50 ms", "p95 ms"], body), ""]
