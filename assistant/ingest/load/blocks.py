"""Load, assembly: a document's blocks become normalized text plus the offsets of pages, headings, notes and OCR."""

from __future__ import annotations

from ...types import LoadedText
from .text import normalize

_TEXT_LAYER = None  # the confidence of text that was not read by OCR


class Blocks:
    r"""A loaded document under construction: blocks are added in reading order; offsets are recorded as they land.

    Each block is normalized on its own (line endings, trailing spaces, blank-line runs), so the final text needs
    no normalization that would move an offset. Example: ``page()``, ``add("第一章 总则", level=1)``,
    ``page()``, ``add("第一条 …")`` → text ``"第一章 总则\n\n第一条 …"``, page starts ``(0, 8)``, headings
    ``((0, 1),)``.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self._pending_pages = 0
        self.page_starts: list[int] = []
        self.ocr_marks: list[tuple[int, float | None]] = []
        self.headings: list[tuple[int, int]] = []
        self.notes: list[int] = []
        self.problems: list[str] = []

    def page(self) -> None:
        """Start a new page: it begins where the next block lands (an empty page begins where the next one does)."""
        self._pending_pages += 1

    def add(self, text: str, *, sep: str = "\n\n", level: int = 0, note: bool = False,
            confidence: float | None = _TEXT_LAYER) -> None:
        r"""Append a block (a paragraph, a table's rows, a page's lines).

        Args:
            text: The block's text; an empty or blank block is skipped.
            sep: What separates it from the block before (``"\\n"`` for lines of one page).
            level: Its heading level (1..9) when the file marks it as a heading, else 0.
            note: Whether it is a footnote.
            confidence: Its mean OCR confidence, or ``None`` for text from a text layer.
        """
        block = normalize(text)
        if not block.strip():
            return
        if self._parts:
            self._parts.append(sep if not self._pending_pages else "\n\n")
            self._length += len(self._parts[-1])
        offset = self._length
        self.page_starts += [offset] * self._pending_pages
        self._pending_pages = 0
        if not self.ocr_marks or self.ocr_marks[-1][1] != confidence:
            self.ocr_marks.append((offset, confidence))
        if level:
            self.headings.append((offset, level))
        if note:
            self.notes.append(offset)
        self._parts.append(block)
        self._length += len(block)

    def build(self) -> LoadedText:
        """The loaded text with its offsets; OCR marks only when some text was read by OCR."""
        text = "".join(self._parts)
        page_starts = [*self.page_starts, *[len(text)] * self._pending_pages]
        if page_starts:
            page_starts[0] = 0
        ocr = any(confidence is not None for _, confidence in self.ocr_marks)
        return LoadedText(
            text=text,
            page_starts=tuple(page_starts),
            ocr_marks=tuple(self.ocr_marks) if ocr else (),
            headings=tuple(self.headings),
            notes=tuple(self.notes),
            problems=tuple(self.problems),
        )
