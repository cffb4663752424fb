"""Fusion: combine dense and keyword result lists (pure functions over chunk keys and scores)."""

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
