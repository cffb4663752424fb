"""Claim checking end to end over a small real corpus (hash embedder)."""


from assistant.pipeline import Assistant


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
