"""Acceptance set eval/acceptance.jsonl: answers, refusals and changed-value claims over the real corpus.

The set is separate from eval/dev.jsonl (nothing in it is tuned on). Each model test asserts a pass threshold and
lists every failing item in its message, so a run shows what broke.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from assistant.text.script import detect_script, normalize

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ACCEPTANCE = ROOT / "eval" / "acceptance.jsonl"
DEVSET = ROOT / "eval" / "dev.jsonl"
CORPUS = ROOT / "corpus"

KINDS = {"answerable": 20, "unanswerable": 10, "claim": 10}
FIELDS = {
    "answerable": {"kind", "question", "answer", "doc"},
    "unanswerable": {"kind", "question"},
    "claim": {"kind", "claim", "changed", "document_value", "claim_value"},
}
CHANGES = {"number", "year", "unit", "percent", "place"}
NUMBER = re.compile(r"\d+(?:\.\d+)?")


@cache
def items() -> list[dict]:
    with ACCEPTANCE.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def of_kind(kind: str) -> list[dict]:
    return [item for item in items() if item["kind"] == kind]


@cache
def raw(doc: str) -> str:
    return (CORPUS / doc).read_text(encoding="utf-8")


def documents() -> list[str]:
    return sorted(p.name for p in CORPUS.glob("*.txt"))


def squeeze(text: str) -> str:
    """Normalized text without any whitespace (``5500 公里`` and ``5500公里`` compare equal)."""
    return re.sub(r"\s+", "", normalize(text))


def mentions_number(value: str, text: str) -> bool:
    """Whether the number in ``value`` occurs in ``text`` as a whole number (``11`` not inside ``2011``)."""
    match = NUMBER.search(squeeze(value))
    assert match, value
    return re.search(rf"(?<!\d)(?<!\d\.){re.escape(match.group())}(?!\.?\d)", squeeze(text)) is not None


def reason_mentions_value(item: dict, reason: str) -> bool:
    """Whether a contradiction's reason names the document value or the claim value.

    Numbers, years and percentages are compared by their digits; units and places by the whole normalized value
    (a changed unit keeps the number, so the digits alone would prove nothing).
    """
    values = (item["document_value"], item["claim_value"])
    if item["changed"] in {"number", "year", "percent"}:
        return any(mentions_number(v, reason) for v in values)
    return any(squeeze(v) in squeeze(reason) for v in values)


# ----- fast checks of the set itself (no model) -----


def test_size_schema_and_spread() -> None:
    data = items()
    assert len(data) == 40
    counts = {kind: len(of_kind(kind)) for kind in KINDS}
    assert counts == KINDS
    for item in data:
        assert set(item) == FIELDS[item["kind"]], item
        for key in FIELDS[item["kind"]] - {"kind"}:
            assert isinstance(item[key], str) and item[key].strip(), (key, item)
    answerable = of_kind("answerable")
    docs = [item["doc"] for item in answerable]
    assert set(docs) == set(documents()), "answerable questions must cover all five documents"
    assert docs.count("001_d8f660d016160240.txt") >= 8
    scripts = [detect_script(item["question"]) for item in answerable]
    assert scripts.count("simplified") >= 12 and scripts.count("traditional") >= 4, scripts
    assert {item["changed"] for item in of_kind("claim")} == CHANGES


def test_gold_strings_are_verbatim_in_the_raw_documents() -> None:
    missing = [(item["question"], item["answer"]) for item in of_kind("answerable") if item["answer"] not in raw(item["doc"])]
    assert not missing, missing
    corpus = [raw(doc) for doc in documents()]
    for item in of_kind("claim"):
        assert any(item["document_value"] in text for text in corpus), item
        assert item["claim_value"] in item["claim"], item
        assert squeeze(item["claim_value"]) != squeeze(item["document_value"]), item


def test_no_overlap_with_the_dev_set() -> None:
    with DEVSET.open(encoding="utf-8") as f:
        dev = {squeeze(json.loads(line)["question"]) for line in f if line.strip()}
    ours = [squeeze(item.get("question") or item.get("claim")) for item in items()]
    assert not dev & set(ours)
    assert len(set(ours)) == len(ours)


# ----- the real assistant over the whole corpus -----


def test_answerable_questions_cite_the_gold_answer(real_assistant: Assistant) -> None:
    failures = []
    for item in of_kind("answerable"):
        answer = real_assistant.ask(item["question"])
        quote = answer.citations[0].quote if answer.citations else ""
        if answer.refused or normalize(item["answer"]) not in normalize(quote):
            first = answer.citations[0] if answer.citations else None
            failures.append({
                "question": item["question"],
                "gold": item["answer"],
                "refused": answer.refused,
                "answer": answer.answer[:120],
                "cited": f"{first.doc_id}: {first.quote[:120]}" if first else None,
            })
    assert len(failures) <= 2, json.dumps(failures, ensure_ascii=False, indent=1)


def test_unanswerable_questions_are_refused(real_assistant: Assistant) -> None:
    failures = []
    for item in of_kind("unanswerable"):
        answer = real_assistant.ask(item["question"])
        if not answer.refused:
            cited = answer.citations[0].quote[:120] if answer.citations else None
            failures.append({"question": item["question"], "answer": answer.answer[:160], "cited": cited})
    assert len(failures) <= 2, json.dumps(failures, ensure_ascii=False, indent=1)


def test_changed_claims_are_contradicted_with_the_value_named(real_assistant: Assistant) -> None:
    failures = []
    for item in of_kind("claim"):
        verdict = real_assistant.check(item["claim"])
        if verdict.verdict != "contradicted" or not reason_mentions_value(item, verdict.reason):
            failures.append({
                "claim": item["claim"],
                "expected": f"{item['document_value']} (document) vs {item['claim_value']} (claim)",
                "verdict": verdict.verdict,
                "reason": verdict.reason[:200],
                "mismatches": [m.to_dict() for m in verdict.mismatches][:3],
            })
    assert len(failures) <= 1, json.dumps(failures, ensure_ascii=False, indent=1)
