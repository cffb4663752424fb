"""Documents: the ingest stage end to end for one file (load → clean → structure → chunk) and for a corpus folder."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import DocumentError, EmptyDocumentError
from ..settings import Settings
from ..types import Chunk, Document, DocumentInfo
from .chunk import chunk_document
from .clean import clean_loaded
from .corpus import CorpusFile, discover
from .load import load_document
from .structure import derive_title, parse_sections

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """Documents ingested from a corpus, with the files that were skipped and why."""

    documents: list[Document] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    sections: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    files: list[CorpusFile] = field(default_factory=list)


def ingest_file(item: CorpusFile, settings: Settings) -> tuple[Document, list[Chunk], int]:
    """Load, clean, parse and chunk one corpus file.

    Returns:
        The cleaned document, its chunks and its number of sections.

    Raises:
        DocumentError: The file cannot be read or holds no text.
    """
    loaded = clean_loaded(load_document(item.path, settings))
    text = loaded.text
    info = item.info
    if not info.title:
        info = DocumentInfo(**{**info.to_dict(), "title": derive_title(text) or Path(info.file).stem})
    info = replace(info, page_starts=loaded.page_starts, ocr_marks=loaded.ocr_marks)
    doc = Document(info=info, text=text, problems=loaded.problems)
    for problem in loaded.problems:
        log.warning("%s", problem)
    sections = parse_sections(text, info.title, {**{offset: 0 for offset in loaded.notes}, **dict(loaded.headings)})
    chunks = chunk_document(doc, sections, settings.chunking)
    if not chunks:
        raise EmptyDocumentError(f"{info.file}: no text left after cleaning. Check the file's content.")
    return doc, chunks, len(sections)


def ingest_corpus(corpus: Path, settings: Settings, progress: Callable[[str, int, int], None] | None = None) -> IngestResult:
    """Ingest every file of a corpus folder; unreadable files are reported and skipped.

    Args:
        corpus: The folder.
        settings: Loading and chunking settings.
        progress: Called as ``progress(file, done, total)``.
    """
    files = discover(corpus, settings.paths.uploads)
    result = IngestResult(files=files)
    for done, item in enumerate(files, start=1):
        if progress:
            progress(item.info.file, done, len(files))
        try:
            doc, chunks, n_sections = ingest_file(item, settings)
        except DocumentError as exc:
            log.warning("Skipped %s: %s", item.info.file, exc)
            result.skipped.append({"file": item.info.file, "reason": str(exc), "type": type(exc).__name__})
            continue
        result.documents.append(doc)
        result.chunks.extend(chunks)
        result.sections += n_sections
    return result
