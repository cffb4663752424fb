"""Expand: add the official terms of a question's everyday or English words, from a term table users can extend.

The table (``terms.toml`` beside this module, plus the optional user file ``retrieval.expansion_file`` in the same
format) maps everyday Chinese words (``[colloquial]``) and English words and phrases (``[english]``) to the terms
policy documents use. Keys are found longest first and never overlap: in ``老房子改造`` the key ``老房子改造`` wins
over ``老房子``. The terms are appended to the question for the keyword index only.
Example: ``看病报销能报多少`` → ``看病报销能报多少 就医 医疗 医保 医疗保险``.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError
from ..text.script import normalize

__all__ = ["BUNDLED_TERMS", "TermTable", "expand_query", "load_terms"]

log = logging.getLogger(__name__)
BUNDLED_TERMS = Path(__file__).with_name("terms.toml")
SECTIONS = ("colloquial", "english")
_LATIN_WORD = re.compile(r"[a-z]{2,}")  # an English word left for the dictionary bridge, e.g. "urban"


@dataclass(frozen=True)
class TermTable:
    """Everyday → official terms: ``colloquial`` keys are normalized Chinese, ``english`` keys lower-case."""

    colloquial: dict[str, tuple[str, ...]]
    english: dict[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        # Longest keys first, so a phrase wins over the words inside it.
        cjk = sorted(self.colloquial, key=lambda k: (-len(k), k))
        latin = sorted(self.english, key=lambda k: (-len(k), k))
        object.__setattr__(self, "_cjk", re.compile("|".join(map(re.escape, cjk))) if cjk else None)
        # An English key matches whole words only: "gdp" in "gdp growth", not in "gdps".
        object.__setattr__(self, "_latin", re.compile(
            r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, latin)) + r")(?![a-z0-9])") if latin else None)

    def terms(self, query_norm: str) -> list[str]:
        """The official terms for the keys found in a normalized question, in order, without repeats.

        Example: ``老房子改造有补贴吗`` → ``['老旧小区改造', '城市更新']``;
        ``gdp growth of liaoning`` → ``['地区生产总值', '生产总值', 'GDP', '增长', '辽宁']``.
        """
        return self.match(query_norm)[0]

    def match(self, query_norm: str) -> tuple[list[str], str]:
        """The terms of :meth:`terms` and the question's English left unmatched (matched keys blanked out).

        Example: ``gdp growth of liaoning`` → ``(['地区生产总值', '生产总值', 'GDP', '增长', '辽宁'], '  of  ')``.
        """
        found: list[str] = []
        text = query_norm.lower()
        if self._cjk is not None:  # type: ignore[attr-defined]
            for match in self._cjk.finditer(text):  # type: ignore[attr-defined]
                found += self.colloquial[match.group()]
        rest = text
        if self._latin is not None:  # type: ignore[attr-defined]
            for match in self._latin.finditer(text):  # type: ignore[attr-defined]
                found += self.english[match.group()]
            rest = self._latin.sub(" ", text)  # type: ignore[attr-defined]
        return list(dict.fromkeys(found)), rest


def _read(path: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    """Read one term file.

    Raises:
        ConfigError: The file is missing, not TOML, or an entry is not a list of strings.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the term table {path} ({exc}); the header of assistant/search/terms.toml "
                          "explains the format.") from exc
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise ConfigError(f"Term table {path}: unknown table(s) {sorted(unknown)}; use [colloquial] and [english].")
    table: dict[str, dict[str, tuple[str, ...]]] = {}
    for section in SECTIONS:
        entries = raw.get(section, {})
        table[section] = {}
        for key, value in entries.items():
            terms = [value] if isinstance(value, str) else value
            if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
                raise ConfigError(f"Term table {path}: [{section}] {key!r} must be a list of terms, e.g. [\"医保\"].")
            folded = normalize(key).lower() if section == "colloquial" else " ".join(key.lower().split())
            if folded:
                table[section][folded] = tuple(normalize(t) for t in terms)
    return table


@lru_cache(maxsize=8)
def _load(user_file: str, mtime: float) -> TermTable:
    del mtime  # part of the cache key: an edited user file is read again
    merged = _read(BUNDLED_TERMS)
    if user_file:
        for section, entries in _read(Path(user_file)).items():
            merged[section].update(entries)
    return TermTable(merged["colloquial"], merged["english"])


def load_terms(user_file: Path | None = None) -> TermTable:
    """The bundled term table, extended (or overridden, key by key) by a user file in the same format.

    Raises:
        ConfigError: A file is missing or malformed.
    """
    if user_file is None or str(user_file) == "":
        return _load("", 0.0)
    try:
        mtime = user_file.stat().st_mtime
    except OSError as exc:
        raise ConfigError(f"The term table {user_file} (retrieval.expansion_file) does not exist.") from exc
    return _load(str(user_file), mtime)


def expand_query(query_norm: str, table: TermTable, bridge: Callable[[str], tuple[list[str], list[str]]] | None = None,
                 replace: bool = False) -> str:
    """The question with the official terms of its everyday or English words appended (unchanged when none).

    Args:
        query_norm: The normalized question.
        table: The term table (it goes first).
        bridge: Chinese terms for the English words the table left, and the words they stand for
            (:meth:`assistant.search.bridge.Bridge.match`); ``None``: the table only.
        replace: Drop the English words that a term stands for, so that only the words left untranslated count
            as unknown (lower case then).

    Returns:
        The keyword query. Terms the question already contains are not added again.

    Example: ``上学难怎么解决`` → ``上学难怎么解决 学位 义务教育``; ``gdp of liaoning`` with ``replace`` →
    ``of 地区生产总值 生产总值 GDP 辽宁``.
    """
    found, rest = table.match(query_norm)
    used: list[str] = []
    if bridge is not None and _LATIN_WORD.search(rest):
        terms, used = bridge(rest)
        found += terms
    base = query_norm
    if replace and (found or used):
        for word in used:  # whole words only: "urban" in "urban jobs", not in "suburban"
            rest = re.sub(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", " ", rest, count=1)
        base = " ".join(rest.split())
    extra = [t for t in dict.fromkeys(found) if t.lower() not in base.lower()]
    return f"{base} {' '.join(extra)}".strip() if extra else base
