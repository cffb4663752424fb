"""Load: read .txt/.md/.html/.docx/.pdf files and scans into text in their original script (one module per format).

:func:`load_document` returns the text with the structure the format knows (pages, heading styles, footnotes,
OCR confidence); :func:`load_text` returns the text alone.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import EmptyDocumentError, UnreadableDocumentError, UnsupportedFileTypeError
from ...settings import Settings
from ...types import LoadedText
from ..ocr import ocr_reader
from .docx import read_docx
from .html import html_to_text
from .image import read_image
from .markdown import markdown_to_text
from .pdf import read_pdf
from .text import declared_charset, decode, normalize

IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
SUPPORTED_SUFFIXES: frozenset[str] = (
    frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf"}) | IMAGE_SUFFIXES
)


def load_text(path: Path, max_bytes: int = 20 * 1024 * 1024) -> str:
    r"""Read a document file into plain text (paragraphs separated by blank lines), original script kept.

    Only line endings, trailing spaces and runs of blank lines are normalized; every other character is kept,
    so ``"第一章　總則\r\n\r\n\r\n第一條 "`` becomes ``"第一章　總則\n\n第一條"``.

    Args:
        path: The file; its extension (one of :data:`SUPPORTED_SUFFIXES`) picks the reader.
        max_bytes: Files larger than this are refused.

    Returns:
        The text with ``\n`` line endings, paragraphs separated by one blank line.

    Raises:
        UnsupportedFileTypeError: The extension is not supported.
        UnreadableDocumentError: The file is missing, too large, binary, corrupt, not decodable, encrypted,
            or a scan in which OCR finds no text.
        EmptyDocumentError: No text is left after loading.
    """
    settings = Settings()
    settings = settings.model_copy(update={"loading": settings.loading.model_copy(update={"max_file_mb": max_bytes / 2**20})})
    return load_document(path, settings).text


def load_document(path: Path, settings: Settings | None = None) -> LoadedText:
    """Read a document file into text plus structure: pages, heading levels, footnotes, OCR confidence.

    Args:
        path: The file; its extension (one of :data:`SUPPORTED_SUFFIXES`) picks the reader.
        settings: ``loading`` limits and OCR switches; ``paths.model_cache`` holds the OCR model's cache.

    Returns:
        The loaded text (normalized as in :func:`load_text`) with offsets into it.

    Raises:
        UnsupportedFileTypeError: The extension is not supported.
        UnreadableDocumentError: The file is missing, too large, binary, corrupt, not decodable, encrypted,
            or a scan in which OCR finds no text.
        EmptyDocumentError: No text is left after loading.
    """
    settings = settings or Settings()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileTypeError(
            f"{path}: file type '{suffix or '(none)'}' is not supported. "
            f"Convert it to one of {', '.join(sorted(SUPPORTED_SUFFIXES))}."
        )
    max_bytes = int(settings.loading.max_file_mb * 2**20)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableDocumentError(
                f"{path} is {size:,} bytes, over the limit of {max_bytes:,} bytes. Split the file or raise loading.max_file_mb."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(f"Cannot read {path}: {exc.strerror or exc}. Check the path.") from exc
    ocr = ocr_reader(settings.paths.model_cache / "ocr") if settings.loading.ocr and suffix in {".pdf", *IMAGE_SUFFIXES} else None
    if suffix == ".docx":
        loaded = read_docx(data, path)
    elif suffix == ".pdf":
        loaded = read_pdf(data, path, ocr, settings.loading.ocr_dpi)
    elif suffix in IMAGE_SUFFIXES:
        loaded = read_image(data, path, ocr)
    elif suffix in {".html", ".htm"}:
        loaded = LoadedText(normalize(html_to_text(decode(data, path, declared_charset(data)))))
    elif suffix in {".md", ".markdown"}:
        loaded = LoadedText(normalize(markdown_to_text(decode(data, path))))
    else:
        loaded = LoadedText(normalize(decode(data, path)))
    if not loaded.text.strip():
        raise EmptyDocumentError(f"{path} holds no text after loading. Add text to it or remove it from the corpus.")
    return loaded
