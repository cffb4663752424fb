"""Sentence vectors: an embedding of every answerable sentence of every chunk, for the reranker.

A chunk's embedding averages everything it says; a question usually asks about one sentence of it. The reranker
(:mod:`assistant.answers.rerank`) compares the question's embedding with the candidate's best sentences, which needs a
vector per sentence; embedding them at question time costs about 8 ms a sentence on 2 cores, so they are embedded
once at build and kept in a store of their own beside the chunk vectors (the embedded FAISS store, segment prefix
``sen``), keyed ``<chunk id>@<sentence start>``. The store is versioned, checked and repaired with the others.
Milvus indexes keep none (``retrieval.sentence_vectors`` has no effect there): the reranker then uses weights fitted
without that feature. Hybrid search also searches it, for chunks whose one sentence on the question fused search left
out (:meth:`assistant.search.retrieve.Retriever.sentence_candidates`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import Settings
from ..text.sentences import answerable_sentences
from ..types import Chunk
from .faiss_store import FaissVectorStore

__all__ = ["PREFIX", "STORE_NAME", "chunk_of", "cosines", "open_sentence_store", "sentence_id", "sentence_rows",
           "wanted"]

STORE_NAME = "sentences"  # the store's key in the index manifest
PREFIX = "sen"


def sentence_id(chunk_id: str, start: int) -> str:
    """The key of a sentence's vector: ``lnwb-2021:ab12@1043``."""
    return f"{chunk_id}@{start}"


def chunk_of(key: str) -> str:
    """The chunk id of a sentence key: ``lnwb-2021:ab12@1043`` → ``lnwb-2021:ab12``."""
    return key.rsplit("@", 1)[0]


def sentence_rows(chunks: Sequence[Chunk]) -> tuple[list[Chunk], list[str]]:
    """One row per answerable sentence of the chunks (a chunk-shaped row with the sentence's key) and its text.

    The text is the sentence's normal form, as the answer step reads it.
    """
    rows, texts = [], []
    for chunk in chunks:
        for start, end, norm in answerable_sentences(chunk.text, chunk.start, chunk.section_path):
            rows.append(replace(chunk, chunk_id=sentence_id(chunk.chunk_id, start), text="", text_norm="",
                                start=start, end=end))
            texts.append(norm)
    return rows, texts


def wanted(settings: Settings) -> bool:
    """Whether indexes built with these settings keep sentence vectors."""
    return settings.retrieval.sentence_vectors and settings.retrieval.store == "faiss"


def open_sentence_store(settings: Settings, root: Path, dim: int, state: dict[str, Any] | None = None,
                        verify: bool = True) -> FaissVectorStore | None:
    """The sentence store of an index (new and empty without ``state``); ``None`` when the settings keep none.

    Raises:
        CorruptIndexError: A segment is missing or damaged.
    """
    if not wanted(settings):
        return None
    # Searched like the chunk vectors (the same index type for large segments), and looked up by key.
    return FaissVectorStore(root, settings.retrieval, dim, state, verify, prefix=PREFIX)


def cosines(store: FaissVectorStore | None, query: np.ndarray, keys: Sequence[str]) -> dict[str, float]:
    """Cosine of the query with each stored sentence among ``keys`` (missing keys left out)."""
    if store is None or not keys:
        return {}
    rows = store.get(list(keys))
    return {key: float(np.dot(row.vector, query)) for key, row in rows.items() if row.vector is not None}
