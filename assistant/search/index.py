"""Index: versions of the index on disk (manifest + atomic pointer), the build lock, and open snapshots for reading.

Layout of ``paths.index/store``::

    CURRENT                  {"version": 7, "manifest": "manifests/v000007.json", "sha256": …} (replaced atomically)
    manifests/v000007.json   fingerprints, each corpus file's digest, and each store's segments with file checksums
    segments/<name>/         immutable segment folders of the catalog (cat-…), vectors (vec-…) and keyword (kw-…)
    build.lock               held by the one build that may write

A build writes new segments and a new manifest, then replaces ``CURRENT`` with one ``os.replace``: a reader sees the
old version or the new one, never a mix, and a build killed at any step leaves the old version intact. Opening a
version checks the manifest's checksum and every file of every segment; nothing unchecked is ever answered from.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ..errors import CorruptIndexError, IndexBusyError, IndexMissingError, StaleIndexError
from ..settings import CHUNKER_VERSION, Settings
from ..types import Chunk, DocumentInfo
from .catalog import Catalog
from .segments import file_sha256, remove_segments, verify_segment, write_json
from .sentences import STORE_NAME, open_sentence_store, wanted
from .store import KeywordIndex, VectorStore, make_stores

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 3: cleaned texts in the catalog's database, documents in the catalog only
POINTER = "CURRENT"
MANIFESTS = "manifests"
LOCK = "build.lock"
KEEP_VERSIONS = 2  # the current and the previous version stay on disk for readers still using it

# Named steps of a build where tests inject a failure (deterministic fault injection, no sleeps).
FAULTS: dict[str, BaseException] = {}


def fault_point(step: str) -> None:
    """Raise the failure a test injected at ``step`` (no effect otherwise)."""
    if step in FAULTS:
        raise FAULTS.pop(step)


@contextlib.contextmanager
def inject_fault(step: str, error: BaseException | None = None) -> Iterator[None]:
    """Make the next build fail at ``step`` (tests only).

    Args:
        step: One of ``ingested``, ``embedded``, ``segments-written``, ``manifest-written``, ``pointer-replaced``.
        error: What to raise (default ``RuntimeError``).
    """
    FAULTS[step] = error or RuntimeError(f"injected failure at {step}")
    try:
        yield
    finally:
        FAULTS.pop(step, None)


# ----- the pointer and manifests -----
def read_pointer(folder: Path) -> dict[str, Any]:
    """Read ``CURRENT``.

    Raises:
        IndexMissingError: No index was ever committed in ``folder``.
        CorruptIndexError: The pointer is unreadable.
    """
    path = folder / POINTER
    if not path.exists():
        raise IndexMissingError(f"No index in {folder.name}/. Build it with `assistant build`.")
    try:
        pointer = json.loads(path.read_text(encoding="utf-8"))
        int(pointer["version"]), str(pointer["manifest"]), str(pointer["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndexError(f"The index pointer {POINTER} is unreadable ({exc}).") from exc
    return pointer


# Manifests this process has written or checked and parsed, by path and checksum, with the file's size and
# modification time then: a build reads the current one several times, the next build reads it again, and at 5,000
# documents each parse costs tens of milliseconds. Callers must not change the returned dictionary, and a written
# manifest holds JSON types only (lists, not tuples), so that it equals what parsing its file gives.
_MANIFESTS: dict[tuple[str, str], tuple[tuple[int, int], dict[str, Any]]] = {}


def _remember(path: Path, sha256: str, manifest: dict[str, Any]) -> None:
    stamp = _stamp(path)
    if stamp is None:  # pragma: no cover - just written
        return
    _MANIFESTS[(str(path.resolve()), sha256)] = (stamp, manifest)
    while len(_MANIFESTS) > 8:
        _MANIFESTS.pop(next(iter(_MANIFESTS)))


def _stamp(path: Path) -> tuple[int, int] | None:
    """A file's size and modification time, or ``None`` when it is not a file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns) if S_ISREG(stat.st_mode) else None


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read the manifest of the current version, checked against the pointer's checksum.

    Raises:
        IndexMissingError: No index exists.
        CorruptIndexError: The manifest is missing, changed or unreadable.
        StaleIndexError: The index was written in an older format.
    """
    pointer = read_pointer(folder)
    path = folder / pointer["manifest"]
    stamp = _stamp(path)
    key = (str(path.resolve()), pointer["sha256"])
    cached = _MANIFESTS.get(key)
    if cached is not None and stamp is not None and cached[0] == stamp:
        manifest = cached[1]
    else:
        if stamp is None or file_sha256(path) != pointer["sha256"]:
            raise CorruptIndexError(f"Index manifest {pointer['manifest']} is missing or changed.")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptIndexError(f"Index manifest {pointer['manifest']} is unreadable ({exc}).") from exc
        _remember(path, pointer["sha256"], manifest)
    if manifest.get("format_version") != FORMAT_VERSION:
        raise StaleIndexError("The index has an older format.")
    return manifest


def current_version(folder: Path) -> int | None:
    """The committed version number, or ``None`` when there is no readable pointer (cheap: for reload polling)."""
    try:
        return int(read_pointer(folder)["version"])
    except (IndexMissingError, CorruptIndexError):
        return None


def commit_version(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write ``manifest`` as the next version and make it current with one atomic pointer replacement.

    Returns:
        The manifest with its ``version`` set.
    """
    previous = current_version(folder) or 0
    manifest = {**manifest, "version": previous + 1, "format_version": FORMAT_VERSION,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (folder / MANIFESTS).mkdir(parents=True, exist_ok=True)
    name = f"{MANIFESTS}/v{manifest['version']:06d}.json"
    write_json(folder / name, manifest)
    fault_point("manifest-written")
    pointer = {"version": manifest["version"], "manifest": name, "sha256": file_sha256(folder / name)}
    _remember(folder / name, pointer["sha256"], manifest)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".pointer-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(pointer, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / POINTER)
    fault_point("pointer-replaced")
    return manifest


def collect_garbage(folder: Path) -> None:
    """Remove temporary files, manifests older than the kept versions, and segments no kept version uses."""
    for path in folder.glob(".pointer-*"):
        path.unlink(missing_ok=True)
    manifests = sorted((folder / MANIFESTS).glob("v*.json")) if (folder / MANIFESTS).is_dir() else []
    current = current_version(folder)
    keep_segments: set[str] = set()
    for path in manifests:
        number = int(path.stem[1:])
        if current is None or number > current or number <= current - KEEP_VERSIONS:
            path.unlink(missing_ok=True)  # an older version, or one a failed build wrote but never published
            continue
        try:
            keep_segments |= _segment_names(path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    if current is not None:
        removed = remove_segments(folder, keep_segments)
        if removed:
            log.info("Removed %d unused index segment(s)", len(removed))


def _segment_names(path: Path) -> set[str]:
    """Names of the segments a manifest file uses (from the manifests this process knows, while their stats hold)."""
    stamp, resolved = _stamp(path), str(path.resolve())
    manifest = next((m for (p, _), (s, m) in list(_MANIFESTS.items()) if p == resolved and s == stamp), None)
    if manifest is None:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    return {r["name"] for state in manifest["stores"].values() for r in state.get("segments", [])}


def tidy(folder: Path) -> None:
    """Remove what a crashed build left behind (temporary files, unpublished segments), unless a build runs now."""
    from filelock import FileLock, Timeout

    if not (folder / POINTER).exists():
        return
    lock = FileLock(str(folder / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return  # a build is running: its new segments are not garbage
    try:
        collect_garbage(folder)
    finally:
        lock.release()


@contextlib.contextmanager
def build_lock(folder: Path, timeout: float) -> Iterator[None]:
    """Hold the build lock of an index folder: a second build waits up to ``timeout`` seconds.

    Raises:
        IndexBusyError: Another build still holds the lock after ``timeout``.
    """
    from filelock import FileLock, Timeout

    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("Another build of this index is running; waiting up to %.0f s for it.", timeout)
        try:
            lock.acquire(timeout=timeout)
        except Timeout as exc:
            raise IndexBusyError(
                f"Another build of the index is still running after {timeout:.0f} s. Wait for it to finish and "
                "retry (index.lock_timeout_s sets how long to wait)."
            ) from exc
    try:
        yield
    finally:
        lock.release()


def staleness(manifest: dict[str, Any], settings: Settings, corpus_hash: str, model_id: str) -> str | None:
    """Why an index no longer matches the corpus or settings, or ``None`` when it is current."""
    if manifest.get("settings_fingerprint") != settings.index_fingerprint():
        return "settings that shape the index (chunking, model, tokens, index type, store) changed"
    if manifest.get("model_id") != model_id:
        return f"it was built with model {manifest.get('model_id')!r}, settings name {model_id!r}"
    if manifest.get("corpus_hash") != corpus_hash:
        return "the documents in the corpus changed since it was built"
    return None


# ----- reading -----
@dataclass
class IndexSnapshot:
    """One committed version of the index, opened and checked: what retrieval and answers read.

    A snapshot never changes; a build publishes a new version, which a new snapshot opens.
    """

    folder: Path
    manifest: dict[str, Any]
    catalog: Catalog
    vectors: VectorStore
    keyword: KeywordIndex
    _chunks: list[Chunk] | None = field(default=None, repr=False)
    sentences: VectorStore | None = None  # a vector per answerable sentence (see .sentences); None if not kept

    @property
    def version(self) -> int:
        """The version number of this snapshot."""
        return int(self.manifest["version"])

    @property
    def documents(self) -> dict[str, DocumentInfo]:
        """Every indexed document's metadata by doc id."""
        return self.catalog.documents

    def document_text(self, doc_id: str) -> str:
        """The cleaned text of a document (what citation offsets point into).

        Raises:
            KeyError: No such document.
            CorruptIndexError: The stored text is missing or changed since the build.
        """
        return self.catalog.document_text(doc_id)

    def document_texts(self) -> dict[str, str]:
        """All cleaned texts by doc id."""
        return {doc_id: self.document_text(doc_id) for doc_id in self.documents}

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids (missing ids left out)."""
        return self.catalog.chunks(chunk_ids)

    @property
    def chunks(self) -> list[Chunk]:
        """Every chunk, read once (for evaluation and tools; questions never need them all)."""
        if self._chunks is None:
            self._chunks = list(self.catalog.iter_chunks())
        return self._chunks

    def count(self) -> int:
        """Number of indexed chunks."""
        return self.catalog.count()


def open_snapshot(folder: Path, settings: Settings, verify: bool = True) -> IndexSnapshot:
    """Open the current version of the index in ``folder``, checking every file.

    Raises:
        IndexMissingError: No index exists.
        CorruptIndexError: A file is missing, changed or inconsistent with the others.
        StaleIndexError: Old format, or the stores disagree with the settings' backend.
    """
    manifest = read_manifest(folder)
    stores = manifest.get("stores", {})
    if manifest.get("store") != settings.retrieval.store:
        raise StaleIndexError(f"The index was built for store {manifest.get('store')!r}, settings name "
                              f"{settings.retrieval.store!r}.")
    catalog = Catalog(folder, stores.get("catalog"), verify)
    vectors, keyword = make_stores(settings, folder, int(manifest["dim"]), stores, verify)
    # A store that changes in place (Milvus: versioned = False) may already hold a running build's rows: not counted.
    counts = {"catalog": catalog.count(), **{name: store.count() for name, store in (("vectors", vectors),
              ("keyword", keyword)) if getattr(store, "versioned", True)}}
    if len(set(counts.values())) != 1 or counts["catalog"] != manifest.get("n_chunks"):
        raise CorruptIndexError(f"The index stores disagree on the number of chunks ({counts}, manifest "
                                f"{manifest.get('n_chunks')}).")
    if wanted(settings) and STORE_NAME not in stores:
        raise StaleIndexError("The index keeps no sentence vectors; the settings ask for them.")
    sentences = open_sentence_store(settings, folder, int(manifest["dim"]), stores.get(STORE_NAME), verify)
    return IndexSnapshot(folder, manifest, catalog, vectors, keyword, sentences=sentences)


def check_segments(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems of every segment of a manifest (empty when all files check), without stopping at the first."""
    problems = []
    for state in manifest.get("stores", {}).values():
        for record in state.get("segments", []):
            try:
                verify_segment(folder, record)
            except CorruptIndexError as exc:
                problems.append(str(exc))
    return problems


def shaping_settings(settings: Settings) -> dict[str, Any]:
    """What the manifest records of the settings that shaped the index (besides their fingerprint)."""
    return {"chunker_version": CHUNKER_VERSION, "dense_index": settings.retrieval.dense_index,
            "bm25_tokens": settings.retrieval.bm25_tokens, "store": settings.retrieval.store}
