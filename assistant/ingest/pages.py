"""Pages: which pages and which OCR confidence a span of a cleaned document has (chunks and citations)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from ..types import Citation, DocumentInfo

Marks = Sequence[tuple[int, float | None]]


def page_at(page_starts: Sequence[int], offset: int) -> int | None:
    """The 1-based page holding ``offset``, or ``None`` for a source without pages.

    Example: page starts ``(0, 120, 260)``: offset 0 → 1, 119 → 1, 120 → 2, 900 → 3; ``()`` → ``None``.
    """
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, offset))


def page_span(page_starts: Sequence[int], start: int, end: int) -> tuple[int | None, int | None]:
    """First and last page of ``text[start:end]``: with page starts ``(0, 120)``, span 100..130 → ``(1, 2)``."""
    if not page_starts:
        return None, None
    return page_at(page_starts, start), page_at(page_starts, max(start, end - 1))


def span_confidence(marks: Marks, start: int, end: int) -> float | None:
    """Mean OCR confidence of the OCR'd characters of ``text[start:end]``, weighted by characters.

    ``None`` when no character of the span was read by OCR. Example: marks ``((0, None), (50, 0.9), (80, 0.6))``,
    span 40..90 → characters 50..80 at 0.9 and 80..90 at 0.6 → ``(30 * 0.9 + 10 * 0.6) / 40 = 0.825``.
    """
    if not marks or end <= start:
        return None
    total = weight = 0.0
    offsets = [offset for offset, _ in marks]
    first = max(0, bisect.bisect_right(offsets, start) - 1)
    for i in range(first, len(marks)):
        lo = max(start, marks[i][0])
        hi = min(end, marks[i + 1][0] if i + 1 < len(marks) else end)
        if lo >= end:
            break
        confidence = marks[i][1]
        if confidence is not None and hi > lo:
            total += confidence * (hi - lo)
            weight += hi - lo
    return round(total / weight, 4) if weight else None


def locate_citation(citation: Citation, info: DocumentInfo | None, min_confidence: float) -> Citation:
    """The citation with the pages and OCR confidence of its quote itself (not of its whole chunk).

    Args:
        citation: A citation whose ``start``/``end`` point into the cleaned document.
        info: The cited document (its page starts and OCR marks); ``None`` leaves the citation as it is.
        min_confidence: OCR confidence below which the quote is flagged ``low_confidence``.

    Returns:
        A quote at offset 130 of a document whose page 2 begins at 120 → ``page_start=2, page_offset=120``.
    """
    if info is None:
        return citation
    first, last = page_span(info.page_starts, citation.start, citation.end)
    confidence = span_confidence(info.ocr_marks, citation.start, citation.end)
    return replace(
        citation,
        page_start=first,
        page_end=last,
        page_offset=None if first is None else info.page_starts[first - 1],
        ocr_confidence=confidence,
        low_confidence=confidence is not None and confidence < min_confidence,
    )
