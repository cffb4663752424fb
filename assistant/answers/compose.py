"""Compose: the answer text from chosen sentences — plain, after a scope notice, in English with section paths.

Example of a scope notice (the question asked 沈阳 2024, the documents give 2021):
``文件中没有沈阳2024年的数字；《2021年沈阳要重点做好十方面工作》（2021-02-06）提出：新建5G基站6000个以上……[1]``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..prompts import ENGLISH_LEAD, SCOPE_NOTICE, SCOPE_NOTICE_ENGLISH, SCOPE_SAYS, SCOPE_WHAT, SCOPE_WHAT_FIGURE
from ..search.keyword import bigrams
from ..text.scope import Scope
from ..text.script import to_simplified, to_traditional
from ..types import Citation, DocumentInfo, Hit
from .evidence import Sentence, sentence_spans


def make_citation(n: int, hit: Hit, start: int, end: int, quote: str, documents: dict[str, DocumentInfo]) -> Citation:
    """A citation of ``quote`` (``text[start:end]`` of the hit's document) with the document's metadata."""
    info = documents.get(hit.chunk.doc_id)
    return Citation(
        n=n,
        chunk_id=hit.chunk.chunk_id,
        doc_id=hit.chunk.doc_id,
        title=hit.chunk.title,
        date=info.date if info else "",
        publisher=info.publisher if info else "",
        section_path=hit.chunk.section_path,
        quote=quote,
        start=start,
        end=end,
        page_start=hit.chunk.page_start,
        page_end=hit.chunk.page_end,
        ocr_confidence=hit.chunk.ocr_confidence,
        source=hit.chunk.source,
    )


def similar(a: str, b: str, threshold: float = 0.6) -> bool:
    """Near-duplicate test: Jaccard similarity of character bigrams."""
    x, y = set(bigrams(a)), set(bigrams(b))
    return bool(x and y) and len(x & y) / len(x | y) >= threshold


def in_script(text: str, script: str) -> str:
    """``text`` in the question's script (``traditional`` or ``simplified``; Latin questions keep the original)."""
    if script == "traditional":
        return to_traditional(to_simplified(text))
    if script == "simplified":
        return to_simplified(text)
    return text


def pick(ranked: Sequence[tuple[float, Sentence]], limit: int) -> list[Sentence]:
    """Up to ``limit`` sentences from the ranked ones: within 60% of the best score, near-duplicates skipped."""
    chosen: list[Sentence] = []
    best = ranked[0][0] if ranked else 0.0
    for score, sentence in ranked:
        if len(chosen) >= limit or score < 0.6 * best:
            break
        if any(similar(sentence.norm, other.norm) for other in chosen):
            continue  # the same fact in another article
        chosen.append(sentence)
    return chosen


def scope_words(scope: Scope, mismatch: Sequence[dict[str, str]], script: str, figure: bool = True) -> str:
    """What the documents lack, in plain words: the question's places and periods, and an indicator found instead.

    Example: asked 沈阳 2024 → ``沈阳2024年的数字`` (``沈陽2024年的數字`` in traditional); ``2021-2025`` reads
    ``2021—2025年``.
    """
    place = "".join(scope.places)
    time = "".join(f"{p.label.replace('-', '—')}年" for p in scope.periods)
    indicator = "".join(f"“{m['asked']}”" for m in mismatch if m["kind"] == "indicator")
    words = (SCOPE_WHAT_FIGURE if figure else SCOPE_WHAT).format(scope=place + time + indicator)
    return to_traditional(words) if script == "traditional" else words


def notice_text(scope: Scope, mismatch: Sequence[dict[str, str]], sentences: Sequence[Sentence],
                documents: dict[str, DocumentInfo], script: str, figure: bool = True) -> str:
    """The scope notice and what the closest document says instead, with citation markers.

    Example: ``文件中没有沈阳2024年的数字；《2021年沈阳要重点做好十方面工作》（2021-02-06）提出：新建5G基站6000个以上…[1]``.
    """
    first = sentences[0].hit.chunk
    info = documents.get(first.doc_id)
    says = "".join(f"{in_script(s.text, script)}[{n}]" for n, s in enumerate(sentences, start=1))
    if script == "latin":
        asked = ", ".join(f"{m['asked']}" for m in mismatch)
        found = ", ".join(f"{m['found']}" for m in mismatch)
        return SCOPE_NOTICE_ENGLISH.format(asked=asked, found=found, title=first.title, date=info.date if info else "",
                                           says=says)
    date = f"（{info.date}）" if info and info.date else ""
    head = SCOPE_NOTICE.format(what=scope_words(scope, mismatch, script, figure))
    body = SCOPE_SAYS.format(title=first.title, date=date, says=says)
    return (to_traditional(head) if script == "traditional" else head) + body


def english_text(sentences: Sequence[Sentence], documents: dict[str, DocumentInfo]) -> str:
    """An English answer without an LLM: the lead sentence, then each cited passage with its document and section.

    Example: ``The documents say (quoted in the original Chinese): [1] 《2021年沈阳…》 建设数字沈阳… ›: 新建5G基站…``.
    """
    parts = []
    for n, s in enumerate(sentences, start=1):
        chunk = s.hit.chunk
        info = documents.get(chunk.doc_id)
        where = " › ".join(chunk.section_path)
        date = f" ({info.date})" if info and info.date else ""
        parts.append(f"[{n}] 《{chunk.title}》{date}{' › ' + where if where else ''}: {s.text}")
    return ENGLISH_LEAD + "\n" + "\n".join(parts)


def plain_text(sentences: Sequence[Sentence], script: str) -> str:
    """The extractive answer: each sentence in the question's script followed by its citation marker."""
    return "".join(f"{in_script(s.text, script)}[{n}]" for n, s in enumerate(sentences, start=1))


def closest(hits: Sequence[Hit], documents: dict[str, DocumentInfo], texts: dict[str, str]) -> list[Citation]:
    """Citations of the first sentence of the three best hits (shown with a refusal)."""
    out = []
    for n, hit in enumerate(hits[:3], start=1):
        spans = [(s, e) for s, e in sentence_spans(hit.chunk.text, hit.chunk.start)
                 if hit.chunk.text[s - hit.chunk.start : e - hit.chunk.start] not in hit.chunk.section_path]
        start, end = spans[0] if spans else (hit.chunk.start, hit.chunk.end)
        quote = texts.get(hit.chunk.doc_id, "")[start:end] or hit.chunk.text
        out.append(make_citation(n, hit, start, end, quote, documents))
    return out


def cite(sentences: Sequence[Sentence], documents: dict[str, DocumentInfo]) -> list[Citation]:
    """Citations of the chosen sentences, numbered from 1."""
    return [make_citation(n, s.hit, s.start, s.end, s.text, documents) for n, s in enumerate(sentences, start=1)]
