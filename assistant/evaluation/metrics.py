"""Metrics: retrieval (hit@k, MRR, nDCG, section hit), refusal, claim and latency metrics as small pure functions.

The retrieval functions follow sentence-transformers' ``InformationRetrievalEvaluator`` contract: ``queries``
(id → text), ``corpus`` (id → text) and ``relevant`` (query id → set of corpus ids); one query is scored from its
ranked list of retrieved ids and its relevant ids. Gains are binary and ranks start at 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence

from ..text.script import normalize

# Metric names, as written in summary.json and report.md.
KS = (1, 3, 5, 10)
MRR_K = NDCG_K = 10
SECTION_K = 5
RETRIEVAL_KEYS = (*(f"hit@{k}" for k in KS), f"mrr@{MRR_K}", f"ndcg@{NDCG_K}", f"section_hit@{SECTION_K}")
SECTION_SEPARATOR = " > "
CLAIM_LABELS = ("supported", "contradicted", "not_found")

_SPACE = re.compile(r"\s+")


def hit_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 when a relevant id is among the first ``k`` retrieved, else 0.0.

    Example: ``hit_at_k(["a", "b", "c"], {"c"}, 2)`` → ``0.0``; with ``k=3`` → ``1.0``.
    """
    return 1.0 if any(item in relevant for item in retrieved[:k]) else 0.0


def mrr_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Reciprocal rank of the first relevant id within the first ``k`` (0.0 when none).

    Example: ``mrr_at_k(["a", "b", "c"], {"b", "c"}, 10)`` → ``0.5``.
    """
    for rank, item in enumerate(retrieved[:k], start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int, n_relevant: int | None = None) -> float:
    """Normalized discounted cumulative gain with binary gains.

    ``DCG = Σ rel_i / log2(i + 1)`` over ranks ``i ≤ k``; the ideal DCG puts all relevant items first, so it counts
    ``min(k, n_relevant)`` of them, where ``n_relevant`` is the number of relevant items in the whole corpus (default
    ``len(relevant)``). Example: ``ndcg_at_k(["a", "b"], {"b"}, 10)`` → ``1/log2(3)`` = 0.631.

    Args:
        retrieved: Retrieved ids, best first.
        relevant: The relevant ids.
        k: Cut-off.
        n_relevant: Relevant items in the corpus, when ``relevant`` is not the full set.

    Returns:
        A value in [0, 1]; 0.0 when nothing is relevant.
    """
    total = len(relevant) if n_relevant is None else n_relevant
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, total) + 1))
    if not ideal:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, item in enumerate(retrieved[:k], start=1) if item in relevant)
    return dcg / ideal


def section_key(levels: Sequence[str]) -> tuple[str, ...]:
    """Heading levels made comparable: :func:`normalize`, then every whitespace removed.

    Example: ``["第二節 發展基礎"]`` → ``("第二节发展基础",)``.
    """
    return tuple(_SPACE.sub("", normalize(level)) for level in levels)


def section_matches(path: Sequence[str], gold: str) -> bool:
    """Whether a chunk's section path ends with the gold section (levels joined by `` > ``).

    Example: path ``("第一篇 …", "第一章 …", "第二节发展基础")`` matches gold ``第一章 … > 第二節發展基礎``.
    """
    gold_key = section_key([level for level in gold.split(SECTION_SEPARATOR) if level.strip()])
    path_key = section_key(path)
    return bool(gold_key) and len(path_key) >= len(gold_key) and path_key[len(path_key) - len(gold_key) :] == gold_key


def section_hit_at_k(paths: Sequence[Sequence[str]], gold: str | Sequence[str], k: int) -> float:
    """1.0 when one of the first ``k`` retrieved section paths ends with the gold section (any of several), else 0.0.

    Args:
        paths: Section paths of the retrieved chunks, best first.
        gold: The gold section, or a list of them (``multi`` items).
        k: Cut-off.
    """
    golds = [gold] if isinstance(gold, str) else list(gold)
    return 1.0 if any(section_matches(path, g) for path in paths[:k] for g in golds if g) else 0.0


def query_scores(retrieved: Sequence[str], relevant: Collection[str], n_relevant: int | None = None) -> dict[str, float]:
    """hit@1/3/5/10, mrr@10 and ndcg@10 of one query (section hit is scored separately)."""
    scores = {f"hit@{k}": hit_at_k(retrieved, relevant, k) for k in KS}
    scores[f"mrr@{MRR_K}"] = mrr_at_k(retrieved, relevant, MRR_K)
    scores[f"ndcg@{NDCG_K}"] = ndcg_at_k(retrieved, relevant, NDCG_K, n_relevant)
    return scores


def retrieval_scores(queries: Mapping[str, str], corpus: Mapping[str, str], relevant: Mapping[str, Collection[str]],
                     retrieved: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Mean hit@k, MRR and nDCG over queries, in the (queries, corpus, relevant) contract.

    Args:
        queries: Query id → text (every query is scored; one with no results scores 0).
        corpus: Corpus id → text (only its size is used here, to check ids).
        relevant: Query id → relevant corpus ids.
        retrieved: Query id → retrieved corpus ids, best first.

    Returns:
        Metric name → mean, plus ``n`` (queries). Example: two queries, one hit at rank 1 and one miss →
        ``hit@1 = 0.5``, ``mrr@10 = 0.5``.

    Raises:
        KeyError: A retrieved id is not in the corpus.
    """
    rows = []
    for qid in queries:
        ranked = list(retrieved.get(qid, []))
        unknown = [cid for cid in ranked if cid not in corpus]
        if unknown:
            raise KeyError(f"retrieved ids not in the corpus: {unknown[:3]}")
        rows.append(query_scores(ranked, set(relevant.get(qid, ()))))
    return {**mean_scores(rows), "n": len(rows)}


def mean_scores(rows: Sequence[Mapping[str, float | None]]) -> dict[str, float | None]:
    """Mean of each key over rows, skipping ``None`` (a key with only ``None`` values stays ``None``).

    Example: ``[{"hit@1": 1.0}, {"hit@1": 0.0}]`` → ``{"hit@1": 0.5}``.
    """
    keys: list[str] = []
    for row in rows:
        keys.extend(key for key in row if key not in keys)
    means: dict[str, float | None] = {}
    for key in keys:
        values = [float(v) for row in rows if (v := row.get(key)) is not None]
        means[key] = sum(values) / len(values) if values else None
    return means


def refusal_scores(should_refuse: Sequence[bool], refused: Sequence[bool]) -> dict[str, float | int]:
    """Precision, recall and F1 of refusing, the positive class being "should refuse" (unanswerable).

    Example: should ``[T, T, F, F]``, refused ``[T, F, T, F]`` → precision 0.5, recall 0.5, F1 0.5.
    Precision is 0.0 when nothing was refused, recall 0.0 when nothing should have been.
    """
    tp = sum(1 for s, r in zip(should_refuse, refused, strict=True) if s and r)
    fp = sum(1 for s, r in zip(should_refuse, refused, strict=True) if not s and r)
    fn = sum(1 for s, r in zip(should_refuse, refused, strict=True) if s and not r)
    tn = len(refused) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"refusal_precision": precision, "refusal_recall": recall, "refusal_f1": f1,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, **false_refusal(should_refuse, refused)}


def false_refusal(should_refuse: Sequence[bool], refused: Sequence[bool]) -> dict[str, float | int | None]:
    """False refusal rate = answerable items refused / answerable items, with both counts.

    Example: should ``[T, F, F, F]``, refused ``[T, T, F, F]`` → rate 1/3, ``answerable`` 3, ``answerable_refused`` 1.
    The rate is ``None`` when no item is answerable.
    """
    answerable = sum(1 for s in should_refuse if not s)
    wrong = sum(1 for s, r in zip(should_refuse, refused, strict=True) if not s and r)
    return {"false_refusal_rate": wrong / answerable if answerable else None, "answerable": answerable,
            "answerable_refused": wrong, "unanswerable": len(should_refuse) - answerable}


def _scope_key(value: str) -> str:
    return _SPACE.sub("", normalize(value)).strip("“”\"'")


def scope_entry_matches(expected: Mapping[str, str], got: Mapping[str, str]) -> bool:
    """Whether an answer's ``scope_mismatch`` entry is the expected one: same kind, and the asked values agree.

    The asked values agree when, after :func:`normalize` and whitespace removal, one contains the other (an empty
    expected value matches any): ``{"kind": "year", "asked": "2024"}`` matches ``{"kind": "year", "asked": "2024年",
    "found": "2021"}``; ``{"kind": "place", "asked": "大连"}`` matches ``asked`` ``大連市``. ``found`` is not compared
    (the evidence may legitimately come from another year or place than the one the annotator saw).
    """
    if str(expected.get("kind", "")) != str(got.get("kind", "")):
        return False
    want, have = _scope_key(str(expected.get("asked", ""))), _scope_key(str(got.get("asked", "")))
    return not want or (bool(have) and (want in have or have in want))


def scope_matched(expected: Sequence[Mapping[str, str]], got: Sequence[Mapping[str, str]]) -> bool:
    """Whether every expected scope entry is matched by one of the answer's entries (``False`` if none expected).

    Example: expected ``[{"kind": "year", "asked": "2024"}]``, got ``[{"kind": "place", …}, {"kind": "year",
    "asked": "2024年"}]`` → True; got ``[]`` → False.
    """
    return bool(expected) and all(any(scope_entry_matches(e, g) for g in got) for e in expected)


def claim_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, object]:
    """Claim-verdict accuracy and confusion matrix ``{gold: {predicted: count}}``.

    Rows and columns are the three verdicts, plus any other predicted label (e.g. ``error``) as an extra column.
    Example: gold ``["supported", "not_found"]``, predicted ``["supported", "supported"]`` → accuracy 0.5 and
    ``confusion["not_found"]["supported"] == 1``.
    """
    labels = list(CLAIM_LABELS) + sorted({p for p in predicted if p not in CLAIM_LABELS})
    confusion = {g: dict.fromkeys(labels, 0) for g in (*CLAIM_LABELS, *sorted(set(gold) - set(CLAIM_LABELS)))}
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    return {"claim_accuracy": correct / len(gold) if gold else None, "claim_confusion": confusion, "n": len(gold)}


def percentiles(values_ms: Sequence[float], points: Sequence[int] = (50, 95)) -> dict[str, float | int | None]:
    """Latency percentiles (linear interpolation between closest ranks, as ``numpy.percentile``).

    Example: ``percentiles([10, 20, 30, 40])`` → ``{"p50": 25.0, "p95": 38.5, "n": 4}``.
    """
    ordered = sorted(float(v) for v in values_ms)
    out: dict[str, float | int | None] = {}
    for point in points:
        if not ordered:
            out[f"p{point}"] = None
            continue
        position = (len(ordered) - 1) * point / 100
        low = math.floor(position)
        high = min(low + 1, len(ordered) - 1)
        out[f"p{point}"] = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    out["n"] = len(ordered)
    return out
