"""Attribute: check an LLM's answer sentence by sentence against the numbered passages it was given.

Each sentence of the model's text is kept only when the passages support it:

* **Figures.** Every quantity in the sentence (:func:`assistant.text.quantities.extract`: percentages, counts,
  amounts, years, in digits or Chinese numerals) must agree with a quantity of the passage (its text, title or
  section path), so ``88%`` matches ``百分之八十八`` and ``6000个`` matches ``6,000个``. A bare number (``6000``) may
  match a passage quantity of any unit. A year may also come from the question (the calibrated scope check has
  already matched the evidence's year and period to the question's).
* **Key terms.** The sentence's key terms are its Chinese character bigrams without stopwords (figures, Latin
  words and markers removed; one-character stopwords split the text). At least :data:`MIN_TERM_SHARE` of them must
  occur in the passage, or be words of the question's places and periods (辽宁, 十三五时期: the calibrated scope
  check has matched those); another word of the question the passage lacks (月球, in an answer about ports) does
  not count.

A sentence with valid ``[n]`` markers keeps them when the cited passages (together) support it; a sentence without
a marker (or whose cited passages do not support it) that is fully supported by one passage gets that passage's
marker; any other sentence is dropped. Refusal phrasing (文件中没有…, 未提及, 无法回答, cannot answer) is recognised so a
model's refusal is not mistaken for an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..search.keyword import STOPWORDS, bigrams
from ..text.periods import extract_periods
from ..text.places import extract_places
from ..text.quantities import Quantity, extract
from ..text.script import normalize
from .evidence import Sentence

_STOP_CHARS = frozenset(w for w in STOPWORDS if len(w) == 1 and not w.isascii())
# Share of a sentence's key terms that must occur in the passage or the question.
MIN_TERM_SHARE = 0.6
# A citation marker: "[1]", "[ 2 ]", "【3】", "[编号1]".
_MARK = r"\s*[\[【]\s*(?:编号|摘录|編號|摘錄)?\s*{}\s*[\]】]"
MARKER = re.compile(_MARK.format(r"(\d{1,2})"))
# One sentence of generated text with the markers that follow its end punctuation:
# "新建5G基站6000个以上[1]。" or "新建5G基站6000个以上。[1]"; an English sentence ends at ". ".
_SENTENCE = re.compile(r"(?:[^。！？!?；;\n.]|\.(?!\s|$))+[。！？!?；;.]*(?:" + _MARK.format(r"\d{1,2}") + r")*|\n+")
# Markers listed in one pair of brackets, "[1, 2]", "[1，3]" or "[1-4]", are read as "[1][2]", "[1][3]", "[1]…[4]".
_MARKER_LIST = re.compile(r"\[\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})+|\d\s*[-–~]\s*\d)\s*\]")
# An English figure with a scale word: "1.9 billion", "30 million", "45 percent".
_ENGLISH_SCALE = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(billion|million|thousand|percent)\b", re.IGNORECASE)
_SCALES = {"billion": 1e9, "million": 1e6, "thousand": 1e3, "percent": 1.0}
# Units that count parts of a document (一节, 两章), not things in the world: not figures to check.
_STRUCTURE_UNITS = frozenset("节章篇条款")
# Refusal phrasing, on normalized text: "文件中没有找到…", "摘录中未提及…", "无法回答", "The documents do not answer".
_REFUSAL = re.compile(
    r"(?:文件|摘录|资料|材料|文本|内容)(?:中|里)?(?:并)?(?:没有|没|未|不)(?:找到|提到|提及|涉及|包含|给出|说明|明确|具体|直接|相关)"
    r"|(?:没有|未|并未|不曾)(?:提到|提及|涉及|给出|说明|包含|找到)(?:相关|具体|有关)?(?:的)?(?:信息|内容|数据|数字|答案)?"
    r"|无法(?:回答|确定|得知|找到|判断|提供)|不能回答|没有(?:相关|具体|明确)?(?:的)?(?:信息|内容|数据|答案)"
    r"|cannot answer|can't answer|unable to answer|do(?:es)? not (?:answer|mention|contain|provide|say|specify)"
    r"|no (?:information|mention|data)|not (?:mentioned|specified|provided)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Checked:
    """One sentence of the model's text and what the check decided.

    ``status``: ``cited`` (its own markers hold), ``attributed`` (a marker was added), ``dropped_figures`` (a figure
    in no passage), ``dropped_unsupported`` (no passage supports it), ``refusal`` (refusal phrasing) or ``blank``.
    ``text`` is the sentence as shown (markers name passages, 1-based, in the numbering given to the model).
    """

    text: str
    status: str
    cited: tuple[int, ...] = ()


def key_terms(text: str) -> set[str]:
    """The key terms of a sentence: Chinese bigrams without stopwords; figures, Latin words and markers removed.

    One-character stopwords (的, 要, 个, …) split the text, so no bigram straddles them.

    Example: ``沈阳2021年要新建5G基站6000个以上[1]`` → ``{'沈阳', '新建', '基站', '以上'}``.
    """
    norm = "".join(" " if ch in _STOP_CHARS else ch for ch in normalize(MARKER.sub("", text)))
    return {t for t in bigrams(norm) if len(t) == 2 and not t.isascii() and t not in STOPWORDS}


def passage_text(passage: Sentence) -> str:
    """What the model saw of a passage: title, section path and text (figures and terms are looked up here)."""
    chunk = passage.hit.chunk
    return f"{chunk.title} {' '.join(chunk.section_path)} {passage.text}"


def _agrees(figure: Quantity, known: Quantity) -> bool:
    """A figure of the model's sentence agrees with a passage's: same kind (a bare number any) and value.

    Example: ``88%`` vs ``百分之八十八`` → True; ``6000`` vs ``6,000个`` → True; ``8000个`` vs ``6000个`` → False.
    """
    if figure.kind != known.kind and "number" not in (figure.kind, known.kind):
        return False
    if known.upper is not None and figure.upper is None:
        return known.value - 1e-9 <= figure.value <= known.upper + 1e-9
    same_upper = figure.upper is None or known.upper is None or abs(figure.upper - known.upper) <= 1e-9 * abs(known.upper)
    return abs(figure.value - known.value) <= 1e-9 * max(abs(known.value), 1.0) and same_upper


def _figures(sentence: str) -> list[Quantity]:
    """The figures of a model's sentence, English scale words read, the document's structure (一节, 两章) left out.

    Example: ``The district will invest 1.9 billion yuan`` → one number, 1900000000.0.
    """
    text = _ENGLISH_SCALE.sub(lambda m: _scaled(m.group(1), m.group(2)), MARKER.sub("", sentence))
    return [q for q in extract(text) if not (q.kind == "count" and q.unit in _STRUCTURE_UNITS)]


def _scaled(number: str, word: str) -> str:
    value = float(number.replace(",", "")) * _SCALES[word.lower()]
    return f"{value:.0f}" if word.lower() != "percent" else f"{number}%"


def figures_in(sentence: str, passage: str, question: str = "") -> bool:
    """Say whether every figure of ``sentence`` occurs in ``passage`` (a year may also come from ``question``).

    Example: ``占比达到88%`` in ``…比重达到百分之八十八…`` → True; ``新建8000个`` in ``新建5G基站6000个以上`` → False.
    """
    known = extract(passage)
    years = {q.value for q in extract(question) if q.kind == "year"}
    for figure in _figures(sentence):
        if figure.kind == "year" and figure.value in years:
            continue
        if not any(_agrees(figure, k) for k in known):
            return False
    return True


def scope_terms(question: str) -> frozenset[str]:
    """The key terms of the question's places and periods (the calibrated scope check has matched them already).

    Example: ``“十三五”时期辽宁建成了多少个5G基站？`` → ``{'十三', '三五', '时期', '辽宁'}``.
    """
    norm = normalize(question)
    spans = [(p.start, p.end) for p in extract_places(norm)] + [(p.start, p.end) for p in extract_periods(norm)]
    return frozenset(key_terms(" ".join(norm[start:end] for start, end in spans)))


def terms_supported(sentence: str, passage: str, scope: frozenset[str] = frozenset()) -> bool:
    """Say whether the sentence's key terms occur in the passage (see the module docstring for the rule).

    ``scope`` (:func:`scope_terms` of the question) count as found. A sentence without key terms is supported only
    by its figures (``56人``): it needs one.
    Example: ``辽宁数控机床本地配套率要达到60%`` against ``…数控机床本地配套率达到60%…`` → True;
    ``辽宁计划在月球上建设15万吨级航道`` against ``盘锦港15万吨级、锦州港30万吨级航道`` → False.
    """
    terms = key_terms(sentence)
    if not terms:
        return bool(_figures(sentence))
    norm = normalize(passage)
    return sum(1 for t in terms if t in norm or t in scope) >= MIN_TERM_SHARE * len(terms)


def is_refusal(text: str) -> bool:
    """Say whether text (a sentence or the whole answer) uses refusal phrasing.

    Example: ``文件中没有提到辽宁全省的数字。`` → True; ``The documents do not answer this question.`` → True;
    ``新建5G基站6000个以上[1]`` → False.
    """
    return bool(_REFUSAL.search(normalize(MARKER.sub("", text))))


def supporting_passage(sentence: str, passages: list[Sentence], question: str = "") -> int | None:
    """The 1-based number of the one passage that fully supports a sentence (most key terms in it), or ``None``."""
    best, best_terms = None, -1
    terms, scope = key_terms(sentence), scope_terms(question)
    for n, passage in enumerate(passages, start=1):
        text = passage_text(passage)
        if figures_in(sentence, text, question) and terms_supported(sentence, text, scope):
            shared = sum(1 for t in terms if t in normalize(text))
            if shared > best_terms:
                best, best_terms = n, shared
    return best


def _with_marker(sentence: str, n: int) -> str:
    """Put ``[n]`` before the sentence's end punctuation: ``占比达到88%。`` → ``占比达到88%[1]。``."""
    body = sentence.rstrip()
    tail = len(body) - len(body.rstrip("。！？!?；;.，,"))
    return f"{body[: len(body) - tail]}[{n}]{body[len(body) - tail :]}"


def check_sentence(sentence: str, passages: list[Sentence], question: str = "") -> Checked:
    """Check one sentence of the model's text against the passages (see the module docstring)."""
    bare = MARKER.sub("", sentence).strip()
    if not bare.strip("。！？!?；;.，,、:： *-#") or bare.rstrip(":：").endswith(("如下", "以下")):
        return Checked(sentence, "blank")
    if is_refusal(bare):
        return Checked(sentence, "refusal")
    cited = [int(n) for n in MARKER.findall(sentence) if 1 <= int(n) <= len(passages)]
    cited = list(dict.fromkeys(cited))
    joined = " ".join(passage_text(passages[n - 1]) for n in cited)
    if cited and figures_in(bare, joined, question) and terms_supported(bare, joined, scope_terms(question)):
        text = MARKER.sub(lambda m: f"[{int(m.group(1))}]" if 1 <= int(m.group(1)) <= len(passages) else "", sentence)
        return Checked(text, "cited", tuple(cited))
    n = supporting_passage(bare, passages, question)
    if n is not None:
        return Checked(_with_marker(MARKER.sub("", sentence), n), "attributed", (n,))
    if _figures(bare) and not any(figures_in(bare, passage_text(p), question) for p in passages):
        return Checked(sentence, "dropped_figures")
    return Checked(sentence, "dropped_unsupported")


def _listed(markers: str) -> list[int]:
    """``1, 3`` → [1, 3]; ``1-4`` → [1, 2, 3, 4]."""
    numbers = [int(n) for n in re.findall(r"\d+", markers)]
    return list(range(numbers[0], numbers[1] + 1)) if re.search(r"[-–~]", markers) else numbers


def split_sentences(text: str) -> list[str]:
    """Split generated text into sentences (markers stay with their sentence), newline runs as their own pieces.

    A list of markers in one pair of brackets becomes one marker each. Example: ``甲6000个。[1]乙88%[1, 2]。`` →
    ``['甲6000个。[1]', '乙88%[1][2]。']``.
    """
    text = _MARKER_LIST.sub(lambda m: "".join(f"[{n}]" for n in _listed(m.group(1))), text)
    return [piece for piece in _SENTENCE.findall(text) if piece]
