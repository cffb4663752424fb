"""Claims: verdicts on a reporter's claim (supported / contradicted / not_found) against retrieved passages."""

from __future__ import annotations

from dataclasses import dataclass

from ..prompts import NOT_FOUND_REASON
from ..settings import AnswerSettings
from ..text.places import extract_places
from ..text.script import normalize
from ..types import Citation, DocumentInfo, Hit, Mismatch, Verdict
from .answer import make_citation, sentence_spans
from .verify import Comparison, compare, overlap


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    comparison: Comparison


def _citation(n: int, hit: Hit, start: int, end: int, texts: dict[str, str], docs: dict[str, DocumentInfo]) -> Citation:
    return make_citation(n, hit, start, end, texts[hit.chunk.doc_id][start:end], docs)


def _sentence_around(hit: Hit, start: int, end: int) -> tuple[int, int]:
    """The sentence of the chunk that contains the span ``[start, end)`` (document offsets)."""
    for s, e in sentence_spans(hit.chunk.text, hit.chunk.start):
        if s <= start and end <= e:
            return s, e
    return hit.chunk.start, hit.chunk.end


def check_claim(claim: str, hits: list[Hit], texts: dict[str, str], docs: dict[str, DocumentInfo],
                settings: AnswerSettings, corpus_norm: str = "") -> Verdict:
    """Judge a claim against the best-matching retrieved passage.

    The passage with the highest lexical overlap with the claim decides (a supporting passage wins near-ties);
    a number, year, unit or place that differs there makes the claim ``contradicted``; no passage about the claim
    makes it ``not_found``.

    Args:
        claim: The claim as pasted.
        hits: Retrieved chunks, best first.
        texts: Cleaned document texts by doc id.
        docs: Document metadata for citations.
        settings: Answer settings (``claim_min_overlap``).
        corpus_norm: All document texts normalized: a claim about a place no document mentions (another
            province) is ``not_found``, not ``contradicted``.

    Returns:
        The verdict with reason, mismatches located in the document and citations.
    """
    candidates = [
        _Candidate(hit, compare(claim, _with_context(hit), min_overlap=settings.claim_min_overlap)) for hit in hits
    ]
    related = [c for c in candidates if c.comparison.verdict != "unrelated"]
    extra = {"overlap": round(max((c.comparison.overlap for c in candidates), default=0.0), 4)}
    if not related:
        closest = [_citation(n, c.hit, *_first_sentence(c.hit), texts, docs) for n, c in enumerate(candidates[:3], 1)]
        return Verdict(claim, "not_found", NOT_FOUND_REASON, (), tuple(closest), extra)
    top_overlap = max(c.comparison.overlap for c in related)
    near = [c for c in related if c.comparison.overlap >= top_overlap - 0.05]
    best = next((c for c in near if c.comparison.verdict == "supported"), near[0])
    hit, comparison = best.hit, best.comparison
    foreign = [
        m for m in comparison.mismatches if m.kind == "place" and corpus_norm and normalize(m.claim_value) not in corpus_norm
    ]
    elsewhere = _unmentioned_city(claim, hit) if not any(m.kind == "place" for m in comparison.mismatches) else ""
    if foreign or elsewhere:
        closest = [_citation(n, c.hit, *_first_sentence(c.hit), texts, docs) for n, c in enumerate(candidates[:3], 1)]
        reason = f"文件没有涉及{foreign[0].claim_value if foreign else elsewhere}的这一内容。"
        return Verdict(claim, "not_found", reason, (), tuple(closest), extra)
    offset, length = hit.chunk.start, len(hit.chunk.text)
    mismatches = tuple(
        # A value found in the title or headings (appended after the passage) has no place in the passage: -1.
        Mismatch(m.kind, m.claim_value, m.document_value, *((m.start + offset, m.end + offset) if m.end <= length else (-1, -1)))
        for m in comparison.mismatches
    )
    spans = sorted({_sentence_around(hit, m.start, m.end) for m in mismatches if m.start >= 0})
    if not spans:
        spans = [_best_sentence(hit, claim)]
    citations = tuple(_citation(n, hit, s, e, texts, docs) for n, (s, e) in enumerate(spans, start=1))
    return Verdict(claim, comparison.verdict, comparison.reason, mismatches, citations,
                   {**extra, "matched": list(comparison.matched)})


def _unmentioned_city(claim: str, hit: Hit) -> str:
    """A city the claim is about that the passage, its headings and title never mention ("" if none).

    A claim about 沈阳 matched to a province-wide passage that names no city is about something the documents do
    not say for 沈阳: ``not_found``, not a contradiction of the province's figure.
    """
    context = normalize(_with_context(hit))
    for place in extract_places(claim):
        if place.level == "city" and place.name_norm not in context:
            if not any(p.level == "city" for p in extract_places(context)):
                return place.text
    return ""


def _with_context(hit: Hit) -> str:
    """The passage followed by its document title and section path; passage offsets stay valid.

    A year or place stated only in a heading (``2021年沈阳要重点做好十方面工作``) then still counts.
    """
    return f"{hit.chunk.text}\n{hit.chunk.title} {' '.join(hit.chunk.section_path)}"


def _first_sentence(hit: Hit) -> tuple[int, int]:
    spans = [(s, e) for s, e in sentence_spans(hit.chunk.text, hit.chunk.start) if e - s > 8]
    return spans[0] if spans else (hit.chunk.start, hit.chunk.end)


def _best_sentence(hit: Hit, claim: str) -> tuple[int, int]:
    """The sentence of the chunk that overlaps the claim most."""
    spans = sentence_spans(hit.chunk.text, hit.chunk.start)
    text = hit.chunk.text
    return max(spans, key=lambda se: overlap(claim, text[se[0] - hit.chunk.start : se[1] - hit.chunk.start]),
               default=(hit.chunk.start, hit.chunk.end))
