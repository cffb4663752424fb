"""Verify: compare a claim with an evidence passage (numbers, years, units, places) and check quoted offsets.

Pure functions, no model: retrieval finds the passage elsewhere; here each quantity and place of the claim is
aligned with its counterpart in the passage by kind, unit and the words around it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from assistant.text.periods import extract_periods
from assistant.text.places import Place, extract_places
from assistant.text.quantities import Quantity, dimension, extract, fold, qualifiers_conflict, values_agree
from assistant.types import Mismatch

from .changes import paired_changes

DEFAULT_MIN_OVERLAP = 0.5  # claim bigrams found in the passage below this → "unrelated" (to be calibrated)
DEFAULT_MIN_CONTEXT = 0.25  # share of a claim value's context bigrams the counterpart's context must have
LEFT_WINDOW = 8  # characters before a value that say what it measures: 科技型中小企业突破 | 20000家
RIGHT_WINDOW = 6  # characters after it: 2025年 | 数字经济增加值
PLACE_WINDOW = 10  # characters each side of a place (or list of places) that say its role: 支持 | 大连 | 建设中欧班列集结中心
# When the passage names the claim's place too, another place takes its role only on strong evidence: a context
# match of at least twice ``min_context``, better by PLACE_MARGIN than any occurrence of the claim's place, sharing
# PLACE_MIN_SHARED bigrams (支持, 建设, 国家 alone frame many roles: 支持丹东创建国家… is not 支持锦州创建国家物流枢纽).
PLACE_MARGIN = 0.25
PLACE_MIN_SHARED = 5
MIN_SUBJECT = 0.5  # least share of a claim value's subject words in its counterpart's clause (else another indicator)

# fmt: off
KIND_LABELS = {"year": "年份", "percent": "百分比", "points": "百分点", "amount": "金额", "count": "数量", "number": "数值",
               "place": "地点", "qualifier": "限定"}
_QUALIFIER_WORDS = {
    "at_least": ("", "以上"), "more_than": ("超过", ""), "at_most": ("", "以下"), "less_than": ("低于", ""),
    "about": ("约", ""),
}
# fmt: on
# Characters that carry content: CJK ideographs and Latin letters (digits and punctuation are dropped).
# Matches "数字经济", "G" in "5G".
_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z]+")
# Clause punctuation (after folding to half width): matches "," and ";" in "突破20000家,高新技术企业突破10000家;".
_CLAUSE_BREAK = re.compile(r"[,;。、:!?()]")
# Sentence ends (after folding): a value's subject is sought in its sentence.
_SENTENCE_BREAK = re.compile(r"[;。!?\n]")
# Where a year stops framing the values after it (after folding): a new paragraph, a list item or a plan period.
# Matches "\n", "二是" in "。二是加快" (not "统一是"), "(三)", "十四五”期间" in "“十四五”期间,力争…".
_SCOPE_RESET = re.compile(
    r"\n|(?<![\u3400-\u9fff])[一二三四五六七八九十]是|\([一二三四五六七八九十\d]{1,2}\)"  # paragraph, list item
    r"|十[一二三四五六七八九]五”?(?:期间|时期)"  # plan period
)
# Places of one list, which share a role: matches "、" in "沈阳、大连等" and "和" in "沈阳和大连".
_PLACE_JOIN = re.compile(r"[、和与及]?")
# Reporting words that a claim adds but a document never says: matches "提出" in "辽宁提出到2025年", "规划明确".
_REPORTING = re.compile(r"提出|表示|指出|宣布|透露|据悉|报道|称|主张|明确|文章|规划|报告")
# Words of negation, modality and direction: a claim that changes them still speaks of the passage's statement
# (the meaning check judges them), so they do not count against overlap: "不再" in "不再推进清洁取暖".
_STANCE = re.compile(r"不再|不予|不得|不能|不可|不允许|不需要?|不必|不用|没有|禁止|严禁|停止|取消|允许|可以|必须|应当|"
                     r"保留|限制|无需|上升|下降|增加|减少|提高|降低|扩大|缩小|放宽|收紧|上调|下调|不|未|无")


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing one claim with one passage.

    ``verdict`` is ``supported``, ``contradicted`` or ``unrelated``; mismatch offsets point into the evidence.
    """

    verdict: str
    mismatches: tuple[Mismatch, ...]
    matched: tuple[str, ...]
    reason: str
    overlap: float

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as a JSON-ready dict."""
        return {
            "verdict": self.verdict,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "matched": list(self.matched),
            "reason": self.reason,
            "overlap": round(self.overlap, 4),
        }


def _bigrams(text: str) -> set[str]:
    """Character bigrams within each run of content characters: ``数字经济,5G`` → {数字, 字经, 经济}."""
    return {run[i : i + 2] for run in _CONTENT.findall(text) for i in range(len(run) - 1)}


def overlap(claim: str, evidence: str) -> float:
    """Share of the claim's content bigrams (numbers and reporting words removed) found in the evidence.

    Args:
        claim: The claim as pasted.
        evidence: The passage.

    Returns:
        A recall in 0..1; 0.0 when the claim has no content bigram.

    Example: ``辽宁提出到2025年数字经济比重提升`` vs ``數字經濟比重提升`` → 0.875 (7 of 8 bigrams; 辽宁 misses).
    """
    folded = fold(claim)
    chars = list(folded)
    for start, end in [(q.start, q.end) for q in extract(claim)] + [(p.start, p.end) for p in extract_periods(claim)]:
        chars[start:end] = "|" * (end - start)
    masked = _STANCE.sub("|", _REPORTING.sub("|", "".join(chars)))
    wanted = _bigrams(masked)
    if not wanted:
        return 0.0
    return len(wanted & _bigrams(fold(evidence))) / len(wanted)


def _context(folded: str, start: int, end: int, left_window: int = LEFT_WINDOW) -> set[str]:
    """Bigrams of the words around ``folded[start:end]`` within its clause (``left_window`` characters before it).

    Example: for ``20000家`` in ``中小企业突破20000家,高新技术企业`` → {中小, 小企, 企业, 业突, 突破}.
    """
    left = _CLAUSE_BREAK.split(folded[max(0, start - left_window) : start])[-1]
    right = _CLAUSE_BREAK.split(folded[end : end + RIGHT_WINDOW])[0]
    return _bigrams(left) | _bigrams(right)


def _similarity(claim_context: set[str], evidence_context: set[str]) -> float:
    """Share of the claim context found in the evidence context (0.0 when the claim has none)."""
    return len(claim_context & evidence_context) / max(1, len(claim_context))


def _display(q: Quantity) -> str:
    """Render a value for a reason: a year as ``2025 年``, others as written with their bound (``63%以下``)."""
    if q.kind == "year":
        return f"{int(q.value)} 年"
    before, after = _QUALIFIER_WORDS.get(q.qualifier, ("", ""))
    return f"{before}{q.text}{after}"


def _governing_years(folded: str, qs: list[Quantity]) -> list[int | None]:
    """Index of the year that frames each quantity: the last year before it, unless a scope reset lies between.

    A year's scope runs across sentences (a target year is often stated once for several sentences) up to the
    next year, a new paragraph or list item, or a plan period (``“十四五”期间``), which leave values unframed.

    Example: in ``到2025年,比重达到10%,到2035年达到45%`` 10% is framed by 2025年 and 45% by 2035年; in
    ``“十四五”期间,…达到25%。2021年,支持…。力争…达到21%`` 21% by 2021年 and 25% by none.
    """
    framing: list[int | None] = []
    current: int | None = None
    for i, q in enumerate(qs):
        if current is not None and _SCOPE_RESET.search(folded, qs[current].end, q.start):
            current = None
        framing.append(None if q.kind == "year" else current)
        if q.kind == "year":
            current = i
    return framing


def _align_values(cf: str, ef: str, cqs: list[Quantity], eqs: list[Quantity], min_context: float) -> dict[int, int]:
    """Pair claim values (not years) with evidence values: claim index → evidence index.

    Candidates share a dimension and the best context wins, with a bonus for an equal value; a pair needs
    ``min_context`` similarity, half of it when the values agree. When the claim's framing year
    (``到2035年…45%``) also frames values in the evidence, only those compete, at half the bar (or with no bar
    when one is alone). Ties go to the wider context (…高新技术产品产值占全省比重达到 | 25%, not …地区生产总值… | 16%).
    """
    cframe, eframe = _governing_years(cf, cqs), _governing_years(ef, eqs)
    scored, pairs = [], paired_changes(cf, ef, cqs, eqs)  # 由700元调整为500元: a change repeated pairs first
    for ci, c in enumerate(cqs):
        if c.kind == "year" or ci in pairs:
            continue
        same = [ei for ei, e in enumerate(eqs) if dimension(e) == dimension(c) and ei not in pairs.values()]
        year = cframe[ci]
        framed = [ei for ei in same if year is not None and (y := eframe[ei]) is not None and eqs[y].value == cqs[year].value]
        cctx, cwide = _context(cf, c.start, c.end), _context(cf, c.start, c.end, 2 * LEFT_WINDOW)
        for ei in framed or same:
            e = eqs[ei]
            sim, agree = _similarity(cctx, _context(ef, e.start, e.end)), values_agree(c, e)
            if sim >= (min_context / 2 if agree or framed else min_context) or len(framed) == 1:
                wide = _similarity(cwide, _context(ef, e.start, e.end, 2 * LEFT_WINDOW))
                scored.append((sim + (0.25 if agree else 0.0), wide, ci, ei))
    for _, _, ci, ei in sorted(scored, key=lambda t: (-t[0], -t[1], t[2], t[3])):
        if ci not in pairs and ei not in pairs.values():
            pairs[ci] = ei
    return pairs


def _align_years(
    cf: str, ef: str, cqs: list[Quantity], eqs: list[Quantity], pairs: dict[int, int], min_context: float
) -> dict[int, int]:
    """Pair claim years with evidence years, given the value pairs; return the extended pairs.

    A claim year goes with the evidence year that frames its values' counterparts (到2030年,培训职工300万人次 →
    the 2025年 before 培训职工300万人次); failing that with an equal year, the only year on both sides, or the
    year with the most similar context.
    """
    cframe, eframe = _governing_years(cf, cqs), _governing_years(ef, eqs)
    years = [ei for ei, e in enumerate(eqs) if e.kind == "year"]
    claim_years = [ci for ci, c in enumerate(cqs) if c.kind == "year"]
    result = dict(pairs)
    for ci in claim_years:
        framing = Counter(y for cj, ei in pairs.items() if cframe[cj] == ci and (y := eframe[ei]) is not None)
        same_value = [ei for ei in years if values_agree(cqs[ci], eqs[ei])]
        cctx = _context(cf, cqs[ci].start, cqs[ci].end)
        by_context = [(_similarity(cctx, _context(ef, eqs[ei].start, eqs[ei].end)), ei) for ei in years]
        if framing:
            result[ci] = framing.most_common(1)[0][0]
        elif same_value:
            result[ci] = same_value[0]
        elif len(years) == 1 and len(claim_years) == 1:
            result[ci] = years[0]
        elif by_context and max(by_context)[0] >= min_context:
            result[ci] = max(by_context)[1]
    return result


def _align_quantities(claim: str, evidence: str, min_context: float) -> tuple[list[tuple[Quantity, Quantity]], list[Quantity]]:
    """Pair each claim quantity with its evidence counterpart; return the pairs and the claim values left alone.

    Example: ``到2030年,培训职工300万人次`` vs ``到2025年,培训职工300万人次,参赛职工100万人次`` →
    pairs (2030年, 2025年) and (300万人次, 300万人次); nothing left alone.
    """
    cf, ef = fold(claim), fold(evidence)
    cqs, eqs = extract(claim), extract(evidence)
    pairs = _align_years(cf, ef, cqs, eqs, _align_values(cf, ef, cqs, eqs, min_context), min_context)
    aligned = [(cqs[ci], eqs[ei]) for ci, ei in sorted(pairs.items())]
    return aligned, [c for ci, c in enumerate(cqs) if ci not in pairs]


def _place_contexts(folded: str, places: list[Place]) -> list[set[str]]:
    """Bigrams of the words around each place within its clause, reporting words dropped.

    The places of one list share the words around the whole list.

    Example: in ``支持沈阳、大连等国家跨境电商综合试验区`` 沈阳 and 大连 both get {支持, 等国, 国家, 家跨, …}.
    """
    groups: list[list[int]] = []
    for i, p in enumerate(places):
        if groups and _PLACE_JOIN.fullmatch(folded, places[i - 1].end, p.start):
            groups[-1].append(i)
        else:
            groups.append([i])
    contexts: list[set[str]] = [set() for _ in places]
    for group in groups:
        start, end = places[group[0]].start, places[group[-1]].end
        left = _CLAUSE_BREAK.split(folded[max(0, start - PLACE_WINDOW) : start])[-1]
        right = _CLAUSE_BREAK.split(folded[end : end + PLACE_WINDOW])[0]
        context = _bigrams(_REPORTING.sub("|", left)) | _bigrams(_REPORTING.sub("|", right))
        for i in group:
            contexts[i] = context
    return contexts


def _place_mismatches(claim: str, evidence: str, min_context: float) -> tuple[list[Mismatch], list[str]]:
    """Find claim places the evidence replaces with another place in the same role; also the places that agree.

    Each claim place is aligned by the words around it. One absent from the evidence is paired with an evidence
    place absent from the claim when their near contexts (as for values) are similar (any level: 大连 for 辽宁省 in
    ``…计划培育…``), or when each is the only place of its level on its side (大连 vs 沈阳). One the evidence also
    names may still be misplaced: another place of its level whose role (:func:`_place_contexts`, wider) fits the
    claim's words strongly and clearly better than every occurrence of the claim's place (``PLACE_MARGIN``,
    ``PLACE_MIN_SHARED``) is its counterpart: 支持大连建设中欧班列集结中心 vs
    ``支持沈阳建设国家中欧班列集结中心,推进大连东北亚国际航运中心建设`` → 沈阳.
    """
    cf, ef = fold(claim), fold(evidence)
    cps, eps = extract_places(claim), extract_places(evidence)
    cctx, ectx = _place_contexts(cf, cps), _place_contexts(ef, eps)
    cnames, enames = {p.name_norm for p in cps}, {p.name_norm for p in eps}
    others = [ei for ei, e in enumerate(eps) if e.name_norm not in cnames]
    mismatches: list[Mismatch] = []
    seen: set[str] = set()
    moved: set[str] = set()
    for ci, p in enumerate(cps):
        if p.name_norm in seen:
            continue
        seen.add(p.name_norm)
        if p.name_norm in enames:
            sims = {ei: _similarity(cctx[ci], ectx[ei]) for ei in others}
            own = max(_similarity(cctx[ci], ectx[ei]) for ei, e in enumerate(eps) if e.name_norm == p.name_norm)
            bar = max(2 * min_context, own + PLACE_MARGIN)
            strong = [ei for ei in others if len(cctx[ci] & ectx[ei]) >= PLACE_MIN_SHARED]
            rivals = [ei for ei in strong if eps[ei].level == p.level and sims[ei] >= bar]
        else:
            near = _context(cf, p.start, p.end)
            sims = {ei: _similarity(near, _context(ef, eps[ei].start, eps[ei].end)) for ei in others}
            same_level = {eps[ei].name_norm for ei in others if eps[ei].level == p.level}
            only = len(same_level) == 1 and len({c.name_norm for c in cps if c.level == p.level} - enames) == 1
            rivals = [ei for ei in others if sims[ei] >= min_context or (only and eps[ei].level == p.level)]
        if rivals:
            e = eps[max(rivals, key=lambda ei: (sims[ei], -ei))]
            mismatches.append(Mismatch("place", p.text, e.text, e.start, e.end))
            moved.add(p.name_norm)
    matched = list(dict.fromkeys(p.text for p in cps if p.name_norm in enames and p.name_norm not in moved))
    return mismatches, matched


def _subject_fits(claim: str, c: Quantity, evidence: str, e: Quantity) -> bool:
    """Whether the evidence value's sentence speaks of the claim value's subject (else it is another indicator).

    The subject: the claim's sentence before the value, after its last reporting word (the speaker before 提出 is no
    subject), places, years and numbers left out. The evidence value's sentence must hold half of its bigrams and
    miss no word of four characters or more (three bigrams in a row): ``一般公共预算收入年均增长`` is not
    ``居民人均可支配收入年均分别增长``, ``数字经济占地区生产总值比重`` not ``高新区地区生产总值占全省比重``.
    """
    cf, ef = fold(claim), fold(evidence)
    chars, head = list(cf[: c.start]), cf[: c.start]
    for p in [*extract_places(head), *extract_periods(head), *extract(head)]:
        chars[p.start : p.end] = "|" * (p.end - p.start)
    before = _SENTENCE_BREAK.split("".join(chars))[-1]
    said = list(_REPORTING.finditer(before))
    words = _CONTENT.findall(before[said[-1].end() :] if said else before)
    sentence = _SENTENCE_BREAK.split(ef[: e.start])[-1] + _SENTENCE_BREAK.split(ef[e.start :])[0]
    have = {sentence[i : i + 2] for i in range(len(sentence) - 1)}
    found = [w[i : i + 2] in have for w in words for i in range(len(w) - 1)]
    missing_run = max((len(run) for run in "".join("x" if f else "m" for f in found).split("x")), default=0)
    return not found or (sum(found) / len(found) >= MIN_SUBJECT and missing_run < 3)


def compare(
    claim: str,
    evidence: str,
    *,
    min_overlap: float = DEFAULT_MIN_OVERLAP,
    min_context: float = DEFAULT_MIN_CONTEXT,
    require_all_quantities: bool = True,
) -> Comparison:
    """Compare a claim with the passage retrieved for it.

    Verdict: below ``min_overlap`` → ``unrelated`` (no mismatch is reported against an unrelated passage);
    any mismatch (year, percent, points, amount, count, number, qualifier, place) → ``contradicted``;
    a claim value with no counterpart in the passage → ``unrelated`` when ``require_all_quantities``
    (the passage does not state it); otherwise ``supported``.

    Args:
        claim: The claim as pasted, e.g. ``辽宁计划培育科技型中小企业突破20000家``.
        evidence: The best-matching passage (cleaned document text; offsets point into it).
        min_overlap: Least :func:`overlap` for the passage to count as about the claim.
        min_context: Least context similarity for two values to be counterparts.
        require_all_quantities: Whether every claim value must be found for ``supported``.

    Returns:
        The verdict with mismatches, matched values and a Chinese reason.

    Example:
        ``到2035年,高新技术企业突破10000家`` vs ``到2025年,高新技术企业突破10000家`` →
        ``contradicted``, reason ``数量 超过10000家与文件一致，但年份文件为 2025 年，说法为 2035 年``.
    """
    if not claim.strip() or not evidence.strip():
        return Comparison("unrelated", (), (), "说法或文件为空", 0.0)
    score = overlap(claim, evidence)
    if score < min_overlap:
        return Comparison("unrelated", (), (), f"文件与说法关联度低（重合度 {score:.2f}）", score)
    pairs, unmatched = _align_quantities(claim, evidence, min_context)
    # A differing value counts only when it measures the same thing: its clause must say most of the claim's subject.
    foreign = [(c, e) for c, e in pairs if c.kind != "year" and not values_agree(c, e)
               and not _subject_fits(claim, c, evidence, e)]
    pairs = [p for p in pairs if p not in foreign]
    unmatched = [*unmatched, *(c for c, _ in foreign)]
    if any(q.kind != "year" for q in unmatched) and not any(c.kind != "year" for c, _ in pairs):
        # The passage states none of the claim's values (a note naming the indicator, another indicator): a year or
        # place there says nothing about them.
        missing = "、".join(q.text for q in unmatched if q.kind != "year")
        return Comparison("unrelated", (), (), f"文件未提及说法中的 {missing}", score)
    mismatches: list[Mismatch] = []
    bad: list[str] = []
    good: list[str] = []
    matched: list[str] = []
    for c, e in pairs:
        kind = c.kind if c.kind != e.kind or not values_agree(c, e) else ""
        kind = kind or ("qualifier" if qualifiers_conflict(c, e) else "")
        if kind:
            mismatches.append(Mismatch(kind, c.text, e.text, e.start, e.end))
            bad.append(f"{KIND_LABELS[kind]}文件为 {_display(e)}，说法为 {_display(c)}")
        else:
            matched.append(c.text)
            good.append(f"{KIND_LABELS[c.kind]} {_display(c)}")
    place_bad, place_good = _place_mismatches(claim, evidence, min_context)
    for m in place_bad:
        bad.append(f"地点文件为 {m.document_value}，说法为 {m.claim_value}")
    mismatches.extend(place_bad)
    matched.extend(place_good)
    good.extend(f"地点 {name}" for name in place_good)
    if mismatches:
        prefix = f"{'、'.join(good)}与文件一致，但" if good else ""
        reason = prefix + "；".join(bad)
        return Comparison("contradicted", tuple(mismatches), tuple(matched), reason, score)
    if unmatched and require_all_quantities:
        missing = "、".join(q.text for q in unmatched)
        return Comparison("unrelated", (), tuple(matched), f"文件未提及说法中的 {missing}", score)
    reason = f"与文件一致：{'、'.join(good)}" if good else f"说法内容见于文件（重合度 {score:.2f}）"
    return Comparison("supported", (), tuple(matched), reason, score)


def quote_is_exact(doc_text: str, quote: str, start: int, end: int) -> bool:
    """Say whether ``quote`` is exactly ``doc_text[start:end]`` (citation check; no normalization).

    Example: ``quote_is_exact("新建5G基站6000个以上", "6000个", 6, 11)`` → True; with ``(5, 10)`` → False.
    """
    return bool(quote) and 0 <= start <= end <= len(doc_text) and doc_text[start:end] == quote
