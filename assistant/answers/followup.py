"""Follow-up questions: turn an elliptical question ("那沈阳呢？") into a full one using the conversation."""

from __future__ import annotations

import re

from ..text.places import extract_places
from ..text.script import normalize

# An elliptical follow-up: "那沈阳呢？", "大连呢", "那么2035年呢?", "还有呢", "what about Dalian?".
_ELLIPTICAL = re.compile(r"^(?:那么?|那|还有|另外|and |what about )?(.{0,12}?)(?:呢|怎么样|如何)?[?？。!！]*$", re.I)
_FOLLOWUP_MARK = re.compile(r"^(?:那么?|还有|另外)|呢[?？。!！]*$|^what about|^and ", re.I)
# A year: "2035年", "二〇三五年".
_YEAR = re.compile(r"(?:19|20)\d{2}年|[〇零一二三四五六七八九]{4}年")


def resolve_followup(question: str, history: list[str]) -> str:
    """Complete a follow-up question from the previous question of the conversation.

    Args:
        question: The new question.
        history: Earlier user questions, oldest first.

    Returns:
        The question itself when it stands alone; otherwise the previous question with the new place or year
        swapped in, or the previous question followed by the new one.

    Example: history ``["辽宁到2025年数字经济要占多少？"]`` and ``"那沈阳呢？"`` → ``"沈阳到2025年数字经济要占多少？"``.
    """
    question = question.strip()
    if not history or not question:
        return question
    previous = history[-1].strip()
    norm = normalize(question)
    if not (_FOLLOWUP_MARK.search(norm) and len(norm) <= 16):
        return question
    new_places = extract_places(question)
    old_places = extract_places(previous)
    if new_places and old_places:
        old = old_places[0]
        return previous[: old.start] + new_places[0].text + previous[old.end :]
    new_year, old_year = _YEAR.search(question), _YEAR.search(previous)
    if new_year and old_year:
        return previous[: old_year.start()] + new_year.group() + previous[old_year.end() :]
    match = _ELLIPTICAL.match(norm)
    topic = match.group(1) if match else norm
    return f"{previous} {topic}".strip()
