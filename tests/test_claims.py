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
