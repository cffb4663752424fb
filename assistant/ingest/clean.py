"""Clean: remove pinyin readings, site furniture, page-break splits and layout spaces from loaded text.

The cleaned text keeps the original script and punctuation (``normalize`` handles width and script for matching);
paragraphs are separated by exactly one blank line, and chunk offsets point into this text.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
import unicodedata
from functools import lru_cache
from types import ModuleType

from ..text.script import normalize, to_simplified
from ..types import LoadedText

# A heading or headline line is at most this long; longer lines without final punctuation are broken paragraphs.
HEADING_MAX_CHARS = 40

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_FINAL = "。！？!?；;…"
_CLOSERS = "”’」』)）\"'"
# Characters that cannot begin a paragraph, so a paragraph starting with one continues the previous one.
_NON_INITIAL = ",，。、;；:：!！?？)）》」』”’%％"
# Characters that leave a sentence open at the end of a paragraph.
_CONTINUES = ",，、—《“(（"

# One reading in half- or full-width parentheses: "(zhōng)", "（xiǎo）", "(wǒ)".
_READING = re.compile(rf"[(（]([A-Za-zü{_TONED}' ]{{1,24}})[)）]")
# A run of readings right after a CJK character: "中(zhōng)" → "(zhōng)"; "我(wǒ)(wǒ)們" → "(wǒ)(wǒ)".
_READINGS = re.compile(rf"(?<=[{CJK}])(?:{_READING.pattern})+")
# A tone-less pinyin syllable: "zhong", "xiao", "lve"; not "gdp" or "5g".
_SYLLABLE = re.compile(
    r"(?:[bpmfdtnlgkhjqxrwy]|[zcs]h?)?"
    r"(?:a|o|e|ai|ei|ao|ou|an|en|ang|eng|ong|er|i|ia|ie|iao|iu|ian|in|iang|ing|iong"
    r"|u|ua|uo|uai|ui|uan|un|uang|ü|üe|üan|ün|v|ve|ue)"
)
# Horizontal whitespace inside a line, including NBSP and the ideographic space: "\xa0 ", "\u3000".
_HSPACE = re.compile(r"[ \t\xa0\u3000\u2002-\u200a]+")
# A space between two CJK characters, e.g. "全 民乐购".
_CJK_GAP = re.compile(rf"(?<=[{CJK}]) (?=[{CJK}])")
# A numbered heading or list marker at the start of a line: "第三節", "專欄3", "(九)", "三、", "1.".
_NUMBERED = re.compile(
    r"(?:第[一二三四五六七八九十百零〇两\d]+[篇章節节]|專欄\s*\d|专栏\s*\d|[(（][一二三四五六七八九十]+[)）]"
    r"|[一二三四五六七八九十]+、|\d+[.．、])"
)
# A heading glued to the end of a sentence: "…激勵力度。 第三節 建設教育強省", "7.錦州市。(九)建設四季旅游精品線路".
_GLUED = re.compile(rf"(?<=[{_FINAL}])\s*(?={_NUMBERED.pattern})")
# A full date, e.g. "2021年02月06日" or "2024-01-30".
DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}-\d{1,2}-\d{1,2}")

# Site furniture at the top, matched on the normalized line: breadcrumbs "網站首頁 > 新聞中心 > 行業資訊",
# "欢迎访问廉政法制时评网!", "当前位置:首页 > …", "發布時間:… 信息來源:… 字體大小:…", "作者:佚名".
_HEADER_LINE = re.compile(r"首页\s*>|^欢迎(?:访问|光临)|^当前位置:|^发布时间:|^(?:信息)?来源:|字体大小:|^作者:\S{0,8}$")
# A publish-time suffix on the title line: "…綱要(附全文) 發布時間:2021-04-21 10:54".
_PUBLISHED_SUFFIX = re.compile(r"\s*(?:发布时间|發布時間|發佈時間)\s*[:：].*$")
# A wire prefix on the lead paragraph: "中商情報網訊:《遼寧省…".
_WIRE_PREFIX = re.compile(r"^[^\s:：,，。]{2,12}(?:网|網)(?:讯|訊)[:：]\s*")
# The first line of trailing furniture, matched on the normalized line: "【招商情報庫】…", "報告庫會員(¥)199/年起售",
# "掃一掃獲取", "原文链接:https://…", "[免责声明] …", "联系电话:010-…", "客服QQ:…", "邮箱:…".
_TRAILER_LINE = re.compile(
    r"^(?:【招商情报库】|报告库会员|开通报告库会员|查看更多报告|扫一扫|特色服务推荐|原文链接:|\[?免责声明|本站部分信息"
    r"|版权所有|copyright|©|(?:联系|监督|举报)电话:|邮箱:|(?:客服|通联)?qq:)",
    re.IGNORECASE,
)
_HEADER_ZONE = 8  # lines at the top that may hold site furniture
_TRAILER_MAX_LINES = 20  # a trailing furniture block is at most this many lines …
_TRAILER_MAX_LINE_CHARS = 200  # … of at most this many characters each


def strip_pinyin(text: str) -> str:
    """Remove pinyin reading annotations that follow CJK characters.

    Args:
        text: Any text, e.g. a document or an eval evidence string.

    Returns:
        The text without readings; real parentheses such as ``(二)``, ``(GDP)``, ``(5G)`` or ``(附全文)`` stay.
        ``新聞中(zhōng)心`` → ``新聞中心``; ``(一(yī))壯大`` → ``(一)壯大``; ``我(wǒ)(wǒ)們`` → ``我們``.
    """

    def drop(match: re.Match[str]) -> str:
        run = match.group(0)
        kept = run
        for reading in _READING.finditer(run):
            if not _is_pinyin(reading.group(1)):
                break
            kept = run[reading.end() :]
        return kept

    return _READINGS.sub(drop, text)


def _is_pinyin(word: str) -> bool:
    if any(ch in _TONED for ch in word):
        return all(ch.isalpha() or ch in " '" for ch in word)
    return len(word) >= 2 and word.islower() and _SYLLABLE.fullmatch(word) is not None


def ends_sentence(text: str) -> bool:
    """Whether text ends with sentence-final punctuation, in either width, before closing quotes or brackets.

    Args:
        text: A paragraph or line.

    Returns:
        ``…“一張網通辦”。`` → True; ``辦就辦好!`` → True; ``在优化营商环境上取得新突破`` → False.
    """
    stripped = text.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _FINAL


def is_headline(paragraph: str) -> bool:
    """Whether a paragraph looks like a heading or headline: short, one line, no sentence-final punctuation.

    Args:
        paragraph: One paragraph of cleaned text.

    Returns:
        ``把握扩大内需战略基点 努力保持经济向上向好态势`` → True; ``切实加强政治建设。`` → False;
        ``以推动东北亚深度合作为重点,`` → False (an open sentence).
    """
    text = paragraph.strip()
    return (
        0 < len(text) <= HEADING_MAX_CHARS
        and "\n" not in text
        and "。" not in text
        and not ends_sentence(text)
        and text[-1] not in ",，、:："
        and len(re.findall(rf"[{CJK}]", text)) >= 2
    )


def clean(text: str) -> str:
    r"""Clean loaded document text for structure parsing and chunking.

    Args:
        text: Text as a loader produced it: paragraphs separated by (blank) lines.

    Returns:
        The cleaned text, paragraphs separated by one blank line, original script and punctuation kept.
        ``  (一(yī))壯大(dà)經濟實力`` → ``(一)壯大經濟實力``;
        ``建设高水平创新型省\n\n份,推进`` → ``建设高水平创新型省份,推进``.
    """
    return clean_loaded(LoadedText(text)).text


class _Paragraph:
    """A cleaned paragraph under construction, with the raw lines it holds and where each begins in it."""

    def __init__(self, text: str, line: int | None, hard: bool) -> None:
        self.text = text
        self.marks = [] if line is None else [(0, line)]
        self.hard = hard  # a heading or note the file marked: never joined with its neighbours

    def append(self, text: str, line: int | None) -> None:
        if line is not None:
            self.marks.append((len(self.text), line))
        self.text += text


def clean_loaded(loaded: LoadedText) -> LoadedText:
    """Clean loaded text as :func:`clean` does, and carry its offsets into the cleaned text.

    Page starts, OCR marks, headings and notes point at line starts of the loaded text; each moves to where its
    line's text lands after cleaning (a page whose first line joins the last sentence of the page before starts
    inside that paragraph; a dropped line's offset moves to the next kept line). Heading and note paragraphs are
    never joined with their neighbours.

    Args:
        loaded: A loader's output.

    Returns:
        The cleaned text with the offsets moved; ``problems`` unchanged.
    """
    raw = loaded.text
    starts, lines = [], []
    for match in _LINE.finditer(raw):
        starts.append(match.start())
        lines.append(match.group(1))
        if match.end() >= len(raw):
            break
    hard = {bisect.bisect_right(starts, offset) - 1 for offset, _ in loaded.headings} | {
        bisect.bisect_right(starts, offset) - 1 for offset in loaded.notes}
    items = []
    for i, line in enumerate(lines):
        line = _HSPACE.sub(" ", strip_pinyin(unicodedata.normalize("NFC", line))).strip().strip("\u200b\ufeff")
        if line:
            items.append((line, i))
    paragraphs: list[_Paragraph] = []
    for line, i in _drop_furniture(items):
        for k, part in enumerate(_split_glued_heading(line)):
            number = i if k == 0 else None
            last = paragraphs[-1] if paragraphs else None
            if (last and not last.hard and i not in hard
                    and _continues(last.text, part, first=len(paragraphs) == 1)):
                last.append(part, number)
            else:
                paragraphs.append(_Paragraph(part, number, i in hard))
    texts, where = [], {}
    offset = 0
    for paragraph in paragraphs:
        text, removed = _close_layout_gaps(paragraph.text)
        for position, line in paragraph.marks:
            where[line] = offset + position - bisect.bisect_left(removed, position)
        texts.append(text)
        offset += len(text) + 2
    return _moved(loaded, "\n\n".join(texts), starts, where)


# One line and its end: "第一章 总则\n".
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def _moved(loaded: LoadedText, text: str, starts: list[int], where: dict[int, int]) -> LoadedText:
    """``loaded``'s offsets moved into the cleaned ``text`` (``where``: raw line number → cleaned offset)."""
    kept = sorted(where)

    def move(offset: int) -> int:
        if offset >= len(loaded.text):  # an empty last page begins at the end
            return len(text)
        line = bisect.bisect_right(starts, offset) - 1
        k = bisect.bisect_left(kept, line)
        return where[kept[k]] if k < len(kept) else len(text)

    def line_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset) - 1

    pages = list(itertools.accumulate((move(o) for o in loaded.page_starts), max))
    if pages:
        pages[0] = 0
    marks: list[tuple[int, float | None]] = []
    for offset, confidence in loaded.ocr_marks:
        moved = move(offset)
        if marks and marks[-1][0] == moved:
            marks.pop()
        if not marks or marks[-1][1] != confidence:
            marks.append((moved, confidence))
    return LoadedText(
        text=text,
        page_starts=tuple(pages),
        ocr_marks=tuple(marks),
        headings=tuple((where[line_of(o)], level) for o, level in loaded.headings if line_of(o) in where),
        notes=tuple(where[line_of(o)] for o in loaded.notes if line_of(o) in where),
        problems=loaded.problems,
    )


def _drop_furniture(items: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Drop the site header lines at the top and the trailing block that starts at a furniture marker."""
    lines = [line for line, _ in items]
    keys = [normalize(line) for line in lines]
    cut = next(
        (
            i
            for i in range(max(1, len(lines) - _TRAILER_MAX_LINES), len(lines))
            if _TRAILER_LINE.search(keys[i]) and all(len(line) <= _TRAILER_MAX_LINE_CHARS for line in lines[i:])
        ),
        len(lines),
    )
    kept: list[tuple[str, int]] = []
    for i, (line, number) in enumerate(items[:cut]):
        if i < _HEADER_ZONE:
            if _HEADER_LINE.search(keys[i]):
                continue
            line = _WIRE_PREFIX.sub("", _PUBLISHED_SUFFIX.sub("", line))
        if line:
            kept.append((line, number))
    return kept


def _split_glued_heading(line: str) -> list[str]:
    for match in _GLUED.finditer(line):
        rest = line[match.end() :]
        if is_headline(rest):
            return [line[: match.start()], rest]
    return [line]


def _continues(prev: str, nxt: str, first: bool) -> bool:
    """Whether ``nxt`` is the rest of ``prev``, cut apart by a page break (``为国`` / ``家粮食安全``).

    Table rows (``指标 | 目标``) never continue each other.
    """
    if " | " in prev or " | " in nxt:
        return False
    if ends_sentence(prev) or _NUMBERED.match(prev) or _NUMBERED.match(nxt) or DATE.search(prev):
        return False
    if nxt[0] in _NON_INITIAL or prev[-1] in _CONTINUES:
        return True
    if first or not re.match(rf"[{CJK}]", prev[-1]):
        return False
    return len(prev) > HEADING_MAX_CHARS or splits_word(prev, nxt)


def _close_layout_gaps(paragraph: str) -> tuple[str, list[int]]:
    """The paragraph without spaces that split a word, and the positions of the removed spaces.

    ``“2021全 民乐购 约惠辽宁”`` → ``“2021全民乐购 约惠辽宁”``, ``[6]``: only the space inside the word 全民 goes.
    """
    removed = [m.start() for m in _CJK_GAP.finditer(paragraph)
               if splits_word(paragraph[: m.start()], paragraph[m.end() :])]
    for position in reversed(removed):
        paragraph = paragraph[:position] + paragraph[position + 1 :]
    return paragraph, removed


def splits_word(left: str, right: str) -> bool:
    """Whether the boundary between two texts falls inside a jieba dictionary word (HMM off, simplified script).

    Args:
        left: Text before the boundary; its last CJK characters are looked at.
        right: Text after the boundary; its first CJK characters are looked at.

    Returns:
        (``推动职工创新工作室向劳模创``, ``新工作室转化``) → True (创新); (``取得新突破``, ``规划《纲要》``) → False.
    """
    head = re.search(rf"[{CJK}]{{1,4}}$", left)
    tail = re.match(rf"[{CJK}]{{1,4}}", right)
    if not head or not tail:
        return False
    joined = head.group(0) + tail.group(0)
    simplified = to_simplified(joined)
    if len(simplified) == len(joined):
        joined = simplified
    position = 0
    for token in _jieba().cut(joined, HMM=False):
        if position < len(head.group(0)) < position + len(token):
            return True
        position += len(token)
    return False


@lru_cache(maxsize=1)
def _jieba() -> ModuleType:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba
