"""Store: the protocols of the dense and keyword indexes, keyed by ``chunk_id``, and the factory that picks a backend.

Two backends implement them: the embedded one (FAISS + BM25 postings in immutable segments under ``paths.index``,
the default) and Milvus (``retrieval.store = "milvus"``: Milvus Lite in a local file, or a Milvus server or cluster).
Filters (document, date range, region, source) are evaluated inside the backend. Changes (``upsert``, ``delete``)
become visible to readers at ``commit``, which returns the store's state for the index manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import ConfigError
from ..settings import Settings
from ..types import Chunk
from .segments import Filters

__all__ = ["Filters", "KeywordIndex", "StoredRow", "VectorStore", "make_stores"]


@dataclass(frozen=True)
class StoredRow:
    """What a store keeps of a chunk besides its index data: the fields filters read, and the vector if dense."""

    chunk_id: str
    doc_id: str
    date: str = ""
    region: str = ""
    source: str = "corpus"
    vector: np.ndarray | None = None


class VectorStore(Protocol):
    """Dense index over L2-normalized vectors, inner-product search, keyed by chunk id."""

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Add chunks with their vectors (row ``i`` of ``vectors`` is ``chunks[i]``); an existing id is replaced."""

    def delete(self, chunk_ids: Iterable[str] = (), doc_id: str | None = None) -> int:
        """Delete chunks by id and/or every chunk of a document; return how many were deleted."""

    def search(self, query: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, cosine)`` pairs for one query vector, best first."""

    def get(self, chunk_ids: Sequence[str]) -> dict[str, StoredRow]:
        """The stored rows (with vectors) of the ids present; missing or deleted ids are left out."""

    def count(self) -> int:
        """Number of live chunks."""

    def commit(self) -> dict[str, Any]:
        """Make pending changes durable; return the state to record in the index manifest."""


class KeywordIndex(Protocol):
    """Keyword (BM25) index over the chunks' search texts, keyed by chunk id."""

    def upsert(self, chunks: Sequence[Chunk]) -> None:
        """Index chunks (their ``search_text``); an existing id is replaced."""

    def delete(self, chunk_ids: Iterable[str] = (), doc_id: str | None = None) -> int:
        """Delete chunks by id and/or every chunk of a document; return how many were deleted."""

    def search(self, query_norm: str, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, BM25 score)`` pairs for a normalized query (only chunks sharing a token)."""

    def get(self, chunk_ids: Sequence[str]) -> dict[str, StoredRow]:
        """The stored rows of the ids present (no vectors)."""

    def count(self) -> int:
        """Number of live chunks."""

    def commit(self) -> dict[str, Any]:
        """Make pending changes durable; return the state to record in the index manifest."""


def make_stores(settings: Settings, root: Path, dim: int, states: dict[str, Any] | None = None,
                verify: bool = True) -> tuple[VectorStore, KeywordIndex]:
    """Open (or create empty) the dense and keyword stores named by ``retrieval.store``.

    Args:
        settings: Retrieval settings pick the backend and its parameters.
        root: The index folder (segments of the embedded backend live under it).
        dim: Vector dimension.
        states: The stores' states from the index manifest (``None``: new, empty stores).
        verify: Check every segment file's checksum while opening (embedded backend).

    Raises:
        ConfigError: The backend is unknown or its extra is not installed.
        CorruptIndexError: A segment is missing or damaged.
    """
    states = states or {}
    backend = settings.retrieval.store
    if backend == "faiss":
        from .bm25_store import Bm25Index
        from .faiss_store import FaissVectorStore

        return (FaissVectorStore(root, settings.retrieval, dim, states.get("vectors"), verify),
                Bm25Index(root, settings.retrieval, states.get("keyword"), verify))
    if backend == "milvus":
        from .milvus_store import open_milvus

        return open_milvus(settings, root, dim, states)
    raise ConfigError(f"Unknown retrieval.store {backend!r}: use 'faiss' or 'milvus'.")
