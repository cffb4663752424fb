"""Evidence: the question analysed (topic, scope, what it asks for) and the sentences of retrieved chunks scored.

A sentence is scored by how much of the question's *topic* it covers (places and years left out: they are checked
as scope, see :mod:`.scope`), helped by its section headings and its chunk's rank, and by whether it holds the kind
of answer asked for (a count in 户 for ``多少户``, an amount for ``投资多少``, a date for ``何时``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from ..search.keyword import STOPWORDS, bigrams
from ..text.periods import extract_periods
from ..text.places import extract_places
from ..text.quantities import extract
from ..text.scope import Scope, question_scope
from ..text.script import detect_script, normalize
from ..text.sentences import answerable_sentences, sentence_spans
from ..types import Hit
from .asks import Asked, Span, answer_spans, asked_for

# A sentence that opens a numbered item of a run: "一要", "二是", "第三,", "（四）", "4.".
_NUMBERED = re.compile(
    r"\s*(?:[一二三四五六七八九十]+[要是]|第[一二三四五六七八九十]+[,，、是]|[（(][一二三四五六七八九十]+[)）]|\d{1,2}[.、])")
# A quoted phrase in a question: matches "统筹发展安全" in "“统筹发展安全”部分", also in 「」 and "".
_QUOTED = re.compile(r"[“「『\"]([^”」』\"]{2,30})[”」』\"]")
# Question words, cut out before taking bigrams so none spans into them: "是多少", "有哪些", "要占多少", "哪一国".
_QUESTION_WORDS = re.compile(
    r"多少|什么|哪些|哪一[个种位年天次国家]?|哪[个种位国家里儿]|何时|何种|何处|何地|何人|为何|怎么样?|怎样|如何|是否|为什么|"
    r"请问|有没有|几[个项家条年]?|吗|呢|要|是|有|的|了|到|将|把|在|和|与|及"
)


@dataclass(frozen=True)
class Question:
    """A question analysed once: normalized text, scope, topic bigrams and the kind of answer it asks for."""

    text: str
    norm: str
    script: str
    scope: Scope
    wanted: frozenset[str]  # content bigrams of the whole question
    topic: frozenset[str]  # the same without the places and periods (those are scope)
    asked: Asked  # what it asks for: a figure (its kind, unit), a time, a place, names or a list (see :mod:`.asks`)
    quoted: tuple[str, ...] = ()  # phrases the question quotes (a section or a slogan): “统筹发展安全”
    asked_topic: frozenset[str] = frozenset()  # the topic as asked, before bigrams no chunk has were left out
    extra: frozenset[str] = frozenset()  # bigrams of the official terms of its everyday words (芯片 → 集成电路)
    # An English question's own words beside their translations: those some chunk has too (VOCs, GDP, PM2.5) count
    # as topic, as no dictionary translates them.
    own: frozenset[str] = frozenset()

    @property
    def asks(self) -> str:
        """``figure``, ``when``, ``where``, ``names``, ``list`` or ``other``."""
        return self.asked.asks

    def known(self, idf: IdfTable) -> Question:
        """The question with its topic and bigrams restricted to those some chunk has.

        Question phrasing such as ``获得了`` would otherwise cap every coverage; ``asked_topic`` keeps the full topic.
        """
        own = frozenset(t for t in self.own if idf.known(t))
        topic = frozenset(t for t in self.topic if idf.known(t)) | own
        wanted = frozenset(t for t in self.wanted if idf.known(t)) | own
        extra = frozenset(t for t in self.extra if idf.known(t))
        return replace(self, topic=topic or self.topic, wanted=wanted or self.wanted, asked_topic=self.topic, extra=extra)

    def translated(self, terms: list[str]) -> Question:
        """The question with the Chinese official terms of its words (query expansion: term table, dictionary).

        An English question's topic becomes the terms: ``How many 5G base stations…`` with ``['基站', '5G基站']`` →
        topic ``{'基站', '5g', 'g基'}``. A Chinese question keeps its topic and may cover it with the terms of its
        everyday words instead (``extra``: ``芯片`` → ``集成电路``). Unchanged when no term was found.
        """
        grams = frozenset(g for term in terms for g in content_bigrams(normalize(term)))
        if not grams:
            return self
        if self.script != "latin":
            return replace(self, extra=grams - self.topic)
        return replace(self, topic=grams, wanted=grams, own=self.topic)


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved chunk, located in the cleaned document."""

    hit: Hit
    start: int
    end: int
    text: str
    norm: str


@dataclass(frozen=True)
class Scored:
    """A sentence with its ranking score, topic coverage (with headings), answer-type fit and chunk rank."""

    sentence: Sentence
    score: float
    topic: float
    fit: float
    figure: bool
    rank: int


@dataclass(frozen=True)
class Evidence:
    """Scored sentences for a question and the overall support for answering it.

    ``sentences`` are the ranked sentences (best first); ``support`` is the calibrated probability that the
    documents answer the question; ``scope_mismatch`` lists how the chosen evidence differs from the question's
    scope (``[{"kind": "year", "asked": "2024", "found": "2021"}]``); ``judge`` names what decided.
    """

    sentences: list[tuple[float, Sentence]]
    support: float
    features: dict[str, float]
    question: Question | None = None
    scope_mismatch: tuple[dict[str, str], ...] = ()
    judge: str = "rules"
    extra: dict[str, object] = field(default_factory=dict)


def enumerated_items(asked: Asked, text: str, offset: int = 0) -> set[int]:
    """Starts of the sentences that together answer a names question as a numbered run, one name per sentence.

    Reports list their items as sentences: ``一要建设人民满意的服务型政府。…二要建设…法治政府。`` answers
    ``要建设哪几种政府`` though no one sentence lists two. The run counts when at least as many numbered sentences
    (一要/二是/第三,/（四）) as the question asks for name its noun.
    """
    if asked.asks != "names" or not asked.head:
        return set()
    starts = [start for start, end in sentence_spans(text, offset)
              if asked.head in normalize(text[start - offset : end - offset])
              and _NUMBERED.match(text, start - offset)]
    return set(starts) if len(starts) >= max(2, asked.count) else set()


def content_bigrams(text_norm: str) -> set[str]:
    """Bigrams that carry the content of a question (question words and stopwords dropped).

    Example: ``辽宁到2025年数字经济要占多少`` → ``{'辽宁', '数字', '字经', '经济', '2025', …}``.
    """
    return {t for t in bigrams(_QUESTION_WORDS.sub(" ", text_norm)) if t not in STOPWORDS and len(t) > 1}


def analyze(question: str) -> Question:
    """Analyse a question: scope, topic bigrams (scope removed) and what it asks for.

    Example: ``2024年辽宁改造的700个老旧小区涉及多少户居民？`` → asks ``figure``, unit ``户``, topic without 辽宁/2024.
    """
    norm = normalize(question)
    scope = question_scope(norm)
    masked = list(norm)
    for start, end in [(p.start, p.end) for p in extract_places(norm)] + [(p.start, p.end) for p in extract_periods(norm)]:
        masked[start:end] = " " * (end - start)
    wanted = content_bigrams(norm)
    topic = content_bigrams("".join(masked)) or wanted
    asked = asked_for(norm)
    # Plan names are quoted by convention (“十四五”), not to name a section or slogan: they are scope, not quotes.
    quoted = tuple(q for q in _QUOTED.findall(norm) if len(q) >= 2 and not _is_period(q))
    return Question(question, norm, detect_script(question), scope, frozenset(wanted), frozenset(topic), asked, quoted)


def _is_period(phrase: str) -> bool:
    """Whether a phrase is only a period's name: ``十四五``, ``十四五规划``, ``2021年``."""
    return any(p.start == 0 and p.end == len(phrase) for p in extract_periods(phrase))


def in_table_note(text: str, start: int) -> bool:
    """Whether position ``start`` lies in a table note paragraph (``注:①…②…⑤2019年…``) whose table was lost.

    Such notes qualify figures the document no longer shows; they answer no question about a figure.
    """
    paragraph = text.rfind("\n", 0, start) + 1
    return text.startswith(("注:", "注：", "注："), paragraph)


def figure_kinds(sentence: str) -> set[str]:
    """Kinds of the figures a sentence states, years aside (a lost table's ``注:①…`` note states none).

    Example: ``到2025年,集成電路產業營業收入超800億元。`` → ``{'amount'}``; ``注:①2020年情況均為預計數。`` → ``set()``.
    """
    if sentence.lstrip().startswith(("注:", "注：")):
        return set()
    return {q.kind for q in extract(sentence) if q.kind != "year"}


def spans_of(question: Question, sentence: str, in_note: bool) -> list[Span]:
    """The spans of ``sentence`` that hold the kind of answer the question asks for (see :func:`.asks.answer_spans`)."""
    periods = frozenset((p.first, p.last) for p in question.scope.periods)
    return answer_spans(question.asked, sentence, in_note, periods, frozenset(question.scope.places))


def answer_fit(question: Question, sentence: str, in_note: bool) -> float:
    """How well a sentence holds the kind of answer asked for: 1, 0.5 (a figure of another kind) or 0.

    Example: ``多少户居民`` vs ``改造老旧小区700个`` → 0.0 (no count in 户); ``投入多少钱`` vs ``累计投入1.9亿元`` → 1.0.
    """
    return max((span.fit for span in spans_of(question, sentence, in_note)), default=0.0)


@lru_cache(maxsize=4096)  # at most about 50 MB: the sentences and chunks of the last few dozen questions
def bigram_set(text_norm: str) -> frozenset[str]:
    """The bigrams of a sentence or heading (remembered: the same sentences are read for many questions)."""
    return frozenset(bigrams(text_norm))


class Coverage:
    """IDF-weighted coverage of a question's bigrams by a text.

    Args:
        idf: Inverse document frequency of a bigram over the indexed chunks.
    """

    def __init__(self, idf: Callable[[str], float]) -> None:
        self.idf = idf
        self._last: tuple[frozenset[str], dict[str, float]] | None = None

    def __call__(self, wanted: frozenset[str] | set[str], text_norm: str, extra: frozenset[str] = frozenset()) -> float:
        """Share of the IDF mass of ``wanted`` found among the bigrams of ``text_norm`` (0.0 when nothing is wanted).

        Bigrams of ``extra`` (official terms for the question's everyday words) found in the text count towards the
        share too, up to 1: ``集成电路产业…`` covers ``芯片产业`` through ``集成电路``.
        """
        if not wanted:
            return 0.0
        have = bigram_set(text_norm)
        weights = self._weights(frozenset(wanted))
        total = sum(weights.values())
        found = sum(w for t, w in weights.items() if t in have) + sum(self.idf(t) for t in extra if t in have)
        return min(1.0, found / total) if total else 0.0

    def _weights(self, wanted: frozenset[str]) -> dict[str, float]:
        """The IDF of each wanted bigram (one question's are asked for again for every sentence it is compared with)."""
        last = self._last
        if last is None or last[0] != wanted:
            last = self._last = (wanted, {t: self.idf(t) for t in wanted})
        return last[1]


def score_sentences(question: Question, hits: list[Hit], texts: dict[str, str] | None, cover: Coverage) -> list[Scored]:
    """Score every sentence of the hits against the question's topic, best first.

    A sentence of a lower-ranked chunk that shares almost nothing with the question is left out; a section's own
    heading line and sentences under 6 characters are never answers. ``texts`` are the cleaned documents the
    sentences are cut from; without them (reranking, before documents are read) they are cut from the chunks.
    """
    scored: list[Scored] = []
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        heading = normalize(" ".join(chunk.section_path))
        heading_cover = cover(question.topic, heading, question.extra)
        items = enumerated_items(question.asked, chunk.text, chunk.start)
        # The same sentences the index keeps vectors of (a chunk is its document's text[start:end]).
        for start, end, norm in answerable_sentences(chunk.text, chunk.start, chunk.section_path):
            if texts is not None:
                raw, note = texts[chunk.doc_id][start:end], in_table_note(texts[chunk.doc_id], start)
            else:
                raw = chunk.text[start - chunk.start : end - chunk.start]
                note = in_table_note(chunk.text, start - chunk.start)
            own = cover(question.topic, norm, question.extra)
            if rank and own < (0.2 if question.script != "latin" else 0.0):
                continue
            note = note or norm.startswith("注:")
            spans = spans_of(question, raw, note)
            fit = 1.0 if start in items else max((span.fit for span in spans), default=0.0)
            topic = max(own, cover(question.topic, heading + " " + norm, question.extra))
            score = own + 0.3 * heading_cover + 0.35 / (1 + rank) + (0.15 * fit if question.asks != "other" else 0.0)
            figure = not note and bool(figure_kinds(raw))
            scored.append(Scored(Sentence(hit, start, end, raw, norm), score, topic, fit, figure, rank))
    scored.sort(key=lambda s: -s.score)
    return scored


class IdfTable:
    """Inverse document frequency of bigrams over chunk texts, smoothed; unknown bigrams get the maximum.

    Args:
        texts_norm: The normalized texts of the indexed chunks.
    """

    def __init__(self, texts_norm: list[str]) -> None:
        self.df: dict[str, int] = {}
        for text in texts_norm:
            for token in set(bigrams(text)):
                self.df[token] = self.df.get(token, 0) + 1
        self.n = max(1, len(texts_norm))
        self.top = math.log(1 + self.n)

    def __call__(self, token: str) -> float:
        """The IDF of ``token`` (the maximum for a bigram no chunk has)."""
        count = self.df.get(token, 0)
        return math.log(1 + (self.n - count + 0.5) / (count + 0.5)) if count else self.top

    def known(self, token: str) -> bool:
        """Whether some chunk has ``token``."""
        return token in self.df


def idf_table(texts_norm: list[str]) -> IdfTable:
    """An IDF function over chunk texts (see :class:`IdfTable`)."""
    return IdfTable(texts_norm)
