"""Periods: years, year ranges, Five-Year Plans and relative years (今年, 去年) in text, as year intervals.

``十四五`` is 2021–2025, ``“十三五”末`` is 2020, ``2021—2025年`` is 2021–2025, ``到2025年`` is the target year 2025,
``今年`` is the year of the document's date. A year that is only a base of comparison (``较2020年下降12%``) is kept
with role ``base``: it frames no figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text.quantities import fold

ROLES = ("point", "span", "target", "base")
_CN_DIGITS = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
              "八": "8", "九": "9"}
_PLAN_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

# A Five-Year Plan by its short name, with what follows it: matches "“十四五”期间", "十三五末", "十四五" (十一五 … 十九五).
_PLAN = re.compile(r"[“\"『「]?十(?P<n>[一二三四五六七八九])五[”\"』」]?(?P<tail>末|期末|时期|期间|规划|以来)?")
# A plan by its full name: matches "第十四个五年规划", "第十四個五年規劃" after folding.
_PLAN_FULL = re.compile(r"第十(?P<n>[一二三四五六七八九])个五年(?:规划|计划)")
# An English plan name: matches "14th Five-Year Plan", "13th five year plan".
_PLAN_EN = re.compile(r"\b(?P<n>1[0-9])(?:st|nd|rd|th)\s+five[- ]year\s+plan", re.I)
# A range of years: matches "2021—2025年", "2021年至2025年", "2021-2025".
_RANGE = re.compile(r"(?P<a>(?:19|20)\d{2})年?\s*(?:[—–\-~]|至|到)\s*(?P<b>(?:19|20)\d{2})(?P<nian>年)?")
# One year in digits or Chinese digits: matches "2024年", "二〇三五年"; "2024" alone only in Latin text.
_YEAR = re.compile(r"(?P<y>(?:19|20)\d{2}|[〇零一二三四五六七八九]{4})(?P<nian>年)?")
# Words before a year that make it a target: matches "到" in "到2025年", "力争到", "截至", "by" in "by 2025".
_TARGET_BEFORE = re.compile(r"(?:到|至|截至|截止到?|力争到?|争取到?|by|until|through)\s*$", re.I)
# Words before a year that make it a base of comparison: matches "较" in "较2020年下降", "比", "与", "相比", "同".
_BASE_BEFORE = re.compile(
    r"(?:较|比|与|同|按|相比|相较|较之|compared (?:with|to)|relative to|than|from|over)\s*(?:the )?(?:end of )?$", re.I)
# Words after a year that make it a base: matches "基础上" in "2020年基础上", "相比" in "与2020年相比", "可比价"
# (no "^": Pattern.match(text, pos) anchors at pos, while "^" would only match at 0).
_BASE_AFTER = re.compile(r"(?:的?基础上|相比|水平|同期|为基数|可比价|不变价|价格|levels?)")
# Relative years (needs the document's date): matches "今年", "明年", "去年", "上年", "过去一年", "本年度".
_RELATIVE = re.compile(r"今年|本年度?|明年|去年|上一?年|过去一年|前年|this year|next year|last year", re.I)
_RELATIVE_OFFSET = {"今年": 0, "本年": 0, "本年度": 0, "明年": 1, "去年": -1, "上年": -1, "上一年": -1, "过去一年": -1,
                    "前年": -2, "this year": 0, "next year": 1, "last year": -1}


@dataclass(frozen=True)
class Period:
    """A stretch of time named in text: years ``first``..``last`` (equal for one year), ``text = input[start:end]``.

    ``role``: ``point`` (one year, or a plan's last year as in ``十三五末``), ``span`` (a plan or a range),
    ``target`` (``到2025年``) or ``base`` (``较2020年``: a comparison, not the time of a figure).
    """

    first: int
    last: int
    text: str
    start: int
    end: int
    role: str = "point"

    @property
    def label(self) -> str:
        """``"2024"`` for a year, ``"2021-2025"`` for a span (the form of ``scope_mismatch`` values)."""
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"

    def covers(self, other: Period) -> bool:
        """Whether a figure of ``self`` answers a question about ``other``.

        Equal spans match; a year matches a span that ends in it (``到2025年`` is the 十四五 target, ``2025`` asked
        of ``2021-2025``) and a span asked of a target year that ends it; a year inside a span does not (2023 asked,
        a 十四五 total found).

        Example: ``2021-2025`` covers ``2025`` and ``2021-2025``, not ``2023`` nor ``2030``.
        """
        if (self.first, self.last) == (other.first, other.last):
            return True
        if other.first == other.last:  # a year asked
            return self.last == other.first and self.role in ("span", "target")
        return self.first == self.last and self.last == other.last and self.role == "target"


def plan_years(n: int) -> tuple[int, int]:
    """Years of the n-th Five-Year Plan (from the 3rd on, plans run back to back from 1966).

    Example: 14 → (2021, 2025); 13 → (2016, 2020); 15 → (2026, 2030).
    """
    first = 1966 + 5 * (n - 3)
    return first, first + 4


def plan_number(first: int, last: int) -> int | None:
    """The Five-Year Plan whose years these are (the inverse of :func:`plan_years`), or ``None``.

    Example: (2021, 2025) → 14; (2021, 2024) → None.
    """
    n = (first - 1966) // 5 + 3
    return n if n >= 3 and plan_years(n) == (first, last) else None


def _year_value(token: str) -> int | None:
    digits = "".join(_CN_DIGITS.get(ch, ch) for ch in token)
    value = int(digits) if digits.isdigit() else 0
    return value if 1900 <= value <= 2100 else None


def _role(folded: str, start: int, end: int) -> str:
    before = folded[max(0, start - 24) : start]  # long enough for English ("compared with the end of ")
    if _BASE_BEFORE.search(before) or _BASE_AFTER.match(folded, end):
        return "base"
    return "target" if _TARGET_BEFORE.search(before) else "point"


def extract_periods(text: str, doc_year: int | None = None) -> list[Period]:
    """Find the periods named in ``text`` (either script and width, Chinese or English), in text order.

    Args:
        text: A question, sentence, heading or title.
        doc_year: The year of the document's date; relative years (今年, 去年) are read only when it is given.

    Returns:
        The periods with offsets into ``text``. A bare four-digit number counts as a year only in Latin text or
        before 年 (``新建5G基站6000个`` has none).

    Example:
        ``辽宁“十四五”期间培育…到2025年达到45%`` → ``[Period(2021, 2025, '“十四五”期间', …, 'span'),
        Period(2025, 2025, '2025年', …, 'target')]``; ``较2020年下降12%`` → one period with role ``base``.
    """
    folded = fold(text)
    found: list[Period] = []
    taken: list[tuple[int, int]] = []

    def add(first: int, last: int, start: int, end: int, role: str) -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        found.append(Period(first, last, text[start:end], start, end, role))

    for pattern in (_PLAN_FULL, _PLAN, _PLAN_EN):
        for m in pattern.finditer(folded):
            number = m.group("n")
            n = int(number) if number.isdigit() else 10 + _PLAN_NUMBERS[number]
            first, last = plan_years(n)
            tail = m.groupdict().get("tail") or ""
            if tail in ("末", "期末"):
                add(last, last, m.start(), m.end(), "point")
            else:
                add(first, last, m.start(), m.end(), "span")
    for m in _RANGE.finditer(folded):
        a, b = int(m.group("a")), int(m.group("b"))
        if a < b <= a + 30 and (m.group("nian") or folded.isascii()):
            add(a, b, m.start(), m.end(), "span")
    latin = not re.search(r"[\u3400-\u9fff]", folded)
    for m in _YEAR.finditer(folded):
        value = _year_value(m.group("y"))
        if value is None or not (m.group("nian") or (latin and m.group("y").isdigit())):
            continue
        if folded[max(0, m.start() - 1) : m.start()].isdigit() or folded[m.end("y") : m.end("y") + 1].isdigit():
            continue  # part of a longer number
        add(value, value, m.start(), m.end(), _role(folded, m.start(), m.end()))
    if doc_year is not None:
        for m in _RELATIVE.finditer(folded):
            year = doc_year + _RELATIVE_OFFSET[m.group().lower()]
            add(year, year, m.start(), m.end(), "point")
    return sorted(found, key=lambda p: p.start)


def framing_periods(text: str, doc_year: int | None = None) -> list[Period]:
    """The periods of ``text`` that can frame a figure (``base`` years left out).

    Example: ``万元地区生产总值用水量较2020年下降12%`` → ``[]``; ``到2025年,…`` → ``[2025 target]``.
    """
    return [p for p in extract_periods(text, doc_year) if p.role != "base"]


def doc_year_of(date: str) -> int | None:
    """The year of a manifest date (``2021-02-06``, ``2021-02``, ``2021``); ``None`` when there is none.

    Example: ``2024-01-30`` → 2024; ``""`` → None.
    """
    m = re.match(r"((?:19|20)\d{2})", date or "")
    return int(m.group(1)) if m else None
