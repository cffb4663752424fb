"""Asks: the kind of answer a question asks for, and the spans of a sentence that hold one.

A sentence that names the question's topic does not answer it unless it also holds an answer of the kind asked, and
the question's own words sit next to that answer: ``2024年辽宁营造林140万亩中人工造林有多少亩？`` asks for a figure
in 亩 other than the 140万亩 it states itself; ``成都“三支一扶”项目的服务期是几年？`` asks for a duration in 年;
``2024年遼寧新建的100個臨床重點專科分別是哪些科室？`` asks for a list of (up to ten) names, not for ``新建…專科100個``.
:func:`answer_spans` gives each answer-type span with its fit, :func:`slot_window` the clause around a span that
the question's words must cover (:mod:`.evidence` scores both).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text.periods import extract_periods
from ..text.places import extract_places
from ..text.quantities import CLASSIFIERS, Quantity, extract, fold

# Words that ask for a figure: "多少", "几个", "比重", "占比", "百分之几" (but not "哪几方面", which asks for a list).
_ASKS_FIGURE = re.compile(
    r"多少|(?<!哪)几[个条家项所亩年成倍]|百分之几|比重|占比|比例|多大|多长|多久|率|how (?:many|much|long)|"
    r"what (?:share|percent)", re.I)
# What kind of figure a question asks for: "比例/占比/率" → percent, "投资/多少钱" → amount, "多少个/家" → count
# ("万元地区生产总值用水量" names a unit of measure, not money asked).
_EXPECTED_KIND = (
    (re.compile(r"比例|比重|占比|占多|百分之|%|增长率|增速|涨幅|覆盖率|率[是要达为]|几成|what (?:share|percent)", re.I),
     {"percent", "points"}),
    (re.compile(r"投资|资金|投入|多少钱|多少元|金额|收入|产值|营业额|奖励|补助|补贴|收费|费用|价格|缴费|起付|"
                r"how much money", re.I), {"amount"}),
    (re.compile(r"多少[个家所项座条名户人亩台辆套万亿]|几[个条家项所]|how many", re.I), {"count", "number"}),
)
# The measure word of a count question: matches "户" in "多少户居民", "公里" in "多少公里", "年" in "服务期是几年".
_ASKED_UNIT = re.compile(
    r"(?:多少|几)(?:万|亿)?(?P<unit>个百分点|平方公里|公里|人次|亩|吨|元|年|[" + "".join(sorted(CLASSIFIERS)) + "])")
# Measure words that name what is counted (households are not compounds): a figure in another one does not answer.
_STRICT_UNIT_WORDS = ("户", "人", "人次", "名", "亩", "吨", "公里", "平方公里", "元", "套", "列", "床", "张", "年")
# Questions asking when, where or for a list: "何时/哪一年/什么时候/什么时间", "位于哪/在哪/哪个区", "哪些/分别是/哪几".
_ASKS_WHEN = re.compile(
    r"何时|何年|什么时候|什么时间|什么年代|哪一?年|哪一?天|哪个月|几月|哪一?个?世纪|哪个朝代|when\b|what year", re.I)
_ASKS_WHERE = re.compile(r"位于哪|在哪(?![一个种些])|哪里|哪儿|什么地方|何处|何地|哪个[区县镇乡街省市]|where\b", re.I)
_ASKS_LIST = re.compile(r"哪些|分别是|具体是|哪几[个项家方类]|有什么|包括什么|which (?:are|were)", re.I)
# Questions asking for names: matches "哪五个", "哪两家", "分别是哪些", "分别在哪些区"; the answer must list them.
_ASKS_NAMES = re.compile(r"哪(?P<n>[两二三四五六七八九十几])[个家项所座条种类位名]|分别(?:是|在)哪|具体是哪|是哪几")
# A question about a part of a document (its answer is that part's content, not a list): "“…”一节讲了哪些内容".
_ASKS_SECTION = re.compile(r"部分|一节|这节|专栏|本章|一章|这一章|讲了|说了什么|是做什么的|哪些(?:内容|方面|措施|举措|任务)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NUMERALS = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "几": 2}
# The noun right after a names question word: "海" in "哪两个海", "科室" in "分别是哪些科室".
_NAMES_NOUN = re.compile(
    r"(?:哪[两二三四五六七八九十几]?[个家项所座条种类位名]|哪些|哪几)(?P<noun>[^为是的在和与及有被\W\d]{1,4})")
# Nouns that name a kind of item, not the items' own noun: "方面" in "哪五个方面", "内容", "工作", "措施".
_CATEGORY = re.compile(r"方面|内容|部分|工作|措施|任务|举措|领域|类型|种类|方向|环节|问题|政策|事项|项目|重点|目标|要求|原则")
# A noun a question counts: "三级医院" in "新增的2家三级医院是哪两家".
_COUNTED_NOUN = re.compile(
    r"[\d两二三四五六七八九十]+[个家项所座条种类位名](?P<noun>[\u4e00-\u9fff]{2,6}?)(?:是|分别|具体|有|在|的)")
# Two names after a word that introduces them: matches "分为游离辐射和非游离辐射", "包括欧盟与拉美".
_PAIR = re.compile(r"(?:分为|分成|包括|包含|分别为|分别是|即)[\u4e00-\u9fffA-Za-z]{1,12}[和与及][\u4e00-\u9fffA-Za-z]{1,12}")
# A list of names is never expected to be longer than this in one sentence (100 个专科 asks for at least 10 names).
MAX_NAMES = 10
# A district, county or town name (not a zone of a plan): matches "浑南区", "沈北新区", "法库县"; not "试验区", "园区".
_DISTRICT = re.compile(r"[\u4e00-\u9fff]{2,3}(?:区|县|镇|乡)(?!域|块|间|别|位)")
_NOT_DISTRICT = re.compile(
    r"(?:试验|示范|开发|自贸|保税|功能|集聚|先导|产业|城|社|园|景|片|地|街|小|城市|高新|新城|开放|核心|重点|生态|风景)(?:区|县|镇|乡)$")
# A date or time in an answer sentence: "6月底", "年内", "年底前"; a year of any era or a century: "683年",
# "嘉定十四年", "庚申年", "13世纪", "1990年代".
_TIME_WORDS = re.compile(r"\d{1,2}月|年底|年内|年末|上半年|下半年|前完成|之前|以前|届时|"
                         r"(?P<year>\d{3,4})年代?|[〇零一二三四五六七八九十廿卅元]+年|[甲乙丙丁戊己庚辛壬癸][子丑寅卯辰巳午未申酉戌亥]年|"
                         r"\d{1,2}世纪|[一二三四五六七八九十]+世纪")
# A place that the gazetteer does not know, after 在/于/位于/至: "康士坦丁堡" in "在康士坦丁堡举行", "巴黎" is not one
# (no suffix); matches names ending in 堡, 城, 州, 岛, 港, 湾, 国, 省, 市, 县, 镇, 村.
_PLACE_LIKE = re.compile(r"(?:在|于|至)(?P<name>[\u4e00-\u9fff]{1,6}?[堡城州岛港湾国省市县镇村])")
# What a verb of location places: "巴布亚新几内亚…" in "坐落在巴布亚新几内亚…", "墨西哥…" in "分布于墨西哥…".
_LOCATED = re.compile(r"(?:位于|坐落[在于]?|分布[在于]|地处|迁至|迁往|设[在于]|建[在于]|落户)(?P<name>[\u4e00-\u9fff]{2,12})")
# Where a clause ends (after folding): "," ";" ":" "。" and their kin; "、" joins list items inside one clause.
_CLAUSE_END = re.compile(r"[,;:。!?，；：]")
# Items of a list (after folding): "、" in "省级、市域、县域", "一是", "1." / "1、".
_LIST_MARK = re.compile(r"[、;；]|[一二三四五六七八九十]是|\d[.、]")


@dataclass(frozen=True)
class Asked:
    """What a question asks for: ``asks`` is ``figure``, ``when``, ``where``, ``names``, ``list`` or ``other``.

    ``expected`` are the figure kinds asked (percent, amount, count…), ``unit`` the measure word (``户`` in 多少户),
    ``count`` how many names a ``names`` question asks for, ``stated`` the figures the question states itself
    (value and unit: ``140万亩`` → ``(1400000.0, "亩")``), which do not answer it.
    """

    asks: str
    expected: frozenset[str] = frozenset()
    unit: str = ""
    count: int = 0
    stated: tuple[tuple[float, str], ...] = ()
    head: str = ""  # the noun a names question asks for: "海" in 哪两个海, "医院" in 2家三级医院是哪两家


@dataclass(frozen=True)
class Span:
    """Where a sentence holds an answer of the kind asked (``start``/``end`` index the sentence) and how well it fits."""

    start: int
    end: int
    fit: float


def asked_for(norm: str) -> Asked:
    """What a normalized question asks for.

    Example: ``2024年辽宁营造林140万亩中人工造林有多少亩？`` → ``Asked("figure", {"count", "number"}, "亩", 0,
    ((1400000.0, "亩"),))``; ``100个临床重点专科分别是哪些科室？`` → ``Asked("names", count=10, …)``.
    """
    unit_match = _ASKED_UNIT.search(norm)
    unit = canonical_unit(unit_match.group("unit")) if unit_match else ""
    if unit:  # the measure word asked decides: 多少个亿元以上项目 asks a count, 多少亿元 an amount
        expected = {"amount"} if unit == "元" else {"points", "percent"} if unit == "个百分点" else {"count", "number"}
    else:
        expected = next((kinds for pattern, kinds in _EXPECTED_KIND if pattern.search(norm)), set())
    stated = tuple((q.value, fold(q.unit)) for q in extract(norm) if q.kind != "year")
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
    count, head = 0, ""
    if asks == "names":
        numeral = names.group("n") if names and names.group("n") else "几"
        counted = [q.value for q in extract(norm) if q.kind in ("count", "number") and q.value == int(q.value)]
        count = max(_NUMERALS.get(numeral, 2), min(MAX_NAMES, int(max(counted, default=0))))
        head = _names_head(norm)
    return Asked(asks, frozenset(expected), unit, count, stated, head)


def _names_head(norm: str) -> str:
    """The noun (at most two characters) a names question asks for ("" when it names none).

    Example: ``辽宁拥有哪两个海？`` → ``海``; ``辽宁的“六地”目标定位具体是哪六个？`` → ``地`` (the quoted name);
    ``杭州2024年新增的2家三级医院是哪两家？`` → ``医院`` (the noun it counts); ``哪两所大学冲击…`` → ``大学``.
    """
    after = _NAMES_NOUN.search(norm)
    if after:  # the noun starts right after the question word and may run into a verb: 大学 of 大学冲击世界一流
        noun = after.group("noun")
        return "" if _CATEGORY.match(noun) else noun[:2]
    quoted = re.findall(r"[“\"「]([^”\"」]{1,12})[”\"」]", norm)
    counted = _COUNTED_NOUN.findall(norm)
    for phrase in [*quoted, *counted]:  # a compound ends in its head: 医院 of 三级医院, 地 of 六地
        noun = re.sub(r"[\d一二三四五六七八九十两几]+[" + "".join(sorted(CLASSIFIERS)) + "]?", "", phrase)
        if noun:
            return noun[-2:]
    return ""


def canonical_unit(unit: str) -> str:
    """A measure word in the form :func:`~assistant.text.quantities.extract` gives it: ``公里`` → ``km``, ``户`` → ``户``."""
    found = extract("1" + unit)
    return found[0].unit if found and found[0].end == len(unit) + 1 else unit


_STRICT_UNITS = frozenset(map(canonical_unit, _STRICT_UNIT_WORDS))


def _is_stated(asked: Asked, quantity: Quantity) -> bool:
    """Whether a sentence's figure is one the question states itself (``140万亩`` asked about, ``140万亩`` found)."""
    return any(abs(value - quantity.value) < 1e-9 * max(1.0, value) and unit == fold(quantity.unit)
               for value, unit in asked.stated)


def _figure_spans(asked: Asked, sentence: str) -> list[Span]:
    quantities = [q for q in extract(sentence) if q.kind != "year" and not _is_stated(asked, q)]
    if not quantities:
        return []
    if asked.unit in _STRICT_UNITS:  # a plain number with 万/亿 (人口8.57万) may count what is asked
        return [Span(q.start, q.end, 1.0 if fold(q.unit) == asked.unit or (asked.unit == "元" and q.kind == "amount")
                     else 0.5) for q in quantities
                if fold(q.unit) == asked.unit or (asked.unit == "元" and q.kind == "amount")
                or (q.kind == "number" and q.value >= 10_000 and not q.text.isdigit())]
    if asked.expected and not {q.kind for q in quantities} & asked.expected:
        return [] if asked.expected == {"amount"} else [Span(q.start, q.end, 0.5) for q in quantities]
    folded = fold(sentence)
    spans = []
    for q in quantities:
        if asked.expected and q.kind not in asked.expected:
            continue
        # A bare integer (a hotline, a code) rarely answers 多少; 八千根 (a measure word) and 0.593 (a ratio) do.
        bare = q.kind == "number" and not _CJK.match(folded, q.end) and "." not in q.text
        spans.append(Span(q.start, q.end, 0.5 if bare else 1.0))
    return spans


def answer_spans(asked: Asked, sentence: str, in_note: bool = False, asked_periods: frozenset[tuple[int, int]] = frozenset(),
                 asked_places: frozenset[str] = frozenset()) -> list[Span]:
    """The spans of ``sentence`` that hold an answer of the kind asked, with their fit (1, or 0.5 for a weak one).

    A ``list`` question without list marks gets the whole sentence at 0.5, an ``other`` question the whole sentence
    at 1. A lost table's note (``in_note``) states no figure.

    Args:
        asked: What the question asks for.
        sentence: The sentence as printed.
        in_note: Whether the sentence lies in a table note paragraph (``注:①…``).
        asked_periods: ``(first, last)`` of the periods the question names (a date it names is no answer to 何时).
        asked_places: Short names of the places the question names (no answer to 在哪).

    Example: asked ``多少户`` in ``改造老旧小区700个、老旧管网4600公里。`` → ``[]``; asked ``投入多少钱`` in
    ``累计投入1.9亿元。`` → ``[Span(4, 9, 1.0)]``.
    """
    whole = [Span(0, len(sentence), 1.0)]
    if asked.asks == "figure":
        return [] if in_note or sentence.lstrip().startswith(("注:", "注：")) else _figure_spans(asked, sentence)
    if asked.asks == "when":
        stated = [Span(p.start, p.end, 1.0) for p in extract_periods(sentence)
                  if p.role != "base" and (p.first, p.last) not in asked_periods]
        asked_years = {year for period in asked_periods for year in period}
        return stated + [Span(m.start(), m.end(), 1.0) for m in _TIME_WORDS.finditer(fold(sentence))
                         if not (m.group("year") and int(m.group("year")) in asked_years)]
    if asked.asks == "where":
        folded = fold(sentence)
        places = [Span(p.start, p.end, 1.0) for p in extract_places(sentence) if p.name_norm not in asked_places]
        districts = [Span(m.start(), m.end(), 1.0) for m in _DISTRICT.finditer(folded) if not _NOT_DISTRICT.search(m.group())]
        located = [Span(m.start("name"), m.end(), 1.0) for m in _LOCATED.finditer(folded)
                   if not any(name in m.group("name") for name in asked_places)]
        return places + districts + located + [Span(m.start("name"), m.end(), 0.5) for m in _PLACE_LIKE.finditer(folded)]
    if asked.asks == "names":  # names are listed with "、" within one clause: 省级、市域、县域 is three; two with 和/与
        clauses = _CLAUSE_END.split(fold(sentence))
        if asked.head:  # the list names the noun asked: 黄海和渤海 for 哪两个海, 大辛、老虎冲…填埋场 for 哪几个垃圾场
            items = max((len(re.split(r"[、和与及]", clause)) for clause in clauses if asked.head in clause), default=0)
            return whole if items >= asked.count and items > 1 else []
        items = max((clause.count("、") + 1 for clause in clauses), default=0)
        pair = asked.count == 2 and any(_PAIR.search(clause) for clause in clauses)
        return whole if (items >= asked.count and items > 1) or pair else []
    if asked.asks == "list":
        return whole if _LIST_MARK.search(fold(sentence)) else [Span(0, len(sentence), 0.5)]
    return whole


def slot_window(sentence: str, span: Span) -> str:
    """The clause that holds ``span`` and the clause before it: where the question's words must stand.

    Example: ``到2025年,集成電路產業營業收入超800億元,規上企業不少于60家。`` with the span of ``60家`` →
    ``集成電路產業營業收入超800億元,規上企業不少于60家``.
    """
    folded = fold(sentence)
    breaks = [m.start() for m in _CLAUSE_END.finditer(folded)]
    before = [b for b in breaks if b < span.start]
    start = before[-2] + 1 if len(before) >= 2 else 0
    end = next((b for b in breaks if b >= span.end), len(sentence))
    return sentence[start:end]
