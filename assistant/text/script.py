"""Script: normalization for matching (width, whitespace, traditional → simplified) and script detection.

The original text is always kept for display and quoting; only matching uses :func:`normalize`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Variant characters OpenCC's t2s leaves alone but which, in these documents, stand for a simplified form.
# 甯 is a rare surname character; in 遼甯 it is a non-standard form of 宁 (OpenCC: 遼甯 → 辽甯).
EXTRA_T2S = str.maketrans({"甯": "宁", "裏": "里", "産": "产", "爲": "为", "衆": "众", "闆": "板", "綫": "线"})

_WHITESPACE = re.compile(r"\s+")
# Matches a space between two CJK characters or CJK punctuation, e.g. "全 民乐购" (layout space).
_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])")


@lru_cache(maxsize=2)
def _converter(config: str) -> object:
    import opencc

    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Convert traditional or variant characters to simplified.

    Example: ``遼甯省産業`` → ``辽宁省产业``.
    """
    return _converter("t2s").convert(text).translate(EXTRA_T2S)  # type: ignore[attr-defined]


def to_traditional(text: str) -> str:
    """Convert simplified text to traditional (for answers to traditional-script questions).

    Example: ``辽宁发展`` → ``遼寧發展``.
    """
    return _converter("s2t").convert(text)  # type: ignore[attr-defined]


def normalize(text: str) -> str:
    """Normalize text for matching: NFKC width folding, simplified script, collapsed whitespace.

    Spaces between CJK characters are removed, other whitespace runs become one space.
    Example: ``（一）遼甯  全 民乐购，２０２５年`` → ``(一)辽宁全民乐购,2025年``.
    """
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = _CJK_GAP.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def detect_script(text: str) -> str:
    """Guess whether Chinese text is ``traditional``, ``simplified`` or ``latin`` (no CJK characters).

    Example: ``遼寧數字經濟`` → ``traditional``; ``辽宁数字经济`` → ``simplified``.
    """
    cjk = [ch for ch in text if "\u3400" <= ch <= "\u9fff"]
    if not cjk:
        return "latin"
    changed = sum(1 for ch in cjk if to_simplified(ch) != ch)
    return "traditional" if changed >= max(1, len(cjk) // 20) else "simplified"
