"""llama-index adapter: expose the hybrid retriever as a ``BaseRetriever`` returning ``NodeWithScore``."""

from __future__ import annotations

from typing import Any

from ..errors import ModelUnavailableError
from ..search.retrieve import Filters

try:
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
except ImportError as exc:  # pragma: no cover - exercised by the optional-extra test
    raise ModelUnavailableError(
        "llama-index is not installed. Install the extra: pip install -e '.[llamaindex]'."
    ) from exc


class AssistantRetriever(BaseRetriever):
    """Our retrieval (cleaned, section-aware chunks; hybrid search) for llama-index query engines.

    Args:
        assistant: An :class:`assistant.pipeline.Assistant` (its index is opened on first use).
        k: Number of nodes returned.
        mode: ``hybrid``, ``dense`` or ``bm25`` (default from settings).
        filters: Optional document/date/region filters.
    """

    def __init__(self, assistant: Any, k: int = 5, mode: str | None = None, filters: Filters | None = None) -> None:
        super().__init__()
        self._assistant, self._k, self._mode, self._filters = assistant, k, mode, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._assistant.search(query_bundle.query_str, k=self._k, mode=self._mode, filters=self._filters)
        docs = self._assistant.retriever.index.documents
        nodes = []
        for hit in hits:
            chunk, info = hit.chunk, docs.get(hit.chunk.doc_id)
            metadata = {
                "doc_id": chunk.doc_id,
                "title": chunk.title,
                "section_path": " > ".join(chunk.section_path),
                "start": chunk.start,
                "end": chunk.end,
                "date": info.date if info else "",
                "publisher": info.publisher if info else "",
                "region": info.region if info else "",
            }
            node = TextNode(text=chunk.text, id_=chunk.chunk_id, metadata=metadata)
            nodes.append(NodeWithScore(node=node, score=hit.score))
        return nodes
