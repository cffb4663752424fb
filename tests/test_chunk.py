"""Tests for assistant.ingest.chunk: offsets, sizes, section bounds and stable ids on the whole seed corpus."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from assistant.ingest.chunk import chunk_document
from assistant.ingest.clean import clean
from assistant.ingest.structure import derive_title, parse_sections
from assistant.settings import ChunkingSettings
from assistant.text.script import normalize
from assistant.types import Chunk, Document, DocumentInfo, Section

CORPUS = Path(__file__).parents[1] / "corpus"
SETTINGS = ChunkingSettings()
SENTENCE_END = "。！？；!?;”’」』)）"


def build(path: Path) -> tuple[Document, list[Section]]:
    text = clean(path.read_text(encoding="utf-8"))
    doc = Document(info=DocumentInfo(doc_id=path.name[:3], file=path.name, title=derive_title(text)), text=text)
    return doc, parse_sections(text, doc.info.title)


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[Document, list[Section], list[Chunk]]]:
    out = {}
    for path in sorted(CORPUS.glob("*.txt")):
        doc, sections = build(path)
        out[doc.doc_id] = (doc, sections, chunk_document(doc, sections, SETTINGS))
    return out


def plain_doc(text: str) -> Document:
    return Document(info=DocumentInfo(doc_id="t", file="t.txt", title="T"), text=text)


# --- edge inputs ---------------------------------------------------------------------------------------------


def test_no_sections_no_chunks():
    assert chunk_document(plain_doc(""), [], SETTINGS) == []


def test_one_char_document():
    (chunk,) = chunk_document(plain_doc("中"), [Section(path=("T",), start=0, end=1)], SETTINGS)
    assert (chunk.text, chunk.text_norm, chunk.start, chunk.end, chunk.section_path) == ("中", "中", 0, 1, ("T",))
    assert re.fullmatch(r"t:[0-9a-f]{12}", chunk.chunk_id)


def test_long_sentence_split_at_commas():
    text = "，".join(["推進大連金州灣國際機場、沈白高鐵、京哈高速改擴建項目加快建設"] * 40) + "。"
    chunks = chunk_document(plain_doc(text), [Section(("T",), 0, len(text))], SETTINGS)
    assert len(chunks) > 1 and all(len(c.text) <= SETTINGS.max_chars for c in chunks)
    assert all(c.text.endswith(("，", "。")) for c in chunks)


def test_long_text_without_punctuation_hard_split():
    text = "遼寧" * 700
    chunks = chunk_document(plain_doc(text), [Section(("T",), 0, len(text))], SETTINGS)
    assert all(len(c.text) <= SETTINGS.max_chars for c in chunks)
    assert "".join(c.text for c in chunks) == text  # no overlap without sentence units to repeat


def test_repeated_text_gets_numbered_ids():
    text = "強化廉洁政府建設。\n\n強化廉洁政府建設。"
    sections = [Section(("T",), 0, 9), Section(("T",), 11, 20)]
    first, second = chunk_document(plain_doc(text), sections, SETTINGS)
    assert second.chunk_id == f"{first.chunk_id}-2"


def test_small_settings_respected(corpus):
    doc, sections, _ = corpus["002"]
    small = ChunkingSettings(min_chars=50, max_chars=100, overlap_chars=20)
    chunks = chunk_document(doc, sections, small)
    assert all(len(c.text) <= 100 and doc.text[c.start : c.end] == c.text for c in chunks)


# --- the whole corpus ----------------------------------------------------------------------------------------


def test_offsets_and_normalized_text(corpus):
    for doc, _, chunks in corpus.values():
        assert chunks
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
            assert chunk.text_norm == normalize(chunk.text)
            assert chunk.doc_id == doc.doc_id and chunk.title == doc.info.title


def test_chunks_stay_inside_their_section(corpus):
    for doc, sections, chunks in corpus.values():
        for chunk in chunks:
            assert any(s.path == chunk.section_path and s.start <= chunk.start and chunk.end <= s.end for s in sections), (
                doc.doc_id,
                chunk.chunk_id,
            )


def test_sizes(corpus):
    for doc, sections, chunks in corpus.values():
        for section in sections:
            inside = [c for c in chunks if section.start <= c.start and c.end <= section.end]
            assert all(len(c.text) <= SETTINGS.max_chars for c in inside), doc.doc_id
            # Only a section's last chunk (or its only one) may be short.
            short = [c for c in inside[:-1] if len(c.text) < SETTINGS.min_chars]
            assert not short, (doc.doc_id, [c.text[:20] for c in short])
    # 專欄 items ("(二)數控機床產業鏈" and its two sentences) are sections of their own, so many chunks are short.
    lengths = [len(c.text) for _, _, chunks in corpus.values() for c in chunks]
    assert sum(SETTINGS.min_chars <= n for n in lengths) / len(lengths) > 0.5


def test_chunks_start_at_sentences_and_overlap_a_little(corpus):
    for doc, _, chunks in corpus.values():
        for previous, chunk in itertools.pairwise(chunks):
            # A chunk opens at a sentence (or, inside an over-long sentence, at a clause).
            assert chunk.start == 0 or doc.text[chunk.start - 1] in SENTENCE_END + ",，\n", chunk.text[:20]
            if previous.section_path == chunk.section_path and chunk.start < previous.end:
                assert previous.end - chunk.start <= SETTINGS.overlap_chars


def test_ids_unique_and_stable(corpus):
    ids = [c.chunk_id for _, _, chunks in corpus.values() for c in chunks]
    assert len(ids) == len(set(ids))
    for doc, sections, chunks in corpus.values():
        assert [c.chunk_id for c in chunk_document(doc, sections, SETTINGS)] == [c.chunk_id for c in chunks]
        assert all(c.chunk_id.startswith(f"{doc.doc_id}:") for c in chunks)


def test_001_chunks_have_a_chapter(corpus):
    chunks = corpus["001"][2]
    with_chapter = [c for c in chunks if any(re.match("第.+章", label) for label in c.section_path)]
    assert len(with_chapter) / len(chunks) >= 0.95


def test_headings_open_their_first_chunk(corpus):
    chunks = corpus["001"][2]
    first = next(c for c in chunks if c.section_path[-1] == "第三節 建設教育強省")
    assert first.text.startswith("第三節 建設教育強省\n\n全面貫徹黨的教育方針")


def test_variant_characters_normalized(corpus):
    norms = [c.text_norm for _, _, chunks in corpus.values() for c in chunks]
    assert not any("遼甯" in norm or "辽甯" in norm for norm in norms)
    assert any("辽宁" in c.text_norm and "遼甯" in c.text for c in corpus["002"][2])
