"""Load, PDF: the text layer of a PDF, page by page."""

from __future__ import annotations

import io
from pathlib import Path

from ...errors import UnreadableDocumentError

_PDF_MIN_CHARS_PER_PAGE = 5


def read_pdf(data: bytes, path: Path) -> str:
    """Text of a PDF, page by page, pages separated by blank lines."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")  # an empty user password opens many "protected" PDFs
        pages = [] if locked else [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises PdfReadError, ValueError, KeyError, ... on damaged files
        raise UnreadableDocumentError(
            f"{path} is not a readable PDF ({type(exc).__name__}: {exc}). Re-save or re-export it as PDF."
        ) from exc
    if locked:
        raise UnreadableDocumentError(
            f"{path} is an encrypted PDF that needs a password. Save an unprotected copy and load that."
        )
    visible = sum(len("".join(text.split())) for text in pages)
    if pages and visible < _PDF_MIN_CHARS_PER_PAGE * len(pages):
        raise UnreadableDocumentError(
            f"{path} has no text layer ({len(pages)} page(s), {visible} characters of text): it looks like a "
            "scanned image. Run OCR on it (e.g. `ocrmypdf -l chi_sim+chi_tra in.pdf out.pdf`) and load the result."
        )
    return "\n\n".join(text.strip("\n") for text in pages)
