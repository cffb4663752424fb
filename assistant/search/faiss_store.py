"""FAISS store: the embedded dense index, one FAISS index per immutable segment (VectorStore protocol).

A segment keeps its vectors (``vectors.npy``, memory-mapped) and, when it is large enough for approximate search to
pay, an HNSW or IVF index over them (``dense.faiss``). Exact search runs ``faiss.knn`` on the mapped vectors without
copying them. A filter becomes the segment's allowed rows: few enough, they are scored exactly; otherwise FAISS
searches with an ``IDSelectorBatch`` of them. Deleted rows are skipped by over-fetching (compaction keeps them few).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CorruptIndexError
from ..settings import RetrievalSettings
from ..types import Chunk
from .segmented import Segment, SegmentedStore
from .segments import Filters, SegmentRows
from .store import StoredRow

VECTORS, DENSE = "vectors.npy", "dense.faiss"
EXACT_LIMIT = 20_000  # filtered rows up to this many are scored exactly (a matrix product is cheaper than a selector)


@dataclass
class VectorSegment:
    """A segment's vectors and its ANN index (``None``: exact search)."""

    vectors: np.ndarray
    index: Any | None


class FaissVectorStore(SegmentedStore[VectorSegment]):
    """Dense vectors in segments; ``retrieval.dense_index`` picks exact, HNSW or IVF search per large segment.

    Args:
        root: The index folder.
        settings: Index type and its parameters (``dense_index``, ``hnsw_m``, ``hnsw_ef_search``, ``ivf_nprobe``,
            ``ann_min_rows``).
        dim: Vector dimension.
        state: The store's state from the manifest (``None``: empty).
        verify: Check file checksums while opening.
        prefix: The segment folders' prefix (another store of vectors in the same index folder uses its own).
    """

    backend = "faiss"

    def __init__(self, root: Path, settings: RetrievalSettings, dim: int, state: dict[str, Any] | None = None,
                 verify: bool = True, prefix: str = "vec") -> None:
        self.settings, self.dim = settings, dim
        super().__init__(root, prefix, state, verify)

    def _load_settings(self) -> tuple[Any, ...]:
        return (self.dim, self.settings.hnsw_ef_search, self.settings.ivf_nprobe)

    def _load(self, folder: Path, rows: SegmentRows, record: dict[str, Any]) -> VectorSegment:
        import faiss

        try:
            vectors = np.load(folder / VECTORS, mmap_mode="r")
            index = faiss.read_index(str(folder / DENSE)) if (folder / DENSE).exists() else None
        except (OSError, ValueError, RuntimeError) as exc:
            raise CorruptIndexError(f"Dense vectors of segment {folder.name} are unreadable ({exc}).") from exc
        if vectors.ndim != 2 or vectors.shape != (rows.size, self.dim) or (index is not None and index.ntotal != rows.size):
            raise CorruptIndexError(f"Dense vectors of segment {folder.name} do not match its {rows.size} chunks.")
        if index is not None and hasattr(index, "hnsw"):
            index.hnsw.efSearch = self.settings.hnsw_ef_search
        elif index is not None:
            index.nprobe = self.settings.ivf_nprobe
        return VectorSegment(vectors, index)

    def _write(self, folder: Path, chunks: Sequence[Chunk], items: Sequence[Any]) -> dict[str, Any]:
        import faiss

        vectors = np.ascontiguousarray(np.stack(items) if items else np.zeros((0, self.dim)), dtype=np.float32)
        np.save(folder / VECTORS, vectors)
        kind = self.settings.dense_index if len(vectors) >= self.settings.ann_min_rows else "flat"
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.dim, self.settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = max(40, 2 * self.settings.hnsw_m)
        elif kind == "ivf":
            nlist = max(1, min(4096, int(np.sqrt(len(vectors)))))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
        else:
            return {}
        index.add(vectors)
        faiss.write_index(index, str(folder / DENSE))
        return {}

    def _items(self, segment: Segment[VectorSegment], rows: np.ndarray) -> tuple[list[Chunk], list[Any]]:
        chunks = [_stub(self.stored_row(segment, int(r), segment.rows.chunk_ids[int(r)])) for r in rows]
        return chunks, [np.array(segment.payload.vectors[int(r)]) for r in rows]

    # ----- VectorStore -----
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Queue chunks with their vectors; they are written as one segment at :meth:`commit`."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        self._queue(chunks, [np.asarray(v, dtype=np.float32) for v in vectors])

    def get(self, chunk_ids: Sequence[str]) -> dict[str, StoredRow]:
        """Stored rows with their vectors, for the live ids among ``chunk_ids``."""
        found = {cid: self.stored_row(seg, row, cid, np.array(seg.payload.vectors[row]))
                 for seg, row, cid in self.locate(chunk_ids)}
        for chunk, vector in self.pending_chunks():
            if chunk.chunk_id in chunk_ids:
                found[chunk.chunk_id] = StoredRow(chunk.chunk_id, chunk.doc_id, chunk.date, chunk.region, chunk.source,
                                                  vector)
        return found

    def search(self, query: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, cosine)`` pairs over every committed segment."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        found: list[tuple[float, str]] = []
        for segment in self.segments:
            rows, scores = self._search_segment(segment, query, k, filters)
            found += [(float(s), segment.rows.chunk_ids[int(r)]) for r, s in zip(rows, scores, strict=True)]
        found.sort(key=lambda item: (-item[0], item[1]))
        return [(cid, score) for score, cid in found[:k]]

    def _search_segment(self, segment: Segment[VectorSegment], query: np.ndarray, k: int,
                        filters: Filters | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        vectors, index = segment.payload.vectors, segment.payload.index
        allowed = self.allowed_rows(segment, filters)
        if allowed is not None:
            if not len(allowed):
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            if index is None or len(allowed) <= EXACT_LIMIT:
                sims = np.asarray(vectors[allowed] @ query[0])
                best = np.argsort(-sims, kind="stable")[:k]
                return allowed[best], sims[best]
            params = faiss.SearchParametersHNSW() if hasattr(index, "hnsw") else faiss.SearchParametersIVF()
            if hasattr(index, "hnsw"):
                params.efSearch = max(self.settings.hnsw_ef_search, k)
            else:
                params.nprobe = self.settings.ivf_nprobe
            params.sel = faiss.IDSelectorBatch(allowed)
            scores, rows = index.search(query, min(k, len(allowed)), params=params)
        else:
            want = min(segment.rows.size, k + len(segment.rows.dead))
            if not want:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            if index is None:
                scores, rows = faiss.knn(query, vectors, want, metric=faiss.METRIC_INNER_PRODUCT)
            elif hasattr(index, "hnsw"):  # per-call parameters: concurrent searches never share a setting
                scores, rows = index.search(query, want, params=faiss.SearchParametersHNSW(
                    efSearch=max(self.settings.hnsw_ef_search, want)))
            else:
                scores, rows = index.search(query, want)
        rows, scores = rows[0], scores[0]
        keep = (rows >= 0) & ~segment.rows.is_dead(rows)
        return rows[keep][:k], scores[keep][:k]


def _stub(row: StoredRow) -> Chunk:
    """A chunk holding only the stored fields (what a store needs to rewrite a row during compaction)."""
    return Chunk(row.chunk_id, row.doc_id, "", (), "", "", 0, 0, date=row.date, region=row.region, source=row.source)
