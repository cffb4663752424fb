"""Catalog: the indexed documents (metadata, cleaned text) and chunk records, in segments beside the indexes.

Citations quote the cleaned text and point into it by offsets, so the catalog is the index's record of what was
indexed. It lives in the same immutable segments as the embedded stores (under any backend, Milvus included), and
every file is checksummed: a cleaned text edited on disk is detected, never quoted. Chunk records and cleaned texts
sit in one read-only SQLite file per segment, so a large archive is not loaded into memory to answer a question and
a segment is a few files however many documents it holds (checking it stats those, not one per document).

Each document's entry also records the corpus file it was read from (path, content hash, metadata, digest): what
a build compares the corpus with, kept with the document so that the index manifest need not list every document.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..errors import CorruptIndexError
from ..types import Chunk, Document, DocumentInfo
from .segmented import Segment, SegmentedStore
from .segments import SegmentRows, write_json

CHUNKS_DB, DOCUMENTS = "chunks.sqlite", "documents.json"


@dataclass
class CatalogSegment:
    """A catalog segment: its chunk-record database, documents and (lazily read, checked) texts."""

    folder: Path
    documents: dict[str, dict[str, Any]]  # doc_id → {"info": {...}, "sha256": of the text, "corpus": {...}}
    _db: sqlite3.Connection | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, row: int) -> dict[str, Any]:
        """The chunk record of a row.

        Raises:
            CorruptIndexError: The database is unreadable or lacks the row.
        """
        found = self._query("SELECT data FROM chunks WHERE row = ?", row)
        if found is None:
            raise CorruptIndexError(f"Chunk records of segment {self.folder.name} lack row {row}.")
        return json.loads(found[0])

    def _query(self, sql: str, key: Any) -> tuple[Any, ...] | None:
        with self._lock:
            try:
                if self._db is None:
                    uri = f"file:{self.folder / CHUNKS_DB}?mode=ro&immutable=1"
                    self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
                return self._db.execute(sql, (key,)).fetchone()
            except sqlite3.Error as exc:
                raise CorruptIndexError(f"Chunk records of segment {self.folder.name} are unreadable ({exc}).") from exc

    def text(self, doc_id: str) -> str:
        """The cleaned text of a document of this segment, checked against its recorded checksum.

        Raises:
            CorruptIndexError: The text is missing or changed since the build.
        """
        entry = self.documents[doc_id]
        found = self._query("SELECT text FROM texts WHERE doc_id = ?", doc_id)
        if found is None:
            raise CorruptIndexError(f"The cleaned text of {doc_id} in segment {self.folder.name} is missing.")
        data = found[0].encode("utf-8")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise CorruptIndexError(f"The cleaned text of {doc_id} in segment {self.folder.name} changed since the build.")
        return found[0]


class _Item(NamedTuple):
    """A chunk waiting for the catalog: its record and document, or its row in an existing segment."""

    document: Document | None
    source: tuple[CatalogSegment, int] | None = None
    corpus: dict[str, Any] | None = None  # the corpus file the document was read from


class Catalog(SegmentedStore[CatalogSegment]):
    """Documents and chunk records of the index.

    Args:
        root: The index folder.
        state: The catalog's state from the manifest (``None``: empty).
        verify: Check file checksums while opening.
    """

    backend = "catalog"

    def __init__(self, root: Path, state: dict[str, Any] | None = None, verify: bool = True) -> None:
        self._texts: dict[str, str] = {}
        self._live: dict[str, Segment[CatalogSegment]] | None = None
        self._texts_lock = threading.Lock()
        super().__init__(root, "cat", state, verify)

    def _load(self, folder: Path, rows: SegmentRows, record: dict[str, Any]) -> CatalogSegment:
        try:
            documents = json.loads((folder / DOCUMENTS).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(f"Document table of segment {folder.name} is unreadable ({exc}).") from exc
        if set(documents) != {d.doc_id for d in rows.docs}:
            raise CorruptIndexError(f"Document table of segment {folder.name} does not match its chunks.")
        return CatalogSegment(folder, documents)

    def _write(self, folder: Path, chunks: Sequence[Chunk], items: Sequence[Any]) -> dict[str, Any]:
        documents: dict[str, dict[str, Any]] = {}
        db = sqlite3.connect(folder / CHUNKS_DB)
        try:
            db.execute("CREATE TABLE chunks (row INTEGER PRIMARY KEY, data TEXT NOT NULL)")
            db.execute("CREATE TABLE texts (doc_id TEXT PRIMARY KEY, text TEXT NOT NULL)")
            for row, (chunk, item) in enumerate(zip(chunks, items, strict=True)):
                if item.source is not None:  # compaction: copy the record and the document from the old segment
                    segment, old_row = item.source
                    data = segment.record(old_row)
                    if chunk.doc_id not in documents:
                        documents[chunk.doc_id] = dict(segment.documents[chunk.doc_id])
                        db.execute("INSERT INTO texts VALUES (?, ?)", (chunk.doc_id, segment.text(chunk.doc_id)))
                else:
                    data = chunk.to_dict()
                    if chunk.doc_id not in documents:
                        documents[chunk.doc_id] = _new_entry(db, item)
                db.execute("INSERT INTO chunks VALUES (?, ?)", (row, json.dumps(data, ensure_ascii=False)))
            db.commit()
        finally:
            db.close()
        write_json(folder / DOCUMENTS, documents)
        return {}

    def _items(self, segment: Segment[CatalogSegment], rows: np.ndarray) -> tuple[list[Chunk], list[Any]]:
        from .faiss_store import _stub

        chunks = [_stub(self.stored_row(segment, int(r), segment.rows.chunk_ids[int(r)])) for r in rows]
        return chunks, [_Item(None, (segment.payload, int(r))) for r in rows]

    def _changed(self) -> None:
        with self._texts_lock:
            self._texts.clear()
            self._live = None

    # ----- writing -----
    def add(self, document: Document, chunks: Sequence[Chunk], corpus: dict[str, Any] | None = None) -> None:
        """Queue a document with its chunks (its previous version, if any, is deleted).

        Args:
            document: The document as read.
            chunks: Its chunks.
            corpus: The corpus file it was read from (``file``, ``sha256``, ``info``, ``digest``), kept with it.
        """
        self.delete(doc_id=document.doc_id)
        self._queue(chunks, [_Item(document, None, corpus)] * len(chunks))

    # ----- reading -----
    @property
    def documents(self) -> dict[str, DocumentInfo]:
        """Metadata of every live document, in segment order."""
        live = self._live_documents()
        return {doc_id: DocumentInfo(**segment.payload.documents[doc_id]["info"]) for doc_id, segment in live.items()}

    def _live_documents(self) -> dict[str, Segment[CatalogSegment]]:
        """Each live document's segment (a document is live while any of its rows is)."""
        live = self._live
        if live is None:
            live = {}
            for segment in self.segments:
                docs, dead = segment.rows.docs, segment.rows.dead
                if not len(dead):
                    live.update(dict.fromkeys((d.doc_id for d in docs), segment))
                    continue
                # Dead rows per document by binary search (dead is sorted): live while fewer than its rows are dead.
                starts = np.searchsorted(dead, [d.start for d in docs])
                ends = np.searchsorted(dead, [d.end for d in docs])
                for doc, n_dead in zip(docs, (ends - starts).tolist(), strict=True):
                    if n_dead < doc.end - doc.start:
                        live[doc.doc_id] = segment
            self._live = live
        return live

    def live_doc_ids(self) -> set[str]:
        """Ids of the live documents (without building their metadata)."""
        return set(self._live_documents())

    def corpus_entries(self) -> dict[str, dict[str, Any]]:
        """The corpus file each live document was read from (``file``, ``sha256``, ``info``, ``digest``), by id."""
        return {doc_id: entry for doc_id, segment in self._live_documents().items()
                if (entry := segment.payload.documents[doc_id].get("corpus")) is not None}

    def document_entry(self, doc_id: str) -> dict[str, Any]:
        """The stored entry of a document (``info``, ``sha256`` of its text, ``corpus``: the file it was read from)."""
        segment = self._live_documents().get(doc_id)
        if segment is None:
            raise KeyError(doc_id)
        return segment.payload.documents[doc_id]

    def document_text(self, doc_id: str) -> str:
        """The cleaned text of a document (what chunk offsets point into), checked on first read.

        Raises:
            KeyError: No such document.
            CorruptIndexError: Its text file is missing or changed.
        """
        with self._texts_lock:
            if doc_id in self._texts:
                return self._texts[doc_id]
        segment = self._live_documents().get(doc_id)
        if segment is None:
            raise KeyError(doc_id)
        text = segment.payload.text(doc_id)
        with self._texts_lock:
            self._texts[doc_id] = text
        return text

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The live chunks among ``chunk_ids``."""
        return {cid: Chunk.from_dict(seg.payload.record(row)) for seg, row, cid in self.locate(chunk_ids)}

    def doc_chunks(self, doc_ids: Sequence[str]) -> Iterator[Chunk]:
        """The live chunks of some documents (read through the segments' document tables, not every row)."""
        wanted = set(doc_ids)
        for segment in self.segments:
            dead = set(segment.rows.dead.tolist())
            for doc in segment.rows.docs:
                if doc.doc_id in wanted:
                    for row in range(doc.start, doc.end):
                        if row not in dead:
                            yield Chunk.from_dict(segment.payload.record(row))

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every live chunk, segment by segment, in row order."""
        for segment in self.segments:
            dead = set(segment.rows.dead.tolist())
            for row in range(segment.rows.size):
                if row not in dead:
                    yield Chunk.from_dict(segment.payload.record(row))


def _new_entry(db: sqlite3.Connection, item: _Item) -> dict[str, Any]:
    """Store a new document's text in the segment's database and return its entry for the document table."""
    document = item.document
    if document is None:  # pragma: no cover - queued chunks always carry their document
        raise ValueError("a new catalog row needs its document")
    db.execute("INSERT INTO texts VALUES (?, ?)", (document.doc_id, document.text))
    entry = {"info": asdict(document.info), "sha256": hashlib.sha256(document.text.encode("utf-8")).hexdigest()}
    if item.corpus is not None:
        entry["corpus"] = item.corpus
    return entry
