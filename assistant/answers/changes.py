"""Changes: a value that a text changes into another (``由1000元调整为800元``), for aligning claim and document values.

A notice that changes several values in one sentence (``在职职工…由1000元调整为800元，退休人员由700元调整为500元``)
pairs each old value with its new one; a claim that states one such change (``退休人员…由700元调整为500元``) speaks of
the change whose two values it repeats, whatever the words just before them.
"""

from __future__ import annotations

import re
from itertools import pairwise

from ..text.quantities import Quantity, values_agree

# The words between the old and the new value of a change (after folding): matches "调整为" in "由1000元调整为800元",
# "提高到", "降至", "改为", "下调为".
_CHANGE = re.compile(r"^(?:调整|改|提高|提升|增加|降低|下调|上调|下降|减少|增长|提|降|变更|变)(?:为|到|至)$")


def changes(folded: str, quantities: list[Quantity]) -> list[tuple[int, int]]:
    """Index pairs ``(old, new)`` of the quantities a text changes: ``由A调整为B``, ``从A提高到B``.

    Example: ``退休人员由700元调整为500元`` → ``[(0, 1)]``; ``在职职工为6000元`` → ``[]``.
    """
    found = []
    for i, (old, new) in enumerate(pairwise(quantities)):
        if old.kind == "year" or new.kind == "year":
            continue
        if folded[max(0, old.start - 1) : old.start] in ("由", "从") and _CHANGE.match(folded[old.end : new.start]):
            found.append((i, i + 1))
    return found


def paired_changes(claim_folded: str, evidence_folded: str, claim_qs: list[Quantity],
                   evidence_qs: list[Quantity]) -> dict[int, int]:
    """Claim value → evidence value (indexes) for each change of the claim that a change of the document repeats.

    The document's change with both values equal wins, else one with one value equal.

    Example: claim ``退休人员由700元调整为500元`` against ``在职职工由1000元调整为800元，退休人员由700元调整为500元``
    → ``{0: 2, 1: 3}`` (700 with 700, not with 1000).
    """
    pairs: dict[int, int] = {}
    document = changes(evidence_folded, evidence_qs)
    for c_old, c_new in changes(claim_folded, claim_qs):
        agree = [(values_agree(claim_qs[c_old], evidence_qs[e_old]) + values_agree(claim_qs[c_new], evidence_qs[e_new]),
                  -n, e_old, e_new) for n, (e_old, e_new) in enumerate(document)]
        best = max(agree, default=None)
        if best and best[0]:  # both values repeated, else one of them (由700元调整为600元: the 700元 change)
            pairs.update({c_old: best[2], c_new: best[3]})
    return pairs
