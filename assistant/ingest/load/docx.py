"""Load, Word: paragraphs and tables of a .docx in document order, headings from styles, footnotes as notes.

Headings: a paragraph whose style (or a style it is based on) is ``Heading n`` / ``标题 n``, or that has an outline
level (its own or its style's), is a heading of level n; the structure stage uses these levels alongside the
第X章 patterns. Tables keep their rows (``a | b`` lines). A footnote becomes a note paragraph
(``注①：数据来源：…``) right after the paragraph that cites it, so it stays in that paragraph's section; the
citing paragraph keeps the circled number where the reference mark was.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ...errors import UnreadableDocumentError
from ...types import LoadedText
from .blocks import Blocks

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
# A heading style name: "Heading 2", "heading 2", "标题 2", "标题2".
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


class _Block(NamedTuple):
    text: str
    level: int = 0  # heading level, 0 for body text
    notes: tuple[str, ...] = ()  # ids of the footnotes the paragraph cites


def read_docx(data: bytes, path: Path) -> LoadedText:
    """Paragraphs and tables of a .docx in document order; table rows become ``a | b`` lines.

    Args:
        data: The file's bytes.
        path: The file (named in messages).

    Returns:
        The text with heading levels from styles and outline levels, and footnote paragraphs as notes.

    Raises:
        UnreadableDocumentError: The file is not a readable .docx.
    """
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        footnotes = _footnotes(document)
        items = list(_docx_blocks(document.element.body, document))
    except Exception as exc:  # python-docx raises zipfile, KeyError, lxml and its own errors on corrupt files
        raise UnreadableDocumentError(
            f"{path} is not a readable .docx file ({type(exc).__name__}: {exc}). Re-save it as .docx from Word or WPS."
        ) from exc
    blocks = Blocks()
    numbers: dict[str, int] = {}
    for item in items:
        text = item.text
        for note_id in item.notes:
            numbers.setdefault(note_id, len(numbers) + 1)
            text = text.replace(f"\x00{note_id}\x00", _mark(numbers[note_id]))
        blocks.add(text, level=item.level)
        for note_id in item.notes:
            if footnotes.get(note_id):
                blocks.add(f"注{_mark(numbers[note_id])}：{footnotes[note_id]}", note=True)
    return blocks.build()


def _mark(number: int) -> str:
    """A footnote mark: 1 → ``①`` … 20 → ``⑳``, then ``(21)``."""
    return _CIRCLED[number - 1] if number <= len(_CIRCLED) else f"({number})"


def _docx_blocks(container: Any, document: Any) -> Iterator[_Block]:
    """The paragraphs and tables directly in ``container`` (XML order, so tables stay in place)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for element in container.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(element, document)
            text, notes = _paragraph_text(paragraph)
            yield _Block(text, _heading_level(paragraph), notes)
        elif tag == "tbl":
            yield _Block(_docx_table(Table(element, document)))
        elif tag == "sdt":  # a content control (e.g. a table of contents): read what it wraps, in place
            for content in element.iterchildren("{*}sdtContent"):
                yield from _docx_blocks(content, document)


def _paragraph_text(paragraph: Any) -> tuple[str, tuple[str, ...]]:
    """A paragraph's text with a placeholder (NUL, id, NUL) where each footnote is cited, and those ids."""
    from docx.text.run import Run

    parts, notes = [], []
    for item in paragraph.iter_inner_content():
        parts.append(item.text)
        if isinstance(item, Run):
            for ref in item._r.iter(f"{_W}footnoteReference"):
                note_id = ref.get(f"{_W}id")
                notes.append(note_id)
                parts.append(f"\x00{note_id}\x00")
    return "".join(parts), tuple(notes)


def _heading_level(paragraph: Any) -> int:
    """1..9 for a heading (style name, outline level of the paragraph or its styles), 0 for body text."""
    level = _outline_level(paragraph._p)
    if level:
        return level
    style = paragraph.style
    while style is not None:
        match = _HEADING_STYLE.match((style.name or "").strip())
        if match:
            return int(match.group(1))
        level = _outline_level(style.element)
        if level:
            return level
        style = style.base_style
    return 0


def _outline_level(element: Any) -> int:
    """The outline level of a paragraph or style element as a heading level (``w:outlineLvl w:val="0"`` → 1)."""
    properties = element.find(f"{_W}pPr")
    outline = properties.find(f"{_W}outlineLvl") if properties is not None else None
    value = outline.get(f"{_W}val") if outline is not None else None
    return int(value) + 1 if value is not None and value.isdigit() and int(value) < 9 else 0


def _footnotes(document: Any) -> dict[str, str]:
    """Footnote texts by id, from the document's footnotes part (separators left out)."""
    from lxml import etree

    for rel in document.part.rels.values():
        if rel.reltype == _FOOTNOTES and not rel.is_external:
            root = etree.fromstring(rel.target_part.blob)
            return {
                note.get(f"{_W}id"): " ".join(_xml_text(p) for p in note.iter(f"{_W}p")).strip()
                for note in root.iter(f"{_W}footnote")
                if note.get(f"{_W}type") in (None, "normal")
            }
    return {}


def _xml_text(paragraph: Any) -> str:
    return "".join(t.text or "" for t in paragraph.iter(f"{_W}t"))


def _docx_table(table: Any) -> str:
    """Rows of a python-docx table as ``a | b`` lines; a merged cell appears once per row."""
    rows = []
    for row in table.rows:
        cells: list[Any] = []
        for cell in row.cells:
            if not cells or cell._tc is not cells[-1]._tc:  # horizontally merged cells repeat the same cell
                cells.append(cell)
        texts = [" ".join(cell.text.split()) for cell in cells]
        if any(texts):
            rows.append(" | ".join(texts))
    return "\n".join(rows)
