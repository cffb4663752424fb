"""Checks of the hand-made evaluation set eval/dev.jsonl against the raw corpus (fast, no model)."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from assistant.ingest.clean import clean
from assistant.text.script import detect_script, normalize

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "eval" / "dev.jsonl"
CORPUS = ROOT / "corpus"

FIELDS = {"id", "type", "question", "answer", "doc", "section", "evidence", "claim_verdict", "split", "lang", "kind"}
OPTIONAL = {"twin", "batch"}
TYPES = {"fact", "paraphrase", "section", "multi", "claim", "unanswerable"}
KINDS = TYPES | {"colloquial", "english"}
LANGS = {"simplified": "zh-Hans", "traditional": "zh-Hant", "latin": "en"}
BATCHES = {"issues-11-12", "issue-12-english-tune"}  # items appended later; the first 172 have no batch ("original")
RETRIEVAL = {"fact", "paraphrase", "section", "multi"}
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
        assert FIELDS <= set(item) <= FIELDS | OPTIONAL, item["id"]
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


def original() -> list[dict]:
    return [item for item in items() if "batch" not in item]


@pytest.mark.parametrize("type_", sorted(TYPES))
def test_both_splits_for_each_type(type_: str) -> None:
    """The original 172 items alternate splits within each type (the added ones fill the test rows)."""
    splits = Counter(item["split"] for item in original() if item["type"] == type_)
    assert set(splits) == SPLITS, type_
    assert abs(splits["tune"] - splits["test"]) <= max(2, sum(splits.values()) // 10), splits


def test_script_mix() -> None:
    scripts = Counter(detect_script(item["question"]) for item in items())
    share = scripts["traditional"] / len(items())
    assert 0.10 <= share <= 0.25, scripts
    assert scripts["latin"] >= 6, scripts


def test_evidence_is_verbatim_in_the_cleaned_text() -> None:
    """Evidence is an exact substring of the cleaned document too (what chunks and citations are cut from)."""
    cleaned = {doc: clean(raw(doc)) for doc in {d for item in items() for d, _, _ in pieces(item)}}
    for item in items():
        for doc, _, evidence in pieces(item):
            assert evidence in cleaned[doc], (item["id"], evidence)


def test_original_items_kept_and_batches() -> None:
    assert len(original()) == 172 and [i["id"] for i in original()] == [f"dev-{n:03d}" for n in range(1, 173)]
    assert {item.get("batch") for item in items()} - {None} <= BATCHES
    assert all("batch" in item for item in items()[172:])


def test_lang_follows_the_question_script() -> None:
    for item in items():
        assert item["lang"] == LANGS[detect_script(item["question"])], item["id"]


def test_kinds() -> None:
    for item in items():
        assert item["kind"] in KINDS, item["id"]
        if item["kind"] == "colloquial":
            assert item["type"] == "paraphrase" and item["lang"] != "en", item["id"]
        elif item["kind"] == "english":
            assert item["lang"] == "en", item["id"]
        else:
            assert item["kind"] == item["type"], item["id"]
    assert all(item["kind"] == "english" for item in items() if item["lang"] == "en")


def test_twins_pair_english_with_chinese() -> None:
    by_id = {item["id"]: item for item in items()}
    for item in items():
        if item["lang"] == "en":
            assert "twin" in item, f"{item['id']}: every English item has a Chinese twin"
        if "twin" not in item:
            continue
        twin = by_id[item["twin"]]
        assert twin.get("twin") == item["id"], item["id"]  # both ways
        assert {item["lang"] == "en", twin["lang"] == "en"} == {True, False}, item["id"]
        assert twin["split"] == item["split"], item["id"]
        assert (twin["doc"], twin["evidence"], twin["claim_verdict"]) == (item["doc"], item["evidence"],
                                                                          item["claim_verdict"]), item["id"]
        assert (twin["type"] == "unanswerable") == (item["type"] == "unanswerable"), item["id"]


@pytest.mark.parametrize(("split", "least"), [("test", 20), ("tune", 5)])
def test_rows_have_enough_items(split: str, least: int) -> None:
    """Issue 12: English questions and colloquial paraphrases are their own rows in both splits."""
    rows = Counter(item["kind"] for item in items() if item["split"] == split and item["type"] in RETRIEVAL)
    assert rows["english"] >= least and rows["colloquial"] >= least, rows
    twins = [item for item in items() if item["split"] == split and item["kind"] == "english" and item["type"] in RETRIEVAL]
    assert all("twin" in item for item in twins)
