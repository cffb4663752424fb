"""Checks of the hand-made evaluation set eval/dev.jsonl against the raw corpus (fast, no model)."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from assistant.text.script import detect_script, normalize

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "eval" / "dev.jsonl"
CORPUS = ROOT / "corpus"

FIELDS = {"id", "type", "question", "answer", "doc", "section", "evidence", "claim_verdict", "split"}
TYPES = {"fact", "paraphrase", "section", "multi", "claim", "unanswerable"}
VERDICTS = {"supported", "contradicted", "not_found"}
SPLITS = {"tune", "test"}
# Pinyin readings the 002 news site puts after characters, e.g. 中(zhōng). Section paths are written without them.
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜ]+\)")


@cache
def items() -> list[dict]:
    with DEVSET.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@cache
def raw(doc: str) -> str:
    return (CORPUS / doc).read_text(encoding="utf-8")


def pieces(item: dict) -> list[tuple[str, str, str]]:
    """(doc, section, evidence) triples of an item; empty for items without evidence."""
    if item["type"] == "multi":
        return list(zip(item["doc"], item["section"], item["evidence"], strict=True))
    return [(item["doc"], item["section"], item["evidence"])] if item["doc"] else []


def has_evidence(item: dict) -> bool:
    return item["type"] != "unanswerable" and item["claim_verdict"] != "not_found"


def test_size_and_schema() -> None:
    data = items()
    assert len(data) >= 150
    for item in data:
        assert set(item) == FIELDS, item["id"]
        assert item["type"] in TYPES, item["id"]
        assert item["split"] in SPLITS, item["id"]
        assert isinstance(item["question"], str) and item["question"].strip(), item["id"]
        assert isinstance(item["answer"], str), item["id"]
        if item["type"] == "multi":
            for key in ("doc", "section", "evidence"):
                assert isinstance(item[key], list), (item["id"], key)
        else:
            for key in ("doc", "section", "evidence"):
                assert isinstance(item[key], str), (item["id"], key)


def test_ids_unique_and_in_file_order() -> None:
    ids = [item["id"] for item in items()]
    assert len(ids) == len(set(ids))
    assert ids == [f"dev-{i:03d}" for i in range(1, len(ids) + 1)]


def test_claim_verdicts() -> None:
    for item in items():
        if item["type"] == "claim":
            assert item["claim_verdict"] in VERDICTS, item["id"]
        else:
            assert item["claim_verdict"] == "", item["id"]
    verdicts = Counter(item["claim_verdict"] for item in items() if item["type"] == "claim")
    assert set(verdicts) == VERDICTS


def test_items_without_evidence_have_empty_fields() -> None:
    for item in items():
        if not has_evidence(item):
            assert item["answer"] == item["doc"] == item["section"] == item["evidence"] == "", item["id"]


def test_multi_lists_are_parallel() -> None:
    for item in items():
        if item["type"] == "multi":
            assert 2 <= len(item["doc"]) <= 3, item["id"]
            assert len(item["doc"]) == len(item["section"]) == len(item["evidence"]), item["id"]


def test_every_document_is_covered() -> None:
    docs = sorted(p.name for p in CORPUS.glob("*.txt"))
    counts = Counter(doc for item in items() for doc, _, _ in pieces(item))
    assert set(counts) <= set(docs)
    for doc in docs:
        assert counts[doc] >= 12, doc


def test_evidence_is_verbatim_in_its_document() -> None:
    for item in items():
        if not has_evidence(item):
            continue
        assert item["answer"].strip(), item["id"]
        for doc, section, evidence in pieces(item):
            assert (CORPUS / doc).is_file(), (item["id"], doc)
            assert 15 <= len(evidence) <= 120, (item["id"], evidence)
            assert evidence in raw(doc), (item["id"], evidence)
            assert not PINYIN.search(evidence), (item["id"], evidence)
            assert section.strip(), item["id"]


def test_section_headings_precede_the_evidence() -> None:
    """Each level of the section path occurs in the document, in order, and before the evidence."""
    for item in items():
        for doc, section, evidence in pieces(item):
            text = PINYIN.sub("", raw(doc))
            pos = -1
            for level in section.split(" > "):
                pos = text.find(level, pos + 1)
                assert pos >= 0, (item["id"], level)
            assert text.find(evidence, pos) > pos, (item["id"], section)


def test_fact_answers_are_in_the_evidence() -> None:
    for item in items():
        if item["type"] == "fact":
            assert normalize(item["answer"]) in normalize(item["evidence"]), item["id"]


@pytest.mark.parametrize("type_", sorted(TYPES))
def test_both_splits_for_each_type(type_: str) -> None:
    splits = Counter(item["split"] for item in items() if item["type"] == type_)
    assert set(splits) == SPLITS, type_
    assert abs(splits["tune"] - splits["test"]) <= max(2, sum(splits.values()) // 10), splits


def test_script_mix() -> None:
    scripts = Counter(detect_script(item["question"]) for item in items())
    share = scripts["traditional"] / len(items())
    assert 0.10 <= share <= 0.25, scripts
    assert scripts["latin"] >= 6, scripts
