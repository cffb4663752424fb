"""BM25 store: the embedded keyword index, BM25 postings in immutable segments (KeywordIndex protocol).

Tokens come from :func:`assistant.search.keyword.tokenize` over each chunk's search text; statistics are summed over
all segments (see :mod:`assistant.search.bm25`), so scores do not depend on how the corpus is split into segments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..ingest.chunk import search_text
from ..settings import RetrievalSettings
from ..types import Chunk
from .bm25 import CorpusStats, Postings
from .keyword import tokenize
from .segmented import Segment, SegmentedStore
from .segments import Filters, SegmentRows
from .store import StoredRow

POSTINGS_DIR = "bm25"


class Bm25Index(SegmentedStore[Postings]):
    """Keyword search over chunk search texts.

    Args:
        root: The index folder.
        settings: ``bm25_tokens`` picks bigrams, jieba words or both.
        state: The store's state from the manifest (``None``: empty).
        verify: Check file checksums while opening.
    """

    backend = "bm25"

    def __init__(self, root: Path, settings: RetrievalSettings, state: dict[str, Any] | None = None,
                 verify: bool = True) -> None:
        self.mode = settings.bm25_tokens
        self._stats: CorpusStats | None = None
        super().__init__(root, "kw", state, verify)

    def _load(self, folder: Path, rows: SegmentRows, record: dict[str, Any]) -> Postings:
        from ..errors import CorruptIndexError

        postings = Postings.load(folder / POSTINGS_DIR)
        if postings.size != rows.size:
            raise CorruptIndexError(f"Keyword postings of segment {folder.name} do not match its {rows.size} chunks.")
        return postings

    def _write(self, folder: Path, chunks: Sequence[Chunk], items: Sequence[Any]) -> dict[str, Any]:
        if items and all(isinstance(item, _RowRef) for item in items):
            postings = Postings.merge(_runs(items))  # compaction: rows of existing segments
        else:
            postings = Postings.build(items)
        postings.save(folder / POSTINGS_DIR)
        return {}

    def _items(self, segment: Segment[Postings], rows: np.ndarray) -> tuple[list[Chunk], list[Any]]:
        from .faiss_store import _stub

        chunks = [_stub(self.stored_row(segment, int(r), segment.rows.chunk_ids[int(r)])) for r in rows]
        return chunks, [_RowRef(segment.payload, int(r)) for r in rows]

    def _changed(self) -> None:
        self._stats = None

    @property
    def stats(self) -> CorpusStats:
        """Corpus-wide statistics over the committed segments (computed once per change)."""
        if self._stats is None:
            self._stats = CorpusStats([s.payload for s in self.segments])
        return self._stats

    # ----- KeywordIndex -----
    def upsert(self, chunks: Sequence[Chunk]) -> None:
        """Queue chunks; their tokens are indexed as one segment at :meth:`commit`."""
        self._queue(chunks, [tokenize(search_text(c), self.mode) or [""] for c in chunks])

    def get(self, chunk_ids: Sequence[str]) -> dict[str, StoredRow]:
        """Stored rows of the live ids among ``chunk_ids``."""
        found = {cid: self.stored_row(seg, row, cid) for seg, row, cid in self.locate(chunk_ids)}
        for chunk, _ in self.pending_chunks():
            if chunk.chunk_id in chunk_ids:
                found[chunk.chunk_id] = StoredRow(chunk.chunk_id, chunk.doc_id, chunk.date, chunk.region, chunk.source)
        return found

    def search(self, query_norm: str, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, score)`` pairs among chunks sharing a token with the query."""
        tokens = tokenize(query_norm, self.mode)
        if not tokens or not self.segments:
            return []
        stats = self.stats
        found: list[tuple[float, str]] = []
        for segment in self.segments:
            rows, scores = stats.scores(segment.payload, tokens)
            allowed = self.allowed_rows(segment, filters)
            keep = np.isin(rows, allowed, assume_unique=True) if allowed is not None else ~segment.rows.is_dead(rows)
            keep &= scores > 0
            rows, scores = rows[keep], scores[keep]
            if len(rows) > k:
                best = np.argpartition(-scores, k - 1)[:k]
                rows, scores = rows[best], scores[best]
            found += [(float(s), segment.rows.chunk_ids[int(r)]) for r, s in zip(rows, scores, strict=True)]
        found.sort(key=lambda item: (-item[0], item[1]))
        return [(cid, score) for score, cid in found[:k]]


    def query_mass(self, query_norm: str) -> float:
        """The most a chunk could score for this query: the summed IDF of its distinct tokens.

        A BM25 score divided by it is the share of the question's weight a chunk matches (each token's part saturates
        towards its IDF), comparable across questions; calibrated fusion uses it. A token no chunk holds counts with
        the highest possible IDF, so a question mostly made of unknown words (English over Chinese text) stays low.
        """
        tokens = set(tokenize(query_norm, self.mode))
        if not tokens:
            return 0.0
        stats = self.stats
        unknown = math.log(1 + (stats.n + 0.5) / 0.5)
        return float(sum(stats.idf(t) or unknown for t in tokens))

    def term_idf(self, term_norm: str) -> float:
        """How specific a term is in the index: 0 unless every token of it is indexed, else their largest IDF.

        The dictionary bridge adds only terms with a non-zero value. For a two-character term with bigram tokens this
        is the term's own IDF; for a longer one its tokens' (a term whose bigrams all occur, but never together, still
        counts).
        Example: ``就业`` over the bundled corpus → about 3.3; ``乔布斯`` → 0.
        """
        tokens = tokenize(term_norm, self.mode)
        if not tokens or not self.segments:
            return 0.0
        stats = self.stats
        idfs = [stats.idf(t) for t in tokens]
        return 0.0 if min(idfs) == 0 else max(idfs)


class _RowRef(NamedTuple):
    """A row of an existing segment's postings, carried through compaction without re-tokenizing."""

    postings: Postings
    row: int


def _runs(refs: Sequence[_RowRef]) -> list[tuple[Postings, np.ndarray]]:
    """Consecutive rows of the same segment grouped: ``[(postings, rows), …]`` in the given order."""
    runs: list[tuple[Postings, list[int]]] = []
    for ref in refs:
        if runs and runs[-1][0] is ref.postings:
            runs[-1][1].append(ref.row)
        else:
            runs.append((ref.postings, [ref.row]))
    return [(postings, np.asarray(rows, dtype=np.int64)) for postings, rows in runs]
