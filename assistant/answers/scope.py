"""Scope of evidence: the time and place a sentence's figure belongs to, compared with the question's scope.

A sentence's time is read from the nearest level that names one: the sentence itself, the paragraph before it
(``2021年,……。力争……达到21%``), its section headings, the document title (``2021年沈阳要重点做好十方面工作``), then
the document date (a work report's figures are that year's). Its places are those of the sentence, its headings, the
title and the document's region together: a province plan's sentence is the province's unless it names a city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.periods import Period, doc_year_of, framing_periods
from ..text.places import extract_places
from ..text.quantities import fold
from ..text.scope import PROVINCE_OF, Scope, place_names
from ..text.script import normalize
from ..types import DocumentInfo
from .asks import Span, slot_window
from .evidence import Sentence

# Where a year stops framing the sentences after it in a paragraph: a list item ("二是", "(三)", "3.").
_RESET = re.compile(r"(?<![\u3400-\u9fff])[一二三四五六七八九十]是|\([一二三四五六七八九十\d]{1,2}\)|(?:^|[。;])\d{1,2}[.、]")
_LEVELS = ("province", "city")
# A clause break (after folding): the clause before a figure names what it counts.
_CLAUSE = re.compile(r"[,;:。!?，；：、]")
# A stretch of an indicator's characters in a sentence: CJK, Latin letters and digits.
_WORD = re.compile(r"[\u3400-\u9fffA-Za-z0-9]+")
# Verbs before an indicator in a sentence: matches "新增" in "新增保障性租赁住房".
_VERBS = re.compile(r"^(?:新增|新建|建设|改造|培育|实施|推进|扩大|提高|完成|累计|达到|力争|计划|全年|全省|全市)+")
# Section headings of a review of the past (a plan's 发展基础, a report's 工作回顾): their figures are of the period
# before the document's own.
_REVIEW = re.compile(r"发展基础|发展成就|工作回顾|回顾|过去一年|过去五年|五年来|取得的成绩|决定性成就")


@dataclass(frozen=True)
class EvidenceScope:
    """When and where a sentence's statement holds.

    ``periods`` come from ``period_source`` (``sentence``, ``paragraph``, ``section``, ``title``, ``date`` or ``""``);
    ``places`` are all places in force (sentence, headings, title, region), ``own_place`` the most specific one.
    """

    periods: tuple[Period, ...]
    period_source: str
    places: tuple[str, ...]
    own_place: str


def _paragraph_periods(text: str, start: int, doc_year: int | None) -> list[Period]:
    """The period that frames a sentence from earlier in its paragraph (none after a list item starts)."""
    paragraph = text.rfind("\n", 0, start) + 1
    before = text[paragraph:start]
    periods = framing_periods(before, doc_year)
    if not periods:
        return []
    last = periods[-1]
    return [] if _RESET.search(fold(before), last.end) else [last]


def _title_periods(title: str, doc_year: int | None) -> list[Period]:
    """A title's periods; a plan title's span wins over its long-range year (十四五规划和二〇三五年远景目标)."""
    periods = framing_periods(title, doc_year)
    spans = [p for p in periods if p.role == "span"]
    return spans[:1] if spans else periods


def _before(periods: list[Period]) -> list[Period]:
    """The periods before these, for a review section: a plan's span → the previous plan and its last year.

    Example: ``2021-2025`` (十四五) → ``2016-2020`` and ``2020`` (十三五末); ``2024`` → ``2023``.
    """
    out: list[Period] = []
    for p in periods:
        if p.first == p.last:
            out.append(Period(p.first - 1, p.last - 1, p.text, p.start, p.end, p.role))
        else:
            length = p.last - p.first + 1
            out += [Period(p.first - length, p.last - length, p.text, p.start, p.end, "span"),
                    Period(p.last - length, p.last - length, p.text, p.start, p.end, "point")]
    return out


def evidence_scope(sentence: Sentence, text: str, info: DocumentInfo | None) -> EvidenceScope:
    """The time and places of a sentence of ``text`` (its cleaned document) with the document's metadata.

    Example: a sentence without a year in ``2021年沈阳要重点做好十方面工作`` → periods ``(2021,)`` from ``title``,
    places ``('沈阳',)``.
    """
    chunk = sentence.hit.chunk
    date = info.date if info else chunk.date
    doc_year = doc_year_of(date)
    title = info.title if info and info.title else chunk.title
    heading = " ".join(chunk.section_path)
    review = bool(_REVIEW.search(normalize(heading)))
    levels = (
        ("sentence", lambda: framing_periods(sentence.text, doc_year)),
        ("paragraph", lambda: _paragraph_periods(text, sentence.start, doc_year)),
        ("section", lambda: framing_periods(heading, doc_year)),
        ("title", lambda: _before(_title_periods(title, doc_year)) if review else _title_periods(title, doc_year)),
        ("date", lambda: [Period(doc_year - review, doc_year - review, date, 0, 0)] if doc_year else []),
    )
    periods: list[Period] = []
    source = ""
    for name, read in levels:
        periods = read()
        if periods:
            source = name
            break
    own = [p.name_norm for p in extract_places(sentence.text) if p.level in _LEVELS]
    wider = [p.name_norm for p in extract_places(heading + " " + title) if p.level in _LEVELS]
    region = place_names(info.region if info else chunk.region)
    places = tuple(dict.fromkeys(own + wider + region))
    specific = own or wider or region
    return EvidenceScope(tuple(periods), source, places, specific[0] if specific else "")


def scope_mismatches(scope: Scope, evidence: EvidenceScope, figure: bool = True) -> list[dict[str, str]]:
    """How the evidence's time and place differ from what the question asks (``[]`` when they fit).

    Kinds: ``year`` (a year asked), ``period`` (a span asked, e.g. ``2016-2020`` for 十三五), ``place``. A figure
    belongs to exactly its year and place; a policy (``figure`` False) also holds for a year inside its period and
    for the cities of its province.

    Example: asked 沈阳 2024, evidence 2021 in a 沈阳 article → ``[{"kind": "year", "asked": "2024", "found": "2021"}]``.
    """
    out: list[dict[str, str]] = []
    if evidence.periods:
        for asked in scope.periods:
            if not any(found.covers(asked) or (not figure and found.first <= asked.first and asked.last <= found.last)
                       for found in evidence.periods):
                kind = "year" if asked.first == asked.last else "period"
                out.append({"kind": kind, "asked": asked.label, "found": evidence.periods[0].label})
    for place in scope.places:
        if evidence.places and place not in evidence.places:
            if not figure and PROVINCE_OF.get(place) in evidence.places:
                continue
            out.append({"kind": "place", "asked": place, "found": evidence.own_place})
    return out


def indicator_elsewhere(indicator: str, sentence: str, spans: list[Span]) -> dict[str, str] | None:
    """An ``indicator`` mismatch when a sentence names the indicator, but its figures stand in clauses about another.

    Example: ``城中村`` asked, ``穩步推進城中村改造,加快城市地下管網改造,改造老舊小區700個`` → the figure's clauses
    (:func:`.asks.slot_window`) say 老旧小区: ``{"kind": "indicator", "asked": "城中村", "found": "老旧小区"}``.
    """
    figures, lower = [span for span in spans if span.fit >= 1], indicator.lower()
    if len(indicator) < 2 or not figures or lower not in normalize(sentence).lower():
        return None
    if any(lower in normalize(slot_window(sentence, span)).lower() for span in figures):
        return None
    span = figures[0]
    clause = _CLAUSE.split(fold(sentence)[: span.start])[-1]
    found = _VERBS.sub("", normalize(clause))[-8:]
    return {"kind": "indicator", "asked": indicator, "found": found} if len(found) >= 2 else None


def indicator_mismatch(indicator: str, sentence_norm: str, heading_norm: str) -> dict[str, str] | None:
    """An ``indicator`` mismatch when a figure sentence states a neighbouring indicator, not the one asked.

    Only the clear case counts: the sentence (with its headings) lacks the indicator, one of its words ends in the
    indicator's head noun (its last two characters) and shares almost nothing of the indicator's modifier. A
    paraphrase (``养老院床位`` for ``养老床位``) shares the modifier and is left to the support model.

    Example: ``共有产权住房`` vs ``新增保障性租赁住房5万套`` → ``{"kind": "indicator", "asked": "共有产权住房",
    "found": "保障性租赁住房"}``; ``5G基站`` vs ``新建5G基站6000个`` → None.
    """
    context, lower = (sentence_norm + " " + heading_norm).lower(), indicator.lower()
    head, modifier = lower[-2:], lower[:-2]
    grams = {modifier[i : i + 2] for i in range(len(modifier) - 1)}
    if len(indicator) < 4 or lower in context or sum(1 for g in grams if g in context) > len(grams) / 3:
        return None
    for word in _WORD.findall(re.sub(r"\d[\d.,%万亿]*(?![\dA-Za-z])", " ", sentence_norm)):  # 5G stays a word
        if head in word:
            found = _VERBS.sub("", word[: word.rindex(head) + 2])
            if len(found) > 3:
                return {"kind": "indicator", "asked": indicator, "found": found}
    return None


# A question about a total (总数, 总量, 累计…) is not answered by what is added in a year (新增, 新建…), nor the
# reverse: 科技型中小企业总数 vs 新增科技型中小企业6000家.
_STOCK = re.compile(r"总数|总量|总计|总共|累计|保有量|存量")
_FLOW = re.compile(r"新增|新建|新培育|新认定|新开工|新引进|新签约|新开通")


def stock_flow_mismatch(question_norm: str, sentence: str, spans: list[Span]) -> dict[str, str] | None:
    """An ``indicator`` mismatch when a question asks for a total and every figure of the sentence is an addition.

    Example: ``科技型中小企业总数要达到多少家`` vs ``新增高新技术企业1500家、科技型中小企业6000家`` →
    ``{"kind": "indicator", "asked": "总数", "found": "新增"}``; vs ``科技型中小企业累计达到2.5万家`` → None.
    """
    asked = _STOCK.search(question_norm)
    figures = [span for span in spans if span.fit >= 1]
    if not asked or not figures:
        return None
    found = ""
    for span in figures:
        window = normalize(slot_window(sentence, span))
        flow = _FLOW.search(window)
        if not flow or _STOCK.search(window):
            return None  # some figure is a total (or says nothing of either): it may answer
        found = found or flow.group()
    return {"kind": "indicator", "asked": asked.group(), "found": found}
