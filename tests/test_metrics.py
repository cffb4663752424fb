"""Metrics on hand-computed cases: hit@k, MRR, nDCG, section hit, refusal, claims, latency percentiles."""

import math

import pytest

from assistant.evaluation.metrics import (
    claim_scores,
    hit_at_k,
    mean_scores,
    mrr_at_k,
    ndcg_at_k,
    percentiles,
    query_scores,
    refusal_scores,
    retrieval_scores,
    section_hit_at_k,
    section_matches,
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
