"""Load, PDF: the text layer page by page (pdfium), or OCR for pages that are only an image (a scan).

Each page's text runs or OCR lines go through the page layout (reading order, two columns, wrapped lines
joined); running headers, footers and page numbers are removed; pages are recorded as offsets so that chunks and
citations know their page. A page that OCR cannot read is named in the result's problems (file and page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import UnreadableDocumentError
from ...types import LoadedText
from ..ocr import OcrReader
from .blocks import Blocks
from .layout import Piece, drop_running_lines, page_lines, paragraphs

# A page with fewer visible characters than this has no usable text layer (a scan, perhaps with a stamped number).
_MIN_CHARS_PER_PAGE = 5


def read_pdf(data: bytes, path: Path, ocr: OcrReader | None = None, dpi: int = 200) -> LoadedText:
    """Read a PDF into text with page offsets; pages without a text layer are read by OCR when ``ocr`` is given.

    Args:
        data: The file's bytes.
        path: The file (named in messages).
        ocr: The OCR reader, or ``None`` to leave image-only pages unread.
        dpi: Resolution at which image-only pages are rendered for OCR.

    Returns:
        Text (lines of a page separated by newlines, pages by a blank line), page starts and OCR marks.

    Raises:
        UnreadableDocumentError: The file is damaged or encrypted, or no page holds readable text.
    """
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableDocumentError(
                f"{path} is an encrypted PDF that needs a password. Save an unprotected copy and load that."
            ) from exc
        raise UnreadableDocumentError(
            f"{path} is not a readable PDF ({exc}). Re-save or re-export it as PDF."
        ) from exc
    try:
        pages, heights, scanned, unread = [], [], [], []
        for number, page in enumerate(document, start=1):
            pieces, height = _text_layer(page)
            if sum(len("".join(p.text.split())) for p in pieces) < _MIN_CHARS_PER_PAGE and _has_image(page):
                scanned.append(number)
                pieces, height = _ocr_page(page, ocr, dpi) if ocr is not None else ([], height)
                if not pieces:
                    unread.append(number)
            pages.append(page_lines(pieces))
            heights.append(height)
    finally:
        document.close()
    return _assemble(path, drop_running_lines(pages, heights), scanned, unread, ocr is not None)


def _text_layer(page: Any) -> tuple[list[Piece], float]:
    """The page's text runs with their boxes (top-down coordinates in points) and the page height."""
    height = page.get_size()[1]
    textpage = page.get_textpage()
    pieces = []
    try:
        for i in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(i)
            text = textpage.get_text_bounded(left, bottom, right, top).replace("\r", "").replace("\n", " ")
            if text.strip():
                pieces.append(Piece(text, left, height - top, right, height - bottom))
    finally:
        textpage.close()
    return pieces, height


def _has_image(page: Any) -> bool:
    import pypdfium2.raw as pdfium_c

    return next(iter(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2)), None) is not None


def _ocr_page(page: Any, ocr: OcrReader, dpi: int) -> tuple[list[Piece], float]:
    """The page rendered at ``dpi`` and read by OCR: its lines (boxes in pixels) and the image height."""
    bitmap = page.render(scale=dpi / 72)
    image = bitmap.to_pil()
    lines = ocr.read(image)
    return [Piece(line.text, line.x0, line.y0, line.x1, line.y1, line.confidence) for line in lines], image.height


def _assemble(path: Path, pages: list[list[Piece]], scanned: list[int], unread: list[int], ocr: bool) -> LoadedText:
    blocks = Blocks()
    for lines in pages:
        blocks.page()
        for i, paragraph in enumerate(paragraphs(lines)):
            blocks.add(paragraph.text, sep="\n\n" if i == 0 else "\n", confidence=paragraph.confidence)
    loaded = blocks.build()
    if not ocr and scanned:
        if not loaded.text.strip():
            raise UnreadableDocumentError(
                f"{path} has no text layer ({len(pages)} page(s)): it looks like a scanned image. Turn OCR on "
                "(setting loading.ocr) or run OCR on it (e.g. `ocrmypdf -l chi_sim+chi_tra in.pdf out.pdf`)."
            )
        blocks.problems += [f"{path.name} page {n}: no text layer, and OCR is off (loading.ocr)" for n in scanned]
    elif unread:
        if not loaded.text.strip():
            raise UnreadableDocumentError(
                f"{path}: OCR found no text on page(s) {', '.join(map(str, unread))} of {len(pages)}. "
                "Scan it again at 300 dpi or more, or load a copy with a text layer."
            )
        blocks.problems += [f"{path.name} page {n}: OCR found no text" for n in unread]
    return blocks.build() if blocks.problems else loaded
