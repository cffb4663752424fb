"""Load, page layout: text pieces with boxes (PDF text runs or OCR lines) become paragraphs in reading order.

Shared by the PDF text layer and OCR. Boxes are ``x0, y0, x1, y1`` with ``y`` growing downwards, in any unit
(points or pixels) as long as one page uses one. Decisions:

* Two columns are read left column first when a vertical gutter near the middle is crossed by no text and text
  sits on both sides of it at the same heights; text that spans the gutter (a title) is read in place.
* A line that runs to the right edge of its column and is followed by a line that is not indented continues
  into that line: the two are one paragraph (``到2025年，全省地区生产总`` + ``值年均增长6%左右。``).
* Running headers and footers are removed: lines at the top or bottom of a page that repeat (digits aside) on
  most pages, and page numbers such as ``- 3 -``, ``第 3 页``, ``3/12``, ``第3页 共12页``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

# A page number line: "- 3 -", "— 12 —", "3", "第 3 页", "第三页", "第3页 共12页", "共12页 第3页", "3/12", "Page 3 of 12".
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–_~·.\s]*\d{1,4}[-—–_~·.\s]*"
    r"|第\s*[\d一二三四五六七八九十百零〇]+\s*页(?:\s*[,，/／]?\s*共\s*\d+\s*页)?"
    r"|共\s*\d+\s*页\s*[,，]?\s*第\s*\d+\s*页"
    r"|\d{1,4}\s*[/／]\s*\d{1,4}"
    r"|page\s*\d+(?:\s*of\s*\d+)?)$",
    re.IGNORECASE,
)
_EDGE_ZONE = 0.12  # headers and footers lie in the top or bottom 12% of the page …
_EDGE_LINES = 2  # … among its first or last two lines
_REPEAT_SHARE = 0.5  # a header repeats on at least half of the pages (and on two at least)


@dataclass(frozen=True)
class Piece:
    """A piece of text with its box; ``confidence`` is the OCR confidence (``None`` for a text layer)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    confidence: float | None = None

    @property
    def height(self) -> float:
        """The box height (about one character)."""
        return max(1e-6, self.y1 - self.y0)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a page: its text and the character-weighted mean OCR confidence of its lines."""

    text: str
    confidence: float | None = None


def page_lines(pieces: Sequence[Piece]) -> list[Piece]:
    """The lines of a page in reading order (columns read one after the other), each merged into one piece."""
    pieces = [p for p in pieces if p.text.strip()]
    if not pieces:
        return []
    gutter = _gutter(pieces)
    if gutter is None:
        return _lines(pieces)
    spanning = _lines([p for p in pieces if p.x0 < gutter < p.x1])
    columns = [p for p in pieces if not p.x0 < gutter < p.x1]
    ordered: list[Piece] = []
    top = -math.inf
    for line in [*spanning, None]:  # bands of two columns between lines that span both
        bottom = math.inf if line is None else _center(line)
        band = [p for p in columns if top <= _center(p) < bottom]
        ordered += _lines([p for p in band if p.x1 <= gutter]) + _lines([p for p in band if p.x0 >= gutter])
        if line is not None:
            ordered.append(line)
            top = bottom
    return ordered


def _center(piece: Piece) -> float:
    return (piece.y0 + piece.y1) / 2


def paragraphs(lines: Sequence[Piece]) -> list[Paragraph]:
    """Lines of one page (in reading order) joined into paragraphs where a line runs on into the next."""
    out: list[Paragraph] = []
    group: list[Piece] = []
    for i, line in enumerate(lines):
        group.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None or not _runs_on(line, nxt, lines):
            out.append(_paragraph(group))
            group = []
    return out


def drop_running_lines(pages: list[list[Piece]], heights: Sequence[float]) -> list[list[Piece]]:
    """Remove running headers, footers and page numbers from the lines of each page.

    Args:
        pages: Each page's lines in reading order.
        heights: Each page's height, in the unit of its boxes.

    Returns:
        The pages without those lines. ``辽宁省人民政府文件`` at the top of every page goes, and so does ``- 3 -``.
    """
    edges = [_edge_lines(lines, height) for lines, height in zip(pages, heights, strict=True)]
    counts: dict[str, int] = {}
    for page in edges:
        for key in {_key(line.text) for line in page}:
            counts[key] = counts.get(key, 0) + 1
    needed = max(2, math.ceil(_REPEAT_SHARE * len(pages)))
    kept = []
    for lines, page_edges in zip(pages, edges, strict=True):
        drop = {id(line) for line in page_edges
                if counts[_key(line.text)] >= needed or _PAGE_NUMBER.match(line.text.strip())}
        kept.append([line for line in lines if id(line) not in drop])
    return kept


def _edge_lines(lines: list[Piece], height: float) -> list[Piece]:
    by_top = sorted(lines, key=lambda line: line.y0)
    top = [line for line in by_top[:_EDGE_LINES] if line.y1 <= _EDGE_ZONE * height]
    bottom = [line for line in by_top[-_EDGE_LINES:] if line.y0 >= (1 - _EDGE_ZONE) * height]
    return top + [line for line in bottom if line not in top]


def _key(text: str) -> str:
    """A line's identity across pages: ``第 3 页 共 12 页`` and ``第 4 页 共 12 页`` are the same line."""
    return re.sub(r"\d+", "#", "".join(text.split()))


def _lines(pieces: Sequence[Piece]) -> list[Piece]:
    """Pieces grouped into lines (top to bottom), each line's pieces joined left to right."""
    lines: list[list[Piece]] = []
    for piece in sorted(pieces, key=_center):
        if lines and _same_line(lines[-1], piece):
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return [_merge(sorted(line, key=lambda p: p.x0)) for line in lines]


def _same_line(line: list[Piece], piece: Piece) -> bool:
    top, bottom = min(p.y0 for p in line), max(p.y1 for p in line)
    overlap = min(bottom, piece.y1) - max(top, piece.y0)
    return overlap >= 0.5 * min(bottom - top, piece.height)


def _merge(pieces: list[Piece]) -> Piece:
    text = pieces[0].text.strip()
    for left, right in itertools.pairwise(pieces):
        gap = right.x0 - left.x1
        text += (" " if gap > 0.6 * min(left.height, right.height) else _glue(text, right.text)) + right.text.strip()
    return Piece(text, min(p.x0 for p in pieces), min(p.y0 for p in pieces), max(p.x1 for p in pieces),
                 max(p.y1 for p in pieces), _mean_confidence(pieces))


def _glue(left: str, right: str) -> str:
    """What joins two pieces of one line or paragraph: a space between Latin words or numbers, else nothing."""
    return " " if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() and right[:1].isalnum() else ""


def _mean_confidence(pieces: Sequence[Piece]) -> float | None:
    scored = [(p.confidence, len(p.text)) for p in pieces if p.confidence is not None]
    weight = sum(n for _, n in scored)
    return sum(c * n for c, n in scored) / weight if weight else None


def _gutter(pieces: Sequence[Piece]) -> float | None:
    """The x of a vertical gap between two text columns, or ``None`` for a one-column page.

    The gutter is the x in the middle 40% of the text that the fewest pieces cross; it counts when at most one
    piece in ten crosses it (titles across the page) and at least three pairs of column-wide pieces (each over
    30% of the text width, unlike table cells) stand side by side across it.
    """
    left_edge, right_edge = min(p.x0 for p in pieces), max(p.x1 for p in pieces)
    width = right_edge - left_edge
    candidates = [left_edge + width * (30 + k) / 100 for k in range(41)]
    crossings = [sum(p.x0 < x < p.x1 for p in pieces) for x in candidates]
    fewest = min(crossings)
    if fewest > max(1, len(pieces) // 10):
        return None
    run = [x for x, n in zip(candidates, crossings, strict=True) if n == fewest]
    x = run[len(run) // 2]
    wide = [p for p in pieces if p.x1 - p.x0 >= 0.3 * width and not p.x0 < x < p.x1]
    left, right = [p for p in wide if p.x1 <= x], [p for p in wide if p.x0 >= x]
    beside = sum(any(min(a.y1, b.y1) - max(a.y0, b.y0) > 0 for b in right) for a in left)
    return x if beside >= 3 else None


def _runs_on(line: Piece, nxt: Piece, lines: Sequence[Piece]) -> bool:
    """Whether ``line`` is wrapped into ``nxt``: it reaches its column's right edge and ``nxt`` is not indented.

    ``nxt`` follows right below, or opens the next column (higher up, to the right): a sentence runs on from
    the foot of the left column to the head of the right one.
    """
    column, next_column = _column(line, lines), _column(nxt, lines)
    right, left = max(other.x1 for other in column), min(other.x0 for other in next_column)
    h = line.height
    below = 0 <= nxt.y0 - line.y1 <= 1.5 * h
    next_top = nxt.y0 < line.y0 and nxt.x0 >= line.x1 - h
    return (
        line.x1 >= right - 1.5 * h
        and sum(other.x1 >= right - 1.5 * h for other in column) >= 2
        and nxt.x0 <= left + 0.8 * h
        and (below or next_top)
        and abs(nxt.height - h) <= 0.3 * h
    )


def _column(line: Piece, lines: Sequence[Piece]) -> list[Piece]:
    """The lines that lie mostly within ``line``'s horizontal extent: its column, without titles that span columns."""
    return [other for other in lines
            if min(other.x1, line.x1) - max(other.x0, line.x0) >= 0.5 * (other.x1 - other.x0)]


def _paragraph(lines: list[Piece]) -> Paragraph:
    text = lines[0].text
    for line in lines[1:]:
        text += _glue(text, line.text) + line.text
    return Paragraph(text, _mean_confidence(lines))
