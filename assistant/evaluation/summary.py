"""Summary: eval records grouped into the numbers a run reports (per mode, split, row; answers; judges; latency).

Records are the dicts of ``records.jsonl``: retrieval records carry ``mode`` (a search mode) and ``scores``; answer
records have ``mode`` ``ask`` (``refused``, ``should_refuse``, ``scope_mismatch``, ``scope_expected``) or ``check``
(``verdict``, ``gold_verdict``). Dev-set records also carry the item's row labels ``lang``, ``kind``, ``subkind``,
``batch`` and ``twin``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .metrics import claim_scores, mean_scores, percentiles, refusal_scores

SPLITS = ("tune", "test", "all")
ANSWERABLE_TYPES = ("fact", "paraphrase", "section")
ANSWER_MODES = ("ask", "check")
# Retrieval rows: every question is counted once per dimension (its language, its kind, its type, its batch).
ROW_DIMENSIONS = ("lang", "kind", "type", "batch")
ANSWER_ROW_DIMENSIONS = ("kind", "subkind", "lang", "batch")
CROSS_KEYS = ("hit@1", "hit@5", "mrr@10")


def _split_order(split: str) -> int:
    return SPLITS.index(split) if split in SPLITS else len(SPLITS)


def _splits(rec: dict[str, Any]) -> set[str]:
    return {rec["split"], "all"}


def _means(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {**mean_scores([r["scores"] for r in records]), "n": len(records),
            "unreachable": sum(1 for r in records if not r["n_relevant"])}


def summarize_retrieval(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Mean metrics per mode × split (tune, test, all) × question type (plus ``all``), with counts.

    ``unreachable`` counts questions whose evidence no chunk of that mode's corpus holds.
    """
    grouped: dict[str, dict[str, dict[str, list[dict[str, Any]]]]] = {}
    for rec in records:
        for split in _splits(rec):
            for group in {rec["type"], "all"}:
                grouped.setdefault(rec["mode"], {}).setdefault(split, {}).setdefault(group, []).append(rec)
    summary: dict[str, Any] = {}
    for mode, by_split in grouped.items():
        summary[mode] = {}
        for split in sorted(by_split, key=_split_order):
            groups = by_split[split]
            order = ["all", *sorted(g for g in groups if g != "all")]
            summary[mode][split] = {group: _means(groups[group]) for group in order}
    return summary


def retrieval_rows(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Mean metrics per mode × split × row dimension (``lang``, ``kind``, ``type``, ``batch``) × value.

    Example: ``rows["hybrid"]["test"]["lang"]["en"]["hit@5"]`` is the hit@5 of the English test questions.
    Records without a label (external sets) are left out of that dimension.
    """
    grouped: dict[str, dict[str, dict[str, dict[str, list[dict[str, Any]]]]]] = {}
    for rec in records:
        for split in _splits(rec):
            for dim in ROW_DIMENSIONS:
                if rec.get(dim):
                    by_dim = grouped.setdefault(rec["mode"], {}).setdefault(split, {}).setdefault(dim, {})
                    by_dim.setdefault(str(rec[dim]), []).append(rec)
    return {mode: {split: {dim: {value: _means(rows) for value, rows in sorted(values.items())}
                           for dim, values in by_split[split].items()}
                   for split in sorted(by_split, key=_split_order)}
            for mode, by_split in grouped.items()}


def cross_language(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Each English question with a twin beside its twin, per mode: hit@1, hit@5, MRR@10 of both, and means per split.

    Returns:
        ``{mode: {"pairs": [{"en", "zh", "split", "en_hit@5", "zh_hit@5", …}], "splits": {split: {"n", "en_hit@5",
        "zh_hit@5", …, "en_worse", "en_better"}}}}``; ``en_worse`` counts pairs where the English question's MRR@10 is
        below its twin's. Modes without pairs are left out.
    """
    by_mode: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in records:
        if rec["mode"] not in ANSWER_MODES:
            by_mode.setdefault(rec["mode"], {})[rec["id"]] = rec
    out: dict[str, Any] = {}
    for mode, recs in by_mode.items():
        pairs = []
        for rec in recs.values():
            twin = recs.get(rec.get("twin") or "")
            if rec.get("lang") != "en" or twin is None or twin.get("lang") == "en":
                continue
            pair = {"en": rec["id"], "zh": twin["id"], "zh_lang": twin.get("lang"), "split": rec["split"]}
            for key in CROSS_KEYS:
                pair[f"en_{key}"], pair[f"zh_{key}"] = rec["scores"].get(key), twin["scores"].get(key)
            pairs.append(pair)
        if not pairs:
            continue
        splits: dict[str, Any] = {}
        for split in SPLITS:
            chosen = [p for p in pairs if split in (p["split"], "all")]
            if chosen:
                means = mean_scores([{k: v for k, v in p.items() if k.startswith(("en_", "zh_")) and k != "zh_lang"}
                                     for p in chosen])
                splits[split] = {"n": len(chosen), **means,
                                 "en_worse": sum(1 for p in chosen if p["en_mrr@10"] < p["zh_mrr@10"]),
                                 "en_better": sum(1 for p in chosen if p["en_mrr@10"] > p["zh_mrr@10"])}
        out[mode] = {"pairs": pairs, "splits": splits}
    return out


def refusal_block(asks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Refusal precision/recall/F1, counts and false refusal rate, three ways.

    Top level: as the answer's own ``refused`` flag says. ``notice_as_refused``: an answer that carries a scope
    notice (``scope_mismatch``) counts as a refusal. ``notice_as_answered``: it counts as an answer even when flagged
    refused.
    """
    should = [r["should_refuse"] for r in asks]
    notice = [bool(r.get("scope_mismatch")) for r in asks]
    refused = [r["refused"] for r in asks]
    return {**refusal_scores(should, refused), "n_ask": len(asks),
            "notice_as_refused": refusal_scores(should, [r or n for r, n in zip(refused, notice, strict=True)]),
            "notice_as_answered": refusal_scores(should, [r and not n for r, n in zip(refused, notice, strict=True)])}


def scope_block(asks: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """How answers to questions with an expected scope notice behaved (``None`` when no item expects one).

    ``matched``: the answer carries every expected ``scope_mismatch`` entry; ``silent``: it answered with no scope
    notice at all (another year's or place's figure presented as the answer); ``unexpected_notice``: answers to items
    without an expected scope that carry one anyway.
    """
    items = [r for r in asks if r.get("scope_expected")]
    others = [r for r in asks if not r.get("scope_expected")]
    if not items:
        return None
    silent = [r["id"] for r in items if not r["refused"] and not r.get("scope_mismatch")]
    matched = sum(1 for r in items if r.get("scope_matched"))
    return {"n": len(items), "notice": sum(1 for r in items if r.get("scope_mismatch")), "matched": matched,
            "matched_rate": matched / len(items), "refused": sum(1 for r in items if r["refused"]),
            "silent": len(silent), "silent_ids": silent,
            "unexpected_notice": sum(1 for r in others if r.get("scope_mismatch")), "n_without_scope": len(others)}


def _claims_by(checks: Sequence[dict[str, Any]], label: str) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for rec in checks:
        if rec.get(label):
            groups.setdefault(str(rec[label]), []).append(rec)
    return {value: claim_scores([r["gold_verdict"] for r in rows], [r["verdict"] for r in rows])
            for value, rows in sorted(groups.items())}


def summarize_answers(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Citation coverage, refusal (three ways, with false refusal), scope notices and claim accuracy per split.

    Claim accuracy is also given per ``kind`` and per ``subkind`` (e.g. ``meaning`` → ``negation``).
    """
    out: dict[str, Any] = {}
    for split in SPLITS:
        asks = [r for r in records if r["mode"] == "ask" and split in (r["split"], "all")]
        checks = [r for r in records if r["mode"] == "check" and split in (r["split"], "all")]
        if not asks and not checks:
            continue
        covered = [r for r in asks if r["citation_covered"] is not None]
        by_type = {t: [r["citation_covered"] for r in covered if r["type"] == t] for t in ANSWERABLE_TYPES}
        claims = claim_scores([r["gold_verdict"] for r in checks], [r["verdict"] for r in checks])
        out[split] = {
            "citation_coverage": sum(r["citation_covered"] for r in covered) / len(covered) if covered else None,
            "citation_coverage_by_type": {t: (sum(v) / len(v) if v else None) for t, v in by_type.items()},
            "answered": len(covered),
            **refusal_block(asks),
            "scope": scope_block(asks),
            "claim_accuracy": claims["claim_accuracy"],
            "claim_confusion": claims["claim_confusion"],
            "n_check": len(checks),
            "claims_by_kind": _claims_by(checks, "kind"),
            "claims_by_subkind": _claims_by(checks, "subkind"),
        }
    return out


def answer_rows(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Answer metrics per split × row dimension (``kind``, ``subkind``, ``lang``, ``batch``) × value.

    Each row: ``n_ask`` with :func:`refusal_block`'s numbers (when it has ``ask`` records), ``scope`` (when an item
    of it expects a notice), ``claim_accuracy`` and ``n_check`` (when it has ``check`` records).
    """
    out: dict[str, Any] = {}
    for split in SPLITS:
        chosen = [r for r in records if r["mode"] in ANSWER_MODES and split in (r["split"], "all")]
        dims: dict[str, Any] = {}
        for dim in ANSWER_ROW_DIMENSIONS:
            groups: dict[str, list[dict[str, Any]]] = {}
            for rec in chosen:
                if rec.get(dim):
                    groups.setdefault(str(rec[dim]), []).append(rec)
            rows = {}
            for value, group in sorted(groups.items()):
                asks = [r for r in group if r["mode"] == "ask"]
                checks = [r for r in group if r["mode"] == "check"]
                row: dict[str, Any] = {"n_ask": len(asks), "n_check": len(checks)}
                if asks:
                    row.update(refusal_block(asks))
                    row["scope"] = scope_block(asks)
                if checks:
                    row["claim_accuracy"] = claim_scores([r["gold_verdict"] for r in checks],
                                                         [r["verdict"] for r in checks])["claim_accuracy"]
                rows[value] = row
            if rows:
                dims[dim] = rows
        if dims:
            out[split] = dims
    return out


def summarize_latency(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """p50/p95 milliseconds per stage: ``search:<mode>``, ``ask``, ``check``."""
    stages: dict[str, list[float]] = {}
    for rec in records:
        stage = rec["mode"] if rec["mode"] in ANSWER_MODES else f"search:{rec['mode']}"
        stages.setdefault(stage, []).append(rec["latency_ms"])
    return {stage: percentiles(values) for stage, values in stages.items()}


def summarize_judges(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Which judge decided each ``ask``/``check`` (the ``judge`` field of the answer; ``none`` when it has none).

    Returns:
        ``{"ask": {"rules": {"n": 40, "p50": …, "p95": …}, …}, "check": {…}}``: count and latency per judge.
    """
    groups: dict[str, dict[str, list[float]]] = {}
    for rec in records:
        if rec["mode"] in ANSWER_MODES:
            judge = str(rec.get("judge") or "none")
            groups.setdefault(rec["mode"], {}).setdefault(judge, []).append(rec["latency_ms"])
    return {mode: {judge: percentiles(values) for judge, values in sorted(by_judge.items())}
            for mode, by_judge in groups.items()}
