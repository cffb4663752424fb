"""Retrieval over a small real corpus: modes, scripts, filters."""
import itertools

import pytest

from assistant.errors import QueryError
from assistant.pipeline import Assistant
from assistant.search.retrieve import Filters


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_modes_find_the_passage(built: Assistant, mode: str):
    hits = built.search("新建5G基站多少个", k=5, mode=mode)
    assert any("5G基站" in h.chunk.text for h in hits)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_traditional_and_simplified_queries_give_the_same_results(built: Assistant, mode: str):
    simplified = built.search("沈阳新增城镇就业多少人", k=5, mode=mode)
    traditional = built.search("瀋陽新增城鎮就業多少人", k=5, mode=mode)
    assert [h.chunk.chunk_id for h in simplified] == [h.chunk.chunk_id for h in traditional]


def test_filters_restrict_documents(built: Assistant):
    only = built.search("辽宁", k=20, mode="hybrid", filters=Filters(doc_ids=("shenyang-2021-ten-tasks",)))
    assert only and {h.chunk.doc_id for h in only} == {"shenyang-2021-ten-tasks"}
    recent = built.search("辽宁", k=20, mode="dense", filters=Filters(since="2023"))
    assert recent and {h.chunk.doc_id for h in recent} <= {"liaoning-2024-gov-report-part2", "liaoning-six-positions-2023"}
    old = built.search("沈阳", k=20, mode="bm25", filters=Filters(until="2021-12"))
    assert old and {h.chunk.doc_id for h in old} == {"shenyang-2021-ten-tasks"}
    assert {h.chunk.doc_id for h in built.search("工作", k=20, filters=Filters(region="沈阳"))} == {"shenyang-2021-ten-tasks"}


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_empty_query_is_an_error(built: Assistant, query: str):
    with pytest.raises(QueryError):
        built.search(query)


def test_unknown_mode_is_an_error(built: Assistant):
    with pytest.raises(QueryError, match="mode"):
        built.search("沈阳", mode="magic")


def test_real_model_loads_once_and_scripts_agree(real_assistant: Assistant):
    embedder = real_assistant.embedder
    assert embedder._load() is embedder._load()  # one model per process, reused by every query
    simplified = real_assistant.search("沈阳2021年新增城镇就业多少人", k=5)
    traditional = real_assistant.search("瀋陽2021年新增城鎮就業多少人", k=5)
    assert [h.chunk.chunk_id for h in simplified] == [h.chunk.chunk_id for h in traditional]
    assert "9万人" in simplified[0].chunk.text
