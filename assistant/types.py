"""Records: the typed values that flow between pipeline stages.

Field names equal the JSON names of the CLI (``chunk_id``, ``doc_id``, ``section_path``, ``start``, ``end``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class DocumentInfo:
    """What is known about a document before reading it (from the manifest or derived)."""

    doc_id: str
    file: str
    title: str = ""
    publisher: str = ""
    date: str = ""
    region: str = ""
    doc_type: str = ""
    script: str = ""
    source: str = "corpus"  # "corpus" (official, bundled or added by the operator) or "upload" (added through the UI)
    # Known after reading, kept here so that the index stores them with the document (not compared: a document
    # read again equals its manifest entry). Offsets point into the cleaned text: where each page begins (page 1
    # at 0; empty for sources without pages), and OCR marks (offset, mean confidence) saying that the text from
    # that offset on was read by OCR with that confidence (``None``: from a text layer).
    page_starts: tuple[int, ...] = field(default=(), compare=False)
    ocr_marks: tuple[tuple[int, float | None], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # JSON gives lists; keep tuples so the record stays immutable.
        object.__setattr__(self, "page_starts", tuple(self.page_starts))
        object.__setattr__(self, "ocr_marks", tuple((int(o), c) for o, c in self.ocr_marks))

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict (the same as ``asdict``: every field is flat or a tuple of values).

        Written by hand because ``asdict`` deep-copies field by field, which was a fifth of adding one document to
        an index of 5,000.
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class LoadedText:
    """What a loader read from a file, and what cleaning makes of it: text plus the structure the format knows.

    Every offset points into ``text`` at the start of a line. ``page_starts``: where each page begins (page 1 at
    0; empty for sources without pages). ``ocr_marks``: (offset, mean confidence 0..1) where text read by OCR
    begins (``None`` where text from a text layer begins). ``headings``: (offset, level 1..9) of paragraphs that
    the file marks as headings (Word styles and outline levels). ``notes``: offsets of footnote paragraphs.
    ``problems``: what could not be read, by file and page (``scan.pdf page 3: OCR found no text``).
    """

    text: str
    page_starts: tuple[int, ...] = ()
    ocr_marks: tuple[tuple[int, float | None], ...] = ()
    headings: tuple[tuple[int, int], ...] = ()
    notes: tuple[int, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A loaded and cleaned document.

    ``text`` is the cleaned text in the original script; chunk offsets point into it.
    """

    info: DocumentInfo
    text: str
    problems: tuple[str, ...] = ()  # pages that could not be read, e.g. "scan.pdf page 3: OCR found no text"

    @property
    def doc_id(self) -> str:
        """The document's id."""
        return self.info.doc_id


@dataclass(frozen=True)
class Section:
    """A run of body text under one heading path: ``text[start:end]`` of the cleaned document."""

    path: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage that knows its document, section and place."""

    chunk_id: str
    doc_id: str
    title: str
    section_path: tuple[str, ...]
    text: str
    text_norm: str
    start: int
    end: int
    # Stored beside the vectors so that filters run inside the store (document, date range, region, provenance).
    date: str = ""
    region: str = ""
    source: str = "corpus"
    # 1-based pages of a paged source (PDF); ``None`` for sources without pages.
    page_start: int | None = None
    page_end: int | None = None
    # Mean OCR confidence (0..1) of the chunk's text when it was read by OCR; ``None`` otherwise.
    ocr_confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict (``section_path`` as a list)."""
        data = asdict(self)
        data["section_path"] = list(self.section_path)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        """Build a chunk from :meth:`to_dict` output (fields added later take their defaults when absent)."""
        optional = {name: data[name] for name in ("date", "region", "source", "page_start", "page_end", "ocr_confidence")
                    if name in data}
        return cls(
            chunk_id=data["chunk_id"],
            doc_id=data["doc_id"],
            title=data["title"],
            section_path=tuple(data["section_path"]),
            text=data["text"],
            text_norm=data["text_norm"],
            start=int(data["start"]),
            end=int(data["end"]),
            **optional,
        )


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its score: fused, or the reranker's (higher is better within one result list).

    ``dense_score`` is the cosine of the query with the chunk and ``keyword_score`` its BM25 score, each ``None``
    when that list did not return the chunk; answering reads them here instead of asking the index again.
    """

    chunk: Chunk
    score: float
    rank: int
    dense_score: float | None = None
    keyword_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the search-result JSON object."""
        c = self.chunk
        return {
            "chunk_id": c.chunk_id,
            "doc_id": c.doc_id,
            "title": c.title,
            "section_path": list(c.section_path),
            "text": c.text,
            "score": round(float(self.score), 6),
            "dense_score": None if self.dense_score is None else round(float(self.dense_score), 6),
            "keyword_score": None if self.keyword_score is None else round(float(self.keyword_score), 6),
            "start": c.start,
            "end": c.end,
            "page_start": c.page_start,
            "page_end": c.page_end,
            "source": c.source,
        }


@dataclass(frozen=True)
class Citation:
    """An exact original-script quote that supports part of an answer."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    date: str
    publisher: str
    section_path: tuple[str, ...]
    quote: str
    start: int
    end: int
    page_start: int | None = None
    page_end: int | None = None
    ocr_confidence: float | None = None
    low_confidence: bool = False  # OCR text below ``loading.ocr_min_confidence``: check the page image
    source: str = "corpus"
    page_offset: int | None = None  # where ``page_start`` begins in the cleaned document (the viewer opens there)

    def to_dict(self) -> dict[str, Any]:
        """Return the citation JSON object."""
        data = asdict(self)
        data["section_path"] = list(self.section_path)
        return data


@dataclass(frozen=True)
class Answer:
    """An answer with its citations, or a refusal with the closest sections."""

    question: str
    answer: str
    refused: bool
    backend: str
    citations: tuple[Citation, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the ``ask --json`` object."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "backend": self.backend,
            "citations": [c.to_dict() for c in self.citations],
            **self.extra,
        }


@dataclass(frozen=True)
class Mismatch:
    """A value in a claim that differs from the document; ``start``/``end`` locate it in the cleaned document."""

    kind: str
    claim_value: str
    document_value: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        """Return the mismatch JSON object."""
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    """The result of checking a claim against the documents."""

    claim: str
    verdict: str  # supported | contradicted | not_found
    reason: str
    mismatches: tuple[Mismatch, ...] = ()
    citations: tuple[Citation, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the ``check --json`` object."""
        return {
            "claim": self.claim,
            "verdict": self.verdict,
            "reason": self.reason,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "citations": [c.to_dict() for c in self.citations],
            **self.extra,
        }
