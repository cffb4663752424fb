"""Meaning: contradictions that keep the numbers — negation, modality, direction, and statements marked as false.

A claim and its best-matching sentence are aligned character by character (:class:`difflib.SequenceMatcher` on the
folded texts); what differs around the shared words decides:

- **polarity**: the words only one side has carry a different parity of negation (``不再推进`` vs ``全面推进``;
  ``允许建设`` vs ``严禁…建设``; ``可以不为`` vs ``必须为``);
- **direction**: one side goes up where the other goes down (``上升12%`` vs ``下降12%``; ``收紧`` vs ``放宽``);
- **false statement**: the sentence repeats a rumour that its paragraph calls false (``网传“…”。经核实，该信息不实``);
  a claim that agrees with it is contradicted, one that denies it is supported.

Pure functions, no model. A negation word inside the shared words (``好不好办``) is common to both and cancels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

from ..text.quantities import fold

# Words that negate or forbid what follows, longest first: matches "不再" in "不再推进", "严禁", "未", "无需", "并非";
# a bare 非 is a prefix of a noun (非医疗费用, 非法集资), not a negation of the statement.
_NEGATIVE = re.compile(
    r"不再|不予|不得|不准|不许|不能|不可|不允许|不需要?|不必|不用|不存在|不是|不会|不要|不应|没有|禁止|严禁|杜绝|停止|取消|暂停|终止|废止|撤销|"
    # Stopping or putting off a named activity (停办 an event, 停建 a project, 暂缓 a reform, 搁置 a plan).
    r"停办|停建|停用|停运|停产|停售|停发|暂缓|缓建|缓办|搁置|"
    r"放弃|拒绝|否认|无需|无须|限制|遏制|抑制|严控|防止|放开|解除|打破|破除|叫停|取缔|中止|并非|绝非|而非|决非|不|未|无|免"
)
# Words of modality among them (must, may, must not): a conflict between them is reported as ``modality``.
_MODAL = re.compile(
    r"必须|应当|务必|须|可以|允许|鼓励|准许|自愿|禁止|严禁|不得|不准|不许|不能|不可|无需|无须|不需要?|不必|不用|限制")
# Negation characters that start words which are not negations: 不断 (keep on), 不少于 (at least), 无人机, 非常.
_NOT_NEGATIVE = re.compile(
    r"不断|不少于?|不低于|不高于|不超过|不多于|不足|不仅|不同|不良|不平衡|不充分|不稳定|不确定|不动产|不适应|不懈|不久|"
    r"无人|无障碍|无缝|无线|无偿|无论|非常|非遗|非公|非物质|非化石|非禁即入|未来|免费|免疫|免税|免检|以免|避免|不变"
)
# Words that permit or push forward: they take the positive side against a negative one (允许 vs 严禁).
_UP = re.compile(r"增长|增加|提高|提升|上升|扩大|加大|放宽|增强|上调|升高|增多|拓宽|扩张|翻番|提速|加快|上涨|加强|提前|增|涨|升")
_DOWN = re.compile(r"下降|减少|降低|下调|缩小|收紧|压减|压缩|缩减|下滑|放缓|削减|减弱|紧缩|下跌|减缓|弱化|推迟|延后|降|减|缩|跌")
# Modal classes: what must be done against what may be done (a change between them is a contradiction of modality).
_MUST = re.compile(r"必须|应当|务必|一律|强制|须")
_MAY = re.compile(r"可以|允许|准许|自愿|鼓励|提倡|酌情")
# Words that start with a modal character but are none: 应用, 应急, 可能, 可持续, 须知, 供应 (after 供).
_NOT_MODAL = re.compile(r"应用|应急|应对|应该说|可能|可持续|可靠|可视|可行|可控|可再生|可比|可及|可支配|须知")
_UP_DOWN_WORDS = re.compile(_UP.pattern + "|" + _DOWN.pattern)
# A rumour quoted by a refutation: matches "网传“…”" (the quoted text is group 1).
_RUMOUR = re.compile(r"(?:网传|传言|网上流传|有消息称|有传言称|有说法称)[:：]?[“\"「](.+?)[”\"」]")
# A refutation's heading naming the statement: matches "关于“职工医保个人账户余额年底清零”的说法".
_HEADING_RUMOUR = re.compile(r"关于[“\"「](.+?)[”\"」]的(?:说法|传言|谣言|信息|消息)")
# Words that call a statement false: "该信息不实", "谣言", "不属实".
_FALSE = re.compile(r"不实|谣言|不属实|虚假|失实|并非如此|没有依据|子虚乌有")
_CLAUSE = re.compile(r"[,;。!?，；。！？:：]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# Where what a negation negates ends: a clause or list break, a closing quote ("不是用来炒的”定位" → "用来炒的").
_NEGATED_END = re.compile(r"[,;。!?，；。！？:：、”」』\"]")
_CLOSING = {"”": "“", "」": "「", "』": "『"}  # closing quote → its opening quote
# Where the words before a sentence's first shared word stop: a clause or list break ("、" in "不可为、法定职责").
_LEAD_BREAK = re.compile(r"[,;。!?，；。！？:：、]")
# Reporting frames of a claim that a document never repeats: "辽宁规划提出", "2024年政府工作报告要求".
_FRAME = re.compile(r"^.{0,24}?(?:规划|纲要|报告|文章|文件|通知|意见|方案)(?:中|里)?(?:明确|提出|要求|指出|强调|主张|预期|规定)?")


@dataclass(frozen=True)
class MeaningConflict:
    """How a claim's meaning differs from a sentence: ``kind`` is ``polarity``, ``direction`` or ``false_statement``.

    ``claim_word``/``document_word`` are the differing words; ``start``/``end`` locate ``document_word`` in the
    sentence (``-1`` when the sentence as a whole is the point, as for a rumour).
    """

    kind: str
    claim_word: str
    document_word: str
    start: int
    end: int


def _negatives(text: str) -> list[re.Match[str]]:
    """Negation words of ``text`` that really negate (``不断`` and ``不少于`` do not)."""
    blocked = [(m.start(), m.end()) for m in _NOT_NEGATIVE.finditer(text)]
    return [m for m in _NEGATIVE.finditer(text) if not any(s <= m.start() < e for s, e in blocked)]


def _direction(text: str) -> tuple[int, str]:
    """+1 for the first rising word of ``text``, -1 for a falling one, 0 when none (with the word).

    A negation right before the word turns it round (``不减少`` rises).

    Example: ``上升`` → (1, "上升"); ``压减`` → (-1, "压减"); ``只增不减`` → (1, "增"); ``推进`` → (0, "").
    """
    m = _UP_DOWN_WORDS.search(text)
    if not m:
        return 0, ""
    sign = 1 if _UP.fullmatch(m.group()) else -1
    if re.search(r"(?:不|未|没有|无)$", text[max(0, m.start() - 2) : m.start()]):
        sign = -sign
    return sign, m.group()


def _modal(text: str) -> tuple[str, str] | None:
    """``("must", word)`` or ``("may", word)`` for the first modal word of ``text`` not negated; ``None`` otherwise.

    Example: ``必须先回参保地审批`` → ("must", "必须"); ``可以线上办理`` → ("may", "可以"); ``不可`` → None.
    """
    for pattern, kind in ((_MUST, "must"), (_MAY, "may")):
        for m in pattern.finditer(text):
            if not re.search(r"(?:不|未|无)$", text[max(0, m.start() - 1) : m.start()]) and not _NOT_MODAL.match(text, m.start()):
                return kind, m.group()
    return None


def _segments(claim: str, sentence: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int]:
    """Spans only the claim has and spans only the sentence has, next to the shared words; and the shared length.

    Of each gap between shared words only the part after its last clause break counts (the words that modify the
    next shared word: ``可以不`` in ``…改造可以不经居民同意``; not a whole clause the other side lacks), and of a long
    gap in the sentence only its last 6 characters; before the first shared word the same within 6 characters of the
    sentence, after the last one up to the next clause break.
    """
    matcher = SequenceMatcher(None, claim, sentence, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size >= 2]
    if not blocks:
        return [], [], 0

    def near(text: str, start: int, end: int) -> tuple[int, int]:
        breaks = [m.end() for m in _LEAD_BREAK.finditer(text, start, end)]
        return (breaks[-1] if breaks else start), end

    first, last = blocks[0], blocks[-1]
    claim_only = [near(claim, 0, first.a)]
    sentence_only = [near(sentence, max(0, first.b - 6), first.b)]
    for prev, nxt in pairwise(blocks):
        claim_only.append(near(claim, prev.a + prev.size, nxt.a))
        gap_start = prev.b + prev.size
        sentence_only.append(near(sentence, gap_start if nxt.b - gap_start <= 24 else nxt.b - 6, nxt.b))
    for text, end, out, reach in ((claim, last.a + last.size, claim_only, len(claim)),
                                  (sentence, last.b + last.size, sentence_only, 6)):
        tail = _LEAD_BREAK.search(text, end)
        out.append((end, min(tail.start() if tail else len(text), end + reach)))
    return claim_only, sentence_only, sum(b.size for b in blocks)


def _words(text: str, spans: list[tuple[int, int]]) -> str:
    return "|".join(text[s:e] for s, e in spans if e > s)


def _own_negatives(text: str, spans: list[tuple[int, int]], other: str) -> list[str]:
    """Negation words in ``spans`` of ``text`` that ``other`` does not also say with the same next character.

    A negation counts only when ``other`` speaks of what it negates: at least half of the bigrams from it to the end
    of its clause. ``…房子是用来住的,不是用来炒的”定位`` against ``房子是用来住的定位``: ``不是`` negates ``用来炒的``,
    which the claim does not say, so the two agree.
    """
    found = []
    grams = {other[i : i + 2] for i in range(len(other) - 1)}
    for start, end in spans:
        # One character past the span: a negating verb may end in a character both sides share (停办 vs 举办).
        for m in _negatives(text[start : end + 1]):
            if m.start() >= end - start:
                continue
            if text[start + m.start() : start + m.end() + 1] in other:
                continue
            after = start + m.end()
            stop = _NEGATED_END.search(text, after)
            # A quote opened after the negation is part of what it negates (不需要依据“十四五”规划纲要编制): read on.
            while stop and stop.group() in _CLOSING and _CLOSING[stop.group()] in text[after : stop.start()]:
                stop = _NEGATED_END.search(text, stop.end())
            negated = [g for run in _CJK_RUN.findall(text[after : stop.start() if stop else len(text)])
                       for g in (run[i : i + 2] for i in range(len(run) - 1))]
            if not negated or sum(g in grams for g in negated) * 2 >= len(negated):
                found.append(m.group())
    return found


def _first(pattern: re.Pattern[str], text: str) -> str:
    m = pattern.search(text)
    return m.group() if m else ""


def heading_rumour(section_path: tuple[str, ...], text: str) -> str:
    """The statement a refutation's heading names (``关于“X”的说法``) when the text under it calls it false.

    Example: ``("二、关于“职工医保个人账户余额年底清零”的说法",)`` over ``…经核实，该信息不实…`` →
    ``职工医保个人账户余额年底清零``.
    """
    if not _FALSE.search(fold(text)):
        return ""
    for heading in reversed(section_path):
        m = _HEADING_RUMOUR.search(fold(heading))
        if m:
            return m.group(1)
    return ""


def rumour_of(sentence: str, paragraph: str) -> str:
    """The rumour a sentence quotes when its paragraph calls it false ("" otherwise).

    Example: ``网传“成都市从2024年起取消划片入学”。`` in a paragraph with ``经核实，该信息不实`` →
    ``成都市从2024年起取消划片入学``.
    """
    m = _RUMOUR.search(fold(sentence))
    return m.group(1) if m and _FALSE.search(fold(paragraph)) else ""


def compare_meaning(claim: str, sentence: str, paragraph: str = "") -> MeaningConflict | None:
    """A conflict of meaning between a claim and the sentence that states the same thing, or ``None``.

    Args:
        claim: The claim as pasted.
        sentence: The document sentence that matches the claim best (offsets of the result point into it).
        paragraph: The sentence's paragraph (to see whether it calls a quoted rumour false).

    Returns:
        The conflict, or ``None`` when polarity and direction agree.

    Example: ``辽宁“十四五”期间不再推进农村清洁取暖`` vs ``全面推進農村地區清潔取暖`` → ``MeaningConflict("polarity",
    "不再", "", …)``; ``辽宁规划不得建设高耗煤项目`` vs ``嚴禁高耗煤項目建設`` → None.
    """
    c = _FRAME.sub("", fold(claim))
    s = fold(sentence)
    rumour = rumour_of(sentence, paragraph or sentence)
    if rumour:
        inner = compare_meaning(claim, rumour)
        if inner is None:  # the claim says what the document calls false
            return MeaningConflict("false_statement", claim, sentence, -1, -1)
        return None  # the claim denies the rumour: not a contradiction of the document
    claim_only, sentence_only, shared = _segments(c, s)
    if shared < 4:
        return None
    c_words, s_words = _words(c, claim_only), _words(s, sentence_only)
    # A negation both sides say (in another order) cancels: 不用完 in the claim and in the sentence.
    c_neg = _own_negatives(c, claim_only, s)
    s_neg = _own_negatives(s, sentence_only, c)
    if len(c_neg) % 2 != len(s_neg) % 2:
        c_word = (c_neg[0] if c_neg else "") or _first(_MODAL, c_words)
        s_word = (s_neg[0] if s_neg else "") or _first(_MODAL, s_words)
        kind = "modality" if _MODAL.search(c_words) or _MODAL.search(s_words) else "polarity"
        at = s.find(s_word, sentence_only[0][0]) if s_word else -1
        return MeaningConflict(kind, c_word, s_word, at, at + len(s_word) if at >= 0 else -1)
    c_modal, s_modal = _modal(c_words), _modal(s_words)
    if c_modal and s_modal and c_modal[0] != s_modal[0]:
        at = s.find(s_modal[1], sentence_only[0][0])
        return MeaningConflict("modality", c_modal[1], s_modal[1], at, at + len(s_modal[1]))
    c_dir, c_word = _direction(c_words)
    s_dir, s_word = _direction(s_words)
    if c_dir and s_dir and c_dir != s_dir:
        at = s.find(s_word, sentence_only[0][0])
        return MeaningConflict("direction", c_word, s_word, at, at + len(s_word))
    return None
