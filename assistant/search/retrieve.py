"""Retrieval: dense, keyword and hybrid search with document/date/region filters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import QueryError
from ..settings import Settings
from ..text.script import normalize
from ..types import Hit
from .embed import Embedder
from .fusion import rrf, top, weighted
from .index import LoadedIndex

MODES = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class Filters:
    """Optional restrictions on which chunks may be returned."""

    doc_ids: tuple[str, ...] = ()
    since: str = ""  # YYYY[-MM[-DD]]
    until: str = ""
    region: str = ""

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.since or self.until or self.region)


def _pad_date(date: str, high: bool) -> str:
    """Complete a partial date for comparison: ``2021-02`` → ``2021-02-01`` (low) or ``2021-02-31`` (high)."""
    parts = date.split("-")
    defaults = ["9999" if high else "0000", "12" if high else "01", "31" if high else "01"]
    return "-".join((parts + defaults[len(parts):])[:3]) if date else ""


class Retriever:
    """Searches one loaded index.

    Args:
        index: The loaded index.
        embedder: The embedder that built it.
        settings: Retrieval settings (mode, fusion, weights).
    """

    def __init__(self, index: LoadedIndex, embedder: Embedder, settings: Settings) -> None:
        self.index, self.embedder, self.settings = index, embedder, settings.retrieval
        self._last_query: tuple[str, np.ndarray] | None = None
        self.positions = {c.chunk_id: i for i, c in enumerate(index.chunks)}

    def query_vector(self, query_norm: str) -> np.ndarray:
        """The query's embedding (the last one is cached: answering reuses the search's vector)."""
        if self._last_query is None or self._last_query[0] != query_norm:
            self._last_query = (query_norm, self.embedder.embed_queries([query_norm])[0])
        return self._last_query[1]

    def cosines(self, query: str, hits: list[Hit]) -> list[float]:
        """Cosine similarity of the query with each hit's chunk vector."""
        vector = self.query_vector(normalize(query))
        return [float(np.dot(self.index.vectors[self.positions[h.chunk.chunk_id]], vector)) for h in hits]

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        if not filters:
            return None
        region = normalize(filters.region) if filters.region else ""
        since, until = _pad_date(filters.since, False), _pad_date(filters.until, True)
        ok_docs = set()
        for doc_id, info in self.index.documents.items():
            if filters.doc_ids and doc_id not in filters.doc_ids:
                continue
            if region and region not in normalize(info.region):
                continue
            if since and (not info.date or _pad_date(info.date, True) < since):
                continue
            if until and (not info.date or _pad_date(info.date, False) > until):
                continue
            ok_docs.add(doc_id)
        return np.fromiter((c.doc_id in ok_docs for c in self.index.chunks), dtype=bool, count=len(self.index.chunks))

    def dense_scores(self, query: str, allowed: np.ndarray | None, n: int) -> dict[int, float]:
        """Top-``n`` cosine similarities; exact over the allowed chunks when filtering."""
        vector = self.query_vector(query)[None, :]
        if allowed is not None:
            positions = np.flatnonzero(allowed)
            sims = np.asarray(self.index.vectors[positions] @ vector[0]) if len(positions) else np.zeros(0)
            best = np.argsort(-sims)[:n]
            return {int(positions[i]): float(sims[i]) for i in best}
        scores, positions = self.index.dense.search(vector, n)
        return {int(p): float(s) for p, s in zip(positions[0], scores[0], strict=True) if p >= 0}

    def keyword_scores(self, query_norm: str, allowed: np.ndarray | None, n: int) -> dict[int, float]:
        """Top-``n`` BM25 scores (only chunks sharing a token with the query)."""
        scores = self.index.keyword.scores(query_norm)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        if not len(scores):
            return {}
        best = np.argsort(-scores, kind="stable")[:n]
        return {int(i): float(scores[i]) for i in best if scores[i] > 0}

    def search(self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None) -> list[Hit]:
        """Search the index.

        Args:
            query: The question in either script (normalized here).
            k: Number of hits (default from settings).
            mode: ``hybrid``, ``dense`` or ``bm25`` (default from settings).
            filters: Optional document/date/region filters.

        Returns:
            Hits, best first; scores are comparable within one list only.

        Raises:
            QueryError: The query is empty or the mode unknown.
        """
        k = k or self.settings.k
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QueryError(f"Unknown search mode {mode!r}; use one of {', '.join(MODES)}.")
        query_norm = normalize(query)
        if not query_norm:
            raise QueryError("The query is empty. Type a question.")
        allowed = self._allowed(filters or Filters())
        n = max(k, self.settings.candidates)
        if mode == "dense":
            fused = self.dense_scores(query_norm, allowed, n)
        elif mode == "bm25":
            fused = self.keyword_scores(query_norm, allowed, n)
        else:
            dense = self.dense_scores(query_norm, allowed, n)
            keyword = self.keyword_scores(query_norm, allowed, n)
            if self.settings.fusion == "rrf":
                ranking = [[p for p, _ in top(d, n)] for d in (dense, keyword)]
                w = self.settings.dense_weight
                fused = rrf(ranking, self.settings.rrf_k, [2 * w, 2 * (1 - w)])
            else:
                fused = weighted(dense, keyword, self.settings.dense_weight)
        chunks = self.index.chunks
        return [Hit(chunks[pos], score, rank) for rank, (pos, score) in enumerate(top(fused, k), start=1)]
