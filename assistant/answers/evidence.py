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

from ..search.keyword import STOPWORDS, bigrams
from ..text.periods import extract_periods
from ..text.places import extract_places
from ..text.quantities import CLASSIFIERS, extract, fold
from ..text.scope import Scope, question_scope
from ..text.script import detect_script, normalize
from ..types import Hit

# A sentence end in either width, with closing quotes: "。", "；", "!”". Newlines also end a sentence.
_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』)）\"']*|\n+")
# Words that ask for a figure: "多少", "几个", "比重", "占比" (but not "哪几方面", which asks for a list).
_ASKS_FIGURE = re.compile(r"多少|(?<!哪)几[个条家项所亩年]|比重|占比|比例|多大|率|how (?:many|much)|what (?:share|percent)", re.I)
# What kind of figure a question asks for: "比例/占比/率" → percent, "投资/多少钱" → amount, "多少个/家" → count.
_EXPECTED_KIND = (
    (re.compile(r"比例|比重|占比|占多|百分之|%|增长率|增速|涨幅|覆盖率|率[是要达为]|what (?:share|percent)", re.I),
     {"percent", "points"}),
    (re.compile(r"投资|资金|投入|多少钱|多少元|[万亿]元|金额|收入|产值|营业额|奖励|补助|补贴|收费|费用|价格|缴费|起付|"
                r"how much money", re.I), {"amount"}),
    (re.compile(r"多少[个家所项座条名户人亩台辆套万亿]|几[个条家项所]|how many", re.I), {"count", "number"}),
)
# The measure word of a count question: matches "户" in "多少户居民", "公里" in "多少公里".
_ASKED_UNIT = re.compile(
    r"(?:多少|几)(?:万|亿)?(?P<unit>个百分点|平方公里|公里|人次|亩|吨|元|[" + "".join(sorted(CLASSIFIERS)) + "])")
# Measure words that name what is counted (households are not compounds): a figure in another one does not answer.
_STRICT_UNITS = frozenset({"户", "人", "人次", "名", "亩", "吨", "公里", "平方公里", "元", "套", "列", "床", "张"})
# Questions asking when, where or for a list: "何时/哪一年/什么时候", "位于哪/在哪/哪个区", "哪些/分别是/哪几".
_ASKS_WHEN = re.compile(r"何时|什么时候|哪一年|哪年|几月|when\b|what year", re.I)
_ASKS_WHERE = re.compile(r"位于哪|在哪|哪里|哪儿|哪个[区县镇乡街]|where\b", re.I)
_ASKS_LIST = re.compile(r"哪些|分别是|具体是|哪几[个项家方类]|有什么|包括什么|which (?:are|were)", re.I)
# Questions asking for names by number: matches "哪五个", "哪两家", "分别是哪些", "分别在哪些区"; the answer must list them.
_ASKS_NAMES = re.compile(r"哪(?P<n>[两二三四五六七八九十几])[个家项所座条种类位名]|分别(?:是|在)哪|具体是哪|是哪几")
# A question about a part of a document (its answer is that part's content, not a list): "“…”一节讲了哪些内容".
_ASKS_SECTION = re.compile(r"部分|一节|这节|专栏|本章|一章|这一章|讲了|说了什么|是做什么的|哪些(?:内容|方面|措施|举措|任务)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NAMES_COUNT = re.compile(r"哪(?P<n>[两二三四五六七八九十几])[个家项所座条种类位名]")
_NUMERALS = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "几": 2}
# A district, county or town name (not a zone of a plan): matches "浑南区", "沈北新区", "法库县"; not "试验区", "园区".
_DISTRICT = re.compile(r"[\u4e00-\u9fff]{2,3}(?:区|县|镇|乡)(?!域|块|间|别|位)")
_NOT_DISTRICT = re.compile(
    r"(?:试验|示范|开发|自贸|保税|功能|集聚|先导|产业|城|社|园|景|片|地|街|小|城市|高新|新城|开放|核心|重点|生态|风景)(?:区|县|镇|乡)$")
# A date or time in an answer sentence: "6月底", "年内", "年底前", "2025年".
_TIME_WORDS = re.compile(r"\d{1,2}月|年底|年内|年末|上半年|下半年|前完成|之前|以前|届时")
# A quoted phrase in a question: matches "统筹发展安全" in "“统筹发展安全”部分", also in 「」 and "".
_QUOTED = re.compile(r"[“「『\"]([^”」』\"]{2,30})[”」』\"]")
# Question words, cut out before taking bigrams so none spans into them: "是多少", "有哪些", "要占多少".
_QUESTION_WORDS = re.compile(
    r"多少|什么|哪些|哪个|哪里|怎么样?|怎样|如何|是否|为什么|请问|有没有|几[个项家条年]?|吗|呢|要|是|有|的|了|到|将|把|在|和|与|及"
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
    asks: str  # figure | when | where | list | other
    expected: frozenset[str] = frozenset()  # figure kinds asked for (percent, amount, count…)
    unit: str = ""  # the measure word asked for ("户" in 多少户)
    quoted: tuple[str, ...] = ()  # phrases the question quotes (a section or a slogan): “统筹发展安全”
    count: int = 0  # how many names a ``names`` question asks for (哪五个 → 5)
    asked_topic: frozenset[str] = frozenset()  # the topic as asked, before bigrams no chunk has were left out

    def known(self, idf: IdfTable) -> Question:
        """The question with its topic and bigrams restricted to those some chunk has.

        Question phrasing such as ``获得了`` would otherwise cap every coverage; ``asked_topic`` keeps the full topic.
        """
        topic = frozenset(t for t in self.topic if idf.known(t))
        wanted = frozenset(t for t in self.wanted if idf.known(t))
        return replace(self, topic=topic or self.topic, wanted=wanted or self.wanted, asked_topic=self.topic)

    def translated(self, terms: list[str]) -> Question:
        """An English question whose topic is the Chinese official terms of its words (the term table's).

        Example: ``How many 5G base stations…`` with terms ``['基站', '5G基站']`` → topic ``{'基站', '5g', 'g基'}``.
        Unchanged for a Chinese question or when no term was found.
        """
        grams = frozenset(g for term in terms for g in content_bigrams(normalize(term)))
        if self.script != "latin" or not grams:
            return self
        return replace(self, topic=grams, wanted=grams)


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


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    r"""Sentence spans of ``text`` shifted by ``offset``, surrounding whitespace trimmed.

    Example: ``"第三節 建設教育強省\\n\\n推進…。加快…。"`` → three spans (heading line, two sentences).
    """
    spans, position = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end() if match.group()[0] != "\n" else match.start()
        piece = text[position:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((offset + position + lead, offset + position + len(piece.rstrip())))
        position = match.end()
    if text[position:].strip():
        piece = text[position:]
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + position + lead, offset + position + len(piece.rstrip())))
    return spans


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
    unit_match = _ASKED_UNIT.search(norm)
    unit = unit_match.group("unit") if unit_match else ""
    if unit:  # the measure word asked decides: 多少个亿元以上项目 asks a count, 多少亿元 an amount
        expected = {"amount"} if unit == "元" else {"points", "percent"} if unit == "个百分点" else {"count", "number"}
    else:
        expected = next((kinds for pattern, kinds in _EXPECTED_KIND if pattern.search(norm)), set())
    names = _ASKS_NAMES.search(norm)
    if _ASKS_WHEN.search(norm):
        asks = "when"
    elif _ASKS_FIGURE.search(norm):
        asks = "figure"
    elif names:
        asks = "names"
    elif _ASKS_WHERE.search(norm):
        asks = "where"
    elif _ASKS_LIST.search(norm) and not _ASKS_SECTION.search(norm):
        asks = "list"
    else:
        asks = "other"
    numbered = _NAMES_COUNT.search(norm)
    count = _NUMERALS.get(numbered.group("n") if numbered else "几", 2) if names else 0
    quoted = tuple(q for q in _QUOTED.findall(norm) if len(q) >= 2)
    return Question(question, norm, detect_script(question), scope, frozenset(wanted), frozenset(topic), asks,
                    frozenset(expected), unit, quoted, count)


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


def answer_fit(question: Question, sentence: str, in_note: bool) -> float:
    """How well a sentence holds the kind of answer asked for: 1, 0.5 (a figure of another kind) or 0.

    Example: ``多少户居民`` vs ``改造老旧小区700个`` → 0.0 (no count in 户); ``投入多少钱`` vs ``累计投入1.9亿元`` → 1.0.
    """
    if question.asks == "figure":
        quantities = [] if in_note else [q for q in extract(sentence) if q.kind != "year"]
        if not quantities:
            return 0.0
        if question.unit in _STRICT_UNITS:
            units = {fold(q.unit) for q in quantities} | {"元" for q in quantities if q.kind == "amount"}
            return 1.0 if question.unit in units else 0.0
        if question.expected and not {q.kind for q in quantities} & question.expected:
            return 0.0 if question.expected == {"amount"} else 0.5  # money asked, another figure found
        folded = fold(sentence)
        if all(q.kind == "number" and not _CJK.match(folded, q.end) for q in quantities):
            return 0.5  # a bare number (a hotline, a code) rarely answers 多少; 八千根 (a measure word) does
        return 1.0
    if question.asks == "when":
        asked = {(p.first, p.last) for p in question.scope.periods}
        stated = [p for p in extract_periods(sentence) if p.role != "base" and (p.first, p.last) not in asked]
        return 1.0 if stated or _TIME_WORDS.search(fold(sentence)) else 0.0
    if question.asks == "where":
        asked = set(question.scope.places)
        places = [p for p in extract_places(sentence) if p.name_norm not in asked]
        districts = [m.group() for m in _DISTRICT.finditer(fold(sentence)) if not _NOT_DISTRICT.search(m.group())]
        return 1.0 if places or districts else 0.0
    if question.asks == "names":
        items = len(re.findall(r"[、;；,]", fold(sentence))) + 1
        return 1.0 if items >= question.count and "、" in sentence else 0.0
    if question.asks == "list":
        return 1.0 if re.search(r"[、;；]|[一二三四五六七八九十]是|\d[.、]", fold(sentence)) else 0.5
    return 1.0


class Coverage:
    """IDF-weighted coverage of a question's bigrams by a text.

    Args:
        idf: Inverse document frequency of a bigram over the indexed chunks.
    """

    def __init__(self, idf: Callable[[str], float]) -> None:
        self.idf = idf

    def __call__(self, wanted: frozenset[str] | set[str], text_norm: str) -> float:
        """Share of the IDF mass of ``wanted`` found among the bigrams of ``text_norm`` (0.0 when nothing is wanted)."""
        if not wanted:
            return 0.0
        have = set(bigrams(text_norm))
        total = sum(self.idf(t) for t in wanted)
        return sum(self.idf(t) for t in wanted if t in have) / total if total else 0.0


def score_sentences(question: Question, hits: list[Hit], texts: dict[str, str], cover: Coverage) -> list[Scored]:
    """Score every sentence of the hits against the question's topic, best first.

    A sentence of a lower-ranked chunk that shares almost nothing with the question is left out; a section's own
    heading line and sentences under 6 characters are never answers.
    """
    scored: list[Scored] = []
    for rank, hit in enumerate(hits):
        chunk = hit.chunk
        heading = normalize(" ".join(chunk.section_path))
        heading_cover = cover(question.topic, heading)
        for start, end in sentence_spans(chunk.text, chunk.start):
            raw = texts[chunk.doc_id][start:end]
            norm = normalize(raw)
            if len(norm) < 6 or raw.strip() in chunk.section_path:
                continue
            own = cover(question.topic, norm)
            if rank and own < 0.2:
                continue
            note = in_table_note(texts[chunk.doc_id], start) or norm.startswith("注:")
            fit = answer_fit(question, raw, note)
            topic = max(own, cover(question.topic, heading + " " + norm))
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
