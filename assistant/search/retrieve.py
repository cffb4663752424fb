"""Retrieval: dense, keyword and hybrid search over an index snapshot, with filters evaluated inside the stores."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import QueryError
from ..settings import Settings
from ..text.script import detect_script, normalize
from ..types import Hit
from .bridge import load_bridge
from .embed import Embedder
from .expand import expand_query, load_terms
from .fusion import calibrated, rrf, top, weighted
from .index import IndexSnapshot
from .segments import Filters
from .sentences import chunk_of


class Reranker(Protocol):
    """Reorders fused candidates (the answer stage's reader, :class:`assistant.answers.rerank.Reranker`)."""

    def rerank(self, query: str, hits: list[Hit], keyword_mass: float) -> list[Hit]:
        """The hits in a better order, ranks renumbered."""
        ...

__all__ = ["MODES", "Filters", "Retriever"]

MODES = ("hybrid", "dense", "bm25")


class Retriever:
    """Searches one index snapshot.

    Args:
        snapshot: The open index version.
        embedder: The embedder that built it.
        settings: Retrieval settings (mode, fusion, weights).
        reranker: Reorders hybrid candidates (``retrieval.rerank``); ``None`` keeps the fused order.
    """

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder, settings: Settings,
                 reranker: Reranker | None = None) -> None:
        self.index, self.embedder, self.settings = snapshot, embedder, settings.retrieval
        self.reranker = reranker
        self._last_query: tuple[str, np.ndarray] | None = None
        self._last_translation: tuple[str, np.ndarray | None] | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Load what a first question would otherwise wait for (a server calls this at start).

        That is the embedding model and, when English words go through the dictionary bridge, the inverted
        dictionary (about 2 s each).
        """
        self.query_vector("预热")
        if self.settings.expansion and self.settings.bridge:
            load_bridge()

    def query_vector(self, query_norm: str) -> np.ndarray:
        """The query's embedding (the last one is kept: answering a question reuses its search's vector)."""
        last = self._last_query
        if last is None or last[0] != query_norm:
            last = (query_norm, self.embedder.embed_queries([query_norm])[0])
            with self._lock:
                self._last_query = last
        return last[1]

    def translated_vector(self, query_norm: str) -> np.ndarray | None:
        """For an English question, the embedding of its Chinese translation; ``None`` for other questions.

        The translation is the Chinese terms of the keyword query (term table, then dictionary bridge), e.g. ``How many
        5G base stations will Shenyang build?`` → ``5G 5G基站 多少 基站 沈阳 建设``: a bag of words, but in the documents'
        language, where the small e5 model matches far better than across languages (``retrieval.translated_query``).
        """
        if self.settings.translated_query == "off" or not self.settings.expansion or detect_script(query_norm) != "latin":
            return None
        last = self._last_translation
        if last is None or last[0] != query_norm:
            words = self.keyword_query(query_norm, True).split()
            # Its Chinese terms and numbers (2025, 5G); the English words left untranslated are function words.
            kept = [w for w in words if not w.isascii() or any(c.isdigit() for c in w)]
            chinese = " ".join(kept) if any(not w.isascii() for w in kept) else ""
            last = (query_norm, self.embedder.embed_queries([chinese])[0] if chinese else None)
            with self._lock:
                self._last_translation = last
        return last[1]

    def sentence_query(self, query_norm: str) -> np.ndarray:
        """The vector compared with sentence vectors: the question's, or its mean with the translation's (English)."""
        vector = self.query_vector(query_norm)
        translated = self.translated_vector(query_norm)
        return vector if translated is None else (vector + translated) / 2

    def search(self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None) -> list[Hit]:
        """Search the index.

        Args:
            query: The question in either script (normalized here).
            k: Number of hits (default from settings).
            mode: ``hybrid``, ``dense`` or ``bm25`` (default from settings).
            filters: Optional document, date, region and source filters.

        Returns:
            Hits, best first, each with its fused score and its dense (cosine) and keyword (BM25) scores; the dense
            score is filled for every hit, the keyword score only where the keyword list returned the chunk.

        Raises:
            QueryError: The query is empty, the mode unknown or a filter date invalid.
        """
        k = k or self.settings.k
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise QueryError(f"Unknown search mode {mode!r}; use one of {', '.join(MODES)}.")
        query_norm = normalize(query)
        if not query_norm:
            raise QueryError("The query is empty. Type a question.")
        filters = (filters or Filters()).validated()
        n = max(k, self.settings.candidates)
        dense: dict[str, float] = {}
        keyword: dict[str, float] = {}
        if mode in ("dense", "hybrid"):
            dense = dict(self.index.vectors.search(self.query_vector(query_norm), n, filters or None))
        keyword_query = self.keyword_query(query_norm, self.settings.replace_english)
        if mode in ("bm25", "hybrid"):
            keyword = dict(self.index.keyword.search(keyword_query, n, filters or None))
        mass = getattr(self.index.keyword, "query_mass", None)  # stores that cannot tell fall back to min-max
        mass_value = mass(keyword_query) if mass is not None and mode == "hybrid" else 0.0
        if mode == "dense":
            fused = dense
        elif mode == "bm25":
            fused = keyword
        elif self.settings.fusion == "calibrated" and mass is not None:
            cosines = {**self._cosines(query_norm, [cid for cid in keyword if cid not in dense]), **dense}
            fused = calibrated(cosines, keyword, mass_value, self.settings.dense_scale)
            dense = cosines
        elif self.settings.fusion == "rrf":
            w = self.settings.dense_weight
            fused = rrf([[c for c, _ in top(d, n)] for d in (dense, keyword)], self.settings.rrf_k, [2 * w, 2 * (1 - w)])
        else:
            fused = weighted(dense, keyword, self.settings.dense_weight)
        reranking = mode == "hybrid" and self.reranker is not None and self.settings.rerank
        best = top(fused, max(k, self.settings.rerank_depth) if reranking else k)
        chunks = self.index.get_chunks([cid for cid, _ in best])
        if len(chunks) < len(best):  # ids a store that changes in place (Milvus) has but this version does not know
            ranked = top(fused, len(fused))
            chunks = self.index.get_chunks([cid for cid, _ in ranked])
            best = [(cid, score) for cid, score in ranked if cid in chunks][:len(best)]
        cosines = self._cosines(query_norm, [cid for cid, _ in best if cid not in dense])
        hits = [
            Hit(chunks[cid], score, rank, dense.get(cid, cosines.get(cid)), keyword.get(cid))
            for rank, (cid, score) in enumerate(((c, s) for c, s in best if c in chunks), start=1)
        ]
        if reranking:
            hits += self.sentence_candidates(query, hits, filters or None)
            hits = self.reranker.rerank(query, hits, mass_value)  # type: ignore[union-attr]
        return hits[:k]

    def sentence_candidates(self, query: str, hits: list[Hit], filters: Filters | None = None) -> list[Hit]:
        """Chunks whose sentences best match the question's embedding, not among ``hits``: more candidates to rerank.

        A chunk's vector averages all it says, so a chunk with one sentence on the question may rank low in both
        lists (拥黄渤两海 for 哪两个海). The sentence store is searched with the question's vector (an English
        question's mean with its translation's, see :meth:`translated_vector`) and the chunks of the best sentences
        join the candidates (``retrieval.sentence_candidates`` of them, none when the index keeps
        no sentence vectors). Each gets the fused score its cosine alone gives (calibrated fusion: ``dense_scale ×
        cosine``; other fusions: the last hit's score) and the ranks after the hits.
        """
        store, n = self.index.sentences, self.settings.sentence_candidates
        if store is None or n <= 0:
            return []
        query_norm = normalize(query)
        taken = {h.chunk.chunk_id for h in hits}
        wanted: list[str] = []
        by_translation = self.settings.translated_query == "search"
        vector = self.sentence_query(query_norm) if by_translation else self.query_vector(query_norm)
        for key, _ in store.search(vector, max(n * 10, self.settings.candidates), filters):
            chunk_id = chunk_of(key)
            if chunk_id not in taken and chunk_id not in wanted:
                wanted.append(chunk_id)
                if len(wanted) == n:
                    break
        chunks = self.index.get_chunks(wanted)
        cosines = self._cosines(query_norm, [cid for cid in wanted if cid in chunks])
        floor = hits[-1].score if hits else 0.0
        out = []
        for cid in wanted:
            if cid in chunks and cid in cosines:
                score = self.settings.dense_scale * cosines[cid] if self.settings.fusion == "calibrated" else floor
                out.append(Hit(chunks[cid], score, len(hits) + len(out) + 1, cosines[cid], None))
        return out

    def keyword_query(self, query_norm: str, replace_english: bool = False) -> str:
        """The keyword index's query: the question plus the official terms of its everyday or English words.

        Example: ``老房子改造有补贴吗`` → ``老房子改造有补贴吗 老旧小区改造 城市更新`` (unchanged with
        ``retrieval.expansion`` off). English words the term table leaves go through the dictionary bridge
        (``retrieval.bridge``). With ``replace_english`` (what :meth:`search` passes from
        ``retrieval.replace_english``) the English words a term stands for are dropped: ``gdp of liaoning`` →
        ``of 地区生产总值 生产总值 GDP 辽宁``; without it the result always starts with the question.
        """
        if not self.settings.expansion:
            return query_norm
        user_file = Path(self.settings.expansion_file) if self.settings.expansion_file else None
        return expand_query(query_norm, load_terms(user_file), self._bridge if self.settings.bridge else None,
                            replace_english)

    def _bridge(self, english: str) -> tuple[list[str], list[str]]:
        """Chinese terms of the dictionary bridge for English words, only terms this index holds (see :mod:`.bridge`).

        Example: ``urban jobs`` → ``(['城市', '就业'], ['urban', 'jobs'])`` over the bundled corpus.
        """
        known = getattr(self.index.keyword, "term_idf", None)  # a store that cannot tell keeps every candidate
        return load_bridge().match(english, known, self.settings.bridge_terms)

    def _cosines(self, query_norm: str, chunk_ids: list[str]) -> dict[str, float]:
        """Cosine of the query with chunks the dense list did not return (read from the vector store)."""
        if not chunk_ids:
            return {}
        vector = self.query_vector(query_norm)
        rows = self.index.vectors.get(chunk_ids)
        return {cid: float(np.dot(row.vector, vector)) for cid, row in rows.items() if row.vector is not None}

    def cosines(self, query: str, hits: list[Hit]) -> list[float]:
        """Cosine similarity of the query with each hit (from the hits' dense scores)."""
        del query  # kept for callers; the hits carry their cosines
        return [h.dense_score if h.dense_score is not None else 0.0 for h in hits]
