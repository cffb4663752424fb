"""Metrics on hand-computed cases: hit@k, MRR, nDCG, section hit, refusal, false refusal, scope notices, claims,
latency percentiles; and the summaries by row (language, kind, cross-language pairs, judges) built from them."""

import math

import pytest

from assistant.evaluation.metrics import (
    claim_scores,
    false_refusal,
    hit_at_k,
    mean_scores,
    mrr_at_k,
    ndcg_at_k,
    percentiles,
    query_scores,
    refusal_scores,
    retrieval_scores,
    scope_entry_matches,
    scope_matched,
    section_hit_at_k,
    section_matches,
)
from assistant.evaluation.summary import (
    answer_rows,
    cross_language,
    refusal_block,
    retrieval_rows,
    scope_block,
    summarize_answers,
    summarize_judges,
)


@pytest.mark.parametrize(
    ("retrieved", "relevant", "k", "expected"),
    [
        ([], {"a"}, 10, 0.0),  # nothing retrieved
        (["a"], set(), 10, 0.0),  # nothing relevant
        (["a"], {"a"}, 1, 1.0),
        (["x", "y", "a"], {"a"}, 2, 0.0),  # just outside the cut-off
        (["x", "y", "a"], {"a"}, 3, 1.0),
        (["x", "a", "b"], {"a", "b"}, 3, 1.0),
    ],
)
def test_hit_at_k(retrieved, relevant, k, expected):
    assert hit_at_k(retrieved, relevant, k) == expected


@pytest.mark.parametrize(
    ("retrieved", "relevant", "k", "expected"),
    [
        ([], {"a"}, 10, 0.0),
        (["a", "b"], {"a"}, 10, 1.0),
        (["x", "b", "c"], {"b", "c"}, 10, 0.5),  # the first relevant one counts
        (["x", "y", "z", "a"], {"a"}, 10, 0.25),
        (["x", "y", "z", "a"], {"a"}, 3, 0.0),
    ],
)
def test_mrr_at_k(retrieved, relevant, k, expected):
    assert mrr_at_k(retrieved, relevant, k) == pytest.approx(expected)


def test_ndcg_hand_computed():
    # relevant at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal with 2 relevant = 1 + 1/log2(3)
    assert ndcg_at_k(["a", "x", "c"], {"a", "c"}, 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # a third relevant chunk exists in the corpus but was not retrieved: the ideal counts it
    assert ndcg_at_k(["a", "x", "c"], {"a", "c"}, 10, n_relevant=3) == pytest.approx(1.5 / (1 + 1 / math.log2(3) + 0.5))
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "a"], {"a"}, 1) == 0.0  # cut-off before the hit
    assert ndcg_at_k(["x"], set(), 10) == 0.0  # nothing relevant: 0, not a division by zero
    # ideal DCG is cut at k even when more are relevant
    assert ndcg_at_k(["a"], {"a", "b", "c"}, 1) == pytest.approx(1.0)


def test_query_scores_keys_and_values():
    scores = query_scores(["x", "a"], {"a"})
    assert list(scores) == ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]
    assert scores["hit@1"] == 0.0 and scores["hit@3"] == 1.0 and scores["mrr@10"] == 0.5


GOLD = "第一篇 全面建成小康社會 開啟全面建設社會主義現代化新征程 > 第一章 編制依據和發展基礎 > 第二節發展基礎"


@pytest.mark.parametrize(
    ("path", "gold", "expected"),
    [
        (("第一篇 全面建成小康社會 開啟全面建設社會主義現代化新征程", "第一章 編制依據和發展基礎", "第二節發展基礎"), GOLD, True),
        # simplified script and other spacing in the chunk's path
        (("第一篇全面建成小康社会 开启全面建设社会主义现代化新征程", "第一章 编制依据和发展基础", "第二节 发展基础"), GOLD, True),
        # a chunk in a box under the gold section: its path does not end with the gold section
        (("第一章 編制依據和發展基礎", "第二節發展基礎", "專欄1"), "第一章 編制依據和發展基礎 > 第二節發展基礎", False),
        # a shorter gold path matches as a suffix
        (("第一篇", "第一章 編制依據和發展基礎", "第二節發展基礎"), "第二節 發展基礎", True),
        (("第二節發展基礎",), GOLD, False),  # chunk path shorter than the gold path
        ((), "第二節發展基礎", False),
        (("第二節發展基礎",), "", False),
        (("（三）加快動能轉換",), "(三)加快動能轉換", True),  # full-width brackets
    ],
)
def test_section_matches(path, gold, expected):
    assert section_matches(path, gold) is expected


def test_section_hit_at_k_cutoff_and_several_golds():
    paths = [("甲",), ("乙",), ("丙",)]
    assert section_hit_at_k(paths, "丙", 2) == 0.0
    assert section_hit_at_k(paths, "丙", 3) == 1.0
    assert section_hit_at_k(paths, ["丁", "乙"], 5) == 1.0
    assert section_hit_at_k([], "丙", 5) == 0.0


def test_retrieval_scores_in_the_ir_contract():
    queries = {"q1": "数字经济", "q2": "5G基站"}
    corpus = {"c1": "…", "c2": "…", "c3": "…"}
    relevant = {"q1": {"c1"}, "q2": {"c3"}}
    retrieved = {"q1": ["c1", "c2"], "q2": ["c2"]}
    scores = retrieval_scores(queries, corpus, relevant, retrieved)
    assert scores["hit@1"] == 0.5 and scores["mrr@10"] == 0.5 and scores["n"] == 2
    with pytest.raises(KeyError):
        retrieval_scores(queries, corpus, relevant, {"q1": ["c9"]})


def test_mean_scores_skips_none():
    assert mean_scores([{"a": 1.0, "b": None}, {"a": 0.0, "b": None}]) == {"a": 0.5, "b": None}
    assert mean_scores([]) == {}


def test_refusal_scores():
    s = refusal_scores([True, True, False, False], [True, False, True, False])
    assert (s["refusal_precision"], s["refusal_recall"], s["refusal_f1"]) == (0.5, 0.5, 0.5)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (1, 1, 1, 1)
    # 2 of 3 unanswerable refused, and 1 answerable refused wrongly: P = 2/3, R = 2/3
    s = refusal_scores([True, True, True, False, False], [True, True, False, True, False])
    assert s["refusal_precision"] == pytest.approx(2 / 3) and s["refusal_recall"] == pytest.approx(2 / 3)
    nothing = refusal_scores([True, False], [False, False])
    assert nothing["refusal_precision"] == 0.0 and nothing["refusal_f1"] == 0.0
    assert refusal_scores([], [])["refusal_recall"] == 0.0


def test_claim_scores_confusion():
    gold = ["supported", "contradicted", "not_found", "not_found"]
    pred = ["supported", "supported", "not_found", "error"]
    s = claim_scores(gold, pred)
    assert s["claim_accuracy"] == 0.5
    assert s["claim_confusion"]["contradicted"] == {"supported": 1, "contradicted": 0, "not_found": 0, "error": 0}
    assert s["claim_confusion"]["not_found"]["error"] == 1
    assert claim_scores([], [])["claim_accuracy"] is None


def test_percentiles():
    assert percentiles([10, 20, 30, 40]) == {"p50": 25.0, "p95": pytest.approx(38.5), "n": 4}
    assert percentiles([7]) == {"p50": 7.0, "p95": 7.0, "n": 1}
    assert percentiles([]) == {"p50": None, "p95": None, "n": 0}
    assert percentiles([40, 10, 30, 20], points=(0, 100)) == {"p0": 10.0, "p100": 40.0, "n": 4}


def test_false_refusal_counts():
    # 3 answerable, 1 of them refused; 1 unanswerable, refused
    s = false_refusal([True, False, False, False], [True, True, False, False])
    assert s == {"false_refusal_rate": pytest.approx(1 / 3), "answerable": 3, "answerable_refused": 1, "unanswerable": 1}
    assert false_refusal([True], [True])["false_refusal_rate"] is None  # nothing answerable: no rate
    assert false_refusal([], []) == {"false_refusal_rate": None, "answerable": 0, "answerable_refused": 0,
                                     "unanswerable": 0}
    # refusal_scores carries the same counts beside precision/recall
    both = refusal_scores([True, False, False, False], [True, True, False, False])
    assert both["false_refusal_rate"] == pytest.approx(1 / 3) and both["answerable_refused"] == both["fp"] == 1


@pytest.mark.parametrize(
    ("expected", "got", "match"),
    [
        ({"kind": "year", "asked": "2024"}, {"kind": "year", "asked": "2024年", "found": "2021"}, True),
        ({"kind": "year", "asked": "2024"}, {"kind": "period", "asked": "2024"}, False),  # other kind
        ({"kind": "year", "asked": "2024"}, {"kind": "year", "asked": "2023"}, False),
        ({"kind": "place", "asked": "大连"}, {"kind": "place", "asked": "大連市"}, True),  # script and suffix
        ({"kind": "period", "asked": "“十四五”"}, {"kind": "period", "asked": "十四五"}, True),  # quotes dropped
        ({"kind": "place", "asked": ""}, {"kind": "place", "asked": "沈阳"}, True),  # no asked value: kind only
        ({"kind": "place", "asked": "大连"}, {"kind": "place", "asked": ""}, False),
    ],
)
def test_scope_entry_matches(expected, got, match):
    assert scope_entry_matches(expected, got) is match


def test_scope_matched_needs_every_expected_entry():
    year, place = {"kind": "year", "asked": "2024"}, {"kind": "place", "asked": "大连"}
    answer = [{"kind": "place", "asked": "大连", "found": "沈阳"}, {"kind": "year", "asked": "2024", "found": "2021"}]
    assert scope_matched([year], answer) and scope_matched([year, place], answer)
    assert not scope_matched([year, place], answer[:1])
    assert not scope_matched([year], [])
    assert not scope_matched([], answer)  # nothing expected: nothing to match


# ----- summaries by row (hand-made records) -----
def _search(id_, split, lang, kind, ranks, twin=""):
    """A retrieval record whose first relevant chunk is at ``ranks`` (None: not found)."""
    scores = query_scores(["x"] * (ranks - 1) + ["g"] if ranks else ["x"], {"g"})
    return {"id": id_, "type": "fact", "split": split, "mode": "bm25", "lang": lang, "kind": kind, "batch": "original",
            "twin": twin, "scores": scores, "n_relevant": 1}


def test_retrieval_rows_and_cross_language():
    records = [_search("e1", "test", "en", "english", None, twin="z1"), _search("z1", "test", "zh-Hans", "fact", 1, "e1"),
               _search("e2", "test", "en", "english", 2, twin="z2"), _search("z2", "test", "zh-Hant", "fact", 2, "e2"),
               _search("c1", "tune", "zh-Hans", "colloquial", 3)]
    rows = retrieval_rows(records)["bm25"]
    assert rows["test"]["lang"]["en"]["n"] == 2 and rows["test"]["lang"]["en"]["hit@5"] == 0.5
    assert rows["test"]["lang"]["en"]["mrr@10"] == pytest.approx(0.25)  # (0 + 1/2) / 2
    assert set(rows["all"]["kind"]) == {"colloquial", "english", "fact"}
    assert rows["tune"]["kind"]["colloquial"]["mrr@10"] == pytest.approx(1 / 3)
    assert set(rows["test"]) == {"lang", "kind", "type", "batch"}
    cross = cross_language(records)["bm25"]
    assert [(p["en"], p["zh"]) for p in cross["pairs"]] == [("e1", "z1"), ("e2", "z2")]
    test = cross["splits"]["test"]
    assert test["n"] == 2 and test["en_hit@5"] == 0.5 and test["zh_hit@5"] == 1.0
    assert test["en_mrr@10"] == pytest.approx(0.25) and test["zh_mrr@10"] == pytest.approx(0.75)
    assert (test["en_worse"], test["en_better"]) == (1, 0)  # e1 misses, e2 ties with its twin
    assert "tune" not in cross["splits"]
    assert cross_language([_search("e9", "test", "en", "english", 1, twin="missing")]) == {}


def _ask(id_, should, refused, notice=(), expected=(), kind="fact", split="test", judge="rules", ms=10.0):
    return {"id": id_, "type": "unanswerable" if should else "fact", "split": split, "mode": "ask", "kind": kind,
            "lang": "zh-Hans", "batch": "original", "refused": refused, "should_refuse": should,
            "scope_mismatch": list(notice), "scope_expected": list(expected),
            "scope_matched": scope_matched(list(expected), list(notice)), "citation_covered": None, "judge": judge,
            "latency_ms": ms}


YEAR = {"kind": "year", "asked": "2024", "found": "2021"}


def test_refusal_three_ways_and_scope_block():
    asks = [_ask("u1", True, True), _ask("u2", True, False, notice=[YEAR], expected=[YEAR], kind="wrong_year"),
            _ask("u3", True, False, expected=[YEAR], kind="wrong_year"),  # silent: another year's figure, no notice
            _ask("a1", False, False), _ask("a2", False, True), _ask("a3", False, False, notice=[YEAR])]
    block = refusal_block(asks)
    # as flagged: refused u1, a2 → tp 1, fp 1, fn 2, tn 2
    assert (block["tp"], block["fp"], block["fn"], block["tn"]) == (1, 1, 2, 2)
    assert block["refusal_precision"] == 0.5 and block["refusal_recall"] == pytest.approx(1 / 3)
    assert block["false_refusal_rate"] == pytest.approx(1 / 3) and block["answerable_refused"] == 1
    # notice as refused: u2 and a3 join → tp 2, fp 2
    notice = block["notice_as_refused"]
    assert (notice["tp"], notice["fp"], notice["fn"]) == (2, 2, 1) and notice["false_refusal_rate"] == pytest.approx(2 / 3)
    assert block["notice_as_answered"]["tp"] == 1  # u1 has no notice: still a refusal
    scope = scope_block(asks)
    assert scope == {"n": 2, "notice": 1, "matched": 1, "matched_rate": 0.5, "refused": 0, "silent": 1,
                     "silent_ids": ["u3"], "unexpected_notice": 1, "n_without_scope": 4}
    assert scope_block([_ask("a1", False, False)]) is None


def test_answer_summaries_claims_by_kind_and_judges():
    checks = [{"id": f"c{i}", "type": "claim", "split": "test", "mode": "check", "kind": kind, "subkind": sub,
               "lang": "zh-Hans", "batch": "original", "verdict": pred, "gold_verdict": gold, "judge": judge,
               "latency_ms": ms}
              for i, (kind, sub, gold, pred, judge, ms) in enumerate([
                  ("meaning", "negation", "contradicted", "contradicted", "rules", 5.0),
                  ("meaning", "negation", "contradicted", "supported", "rules", 7.0),
                  ("meaning", "modality", "contradicted", "contradicted", "llm", 900.0),
                  ("claim", "", "supported", "supported", None, 6.0)])]
    records = [*checks, _ask("u1", True, True, ms=20.0), _ask("a1", False, False, kind="colloquial", ms=40.0)]
    answers = summarize_answers(records)["test"]
    assert answers["claim_accuracy"] == 0.75 and answers["n_check"] == 4
    assert answers["claims_by_kind"]["meaning"]["claim_accuracy"] == pytest.approx(2 / 3)
    assert answers["claims_by_subkind"]["negation"]["claim_accuracy"] == 0.5
    assert answers["claims_by_subkind"]["modality"]["claim_accuracy"] == 1.0 and "" not in answers["claims_by_subkind"]
    assert answers["refusal_f1"] == 1.0 and answers["false_refusal_rate"] == 0.0 and answers["scope"] is None
    rows = answer_rows(records)["test"]
    assert rows["kind"]["meaning"] == {"n_ask": 0, "n_check": 3, "claim_accuracy": pytest.approx(2 / 3)}
    assert rows["kind"]["colloquial"]["false_refusal_rate"] == 0.0 and rows["kind"]["colloquial"]["answerable"] == 1
    assert rows["subkind"]["negation"]["claim_accuracy"] == 0.5
    judges = summarize_judges(records)
    assert judges["check"]["rules"]["n"] == 2 and judges["check"]["llm"]["p50"] == 900.0
    assert judges["check"]["none"]["n"] == 1 and judges["ask"]["rules"]["p50"] == 30.0
