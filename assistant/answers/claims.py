"""Claims: verdicts on a reporter's claim (supported / contradicted / not_found) against retrieved passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..prompts import (
    ENGLISH_SUPPORTED_REASON,
    FALSE_STATEMENT_REASON,
    MEANING_LABELS,
    MEANING_REASON,
    NOT_FOUND_REASON,
    PLACE_OWNER_REASON,
)
from ..settings import AnswerSettings
from ..text.english import EnglishNumber, english_numbers
from ..text.places import GAZETTEER, extract_places
from ..text.quantities import Quantity, extract
from ..text.scope import PROVINCE_OF, place_names, question_scope
from ..text.script import detect_script, normalize
from ..types import Citation, DocumentInfo, Hit, Mismatch, Verdict
from .compose import make_citation
from .evidence import Sentence, sentence_spans
from .meaning import MeaningConflict, compare_meaning, heading_rumour
from .scope import evidence_scope, scope_mismatches
from .verify import Comparison, compare, overlap

# A table note paragraph (its table was lost): matches "注:①地区生产总值……" up to the end of its line.
_NOTE = re.compile(r"(?m)^注[:：].*$")


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
    if detect_script(claim) == "latin":
        return _check_english(claim, hits, texts, docs)
    candidates = [
        _Candidate(hit, compare(claim, _with_context(hit), min_overlap=settings.claim_min_overlap)) for hit in hits
    ]
    related = [c for c in candidates if c.comparison.verdict != "unrelated"]
    extra: dict = {"overlap": round(max((c.comparison.overlap for c in candidates), default=0.0), 4), "judge": "rules"}
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
    has_place = any(m.kind == "place" for m in comparison.mismatches)
    owner = _other_city(claim, hit, docs) if not has_place and not foreign else None
    if owner and any(m.kind != "place" for m in comparison.mismatches):
        # Another place's own document with another value: the documents say nothing about the claim's place.
        closest = [_citation(n, c.hit, *_first_sentence(c.hit), texts, docs) for n, c in enumerate(candidates[:3], 1)]
        claimed = next(p.text for p in extract_places(claim) if p.level in ("city", "province"))
        return Verdict(claim, "not_found", f"文件没有涉及{claimed}的这一内容。", (), tuple(closest), extra)
    if owner:  # the passage is another city's own document: its figure belongs to that city
        return _owned_elsewhere(claim, comparison, owner, hit, texts, docs, extra)
    elsewhere = _unmentioned_city(claim, hit, docs) if not has_place else ""
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
    verdict, reason = comparison.verdict, comparison.reason
    rumour = heading_rumour(hit.chunk.section_path, hit.chunk.text)
    if rumour and overlap(claim, rumour) >= settings.claim_min_overlap and compare_meaning(claim, rumour) is None:
        span = _best_sentence(hit, claim)
        conflict = MeaningConflict("false_statement", claim, rumour, -1, -1)
        verdict, reason, spans = "contradicted", meaning_reason(conflict), [span]
        mismatches = (conflict_mismatch(conflict, span),)
    elif verdict == "supported":
        for span in _meaning_spans(hit, claim, texts):
            conflict = _meaning_conflict(claim, hit, span, texts)
            if conflict is not None:
                verdict, reason, mismatches = "contradicted", meaning_reason(conflict), (conflict_mismatch(conflict, span),)
                spans = [span]
                break
    elif any(m.kind == "place" for m in mismatches):
        places = "、".join(dict.fromkeys(m.document_value for m in mismatches if m.kind == "place"))
        reason = PLACE_OWNER_REASON.format(place=places) + reason
    citations = tuple(_citation(n, hit, s, e, texts, docs) for n, (s, e) in enumerate(spans, start=1))
    return Verdict(claim, verdict, reason, mismatches, citations, {**extra, "matched": list(comparison.matched)})


def _check_english(claim: str, hits: list[Hit], texts: dict[str, str], docs: dict[str, DocumentInfo]) -> Verdict:
    """An English claim, judged by what crosses languages: its numbers, years and places.

    ``supported`` when one sentence of the top passages states every number of the claim (same value, after scale:
    ``1.5 million`` = ``150万``) and the passage's time and place fit the claim's years and places; otherwise
    ``not_found`` (a claim of meaning without numbers cannot be told apart across languages without a model).
    """
    extra = {"judge": "rules", "crosslingual": True}
    numbers = english_numbers(claim)
    scope = question_scope(claim)
    for hit in hits[:3]:
        for start, end in sentence_spans(hit.chunk.text, hit.chunk.start):
            text = texts.get(hit.chunk.doc_id, "")[start:end]
            values = [q for q in extract(text) if q.kind != "year"]
            if not numbers or not all(any(_same_number(n, q) for q in values) for n in numbers):
                continue
            sentence = Sentence(hit, start, end, text, normalize(text))
            where = evidence_scope(sentence, texts.get(hit.chunk.doc_id, ""), docs.get(hit.chunk.doc_id))
            if scope_mismatches(scope, where):
                continue
            citation = _citation(1, hit, start, end, texts, docs)
            matched = [n.text for n in numbers]
            return Verdict(claim, "supported", ENGLISH_SUPPORTED_REASON.format(values="、".join(matched)), (),
                           (citation,), {**extra, "matched": matched})
    closest = [_citation(n, h, *_first_sentence(h), texts, docs) for n, h in enumerate(hits[:3], 1)]
    return Verdict(claim, "not_found", NOT_FOUND_REASON, (), tuple(closest), extra)


def _same_number(number: EnglishNumber, quantity: Quantity) -> bool:
    """Whether an English number and a Chinese quantity state the same value (percent with percent)."""
    if (number.kind == "percent") != (quantity.kind in ("percent", "points")):
        return False
    return abs(number.value - quantity.value) <= 1e-9 * max(1.0, abs(number.value))


def _meaning_conflict(claim: str, hit: Hit, span: tuple[int, int], texts: dict[str, str]) -> MeaningConflict | None:
    """A conflict of meaning between the claim and the sentence at ``span`` (document offsets), or ``None``."""
    text = texts.get(hit.chunk.doc_id, "")
    start, end = span
    paragraph = text[text.rfind("\n", 0, start) + 1 : (text.find("\n", end) + 1 or len(text) + 1) - 1]
    conflict = compare_meaning(claim, text[start:end], paragraph)
    if conflict is None or conflict.start < 0:
        return conflict
    return MeaningConflict(conflict.kind, conflict.claim_word, conflict.document_word, conflict.start + start,
                           conflict.end + start)


def conflict_mismatch(conflict: MeaningConflict, span: tuple[int, int]) -> Mismatch:
    """The mismatch record of a conflict of meaning (a rumour points at its whole sentence)."""
    start, end = (conflict.start, conflict.end) if conflict.start >= 0 else span
    return Mismatch(conflict.kind, conflict.claim_word or "（肯定）", conflict.document_word or "（肯定）", start, end)


def meaning_reason(conflict: MeaningConflict) -> str:
    """A plain-words reason: what the claim says against what the document says.

    Example: polarity, ``不再`` vs ``""`` → ``含义相反：说法为“不再”，文件为肯定的表述``.
    """
    if conflict.kind == "false_statement":
        return FALSE_STATEMENT_REASON
    label = MEANING_LABELS[conflict.kind]
    claim_word = f"“{conflict.claim_word}”" if conflict.claim_word else "肯定的表述"
    document_word = f"“{conflict.document_word}”" if conflict.document_word else "肯定的表述"
    return MEANING_REASON.format(label=label, claim=claim_word, document=document_word)


def _other_city(claim: str, hit: Hit, docs: dict[str, DocumentInfo]) -> str:
    """The city whose own document the passage is, when the claim names another city and the passage no city.

    Example: a claim about 成都 matched to 杭州's notice (region 杭州市) → ``杭州``.
    """
    info = docs.get(hit.chunk.doc_id)
    region = place_names(info.region if info else hit.chunk.region)
    if not region or GAZETTEER.get(region[0]) != "city":
        return ""
    context = normalize(_with_context(hit))
    cities = [p for p in extract_places(claim) if p.level == "city"]
    named = {p.name_norm for p in extract_places(context) if p.level == "city"}
    if not cities:  # a province that is not the city's (四川 for a 佛山 notice), named nowhere in the passage
        provinces = [p for p in extract_places(claim) if p.level == "province"]
        foreign = provinces and named <= {region[0]} and all(
            p.name_norm != PROVINCE_OF.get(region[0]) and p.name_norm not in context for p in provinces)
        return region[0] if foreign else ""
    if any(p.name_norm == region[0] for p in cities) or named:
        return ""
    return region[0]


def _owned_elsewhere(claim: str, comparison: Comparison, owner: str, hit: Hit, texts: dict[str, str],
                     docs: dict[str, DocumentInfo], extra: dict) -> Verdict:
    """``contradicted``: the claim gives another place's figure as its own (the passage is a city's own document)."""
    claimed = next(p.text for p in extract_places(claim) if p.level in ("city", "province"))
    span = _best_sentence(hit, claim)
    mismatch = Mismatch("place", claimed, owner, -1, -1)
    reason = PLACE_OWNER_REASON.format(place=owner) + f"地点文件为 {owner}，说法为 {claimed}"
    citation = _citation(1, hit, *span, texts, docs)
    return Verdict(claim, "contradicted", reason, (mismatch,), (citation,), {**extra, "matched": list(comparison.matched)})


def _unmentioned_city(claim: str, hit: Hit, docs: dict[str, DocumentInfo] | None = None) -> str:
    """A city the claim is about that the passage, its headings, title and document region never mention ("" if none).

    A claim about 沈阳 matched to a province-wide passage that names no city is about something the documents do
    not say for 沈阳: ``not_found``, not a contradiction of the province's figure.
    """
    info = (docs or {}).get(hit.chunk.doc_id)
    context = normalize(_with_context(hit) + " " + (info.region if info else hit.chunk.region))
    for place in extract_places(claim):
        if place.level == "city" and place.name_norm not in context:
            if not any(p.level == "city" for p in extract_places(context)):
                return place.text
    return ""


def _with_context(hit: Hit) -> str:
    """The passage followed by its document title and section path; passage offsets stay valid.

    A year or place stated only in a heading (``2021年沈阳要重点做好十方面工作``) then still counts. A lost table's
    note paragraph (``注:①…``) is blanked out: it qualifies figures the document no longer shows and states none.
    """
    text = _NOTE.sub(lambda m: " " * len(m.group()), hit.chunk.text)
    return f"{text}\n{hit.chunk.title} {' '.join(hit.chunk.section_path)}"


def _first_sentence(hit: Hit) -> tuple[int, int]:
    spans = [(s, e) for s, e in sentence_spans(hit.chunk.text, hit.chunk.start) if e - s > 8]
    return spans[0] if spans else (hit.chunk.start, hit.chunk.end)


def _close_sentences(hit: Hit, claim: str, margin: float = 0.15) -> list[tuple[int, int]]:
    """The sentences of the chunk whose overlap with the claim is within ``margin`` of the best, best first (at most 2).

    A claim often shares its subject with one sentence and its predicate with the next (``民办学校招生…`` /
    ``…不得提前组织考试``): the meaning check reads both. A heading line (``（二）一次性吸纳就业补贴。``) states nothing.
    """
    text, headings = hit.chunk.text, {h.strip() for h in hit.chunk.section_path}
    scored = sorted(((overlap(claim, text[s - hit.chunk.start : e - hit.chunk.start]), (s, e))
                     for s, e in sentence_spans(text, hit.chunk.start)
                     if text[s - hit.chunk.start : e - hit.chunk.start].rstrip("。.").strip() not in headings),
                    key=lambda t: -t[0])
    return [span for score, span in scored[:2] if scored and score >= scored[0][0] - margin and score > 0]


def _meaning_spans(hit: Hit, claim: str, texts: dict[str, str]) -> list[tuple[int, int]]:
    """Where the meaning check reads: the closest sentences, then the best one with the next one of its paragraph.

    Example: for ``成都吸纳就业补贴同一人可以重复申领`` the best sentence ``…给予一次性吸纳就业补贴。`` is read together
    with ``同一人只能享受一次，不得重复申领。``.
    """
    spans = _close_sentences(hit, claim)
    if spans:
        text, (start, end) = texts.get(hit.chunk.doc_id, ""), spans[0]
        stop = text.find("\n", end)
        following = sentence_spans(text[end : stop if stop >= 0 else len(text)], end)
        if following:
            spans.append((start, following[0][1]))
    return spans


def _best_sentence(hit: Hit, claim: str) -> tuple[int, int]:
    """The sentence of the chunk that overlaps the claim most."""
    spans = sentence_spans(hit.chunk.text, hit.chunk.start)
    text = hit.chunk.text
    return max(spans, key=lambda se: overlap(claim, text[se[0] - hit.chunk.start : se[1] - hit.chunk.start]),
               default=(hit.chunk.start, hit.chunk.end))
