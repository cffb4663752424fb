"""Claim checking end to end over a small real corpus (hash embedder)."""

import shutil

import pytest

from assistant.pipeline import Assistant

from .conftest import ROOT, make_settings


def test_supported_claim(built: Assistant):
    verdict = built.check("沈阳2021年新建5G基站6000个以上")
    assert verdict.verdict == "supported" and verdict.citations
    assert "6000" in verdict.citations[0].quote


def test_changed_number_is_contradicted_and_located(built: Assistant):
    verdict = built.check("沈阳2021年新建5G基站8000个以上")
    assert verdict.verdict == "contradicted"
    assert "6000" in verdict.reason and "8000" in verdict.reason
    texts = built.open_index().document_texts()
    mismatch = verdict.mismatches[0]
    assert texts[verdict.citations[0].doc_id][mismatch.start : mismatch.end] == mismatch.document_value


def test_traditional_claim_matches(built: Assistant):
    assert built.check("瀋陽2021年新建5G基站6000個以上").verdict == "supported"


def test_unrelated_claim_is_not_found(built: Assistant):
    verdict = built.check("广东计划到2030年建成100个海洋牧场")
    assert verdict.verdict == "not_found" and verdict.mismatches == ()


def test_a_claim_that_negates_the_document_is_contradicted(built: Assistant):
    verdict = built.check("沈阳2021年停止建设人工智能产业园")
    assert verdict.verdict == "contradicted" and verdict.extra["judge"] == "rules"
    assert verdict.mismatches[0].kind == "polarity" and "停止" in verdict.reason
    assert "人工智能产业园" in verdict.citations[0].quote
    assert built.check("沈阳2021年建设人工智能产业园").verdict == "supported"


def test_another_citys_figure_is_contradicted_with_its_owner(built: Assistant):
    verdict = built.check("大连2021年新建5G基站6000个以上")
    assert verdict.verdict == "contradicted"
    assert verdict.reason.startswith("文件中该数字属于沈阳") and verdict.mismatches[0].kind == "place"


def test_english_claims_are_checked_by_their_numbers(built: Assistant):
    verdict = built.check("Shenyang will build more than 6,000 5G base stations in 2021.")
    assert verdict.verdict == "supported" and "6000" in verdict.citations[0].quote
    assert built.check("Shenyang will build 8,000 5G base stations in 2021.").verdict == "not_found"
    assert built.check("Shenyang will build 6,000 5G base stations in 2030.").verdict == "not_found"  # another year


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The synthetic policy corpus of ``eval/corpora/policy_synth`` (ten notices and plans), hash embedder."""
    tmp = tmp_path_factory.mktemp("synth")
    folder = tmp / "corpus"
    shutil.copytree(ROOT / "eval" / "corpora" / "policy_synth" / "corpus", folder)
    assistant = Assistant(make_settings(tmp, folder))
    assistant.build()
    assistant.open_index()
    return assistant


def test_a_provinces_claim_on_another_citys_notice_is_not_found(synth: Assistant):
    # 300 canteens are 佛山's (its own plan); 四川 has no such figure, and 1000 is not 300.
    verdict = synth.check("四川规划提出到2025年建成1000个社区老年食堂。")
    assert verdict.verdict == "not_found" and "四川" in verdict.reason


def test_the_sentence_after_the_best_one_is_read_for_meaning(synth: Assistant):
    # The best sentence names the subsidy; the next one says 同一人只能享受一次，不得重复申领.
    verdict = synth.check("成都吸纳就业补贴同一人可以重复申领。")
    assert verdict.verdict == "contradicted" and verdict.mismatches[0].kind == "modality"
    assert "不得重复申领" in verdict.citations[0].quote
    assert synth.check("成都吸纳就业补贴同一人只能享受一次。").verdict == "supported"


def test_a_change_the_notice_makes_is_checked_value_by_value(synth: Assistant):
    assert synth.check("杭州退休人员普通门诊年度起付标准由700元调整为500元。").verdict == "supported"
    verdict = synth.check("杭州退休人员普通门诊年度起付标准由700元调整为400元。")
    assert verdict.verdict == "contradicted" and verdict.mismatches[0].document_value == "500元"
