"""Sentences: where a text's sentences start and end, and the sentences of a chunk that can answer a question.

The answer step scores these sentences (:mod:`assistant.answers.evidence`) and the index stores one embedding per
answerable sentence (:mod:`assistant.search.sentences`); both cut them here, so a stored vector is found again by its
chunk id and start offset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from .script import normalize

__all__ = ["MIN_SENTENCE_CHARS", "answerable_sentences", "sentence_norm", "sentence_spans"]

# A sentence end in either width, with closing quotes: "。", "；", "!”". Newlines also end a sentence.
_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』)）\"']*|\n+")
MIN_SENTENCE_CHARS = 6  # shorter sentences ("二是", "目标") never answer a question

# Sentences of retrieved chunks come back question after question; their normal form is remembered.
sentence_norm = lru_cache(maxsize=8192)(normalize)


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    r"""Sentence spans of ``text`` shifted by ``offset``, surrounding whitespace trimmed.

    Example: ``"第三節 建設教育強省\\n\\n推進…。加快…。"`` → three spans (heading line, two sentences).
    """
    spans, position = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end() if match.group()[0] != "\n" else match.start()
        piece = text[position:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((offset + position + lead, offset + position + len(piece.rstrip())))
        position = match.end()
    if text[position:].strip():
        piece = text[position:]
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + position + lead, offset + position + len(piece.rstrip())))
    return spans


def answerable_sentences(text: str, start: int, section_path: Sequence[str]) -> list[tuple[int, int, str]]:
    r"""The sentences of a chunk's text that may answer: ``(start, end, normal form)``, offsets in the document.

    A section's own heading line and sentences under :data:`MIN_SENTENCE_CHARS` characters are left out.

    Example: ``"第一節 目標\n到2025年，數字經濟占比達到45%。"`` at 100 under ``("第一節 目標",)`` →
    ``[(107, 126, "到2025年,数字经济占比达到45%。")]``.
    """
    out = []
    for first, last in sentence_spans(text, start):
        raw = text[first - start : last - start]
        norm = sentence_norm(raw)
        if len(norm) >= MIN_SENTENCE_CHARS and raw.strip() not in section_path:
            out.append((first, last, norm))
    return out
