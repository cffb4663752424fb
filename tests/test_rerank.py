"""The reranker: its features read quotes, headings, answer kinds and scope; the weights order; hybrid search uses it."""

import itertools

import pytest

from assistant.answers.evidence import Coverage, analyze, idf_table
from assistant.answers.rerank import FEATURES, Reranker, features
from assistant.pipeline import Assistant
from assistant.search.retrieve import Retriever
from assistant.settings import RERANK_WEIGHTS, RERANK_WEIGHTS_WITHOUT_SENTENCES
from assistant.text.script import normalize
from assistant.types import Chunk, Hit
from tests.conftest import with_and_without


def _chunk(cid: str, text: str, path: tuple[str, ...], region: str = "辽宁省", date: str = "2021-02") -> Chunk:
    return Chunk(cid, cid.split(":")[0], "辽宁省国民经济和社会发展第十四个五年规划纲要", path, text, normalize(text), 0,
                 len(text), date=date, region=region)


def _rows(question: str, chunks: list[Chunk]) -> list[dict[str, float]]:
    cover = Coverage(idf_table([c.text_norm for c in chunks]))
    hits = [Hit(c, 1.0 - i / 10, i + 1, 0.8, 5.0) for i, c in enumerate(chunks)]
    return features(analyze(question), hits, 10.0, cover)


def test_a_quote_in_the_chunks_own_heading_counts_more_than_in_an_enclosing_one():
    section = ("第十八章 共享振兴成果 建设幸福辽宁", "第三节 建设教育强省")
    intro = _chunk("plan:a", "全面贯彻党的教育方针,坚持教育优先发展。", section)
    box = _chunk("plan:b", "推进大连理工大学、东北大学建设世界一流大学。", (*section, "专栏39 教育高质量发展重大工程"))
    other = _chunk("plan:c", "加快建设数字辽宁。", ("第六章 全力打造数字辽宁",))
    rows = _rows("规划纲要“建设教育强省”一节主要包括哪些方面？", [box, intro, other])
    assert [r["quote_found"] for r in rows] == [1.0, 1.0, 0.0]
    assert [r["quote_own"] for r in rows] == [0.0, 1.0, 0.0]
    assert rows[1]["own_heading_cover"] > rows[0]["own_heading_cover"]


def test_scope_and_answer_kind_features():
    shenyang = _chunk("sy:a", "建设数字沈阳。新建5G基站6000个以上。", ("加快建设数字沈阳",), region="沈阳市", date="2021-02-06")
    province = _chunk("ln:a", "信息网络更加高效,建成5G基站2.5万个。", ("第一章 发展基础",), date="2024-01-30")
    policy = _chunk("ln:b", "推进5G基站建设和网络覆盖。", ("第二节 新型基础设施",), date="2024-01-30")
    sy, ln, words = _rows("沈阳2021年要新建多少个5G基站？", [shenyang, province, policy])
    assert (sy["place_match"], sy["period_match"], sy["period_other"]) == (1.0, 1.0, 0.0)
    assert (ln["place_match"], ln["period_match"], ln["period_other"]) == (0.0, 0.0, 1.0)
    assert sy["fit_best"] == 1.0 and words["fit_best"] == 0.0  # a count of 基站 answers 多少个; no figure does not
    assert max(r["fused"] for r in (sy, ln, words)) == 0.0  # relative to the list's best
    assert words["char_cover"] > 0 and set(sy) == set(FEATURES)


def test_the_weights_decide_the_order_and_scores_follow_it():
    chunks = [_chunk("ln:a", "推进5G基站建设。", ("第二节",)), _chunk("sy:a", "新建5G基站6000个以上。", ("数字沈阳",),
                                                                     region="沈阳市")]
    cover = Coverage(idf_table([c.text_norm for c in chunks]))
    hits = [Hit(c, 2.0 - i, i + 1, 0.8, 1.0) for i, c in enumerate(chunks)]
    by_answer = Reranker({"fit_best": 1.0}, lambda: cover, lambda q: []).rerank("沈阳要新建多少个5G基站？", hits, 5.0)
    assert [h.chunk.chunk_id for h in by_answer] == ["sy:a", "ln:a"]
    assert [h.rank for h in by_answer] == [1, 2] and by_answer[0].score > by_answer[1].score
    by_fused = Reranker({"fused": 1.0}, lambda: cover, lambda q: []).rerank("沈阳要新建多少个5G基站？", hits, 5.0)
    assert [h.chunk.chunk_id for h in by_fused] == ["ln:a", "sy:a"]


def test_the_default_weights_name_every_feature():
    assert set(RERANK_WEIGHTS) == set(FEATURES)  # a new feature needs scripts/tune_rerank.py run again
    assert set(RERANK_WEIGHTS_WITHOUT_SENTENCES) == set(FEATURES) - {"sentence_cosine"}


def test_only_hybrid_search_reranks_its_first_candidates(tmp_path, small_corpus):
    on, off = with_and_without(tmp_path, small_corpus, {"rerank": False})
    question = "沈阳2021年新增城镇就业多少人"
    depth = on.settings.retrieval.rerank_depth
    fused = [h.chunk.chunk_id for h in off.search(question, k=depth, mode="hybrid")]
    reranked = on.search(question, k=10, mode="hybrid")
    assert {h.chunk.chunk_id for h in reranked} <= set(fused)
    assert [h.rank for h in reranked] == list(range(1, 11))
    assert all(a.score >= b.score for a, b in itertools.pairwise(reranked))
    for mode in ("dense", "bm25"):
        assert [h.chunk.chunk_id for h in on.search(question, mode=mode)] == \
               [h.chunk.chunk_id for h in off.search(question, mode=mode)]


@pytest.mark.parametrize(("question", "evidence"), [("2020年辽宁全省地区生产总值是多少？", "25115")])
def test_reranking_puts_the_answering_passage_first(real_assistant: Assistant, question: str, evidence: str):
    snapshot = real_assistant.open_index()
    fused = Retriever(snapshot, real_assistant.embedder, real_assistant.settings).search(question, k=10)
    reranked = real_assistant.search(question, k=10)
    assert any(evidence in h.chunk.text for h in fused[1:])  # fused search ranks it, below another passage
    assert evidence not in fused[0].chunk.text and evidence in reranked[0].chunk.text
