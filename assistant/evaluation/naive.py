"""Naive baseline: a plain llama-index pipeline (raw files, SentenceSplitter, VectorStoreIndex) for the eval.

The files of the corpus folder are read as they are (no cleaning, no pinyin removal, no section metadata), cut by
``SentenceSplitter`` and embedded with our own embedder behind a llama-index ``BaseEmbedding`` adapter, so the
comparison isolates cleaning, structure-aware chunking and hybrid search. Nothing is persisted and no remote API is
ever called: the embedding model is passed explicitly and no LLM is used.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailableError
from ..ingest.corpus import discover
from ..search.embed import Embedder

log = logging.getLogger(__name__)

# Characters, not tokens: ``tokenizer=list`` counts one token per character, because llama-index's default
# tokenizer (tiktoken) downloads its BPE file on first use. 400/60 characters is close to our own chunks
# (sentence-bounded, 200–500 characters, 60 overlap; 350 on average over the seed corpus).
CHUNK_SIZE = 400
CHUNK_OVERLAP = 60
TEXT_SUFFIXES = {".txt", ".md"}
DESCRIPTION = (
    f"llama-index SentenceSplitter(chunk_size={CHUNK_SIZE}, chunk_overlap={CHUNK_OVERLAP}, tokenizer=list), i.e. "
    f"{CHUNK_SIZE} characters with {CHUNK_OVERLAP} overlap (tiktoken would need a download); raw .txt/.md files "
    "read as UTF-8 without cleaning; VectorStoreIndex with our embedder; index.as_retriever(similarity_top_k=k); "
    "no section metadata, so section_hit is 0 by construction"
)


def _embedding_adapter(embedder: Embedder, batch_size: int) -> Any:
    """A llama-index ``BaseEmbedding`` that calls our embedder (query and passage prefixes applied by it)."""
    from llama_index.core.embeddings import BaseEmbedding

    class AssistantEmbedding(BaseEmbedding):
        """Our embedder as a llama-index embedding model."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed_queries([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed_passages([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(texts).tolist()

    return AssistantEmbedding(model_name=embedder.model_id, embed_batch_size=batch_size)


class NaiveIndex:
    """A llama-index vector index over the raw corpus files, built in memory.

    Args:
        corpus: The corpus folder (``.txt``/``.md`` files are read; others are skipped with a warning).
        embedder: Our embedder (the same one the pipeline uses).
        batch_size: Passages embedded per call.

    Raises:
        ModelUnavailableError: llama-index is not installed.
    """

    def __init__(self, corpus: Path, embedder: Embedder, batch_size: int = 32) -> None:
        try:
            from llama_index.core import Document, VectorStoreIndex
            from llama_index.core.node_parser import SentenceSplitter
        except ImportError as exc:
            raise ModelUnavailableError(
                "The naive baseline needs llama-index. Install the extra: pip install -e '.[llamaindex]'."
            ) from exc
        documents = []
        for item in discover(corpus):
            if item.path.suffix.lower() not in TEXT_SUFFIXES:
                log.warning("Naive baseline skips %s (not a text file).", item.info.file)
                continue
            text = item.path.read_text(encoding="utf-8", errors="replace")
            documents.append(Document(text=text, id_=item.info.file, metadata={"file_name": item.info.file},
                                      excluded_embed_metadata_keys=["file_name"],
                                      excluded_llm_metadata_keys=["file_name"]))
        splitter = SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, tokenizer=list,
                                    id_func=lambda i, doc: f"{doc.doc_id}#{i}")
        nodes = splitter.get_nodes_from_documents(documents)
        self.texts: dict[str, str] = {node.node_id: node.get_content() for node in nodes}
        self.files: dict[str, str] = {node.node_id: node.ref_doc_id or "" for node in nodes}
        self._index = VectorStoreIndex(nodes, embed_model=_embedding_adapter(embedder, batch_size))
        self._retrievers: dict[int, Any] = {}

    def search(self, query: str, k: int = 10) -> list[str]:
        """Node ids of the ``k`` nearest nodes, best first (llama-index's default vector retriever)."""
        if k not in self._retrievers:
            self._retrievers[k] = self._index.as_retriever(similarity_top_k=k)
        return [hit.node.node_id for hit in self._retrievers[k].retrieve(query)]
