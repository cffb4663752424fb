"""Segmented store: the bookkeeping shared by the embedded stores (catalog, FAISS vectors, BM25 postings).

A store is a list of immutable segments plus pending changes. ``upsert`` queues chunks, ``delete`` marks rows dead,
``commit`` writes the queued chunks as one new segment, compacts (rewrites segments that are mostly dead, merges the
smallest when there are too many) and returns the state recorded in the index manifest. Subclasses say how a
segment's payload is written, read and merged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from ..types import Chunk
from .segments import (
    SEGMENTS_DIR,
    Filters,
    SegmentRows,
    checksums,
    mark_verified,
    new_segment_dir,
    order_by_document,
    verify_segment,
)
from .store import StoredRow

log = logging.getLogger(__name__)
P = TypeVar("P")  # a segment's payload: vectors, postings, chunk records

MAX_SEGMENTS = 8  # more than this after a commit: the smallest are merged
MAX_DEAD_SHARE = 0.3  # a segment with more dead rows than this is rewritten

# Segments this process has read, by index folder and store: a segment never changes, so opening the index again
# (every build, every reload) reuses its rows and payload instead of reading them again; only the segments of the
# state opened last are kept per store, and only for the last few index folders.
_LOADED: OrderedDict[tuple[str, str], dict[tuple[Any, ...], tuple[SegmentRows, Any]]] = OrderedDict()
_LOADED_FOLDERS = 4


@dataclass
class Segment(Generic[P]):
    """One loaded segment: its rows (ids, documents, dead rows), file checksums and payload."""

    rows: SegmentRows
    files: dict[str, str]
    payload: P

    @property
    def name(self) -> str:
        """The segment's folder name."""
        return self.rows.name


class SegmentedStore(Generic[P]):
    """Base of the embedded stores.

    Args:
        root: The index folder (segments under ``root/segments``).
        prefix: Folder-name prefix of this store's segments (``cat``, ``vec``, ``kw``).
        state: The store's state from the manifest (``None`` for a new, empty store).
        verify: Check every file's checksum while opening.

    Raises:
        CorruptIndexError: A segment is missing, damaged or inconsistent.
    """

    backend = "segments"

    def __init__(self, root: Path, prefix: str, state: dict[str, Any] | None, verify: bool = True) -> None:
        self.root, self.prefix = root, prefix
        self.segments: list[Segment[P]] = []
        # Queued chunks by id (insertion order kept) and the ids of each queued document: deleting a document from the
        # queue must not scan it, or a first build of many documents turns quadratic.
        self.pending: dict[str, tuple[Chunk, Any]] = {}
        self._pending_docs: dict[str, list[str]] = {}
        cache_key = (str(root.resolve()), prefix)
        cached = _LOADED.pop(cache_key, {})
        self._loaded: dict[tuple[Any, ...], tuple[SegmentRows, Any]] = {}
        for record in (state or {}).get("segments", []):
            if verify:
                verify_segment(root, record)
            key = self._segment_key(record)
            rows, payload = cached.get(key) or self._read(root / SEGMENTS_DIR / record["name"], record)
            self._loaded[key] = (rows, payload)
            # Each store gets its own dead rows; ids, document table and payload are shared and never change.
            live = dataclasses.replace(rows, dead=np.asarray(sorted(record.get("dead", ())), dtype=np.int64))
            self.segments.append(Segment(live, record["files"], payload))
        _LOADED[cache_key] = self._loaded
        while len(_LOADED) > _LOADED_FOLDERS:
            _LOADED.popitem(last=False)

    def _read(self, folder: Path, record: dict[str, Any]) -> tuple[SegmentRows, Any]:
        rows = SegmentRows.read(folder)
        rows.prepare()
        return rows, self._load(folder, rows, record)

    def _segment_key(self, record: dict[str, Any]) -> tuple[Any, ...]:
        """What identifies a loaded segment: its name and file checksums, plus the subclass's load settings."""
        return (record["name"], json.dumps(record["files"], sort_keys=True), *self._load_settings())

    def _load_settings(self) -> tuple[Any, ...]:
        """Settings that shape a loaded payload (e.g. FAISS search parameters); none by default."""
        return ()

    # ----- what subclasses provide -----
    def _load(self, folder: Path, rows: SegmentRows, record: dict[str, Any]) -> P:
        """Read a segment's payload (checksums already verified)."""
        raise NotImplementedError

    def _write(self, folder: Path, chunks: Sequence[Chunk], items: Sequence[Any]) -> dict[str, Any]:
        """Write a segment's payload for ``chunks`` (grouped by document) and their per-chunk ``items``."""
        raise NotImplementedError

    def _items(self, segment: Segment[P], rows: np.ndarray) -> tuple[list[Chunk], list[Any]]:
        """Chunks (at least their stored fields) and per-chunk items of some rows, for compaction."""
        raise NotImplementedError

    def _changed(self) -> None:
        """Called after the segments change (drop caches that depend on them)."""

    # ----- the protocol's bookkeeping -----
    def _queue(self, chunks: Sequence[Chunk], items: Sequence[Any]) -> None:
        self.delete(c.chunk_id for c in chunks)
        for chunk, item in zip(chunks, items, strict=True):
            self.pending[chunk.chunk_id] = (chunk, item)
            self._pending_docs.setdefault(chunk.doc_id, []).append(chunk.chunk_id)

    def pending_chunks(self) -> list[tuple[Chunk, Any]]:
        """The queued chunks with their items, in the order they were queued."""
        return list(self.pending.values())

    def delete(self, chunk_ids: Iterable[str] = (), doc_id: str | None = None) -> int:
        """Delete chunks by id and/or every chunk of a document; return how many were deleted."""
        ids = set(chunk_ids)
        deleted = 0
        for segment in self.segments:
            rows = segment.rows.rows_of(ids, doc_id)
            if rows:
                segment.rows.dead = segment.rows.with_dead(rows)
                deleted += len(rows)
        queued = ids & self.pending.keys()
        if doc_id is not None:
            queued |= set(self._pending_docs.pop(doc_id, ()))
        for chunk_id in queued:
            chunk, _ = self.pending.pop(chunk_id)
            siblings = self._pending_docs.get(chunk.doc_id)
            if siblings and chunk_id in siblings:
                siblings.remove(chunk_id)
        deleted += len(queued)
        if deleted:
            self._changed()
        return deleted

    def count(self) -> int:
        """Number of live chunks, pending ones included."""
        return sum(s.rows.live for s in self.segments) + len(self.pending)

    def locate(self, chunk_ids: Iterable[str]) -> list[tuple[Segment[P], int, str]]:
        """``(segment, row, chunk_id)`` of each live id."""
        found = []
        for chunk_id in chunk_ids:
            for segment in self.segments:
                row = segment.rows.position(chunk_id)
                if row is not None and not segment.rows.is_dead(np.asarray([row]))[0]:
                    found.append((segment, row, chunk_id))
                    break
        return found

    @staticmethod
    def stored_row(segment: Segment[P], row: int, chunk_id: str, vector: np.ndarray | None = None) -> StoredRow:
        """The stored fields of a row, from the segment's document table."""
        doc = segment.rows.doc_of(row)
        return StoredRow(chunk_id, doc.doc_id, doc.date, doc.region, doc.source, vector)

    def allowed_rows(self, segment: Segment[P], filters: Filters | None) -> np.ndarray | None:
        """Rows of a segment passing ``filters`` (``None``: all live rows pass)."""
        return segment.rows.allowed(filters)

    def commit(self) -> dict[str, Any]:
        """Write pending chunks as a new segment, compact, and return the state for the manifest."""
        if self.pending:
            queued = self.pending_chunks()
            order = order_by_document([c for c, _ in queued])
            self._add_segment([queued[i][0] for i in order], [queued[i][1] for i in order])
            self.pending, self._pending_docs = {}, {}
        self._compact()
        self._changed()
        return self.state()

    def state(self) -> dict[str, Any]:
        """The committed state: backend name and every segment with its files and dead rows."""
        return {"backend": self.backend, "segments": [s.rows.state(s.files) for s in self.segments]}

    def segment_names(self) -> list[str]:
        """Names of the committed segments."""
        return [s.name for s in self.segments]

    def _add_segment(self, chunks: Sequence[Chunk], items: Sequence[Any]) -> None:
        folder = new_segment_dir(self.root, self.prefix)
        SegmentRows.write(folder, chunks)
        record = self._write(folder, chunks, items)
        files = checksums(folder)
        mark_verified(self.root, {"name": folder.name, "files": files})
        rows, payload = self._read(folder, record)
        self._loaded[self._segment_key({"name": folder.name, "files": files})] = (rows, payload)
        live = dataclasses.replace(rows, dead=np.zeros(0, dtype=np.int64))
        self.segments.append(Segment(live, files, payload))

    def _compact(self) -> None:
        """Drop empty segments, rewrite mostly-dead ones, merge the smallest when there are too many."""
        self.segments = [s for s in self.segments if s.rows.live]
        victims = [s for s in self.segments if len(s.rows.dead) > MAX_DEAD_SHARE * s.rows.size]
        if len(self.segments) > MAX_SEGMENTS:
            by_size = sorted((s for s in self.segments if s not in victims), key=lambda s: s.rows.live)
            victims += by_size[: len(self.segments) - MAX_SEGMENTS // 2 + 1]
        if not victims:
            return
        log.info("Compacting %d %s segment(s)", len(victims), self.prefix)
        chunks: list[Chunk] = []
        items: list[Any] = []
        for segment in victims:
            live = np.setdiff1d(np.arange(segment.rows.size), segment.rows.dead)
            seg_chunks, seg_items = self._items(segment, live)
            chunks += seg_chunks
            items += seg_items
        self.segments = [s for s in self.segments if s not in victims]
        order = order_by_document(chunks)
        self._add_segment([chunks[i] for i in order], [items[i] for i in order])
