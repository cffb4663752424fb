"""Follow-ups: resolve an elliptical question ("那辽宁全省呢？", "十四五期间呢？") against the conversation.

Each turn builds on the previous turn's *resolved* question: a fragment that names only a place and/or a period
swaps them into it and keeps its indicator (topic carry-over); a fragment that names a new topic swaps the indicator
and keeps the place and period. A fragment with nothing to attach to (no earlier question, or ``还有呢？``) needs
clarification instead of being answered as something unrelated.

Example chain: ``沈阳2021年要新建多少个5G基站？`` → ``那辽宁全省呢？`` (``辽宁2021年要新建多少个5G基站？``) →
``十四五期间呢？`` (``辽宁十四五期间要新建多少个5G基站？``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .. import prompts
from ..text.periods import Period, doc_year_of, extract_periods, framing_periods, plan_number
from ..text.places import extract_places
from ..text.quantities import fold
from ..text.scope import ENGLISH_PLACES, SCOPE_LEVELS, indicator_of
from ..text.script import detect_script
from ..types import Answer

MAX_HISTORY = 10  # earlier questions used to resolve a follow-up (the newest ones)
_CJK = re.compile(r"[\u3400-\u9fff]")
_PLAN_DIGITS = "一二三四五六七八九"
_LATER = 2100  # a doc year that no question names: only to find relative years (今年) when the doc year is unknown
# Words that open a follow-up: matches "那" in "那辽宁全省呢", "还有" in "还有呢", "what about " in "What about Dalian?".
_LEAD = re.compile(r"^\s*(?:(?:那么|那|还有|另外|而|换成|如果是|要是|and|what about|how about|what of|then)\s*)+", re.I)
# Words that close a follow-up: matches "呢？" in "十四五期间呢？", "怎么样" in "大连怎么样".
_FOLLOW_TAIL = re.compile(r"(?:呢|怎么样|怎样|如何|as well|too|instead)[\s?？。.!！]*$", re.I)
# Punctuation and particles at the end: matches "的情况呢？" in "大连的情况呢？", "?" in "Dalian?".
_TAIL = re.compile(r"(?:的?情况|又?怎么样|又?如何|怎样|呢|吗|啊|呀|as well|too|instead|[?？。.!！,，\s])+$", re.I)
# A question of its own: matches "多少" in "GDP增长多少？", "what" in "What is the target?".
_ASKS = re.compile(r"多少|几|什么|哪|如何|怎么|怎样|是否|吗|有没有|多大|多高|多长|何时|为什么|"
                   r"\b(?:how|what|which|when|where|why|does|do|is|are|will|can|did)\b", re.I)
# Words of a fragment that name no topic: matches "全省" in "辽宁全省", "的目标" in "2035年的目标", "要占多少".
_FILLER = re.compile(r"全省|全市|全区|全县|全国|全境|本省|本市|整个|整体|地区|期间|时期|阶段|方面|目标值?|数字|数据|数量|"
                     r"规模|指标|情况|其他|其它|别的|更多|然后|接着|继续|同样|同期|这个|那个|多少|几|什么|哪些|哪|有没有|"
                     r"是否|要|将|会|是|有|占|呢|吗|的|这|那|也|又|还|省|市|区|县|里|中|内|上|[\s?？,，.。!！、“”\"]")
_LATIN_FILLER = frozenset("during in by for the of at on about then instead plan period same city province whole entire "
                          "as well too also what how and is are it there year years s".split())
# A base year's lead word that does not fit a span: matches "到" in "到2025年", "by " in "by 2025".
_TARGET_LEAD = re.compile(r"(?:力争到|争取到|到|至|\b(?:by|in|during)\s+)$", re.I)
_ENGLISH_PLACE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, ENGLISH_PLACES), key=len, reverse=True)) + r")\b",
                            re.I)
_ENGLISH_NAME = {name: english for english, name in reversed(ENGLISH_PLACES.items())}


@dataclass(frozen=True)
class Resolved:
    """One turn of a conversation: the question as typed and what it asks once the conversation is taken in.

    ``text`` equals ``question`` when the question stands alone. ``carried``: what ``text`` kept from the previous
    resolved question (``place``, ``period``, ``topic``). ``doc_year``: the year of the document this turn's answer
    cited, when known (a later ``明年呢？`` is read relative to it).
    """

    question: str
    text: str
    needs_clarification: bool = False
    carried: tuple[str, ...] = ()
    doc_year: int | None = None

    @property
    def is_followup(self) -> bool:
        """Whether the question was completed from the conversation."""
        return self.text != self.question


@dataclass(frozen=True)
class _Span:
    """A place or period of a text: ``text[start:end]``, its meaning (a place name or a Period) and its script."""

    start: int
    end: int
    value: str | Period
    latin: bool
    relative: bool = False  # 明年, next year: written as the year it stands for when that is known


@dataclass(frozen=True)
class _Fragment:
    places: tuple[_Span, ...]
    periods: tuple[_Span, ...]
    topic: str
    text: str  # the fragment's core ("辽宁全省" of "那辽宁全省呢？")

    @property
    def empty(self) -> bool:
        return not (self.places or self.periods or self.topic)


def _places(text: str, levels: Sequence[str] | None = None) -> list[_Span]:
    """Places of ``text``, Chinese (``遼寧省``) or English (``Dalian``), as canonical simplified names."""
    spans = [_Span(p.start, p.end, p.name_norm, False) for p in extract_places(text) if levels is None or p.level in levels]
    spans += [_Span(m.start(), m.end(), ENGLISH_PLACES[m.group(1).lower()], True) for m in _ENGLISH_PLACE.finditer(text)]
    return sorted(spans, key=lambda s: s.start)


def _periods(text: str, doc_year: int | None) -> list[_Span]:
    """Framing periods of ``text``; a relative year (明年) is resolved with ``doc_year``, else kept as a period."""
    found = framing_periods(text, doc_year if doc_year is not None else _LATER)
    known = {(p.start, p.end) for p in extract_periods(text)}
    spans = []
    for p in found:
        relative = (p.start, p.end) not in known
        year = p if not relative or doc_year is not None else Period(0, 0, p.text, p.start, p.end)  # 0: unknown
        spans.append(_Span(p.start, p.end, year, not _CJK.search(p.text), relative))
    return spans


def _topic(core: str, spans: Sequence[_Span]) -> str:
    """What a fragment names besides places and periods: ``那农业呢`` → ``农业``; ``辽宁全省`` → ``""``."""
    chars = list(core)
    for span in spans:
        chars[span.start : span.end] = " " * (span.end - span.start)
    rest = "".join(chars)
    if not _CJK.search(rest):
        words = [w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", rest) if w.lower() not in _LATIN_FILLER]
        return " ".join(words)
    pieces = [_FILLER.sub("", piece) for piece in rest.split()]
    return "".join(p for p in pieces if len(p) >= 2)


def _fragment(question: str, doc_year: int | None) -> _Fragment | None:
    """The parts of an elliptical question, or ``None`` when it stands alone (``沈阳今年新建多少5G基站？``)."""
    text = question.strip()
    lead = _LEAD.match(text)
    core = text[lead.end() :] if lead else text
    marked = bool(lead) or bool(_FOLLOW_TAIL.search(core))
    tail = _TAIL.search(core)
    core = core[: tail.start()] if tail else core
    latin = not _CJK.search(core)
    if (len(core.split()) > 8) if latin else (len(core) > 14):
        return None
    places = _places(core)
    periods = [p for p in _periods(core, doc_year) if not any(s.start < p.end and p.start < s.end for s in places)]
    topic = _topic(core, [*places, *periods])
    if not marked and (topic or _ASKS.search(core) or not (places or periods)):
        return None  # a short question of its own ("数字经济", "GDP增长多少？") or noise ("？？？？")
    return _Fragment(tuple(places), tuple(periods), topic, core)


def _period_text(span: _Span, fragment: str, latin: bool) -> str:
    """The new period written for a base in Chinese (``latin`` false) or English: ``十四五期间``, ``2022年``, ``2022``."""
    period = span.value
    assert isinstance(period, Period)
    n = plan_number(period.first, period.last)
    if period.first == 0 or (span.latin == latin and not span.relative and not (latin and n is not None)):
        return fragment[span.start : span.end]
    if latin:
        if n is not None:
            return f"the {n}th Five-Year Plan"
        return period.label
    if n is not None and 11 <= n <= 19:
        return f"十{_PLAN_DIGITS[n - 11]}五期间"
    return f"{period.first}年" if period.first == period.last else f"{period.first}—{period.last}年"


def _place_text(spans: Sequence[_Span], fragment: str, latin: bool) -> str:
    """The new place(s) written in the base's language: ``辽宁`` from ``Liaoning`` for a Chinese base, and back."""
    if all(s.latin == latin for s in spans):
        return fragment[spans[0].start : spans[-1].end]
    names = [str(s.value) for s in spans]
    if latin:
        return " and ".join(_ENGLISH_NAME.get(n, n).title() for n in names)
    return "和".join(names)


def _replace(base: str, spans: Sequence[_Span], new: str, lead: re.Pattern[str] | None = None) -> str:
    """``base`` with the first span replaced by ``new`` and the others removed (``lead`` cut before the first)."""
    out = base
    for i, span in reversed(list(enumerate(spans))):
        start = span.start
        if i == 0 and lead is not None:
            m = lead.search(out[:start])
            start = m.start() if m else start
        out = out[:start] + (new if i == 0 else "") + out[span.end :]
    return out


def _insert_place(base: str, place: str, latin: bool) -> str:
    if latin:
        m = re.search(r"[\s?？.!]*$", base)
        return f"{base[: m.start()]} in {place}{base[m.start():]}"
    return place + base


def _insert_period(base: str, period: str, latin: bool) -> str:
    if latin:
        m = re.search(r"[\s?？.!]*$", base)
        word = "" if period.startswith("during") else "in "
        return f"{base[: m.start()]} {word}{period}{base[m.start():]}"
    places = _places(base, SCOPE_LEVELS)
    at = places[-1].end if places else 0
    return base[:at] + period + base[at:]


def _swap_topic(base: str, topic: str) -> str | None:
    """``base`` with its indicator replaced by ``topic``, or ``None`` when no indicator is found in it."""
    indicator = indicator_of(base)
    at = fold(base).find(indicator) if indicator else -1
    if at < 0:
        return None
    return base[:at] + topic + base[at + len(indicator) :]


def _apply(base: str, fragment: _Fragment, doc_year: int | None) -> tuple[str, tuple[str, ...]]:
    """The base question with the fragment's places, periods and topic in it, and what it kept of the base."""
    latin = not _CJK.search(base)
    text, carried = base, []
    if fragment.topic:
        swapped = _swap_topic(text, fragment.topic) if latin == (not _CJK.search(fragment.topic)) else None
        if swapped is None:
            kept = [text[s.start : s.end] for s in [*_places(text, SCOPE_LEVELS), *_periods(text, doc_year)]]
            swapped = f"{fragment.topic} {' '.join(kept)}".strip() if latin else "".join(kept) + fragment.topic
        text = swapped
    else:
        carried.append("topic")
    periods = _periods(text, None)
    if fragment.periods:
        new = _period_text(fragment.periods[0], fragment.text, latin)
        first = fragment.periods[0].value
        assert isinstance(first, Period)
        is_span = first.first != first.last
        span_lead = _TARGET_LEAD if is_span or first.role == "target" else None
        if first.role == "target":
            new = f"by {new}" if latin else f"到{new}"
        elif latin and is_span:
            new = f"during {new}"
        text = _replace(text, periods, new, span_lead) if periods else _insert_period(text, new, latin)
    elif periods:
        carried.append("period")
    places = _places(text, SCOPE_LEVELS) or _places(text)
    if fragment.places:
        new = _place_text(fragment.places, fragment.text, latin)
        text = _replace(text, places, new) if places else _insert_place(text, new, latin)
    elif places:
        carried.append("place")
    return text, tuple(sorted(carried))


def resolve_followup(question: str, history: Sequence[Resolved | str], doc_year: int | None = None) -> Resolved:
    """Resolve a question against the conversation's earlier turns.

    Args:
        question: The new question as typed.
        history: Earlier turns, oldest first: :class:`Resolved` turns, or strings taken as resolved questions.
        doc_year: The year of the document the previous answer cited (default: the last turn's ``doc_year``);
            ``明年呢？`` becomes that year + 1, and stays ``明年`` when it is unknown.

    Returns:
        The question itself when it stands alone; the previous resolved question with the new place, period or
        topic swapped in when it is a fragment; ``needs_clarification`` when a fragment has nothing to attach to.

    Example: history ``["沈阳2021年要新建多少个5G基站？"]`` and ``"那辽宁全省呢？"`` →
    ``Resolved("那辽宁全省呢？", "辽宁2021年要新建多少个5G基站？", carried=("period", "topic"))``.
    """
    question = question.strip()
    turns = [t if isinstance(t, Resolved) else Resolved(t, t) for t in history]
    base = next((t for t in reversed(turns) if not t.needs_clarification and t.text.strip()), None)
    if doc_year is None and base is not None:
        doc_year = base.doc_year
    fragment = _fragment(question, doc_year) if question else None
    if fragment is None:
        return Resolved(question, question)
    if base is None or fragment.empty:
        return Resolved(question, question, needs_clarification=True)
    text, carried = _apply(base.text.strip(), fragment, doc_year)
    return Resolved(question, text, carried=carried)


def resolve_conversation(questions: Sequence[str], doc_years: Sequence[int | None] = ()) -> list[Resolved]:
    """Resolve a conversation turn by turn, each question against the resolved ones before it.

    Args:
        questions: The questions as typed, oldest first.
        doc_years: Per turn, the year of the document its answer cited, where known.

    Example: ``["沈阳2021年要新建多少个5G基站？", "那辽宁全省呢？", "十四五期间呢？"]`` → the third resolves to
    ``辽宁十四五期间要新建多少个5G基站？``.
    """
    turns: list[Resolved] = []
    for i, question in enumerate(questions):
        turn = resolve_followup(question, turns)
        year = doc_years[i] if i < len(doc_years) else None
        turns.append(Resolved(turn.question, turn.text, turn.needs_clarification, turn.carried, year))
    return turns


def cited_year(answer: Answer) -> int | None:
    """The year of the document an answer cites first (``None`` for a refusal or an answer without citations)."""
    if answer.refused or not answer.citations:
        return None
    return doc_year_of(answer.citations[0].date)


def conversation_turns(history: Sequence[str | Answer]) -> list[Resolved]:
    """The last :data:`MAX_HISTORY` earlier turns, resolved: typed questions turn by turn, answers as they were.

    An :class:`Answer` brings its own ``resolved_question``, ``needs_clarification`` and the year of the document
    it cited (for ``明年呢？``); a string is a question as typed (or already resolved: it then stands alone).

    Example: ``["沈阳2021年要新建多少个5G基站？", "那辽宁全省呢？"]`` → the second turn's text is
    ``辽宁2021年要新建多少个5G基站？``.
    """
    turns: list[Resolved] = []
    for item in list(history)[-MAX_HISTORY:]:
        if isinstance(item, Answer):
            text = str(item.extra.get("resolved_question") or item.question).strip()
            turns.append(Resolved(item.question.strip(), text, bool(item.extra.get("needs_clarification")),
                                  doc_year=cited_year(item)))
        else:
            turns.append(resolve_followup(str(item), turns))
    return turns


def clarification(question: str, backend: str) -> Answer:
    """The answer to a fragment that cannot be resolved: a request for what the user wants to know.

    Example: ``那辽宁全省呢？`` alone → ``{"question": "那辽宁全省呢？", "needs_clarification": true,
    "answer": "请补充您想了解的事项：…", "refused": false, "citations": []}``.
    """
    return Answer(question=question, answer=prompts.clarify_for(detect_script(question)), refused=False,
                  backend=backend, extra={"needs_clarification": True, "resolved_question": question.strip()})
