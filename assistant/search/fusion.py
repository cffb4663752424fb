"""Fusion: combine dense and keyword result lists (pure functions over chunk keys and scores).

``calibrated`` (the default) puts both lists on scales that mean the same for every question: the dense cosine as it
is, and the BM25 score as a share of the most the question's tokens could score (their summed IDF). A question whose
words a passage matches well gets a keyword part near its maximum and decides by words; an English or colloquial
question whose words no passage holds gets a small keyword part everywhere, and the dense cosine decides. ``weighted``
min-max normalizes each list per question instead, which stretches a weak list's best hit to 1 whatever its quality.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np

K = TypeVar("K", int, str)  # a chunk key: its id (or a position in tests)


def rrf(rankings: list[list[K]], k: int = 60, weights: list[float] | None = None) -> dict[K, float]:
    """Reciprocal-rank fusion.

    Args:
        rankings: Each a list of chunk keys, best first.
        k: The RRF constant; larger flattens the rank differences.
        weights: One weight per ranking (default 1 each).

    Returns:
        Fused score per chunk key (higher is better).

    Example: ``rrf([[3, 1], [1, 2]], k=60)`` scores 1 highest (``1/62 + 1/61``).
    """
    weights = weights or [1.0] * len(rankings)
    fused: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, position in enumerate(ranking, start=1):
            fused[position] = fused.get(position, 0.0) + weight / (k + rank)
    return fused


def _minmax(scores: dict[K, float]) -> dict[K, float]:
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    span = high - low
    return {pos: (s - low) / span if span > 0 else 1.0 for pos, s in scores.items()}


def weighted(dense: dict[K, float], keyword: dict[K, float], dense_weight: float) -> dict[K, float]:
    """Weighted sum of min-max normalized scores; a chunk missing from one list gets 0 there.

    Example: ``weighted({1: 0.9, 2: 0.5}, {2: 8.0, 3: 2.0}, 0.5)`` → ``{1: 0.5, 2: 0.5, 3: 0.0}``.
    """
    dense_n, keyword_n = _minmax(dense), _minmax(keyword)
    return {
        pos: dense_weight * dense_n.get(pos, 0.0) + (1 - dense_weight) * keyword_n.get(pos, 0.0)
        for pos in dense_n.keys() | keyword_n.keys()
    }


def top(scores: dict[K, float], k: int) -> list[tuple[K, float]]:
    """The ``k`` best (key, score) pairs, ties broken by key for stable output."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


def calibrated(cosines: dict[K, float], keyword: dict[K, float], keyword_mass: float,
               dense_scale: float) -> dict[K, float]:
    """``dense_scale × cosine + keyword / keyword_mass`` for every candidate of either list.

    Args:
        cosines: The dense cosine of every candidate (of both lists).
        keyword: BM25 scores; a candidate missing here scores 0 there.
        keyword_mass: The most a chunk could score for the question (its summed token IDF); ``<= 0``: no keyword part.
        dense_scale: Weight of the cosine against the keyword share (``retrieval.dense_scale``).

    Returns:
        Fused score per candidate (higher is better); candidates without a cosine are left out.

    Example: ``calibrated({1: 0.85, 2: 0.80}, {2: 6.0}, 10.0, 2.0)`` → ``{1: 1.7, 2: 2.2}``.
    """
    share = 1.0 / keyword_mass if keyword_mass > 0 else 0.0
    return {key: dense_scale * cos + keyword.get(key, 0.0) * share for key, cos in cosines.items()}
