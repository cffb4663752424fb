"""Scope items of eval/trust.jsonl over the real corpus and model: no other year's or place's figure without a notice.

Every question that asks a year, period or place the documents do not give the figure for (``scope`` kinds year,
period, place) must be refused or carry ``scope_mismatch``; none may be answered as if the figure were the one asked.
"""

import json

import pytest

from assistant.pipeline import Assistant

from .conftest import ROOT

ITEMS = [json.loads(line) for line in (ROOT / "eval" / "trust.jsonl").read_text(encoding="utf-8").splitlines()]
YEAR_OR_PLACE = [i for i in ITEMS if any(s["kind"] in ("year", "period", "place") for s in i.get("scope") or [])]


@pytest.mark.slow
def test_no_other_years_or_places_figure_without_a_notice(real_assistant: Assistant) -> None:
    assert len(YEAR_OR_PLACE) >= 40
    silent = []
    for item in YEAR_OR_PLACE:
        answer = real_assistant.ask(item["question"])
        if not answer.refused and not answer.extra.get("scope_mismatch"):
            silent.append({"id": item["id"], "question": item["question"], "answer": answer.answer[:80]})
    assert silent == [], json.dumps(silent, ensure_ascii=False, indent=1)


@pytest.mark.slow
def test_a_notice_names_what_was_asked(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("沈阳2024年要新建多少个5G基站？")
    assert answer.refused and {"kind": "year", "asked": "2024", "found": "2021"} in answer.extra["scope_mismatch"]
    assert answer.answer.startswith("文件中没有沈阳2024年的数字；《2021年沈阳要重点做好十方面工作》（2021-02-06）提出：")
    assert any("6000" in c.quote for c in answer.citations)
