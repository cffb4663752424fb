"""Chunk: cut each section into sentence-bounded, overlapping passages with offsets and stable ids.

Chunks never cross a section boundary. A section longer than ``max_chars`` is cut at sentence ends into parts
whose sizes are as close as possible to an equal share (at least ``min_chars``); each chunk then repeats whole
trailing sentences of the one before, up to ``overlap_chars``. A chunk is shorter than ``min_chars`` only when
its section is, when it is the last of its section, or when the next sentence would not fit. A sentence longer
than ``max_chars`` is cut at commas, else into equal pieces. Heading lines stay with the sentence after them.
``chunk_id`` is ``{doc_id}:{sha1(doc_id, section path, text)[:12]}``, with ``-2``, ``-3`` … for repeats.
A chunk of a paged source records its first and last page, and a chunk with OCR'd text its mean OCR confidence.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re

from ..settings import ChunkingSettings
from ..text.script import normalize
from ..types import Chunk, Document, Section
from .clean import HEADING_MAX_CHARS
from .pages import page_span, span_confidence

# A sentence end in either width, with closing quotes or brackets: "。", "！”", "?)", "；".
_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』)）\"']*")
# A clause end inside an over-long sentence: "，", ",".
_CLAUSE_END = re.compile(r"[,，]")
# A paragraph: a run of non-newline text.
_PARAGRAPH = re.compile(r"[^\n]+")

Span = tuple[int, int]


def chunk_document(doc: Document, sections: list[Section], settings: ChunkingSettings) -> list[Chunk]:
    """Cut a document's sections into chunks.

    Args:
        doc: The cleaned document; chunk offsets point into ``doc.text``.
        sections: Its sections from :func:`assistant.ingest.structure.parse_sections`.
        settings: Chunk sizes and overlap.

    Returns:
        Chunks in document order with ``doc.text[start:end] == text``. The 1,640-character section
        ``(一)壯大經濟實力,…`` of 002 gives four chunks of 400 to 490 characters, each opening at a sentence.
    """
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for section in sections:
        units = _units(doc.text, section, settings)
        for start, end in _pack(units, settings.min_chars, settings.max_chars, settings.overlap_chars):
            text = doc.text[start:end]
            key = "\x1f".join((doc.doc_id, *section.path, text))
            base = f"{doc.doc_id}:{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}"
            seen[base] = seen.get(base, 0) + 1
            page_start, page_end = page_span(doc.info.page_starts, start, end)
            chunks.append(
                Chunk(
                    chunk_id=base if seen[base] == 1 else f"{base}-{seen[base]}",
                    doc_id=doc.doc_id,
                    title=doc.info.title,
                    section_path=section.path,
                    text=text,
                    text_norm=normalize(text),
                    start=start,
                    end=end,
                    date=doc.info.date,
                    region=doc.info.region,
                    source=doc.info.source,
                    page_start=page_start,
                    page_end=page_end,
                    ocr_confidence=span_confidence(doc.info.ocr_marks, start, end),
                )
            )
    return chunks


def _units(text: str, section: Section, settings: ChunkingSettings) -> list[Span]:
    """Sentence spans of a section, none longer than ``max_chars``, without the whitespace between them.

    A heading line (a short paragraph without a sentence end) is joined to the sentence after it.
    """
    units: list[Span] = []
    pending = -1  # start of heading lines waiting for the next sentence
    for paragraph in _PARAGRAPH.finditer(text, section.start, section.end):
        position = paragraph.start()
        ends = [m.end() for m in _SENTENCE_END.finditer(text, paragraph.start(), paragraph.end())]
        if not ends or ends[-1] < paragraph.end():
            ends.append(paragraph.end())
        heading = len(ends) == 1 and ends[0] - position <= HEADING_MAX_CHARS
        for end in ends:
            while position < end and text[position].isspace():
                position += 1
            if position < end and heading and not _SENTENCE_END.search(text, position, end):
                pending = position if pending < 0 else pending
            elif position < end:
                units.extend(_split_long(text, (position if pending < 0 else pending, end), settings))
                pending = -1
            position = end
    if pending >= 0:
        units.extend(_split_long(text, (pending, section.end), settings))
    return units


def _split_long(text: str, span: Span, settings: ChunkingSettings) -> list[Span]:
    """Cut a sentence longer than ``max_chars`` into balanced runs of clauses; cut over-long clauses evenly."""
    start, end = span
    if end - start <= settings.max_chars:
        return [span]
    cuts = [m.end() for m in _CLAUSE_END.finditer(text, start, end) if m.end() < end]
    clauses: list[Span] = []
    for s, e in itertools.pairwise([start, *cuts, end]):
        parts = math.ceil((e - s) / settings.max_chars)
        clauses.extend(itertools.pairwise([s + (e - s) * k // parts for k in range(parts + 1)]))
    return _pack(clauses, settings.min_chars, settings.max_chars, overlap_chars=0)


def _pack(units: list[Span], min_chars: int, max_chars: int, overlap_chars: int) -> list[Span]:
    """Group consecutive units into chunk spans of about equal size, overlapping by whole trailing units.

    The cut points minimize the squared distance of chunk sizes from the target size, under ``max_chars``.
    """
    if not units:
        return []
    total = units[-1][1] - units[0][0]
    target = max(min_chars, total / math.ceil(total / max_chars))
    best, back = [0.0] + [math.inf] * len(units), [0] * (len(units) + 1)
    for stop in range(1, len(units) + 1):  # a chunk of units[begin:stop]
        for begin in range(stop - 1, -1, -1):
            length = units[stop - 1][1] - units[begin][0]
            if length > max_chars and begin < stop - 1:
                break
            if (cost := best[begin] + (length - target) ** 2) < best[stop]:
                best[stop], back[stop] = cost, begin
    bounds = [len(units)]
    while bounds[-1] > 0:
        bounds.append(back[bounds[-1]])
    bounds.reverse()
    spans: list[Span] = []
    for k in range(len(bounds) - 1):
        begin, stop = bounds[k], bounds[k + 1]
        first = begin
        while (
            k > 0
            and first - 1 > bounds[k - 1]
            and units[begin - 1][1] - units[first - 1][0] <= overlap_chars
            and units[stop - 1][1] - units[first - 1][0] <= max_chars
        ):
            first -= 1
        spans.append((units[first][0], units[stop - 1][1]))
    return spans


def search_text(chunk: Chunk) -> str:
    """What the keyword and dense indexes see for a chunk: document title, section path, then the text (normalized).

    A question that names its document or section ("2024年政府工作报告…部分") then matches every chunk of that
    document or section equally, so the passage's own words decide, instead of a short title-only chunk winning.
    Example: title ``2021年沈阳要重点做好十方面工作``, path ``(建设数字沈阳…,)``, text ``新建5G基站6000个以上。`` →
    ``2021年沈阳要重点做好十方面工作 建设数字沈阳… 新建5G基站6000个以上。``.
    """
    heading = normalize(" ".join((chunk.title, *chunk.section_path)))
    return f"{heading} {chunk.text_norm}".strip()
