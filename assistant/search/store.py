"""Vector store: the dense index behind a small protocol (FAISS here; Milvus or pgvector could implement it)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import CorruptIndexError


class VectorStore(Protocol):
    """What retrieval needs from a dense index over L2-normalized vectors."""

    size: int

    def add(self, vectors: np.ndarray) -> None:
        """Append vectors; their positions continue from ``size``."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product search: ``(scores, positions)`` of shape ``(len(queries), k)``; missing → position -1."""

    def save(self, path: Path) -> None:
        """Persist to ``path``."""


class FaissStore:
    """FAISS inner-product index: exact (``flat``) or approximate (``hnsw``, ``ivf``).

    Args:
        dim: Vector dimension.
        kind: ``flat`` (exact, best for small corpora), ``hnsw`` or ``ivf`` (large corpora).
        hnsw_m: HNSW graph degree.
        ef_search: HNSW search breadth (higher: better recall, slower).
    """

    def __init__(self, dim: int, kind: str = "flat", hnsw_m: int = 32, ef_search: int = 64) -> None:
        import faiss

        self.dim, self.kind = dim, kind
        if kind == "flat":
            self.index = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            self.index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            self.index.hnsw.efConstruction = max(40, 2 * hnsw_m)
            self.index.hnsw.efSearch = ef_search
        elif kind == "ivf":
            self._ivf_pending = True
            self.index = None
        else:
            raise ValueError(f"unknown FAISS index kind {kind!r}")
        self._ef_search = ef_search

    @property
    def size(self) -> int:
        """Number of stored vectors."""
        return 0 if self.index is None else int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        """Append L2-normalized float32 vectors (an IVF index is trained on the first batch)."""
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.index is None:  # IVF: train on the data itself, ~sqrt(n) lists
            nlist = max(1, min(4096, int(np.sqrt(len(vectors)))))
            quantizer = faiss.IndexFlatIP(self.dim)
            self.index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            self.index.train(vectors)
            self.index.nprobe = max(1, min(nlist, self._ef_search // 4))
        self.index.add(vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` inner products for each query row."""
        if self.size == 0:
            empty = np.full((len(queries), k), -1, dtype=np.int64)
            return np.zeros((len(queries), k), dtype=np.float32), empty
        scores, positions = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, self.size))
        return scores, positions

    def save(self, path: Path) -> None:
        """Write the FAISS file."""
        import faiss

        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, ef_search: int = 64) -> FaissStore:
        """Read a FAISS file written by :meth:`save`.

        Raises:
            CorruptIndexError: The file is missing, truncated or not a FAISS index.
        """
        import faiss

        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, OSError) as exc:
            raise CorruptIndexError(f"Dense index {path} is unreadable ({exc}). Rebuild with `assistant build`.") from exc
        store = cls.__new__(cls)
        store.dim, store.index, store._ef_search = index.d, index, ef_search
        store.kind = "hnsw" if hasattr(index, "hnsw") else ("ivf" if hasattr(index, "nprobe") else "flat")
        if store.kind == "hnsw":
            index.hnsw.efSearch = ef_search
        return store
