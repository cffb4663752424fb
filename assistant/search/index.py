"""Index: persist chunks, vectors, FAISS and BM25 with a manifest; detect stale or corrupt indexes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CorruptIndexError, IndexMissingError, StaleIndexError
from ..ingest.chunk import search_text
from ..ingest.corpus import file_sha256
from ..settings import CHUNKER_VERSION, Settings
from ..types import Chunk, DocumentInfo
from .keyword import KeywordIndex
from .store import FaissStore

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
VECTORS = "vectors.npy"
DENSE = "dense.faiss"
KEYWORD_DIR = "bm25"
DOCS_DIR = "documents"
DOCS_INFO = "documents.json"
# Files whose checksum the manifest records, so truncation or tampering is detected on load.
_CHECKED_FILES = (CHUNKS, VECTORS, DENSE, DOCS_INFO)


def text_hash(text: str) -> str:
    """Key of the embedding cache: SHA-1 of a passage's text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


@dataclass
class IndexContents:
    """Everything that goes into an index folder."""

    chunks: list[Chunk]
    vectors: np.ndarray
    documents: dict[str, DocumentInfo]
    texts: dict[str, str]  # doc_id → cleaned text
    files: dict[str, str]  # corpus-relative file → sha256
    corpus_hash: str
    model_id: str
    skipped: list[dict[str, str]] = field(default_factory=list)


@dataclass
class LoadedIndex:
    """A checked, loaded index ready for search."""

    folder: Path
    manifest: dict
    chunks: list[Chunk]
    vectors: np.ndarray
    documents: dict[str, DocumentInfo]
    dense: FaissStore
    keyword: KeywordIndex
    _texts: dict[str, str] = field(default_factory=dict)

    def document_texts(self) -> dict[str, str]:
        """All cleaned texts by doc id (read once, then cached)."""
        if not self._texts:
            self._texts = {doc_id: self.document_text(doc_id) for doc_id in self.documents}
        return self._texts

    def document_text(self, doc_id: str) -> str:
        """The cleaned text of a document (what chunk offsets point into).

        Raises:
            CorruptIndexError: The document's text file is missing.
        """
        if doc_id not in self.documents:
            raise KeyError(doc_id)
        path = self.folder / DOCS_DIR / f"{_safe_name(doc_id)}.txt"
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CorruptIndexError(f"Cleaned text {path} is missing. Rebuild with `assistant build`.") from exc


def _safe_name(doc_id: str) -> str:
    return hashlib.sha1(doc_id.encode()).hexdigest()[:12] + "-" + "".join(c if c.isalnum() else "_" for c in doc_id)[:60]


def write_index(folder: Path, contents: IndexContents, settings: Settings) -> dict:
    """Write an index atomically: build it in a temporary sibling folder, then swap it in.

    Args:
        folder: The index folder (created or replaced).
        contents: Chunks, vectors (same order), documents and corpus state.
        settings: The settings that shaped the index (their fingerprint is recorded).

    Returns:
        The manifest written.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        with (tmp / CHUNKS).open("w", encoding="utf-8") as out:
            for chunk in contents.chunks:
                out.write(json.dumps(chunk.to_dict(), ensure_ascii=False) + "\n")
        vectors = np.ascontiguousarray(contents.vectors, dtype=np.float32)
        np.save(tmp / VECTORS, vectors)
        dense = FaissStore(vectors.shape[1], settings.retrieval.dense_index, settings.retrieval.hnsw_m,
                           settings.retrieval.hnsw_ef_search)
        if len(vectors):
            dense.add(vectors)
        dense.save(tmp / DENSE)
        keyword = KeywordIndex(settings.retrieval.bm25_tokens)
        keyword.build([search_text(c) for c in contents.chunks])
        keyword.save(tmp / KEYWORD_DIR)
        (tmp / DOCS_DIR).mkdir()
        for doc_id, text in contents.texts.items():
            (tmp / DOCS_DIR / f"{_safe_name(doc_id)}.txt").write_text(text, encoding="utf-8")
        docs = {doc_id: info.to_dict() for doc_id, info in contents.documents.items()}
        (tmp / DOCS_INFO).write_text(json.dumps(docs, ensure_ascii=False, indent=1), encoding="utf-8")
        manifest = {
            "format_version": FORMAT_VERSION,
            "corpus_hash": contents.corpus_hash,
            "settings_fingerprint": settings.index_fingerprint(),
            "chunker_version": CHUNKER_VERSION,
            "model_id": contents.model_id,
            "dim": int(vectors.shape[1]),
            "dense_index": settings.retrieval.dense_index,
            "bm25_tokens": settings.retrieval.bm25_tokens,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "n_chunks": len(contents.chunks),
            "n_documents": len(contents.documents),
            "files": contents.files,
            "skipped": contents.skipped,
            "checksums": {name: file_sha256(tmp / name) for name in _CHECKED_FILES},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _swap_in(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _swap_in(tmp: Path, folder: Path) -> None:
    """Replace ``folder`` by ``tmp`` with two renames (a reader never sees a half-written index)."""
    old = None
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}-{time.time_ns()}")
        folder.rename(old)
    tmp.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(folder: Path) -> dict:
    """Read an index manifest.

    Raises:
        IndexMissingError: No index exists in ``folder``.
        CorruptIndexError: The manifest is unreadable.
    """
    path = folder / MANIFEST
    if not path.exists():
        raise IndexMissingError(f"No index in {folder}. Build it with `assistant build`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorruptIndexError(f"Index manifest {path} is unreadable ({exc}). Rebuild with `assistant build`.") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise StaleIndexError(f"Index in {folder} has an old format. Rebuild with `assistant build`.")
    return manifest


def staleness(manifest: dict, settings: Settings, corpus_hash: str, model_id: str) -> str | None:
    """Why an index no longer matches the corpus or settings, or ``None`` when it is current."""
    if manifest.get("corpus_hash") != corpus_hash:
        return "the documents in the corpus changed since it was built"
    if manifest.get("settings_fingerprint") != settings.index_fingerprint():
        return "settings that shape the index (chunking, model, tokens, index type) changed"
    if manifest.get("model_id") != model_id:
        return f"it was built with model {manifest.get('model_id')!r}, settings name {model_id!r}"
    return None


def verify_files(folder: Path, manifest: dict) -> None:
    """Check every recorded file exists with its recorded checksum.

    Raises:
        CorruptIndexError: A file is missing, truncated or changed.
    """
    for name, digest in manifest.get("checksums", {}).items():
        path = folder / name
        if not path.exists() or file_sha256(path) != digest:
            raise CorruptIndexError(f"Index file {path} is missing or corrupt. Rebuild with `assistant build`.")


def load_index(folder: Path, settings: Settings) -> LoadedIndex:
    """Load and cross-check an index folder (checksums, sizes); staleness is checked by the caller.

    Raises:
        IndexMissingError: No index exists.
        CorruptIndexError: A file is missing, corrupt or inconsistent with the others.
        StaleIndexError: The index format is old.
    """
    manifest = read_manifest(folder)
    verify_files(folder, manifest)
    try:
        with (folder / CHUNKS).open(encoding="utf-8") as handle:
            chunks = [Chunk.from_dict(json.loads(line)) for line in handle if line.strip()]
        vectors = np.load(folder / VECTORS, mmap_mode="r")
        docs_raw = json.loads((folder / DOCS_INFO).read_text(encoding="utf-8"))
        documents = {doc_id: DocumentInfo(**info) for doc_id, info in docs_raw.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptIndexError(f"Index in {folder} is unreadable ({exc}). Rebuild with `assistant build`.") from exc
    dense = FaissStore.load(folder / DENSE, settings.retrieval.hnsw_ef_search)
    keyword = KeywordIndex.load(folder / KEYWORD_DIR)
    n = manifest.get("n_chunks")
    if not (len(chunks) == n == dense.size == keyword.size == len(vectors)):
        raise CorruptIndexError(
            f"Index in {folder} is inconsistent (chunks {len(chunks)}, vectors {len(vectors)}, dense {dense.size}, "
            f"keyword {keyword.size}, manifest {n}). Rebuild with `assistant build`."
        )
    return LoadedIndex(folder, manifest, chunks, vectors, documents, dense, keyword)
