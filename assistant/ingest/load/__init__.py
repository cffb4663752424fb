"""Load: read .txt/.md/.html/.docx/.pdf files into plain text in their original script (one module per format)."""

from __future__ import annotations

from pathlib import Path

from ...errors import EmptyDocumentError, UnreadableDocumentError, UnsupportedFileTypeError
from .docx import read_docx
from .html import html_to_text
from .markdown import markdown_to_text
from .pdf import read_pdf
from .text import declared_charset, decode, normalize

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf"})


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
            or a PDF with no text layer.
        EmptyDocumentError: No text is left after loading.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileTypeError(
            f"{path}: file type '{suffix or '(none)'}' is not supported. "
            f"Convert it to one of {', '.join(sorted(SUPPORTED_SUFFIXES))}."
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableDocumentError(
                f"{path} is {size:,} bytes, over the limit of {max_bytes:,} bytes. Split the file or raise loading.max_file_mb."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(f"Cannot read {path}: {exc.strerror or exc}. Check the path.") from exc
    if suffix == ".docx":
        text = read_docx(data, path)
    elif suffix == ".pdf":
        text = read_pdf(data, path)
    elif suffix in {".html", ".htm"}:
        text = html_to_text(decode(data, path, declared_charset(data)))
    elif suffix in {".md", ".markdown"}:
        text = markdown_to_text(decode(data, path))
    else:
        text = decode(data, path)
    text = normalize(text)
    if not text.strip():
        raise EmptyDocumentError(f"{path} holds no text after loading. Add text to it or remove it from the corpus.")
    return text

