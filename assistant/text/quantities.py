"""Quantities: find years, percentages, money and counts in Chinese text, normalized, with offsets.

Digits and Chinese numerals, both scripts and both widths compare equal after normalization:
``百分之七十五`` == ``75%`` == ``７５％``; ``一千亿元`` == ``1000億元``; ``二〇三五年`` == ``2035年``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from assistant.text.script import to_simplified

KINDS = ("year", "percent", "points", "amount", "count", "number")

# Qualifiers: how a value is bounded. Lower bounds and upper bounds contradict each other at the same value;
# "about" is a hedge compatible with any of them. 力争/争取 (aims) are not qualifiers: the number stands.
QUALIFIERS = ("", "at_least", "more_than", "at_most", "less_than", "about", "range")
LOWER_BOUNDS = frozenset({"at_least", "more_than"})
UPPER_BOUNDS = frozenset({"at_most", "less_than"})


@dataclass(frozen=True)
class Quantity:
    """A number found in text, in base units.

    ``text`` is ``input[start:end]``: the number and its unit, without qualifier words
    (``突破20000家`` → text ``20000家``, qualifier ``more_than``). A range keeps its lower bound in
    ``value`` and its upper bound in ``upper`` (``5%—6%`` → 5.0, 6.0, qualifier ``range``).
    """

    kind: str
    value: float
    unit: str
    qualifier: str
    text: str
    start: int
    end: int
    upper: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def fold(text: str) -> str:
    """Fold width and script character by character, keeping the length so offsets stay valid.

    Example: ``遼甯億元，７５％`` → ``辽宁亿元,75%``. ``①`` and ``㎞`` are kept.
    """
    # Only the full-width forms (U+FF01..FF5E: "２", "％", "，") and the ideographic space are folded;
    # other compatibility characters keep their meaning (① is a footnote mark, not 1).
    folded = "".join(unicodedata.normalize("NFKC", ch) if "\uff01" <= ch <= "\uff5e" or ch == "\u3000" else ch for ch in text)
    simplified = to_simplified(folded)
    if len(simplified) == len(folded):
        return simplified
    return "".join(s if len(s := to_simplified(ch)) == 1 else ch for ch in folded)


_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10**4, "亿": 10**8}
_ABBREVIATED = {"百": 10, "千": 100, "万": 1000, "亿": 10**7}  # value of a digit right after the unit
_CN_CHARS = "".join(_DIGITS) + "".join(_SMALL_UNITS) + "".join(_BIG_UNITS)


def parse_chinese_number(numeral: str) -> float | None:
    """Parse a Chinese numeral; return None when it is not a well-formed number.

    A run of bare digits is read digit by digit (a year); otherwise units multiply.

    Examples: ``二〇三五`` → 2035; ``七十五`` → 75; ``一千亿`` → 1e11; ``两万`` → 20000; ``三点五`` → 3.5;
    ``三万五`` → 35000; ``一百零五`` → 105; ``十四五`` (the plan name) → None.
    """
    whole, _, frac = numeral.partition("点")
    if not whole or any(ch not in _CN_CHARS for ch in whole) or any(ch not in _DIGITS for ch in frac):
        return None
    fraction = float("0." + "".join(str(_DIGITS[ch]) for ch in frac)) if frac else 0.0
    if all(ch in _DIGITS for ch in whole):
        return float("".join(str(_DIGITS[ch]) for ch in whole)) + fraction
    total = section = 0
    number: int | None = None
    for ch in whole:
        if ch in _DIGITS:
            if number is not None and _DIGITS[ch] != 0 and number != 0:
                return None  # two digits in a row after a unit, e.g. 十四五
            number = _DIGITS[ch] if _DIGITS[ch] != 0 else (number or 0)
        elif ch in _SMALL_UNITS:
            section += (1 if number is None else number) * _SMALL_UNITS[ch]
            number = None
        elif ch == "万":
            total += (section + (number or 0)) * _BIG_UNITS[ch]
            section, number = 0, None
        else:  # 亿 scales everything before it: 一万亿 → 1e12
            total = (total + section + (number or 0)) * _BIG_UNITS[ch]
            section, number = 0, None
    last = number or 0
    if len(whole) > 1 and whole[-2] in _ABBREVIATED:
        last *= _ABBREVIATED[whole[-2]]  # 三万五 is 35000 and 一亿五 is 1.5亿, not 30005
    return float(total + section + last) + fraction


# A number: digits with thousands commas and a decimal part, or a run of Chinese numerals,
# optionally after 百分之. Matches "20000", "1,600", "3.5", "二〇三五", "一千亿", "百分之七十五".
_NUMBER = re.compile(rf"(?P<pct>百分之)?(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?|[{_CN_CHARS}]+(?:点[{''.join(_DIGITS)}]+)?)")
# A multiplier after digits, with 多/余 ("more than"): matches "万", "亿", "万亿", "多亿" in "190多亿".
_MULTIPLIER = re.compile(r"(?P<more>[多余])?(?P<mult>万亿|千亿|百亿|千万|百万|亿|万)?(?P<more2>[多余])?")
_MULTIPLIERS = {"万亿": 1e12, "千亿": 1e11, "百亿": 1e10, "千万": 1e7, "百万": 1e6, "亿": 1e8, "万": 1e4}
# The second half of a range: matches "%—6" in "5%—6%", "至8" in "5至8万".
_RANGE = re.compile(rf"(?:%)?\s*[—–\-~至到]\s*(?P<num>\d+(?:\.\d+)?|[{_CN_CHARS}]+)")
# A year range: matches "2021—2025年" (both ends are years).
_YEAR_RANGE = re.compile(r"(\d{4})\s*[—–\-~至到]\s*(\d{4})年")
# Dates and times that are not quantities: "2021-04-21", "10:54:05", "1月23日", "3月".
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}:\d{2}(?::\d{2})?|\d{1,2}月(?:\d{1,2}[日号])?|\d{1,2}[日号]")

# Units after a number, longest first: (surface, kind, canonical unit, factor to the canonical unit).
# fmt: off
_UNITS: tuple[tuple[str, str, str, float], ...] = (
    ("个百分点", "points", "个百分点", 1), ("百分点", "points", "个百分点", 1), ("%", "percent", "%", 1),
    ("美元", "amount", "美元", 1), ("欧元", "amount", "欧元", 1), ("港元", "amount", "港元", 1),
    ("元", "amount", "元", 1),
    ("平方公里", "count", "km²", 1), ("平方千米", "count", "km²", 1), ("平方米", "count", "km²", 1e-6),
    ("立方米", "count", "m³", 1), ("千瓦时", "count", "kWh", 1), ("千瓦", "count", "kW", 1),
    ("兆瓦", "count", "kW", 1e3), ("千伏", "count", "kV", 1), ("公里", "count", "km", 1), ("千米", "count", "km", 1),
    ("km", "count", "km", 1), ("kW", "count", "kW", 1), ("米", "count", "km", 1e-3),
    ("公顷", "count", "亩", 15), ("亩", "count", "亩", 1), ("吨", "count", "吨", 1),
    ("公斤", "count", "kg", 1), ("千克", "count", "kg", 1), ("斤", "count", "kg", 0.5), ("小时", "count", "小时", 1),
    ("周年", "count", "年", 1), ("标准箱", "count", "标准箱", 1), ("TEU", "count", "标准箱", 1), ("倍", "count", "倍", 1),
    ("人次", "count", "人次", 1), ("个月", "count", "月", 1), ("年", "count", "年", 1), ("天", "count", "天", 1),
)
# fmt: on
# Measure words that count things; they are interchangeable when comparing (20000家 == 20000个).
CLASSIFIERS = frozenset("个家户项座所名人条种次件处台辆艘架只张头套部本场支位门届块株列节")
_UNIT_RE = re.compile("|".join(re.escape(u[0]) for u in _UNITS) + "|[" + "".join(sorted(CLASSIFIERS)) + "]")
_UNIT_INFO = {u[0]: u[1:] for u in _UNITS}

# Qualifier words just before a number: matches "突破" in "突破20000家", "不低于" + "达到" in "不低于达到5%".
_LEFT_QUALIFIER = re.compile(
    r"(?P<q>不低于|不少于|至少|不超过|不高于|不多于|不到|超过|突破|高于|多于|逾|超|控制在|低于|少于|大约|(?<![节制契条公])约|接近|将近|近)"
    r"(?:达到|达|到|至)?$"
)
# Qualifier words just after a number and unit: matches "以上" in "6000个以上".
_RIGHT_QUALIFIER = re.compile(r"以上|以下|以内|之内|左右|上下(?!游)")
# fmt: off
_QUALIFIER_CODES = {
    "不低于": "at_least", "不少于": "at_least", "至少": "at_least", "以上": "at_least",
    "超过": "more_than", "突破": "more_than", "高于": "more_than", "多于": "more_than", "逾": "more_than",
    "超": "more_than", "多": "more_than", "余": "more_than",
    "不超过": "at_most", "不高于": "at_most", "不多于": "at_most", "控制在": "at_most", "以下": "at_most",
    "以内": "at_most", "之内": "at_most",
    "低于": "less_than", "少于": "less_than", "不到": "less_than",
    "大约": "about", "约": "about", "接近": "about", "将近": "about", "近": "about", "左右": "about",
    "上下": "about",
}
# fmt: on


def _number_value(token: str) -> float | None:
    """Read one digit or Chinese-numeral token: ``1,600`` → 1600.0; ``两万`` → 20000.0."""
    if token[0].isdigit():
        return float(token.replace(",", ""))
    return parse_chinese_number(token)


def _is_cjk_token(token: str) -> bool:
    return not token[0].isdigit()


def _skip_chinese(token: str, has_unit: bool) -> bool:
    """Say whether a Chinese-numeral run is a word, not a number.

    ``一`` in ``一批``/``统一`` (one char, no unit), ``三五`` (bare digits that are not a year), ``万众`` (leads
    with 万/亿) are skipped; ``七个`` and ``两万`` are kept.
    """
    whole = token.partition("点")[0]
    if whole[0] in _BIG_UNITS:
        return True
    if len(token) == 1:
        return not has_unit
    return all(ch in _DIGITS for ch in whole) and "点" not in token


def _qualifier(folded: str, start: int, end: int, more: bool) -> str:
    right = _RIGHT_QUALIFIER.match(folded, end)
    if right:
        return _QUALIFIER_CODES[right.group()]
    left = _LEFT_QUALIFIER.search(folded[max(0, start - 6) : start])
    if left:
        return _QUALIFIER_CODES[left.group("q")]
    return "more_than" if more else ""


def extract(text: str) -> list[Quantity]:
    """Find the quantities in ``text`` with offsets into it (see :func:`_extract`)."""
    return list(_extract(text))


# Answering and reranking read the same sentences for every question about them: remember the last ones.
@lru_cache(maxsize=8192)
def _extract(text: str) -> tuple[Quantity, ...]:
    """Find the quantities in ``text`` with offsets into it.

    Args:
        text: Chinese text in either script and width.

    Returns:
        The quantities in text order. Ordinals (``第三章``), plan names (``十四五``), dates
        (``2021-04-21``), model names (``5G``) and words such as ``一批``/``统一`` are not quantities.

    Example:
        ``培育科技型中小企业突破20000家`` →
        ``[Quantity("count", 20000.0, "家", "more_than", "20000家", 11, 17)]``;
        ``到二〇三五年`` → ``[Quantity("year", 2035.0, "年", "", "二〇三五年", 1, 6)]``.
    """
    folded = fold(text)
    found: list[Quantity] = []
    pos = 0
    while match := _NUMBER.search(folded, pos):
        start, token = match.start(), match.group("num")
        pos = match.end()
        before = folded[start - 1] if start else ""
        if (before and (before in "第每(" or (before.isascii() and before.isalnum()))) or folded.endswith("专栏", 0, start):
            continue  # 第三章, 每万人口, (十一), PM2.5, H100, 专栏3
        if not match.group("pct") and (date := _DATE.match(folded, start)) and token[0].isdigit():
            pos = date.end()
            continue
        if year := _YEAR_RANGE.match(folded, start):
            for group in (1, 2):
                y0, y1 = year.span(group)
                end = y1 + 1 if group == 2 else y1
                found.append(Quantity("year", float(year.group(group)), "年", "", text[y0:end], y0, end))
            pos = year.end()
            continue
        quantity = _read(text, folded, match)
        if quantity is not None:
            found.append(quantity)
            pos = max(pos, quantity.end)
    return tuple(found)


def _read(text: str, folded: str, match: re.Match[str]) -> Quantity | None:
    """Read the number at ``match`` with its multiplier, range, unit and qualifier."""
    start, token = match.start(), match.group("num")
    value = _number_value(token)
    if value is None:
        return None
    end = match.end()
    if match.group("pct"):
        if _is_cjk_token(token) and _skip_chinese(token, has_unit=True):
            return None
        qualifier = _qualifier(folded, start, end, more=False)
        return Quantity("percent", value, "%", qualifier, text[start:end], start, end)
    # A year: four digits (or four Chinese digits) directly before 年.
    is_digit_run = token.isdigit() or all(ch in _DIGITS for ch in token)
    if is_digit_run and len(token) == 4 and folded[end : end + 1] == "年" and 1900 <= value <= 2100:
        return Quantity("year", value, "年", "", text[start : end + 1], start, end + 1)
    mult = _MULTIPLIER.match(folded, end)
    more = bool(mult.group("more") or mult.group("more2"))
    factor = _MULTIPLIERS.get(mult.group("mult") or "", 1.0)
    end = mult.end()
    upper = None
    if rng := _RANGE.match(folded, end):
        upper_value = _number_value(rng.group("num"))
        rng_end = rng.end()
        rmult = _MULTIPLIER.match(folded, rng_end)
        if upper_value is not None and upper_value > value:
            if rmult.group("mult") and factor == 1.0:
                factor = _MULTIPLIERS[rmult.group("mult")]
            upper, end = upper_value, rmult.end()
    unit_match = _UNIT_RE.match(folded, end)
    if _is_cjk_token(token) and _skip_chinese(token, has_unit=unit_match is not None):
        return None
    if unit_match is None:
        kind, unit, unit_factor = "number", "", 1.0
        after = folded[end : end + 2]
        if after[:1].isascii() and after[:1].isalpha():
            return None  # 5G, 4G: a name, not a number
        if after[:1] in (".", "、") and not after[1:].isdigit():
            return None  # 1.沈阳, 2、: a list marker
    else:
        surface = unit_match.group()
        kind, unit, unit_factor = _UNIT_INFO.get(surface, ("count", surface, 1.0))
        end = unit_match.end()
    if kind in ("percent", "points") and factor != 1.0:
        return None
    scale = factor * unit_factor
    qualifier = "range" if upper is not None else _qualifier(folded, start, end, more)
    return Quantity(kind, value * scale, unit, qualifier, text[start:end], start, end, None if upper is None else upper * scale)


def dimension(quantity: Quantity) -> str:
    """Return what a quantity measures, for deciding which quantities can be compared.

    Percent and points share a dimension (so ``75%`` vs ``75个百分点`` is caught as a mismatch);
    all measure words share one (``20000家`` vs ``20000个``).

    Example: ``20000家`` → ``count:classifier``; ``45%`` → ``ratio``; ``1000亿元`` → ``amount:元``.
    """
    if quantity.kind in ("percent", "points"):
        return "ratio"
    if quantity.kind == "count" and quantity.unit in CLASSIFIERS:
        return "count:classifier"
    return f"{quantity.kind}:{quantity.unit}"


def values_agree(claim: Quantity, document: Quantity, about_tolerance: float = 0.05) -> bool:
    """Say whether two quantities of one dimension state the same value.

    Exact after unit conversion; within ``about_tolerance`` (relative) when either side says 约/左右;
    a single claim value inside a document range agrees with it.

    Example: ``一千亿元`` vs ``1000億元`` → True; ``约2万家`` vs ``19800家`` → True; ``75%`` vs ``75个百分点`` → False.
    """
    if claim.kind != document.kind:
        return False
    tolerance = about_tolerance if "about" in (claim.qualifier, document.qualifier) else 1e-9

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-12)

    if document.upper is not None:
        if claim.upper is not None:
            return close(claim.value, document.value) and close(claim.upper, document.upper)
        return document.value - 1e-12 <= claim.value <= document.upper + 1e-12
    return claim.upper is None and close(claim.value, document.value)


def qualifiers_conflict(claim: Quantity, document: Quantity) -> bool:
    """Say whether two qualifiers contradict: a lower bound against an upper bound.

    Example: ``63%以上`` vs ``控制在63%以下`` → True; ``超过20000家`` vs ``突破20000家`` → False;
    ``20000家左右`` vs ``突破20000家`` → False (约/左右 hedge, they do not bound).
    """
    pair = {claim.qualifier, document.qualifier}
    return bool(pair & LOWER_BOUNDS) and bool(pair & UPPER_BOUNDS)
