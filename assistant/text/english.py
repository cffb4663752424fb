"""English: the numbers of an English claim or question, in the base units the Chinese quantities use.

``1.5 million person-times`` → 1500000 (count), ``45%`` / ``45 percent`` → 45 (percent), ``8 billion yuan`` →
8e9 (amount); years (``2024``, ``in 2021``) are left to :mod:`assistant.text.periods`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A number with an optional scale and unit: matches "1.5 million", "20,000", "45%", "45 percent", "8 billion yuan".
_NUMBER = re.compile(
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(?P<scale>thousand|million|billion|trillion|k\b)?\s*"
    r"(?P<unit>%|percent(?:age points?)?|per cent|yuan|rmb|mu\b|km|kilometers?|kilometres?)?",
    re.I,
)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


@dataclass(frozen=True)
class EnglishNumber:
    """A number of English text: ``kind`` is ``percent``, ``amount`` or ``count``; ``value`` in base units."""

    kind: str
    value: float
    text: str


def english_numbers(text: str) -> list[EnglishNumber]:
    """The numbers of English text that are not years (four digits 1900–2100 without scale or unit).

    Example: ``Liaoning will renovate 700 old compounds in 2024`` → ``[EnglishNumber("count", 700.0, "700")]``;
    ``train 1.5 million person-times`` → ``[EnglishNumber("count", 1500000.0, "1.5 million")]``.
    """
    out = []
    for m in _NUMBER.finditer(text):
        raw, scale, unit = m.group("num"), (m.group("scale") or "").lower(), (m.group("unit") or "").lower()
        value = float(raw.replace(",", ""))
        if not scale and not unit and raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100:
            continue  # a year
        if not scale and not unit and text[m.end("num") : m.end("num") + 1].isalpha():
            continue  # 14th, 5G: an ordinal or a name
        value *= _SCALES.get(scale, 1.0)
        kind = "percent" if unit.startswith(("%", "percent", "per cent")) else "amount" if unit in ("yuan", "rmb") else "count"
        out.append(EnglishNumber(kind, value, m.group().strip()))
    return out
