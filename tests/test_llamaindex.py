"""The llama-index adapter returns our chunks as NodeWithScore with their metadata."""

import pytest

from assistant.pipeline import Assistant

pytest.importorskip("llama_index.core", reason="llama-index extra not installed")


def test_adapter_returns_nodes_with_metadata(hash_assistant: Assistant):
    from llama_index.core.schema import NodeWithScore

    from assistant.integrations.llamaindex import AssistantRetriever

    hash_assistant.build()
    nodes = AssistantRetriever(hash_assistant, k=3, mode="bm25").retrieve("新建5G基站多少个")
    assert len(nodes) == 3 and all(isinstance(n, NodeWithScore) for n in nodes)
    top = nodes[0]
    assert "5G基站" in top.node.get_content()
    assert top.node.metadata["doc_id"] == "shenyang-2021-ten-tasks"
    assert top.node.metadata["date"] == "2021-02-06" and top.node.metadata["section_path"]
    assert top.score >= nodes[1].score
