"""Load, Word: paragraphs and tables of a .docx in document order."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...errors import UnreadableDocumentError


def read_docx(data: bytes, path: Path) -> str:
    """Paragraphs and tables of a .docx in document order; table rows become ``a | b`` lines."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_docx_blocks(document.element.body, document))
    except Exception as exc:  # python-docx raises zipfile, KeyError, lxml and its own errors on corrupt files
        raise UnreadableDocumentError(
            f"{path} is not a readable .docx file ({type(exc).__name__}: {exc}). Re-save it as .docx from Word or WPS."
        ) from exc
    return "\n\n".join(blocks)


def _docx_blocks(container: Any, document: Any) -> Iterator[str]:
    """Texts of the paragraphs and tables directly in ``container`` (XML order, so tables stay in place)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for element in container.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(element, document).text
        elif tag == "tbl":
            yield _docx_table(Table(element, document))
        elif tag == "sdt":  # a content control (e.g. a table of contents): read what it wraps, in place
            for content in element.iterchildren("{*}sdtContent"):
                yield from _docx_blocks(content, document)


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

