"""Relevance: which retrieved chunks hold an item's gold evidence (the rule the eval judges retrieval by)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from ..ingest.clean import strip_pinyin
from ..text.script import normalize

RELEVANCE_RULE = (
    "A retrieved chunk is relevant to an item when its text, keyed as normalize(strip_pinyin(text)) with all "
    "whitespace removed, contains the gold evidence keyed the same way; or, when the evidence spans a chunk "
    "boundary, when the chunk covers at least half of the keyed evidence: the chunk ends with a prefix, or starts "
    "with a suffix, of the evidence that is at least ceil(len/2) characters long (or lies inside the evidence and is "
    "at least that long). Multi items: each evidence piece has its own relevant chunks; a chunk relevant to any "
    "piece is relevant to the item. External sets: a passage is relevant when its id is a gold passage id, and it "
    "ranks where its best chunk ranks."
)

_SPACE = re.compile(r"\s+")


def match_key(text: str) -> str:
    """Text made comparable for the relevance rule: pinyin readings dropped, normalized, every whitespace removed.

    Example: ``壯(zhuàng)大 經濟 實力`` → ``壮大经济实力``.
    """
    return _SPACE.sub("", normalize(strip_pinyin(text)))


def covers(chunk_key: str, evidence_key: str) -> bool:
    """Whether a keyed chunk holds the keyed evidence, or at least half of it across a chunk boundary.

    Examples (keys): ``("甲乙丙丁戊", "乙丙")`` → True (contained); ``("甲乙丙丁", "丙丁戊己")`` → True (the chunk
    ends with the prefix ``丙丁``, half the evidence); ``("甲乙丙", "丙丁戊己")`` → False (only a quarter).
    """
    if not evidence_key or not chunk_key:
        return False
    if evidence_key in chunk_key:
        return True
    need = math.ceil(len(evidence_key) / 2)
    if len(chunk_key) >= need and chunk_key in evidence_key:
        return True
    # Cheap pre-checks: a covering prefix/suffix of length >= need contains the first/last `need` characters.
    if evidence_key[:need] in chunk_key:
        for length in range(len(evidence_key) - 1, need - 1, -1):
            if chunk_key.endswith(evidence_key[:length]):
                return True
    if evidence_key[-need:] in chunk_key:
        for length in range(len(evidence_key) - 1, need - 1, -1):
            if chunk_key.startswith(evidence_key[-length:]):
                return True
    return False


def relevant_sets(chunk_keys: Mapping[str, str], evidence: Sequence[str]) -> list[set[str]]:
    """The relevant chunk ids of each evidence piece.

    Args:
        chunk_keys: Chunk id → :func:`match_key` of its text (the whole corpus, so nDCG knows all relevant chunks).
        evidence: The item's evidence pieces (raw, as in the eval set).

    Returns:
        One set of chunk ids per piece, in the pieces' order (empty when no chunk holds the piece).
    """
    pieces = [match_key(piece) for piece in evidence if piece]
    return [{cid for cid, key in chunk_keys.items() if covers(key, piece)} for piece in pieces]
