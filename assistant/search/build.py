"""Build: bring the index up to date with the corpus, changing only what changed, and repairing what is damaged.

One build, under the build lock: read the current version (a damaged segment costs only the documents it held),
compare every corpus file with what the index recorded (path, content hash, metadata), delete the documents that
changed or went away, ingest and embed the new and changed ones (vectors of unchanged passages are reused), commit
the stores and publish a new version with one atomic pointer replacement. Readers keep answering from the version
they opened meanwhile. An empty index folder first gets the verified prebuilt index of the bundled corpus when it
matches (see :mod:`.prebuilt`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AssistantError, CorruptIndexError, DocumentError, IndexStateError
from ..ingest.chunk import search_text
from ..ingest.corpus import (
    MANIFEST_NAME,
    CorpusFile,
    corpus_hash,
    discover,
    entries_hash,
    scan,
    scan_files,
)
from ..ingest.documents import ingest_file
from ..settings import Settings
from ..types import Chunk, Document, DocumentInfo
from .catalog import Catalog
from .embed import Embedder
from .index import (
    build_lock,
    check_segments,
    collect_garbage,
    commit_version,
    fault_point,
    read_manifest,
    shaping_settings,
    staleness,
)
from .prebuilt import install_prebuilt
from .sentences import STORE_NAME, open_sentence_store, sentence_rows
from .store import KeywordIndex, VectorStore, make_stores

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    """What a build did."""

    rebuilt: bool
    reason: str
    documents: int
    chunks: int
    embedded: int
    reused: int
    skipped: list[dict[str, str]]
    seconds: float
    version: int | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    sentences_embedded: int = 0  # sentence vectors embedded (the others were reused from unchanged sentences)


def passage_for_embedding(chunk: Chunk) -> str:
    """The text the dense model sees for a chunk (the same as the keyword index's, see :func:`search_text`)."""
    return search_text(chunk)


def text_hash(text: str) -> str:
    """Key of the embedding cache: SHA-1 of a passage's text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def index_problem(settings: Settings, embedder: Embedder, files: Sequence[CorpusFile] | None = None) -> str | None:
    """Why the index cannot be used as it is (missing, stale, damaged), or ``None`` when it is current and intact.

    Args:
        settings: Paths and the settings that shape the index.
        embedder: The embedder questions will use (its model id must match the index's).
        files: The corpus files (discovered from ``paths.corpus`` when not given).
    """
    folder = settings.paths.index / "store"
    try:
        reason = stale_reason(settings, embedder, files)
        if reason:
            return f"The index is stale: {reason}."
        manifest = read_manifest(folder)
        problems = check_segments(folder, manifest) + _remote_problems(settings, manifest)
        if problems:
            return f"The index is damaged: {problems[0]}"
    except IndexStateError as exc:
        return str(exc)
    return None


def stale_reason(settings: Settings, embedder: Embedder, files: Sequence[CorpusFile] | None = None) -> str | None:
    """Why the committed index no longer matches the corpus or settings (files are not checked here).

    Raises:
        IndexStateError: There is no index, or its manifest is unreadable.
    """
    manifest = read_manifest(settings.paths.index / "store")
    files = discover(settings.paths.corpus, settings.paths.uploads) if files is None else files
    return staleness(manifest, settings, corpus_hash(list(files)), embedder.model_id)


@dataclass
class _Current:
    """The stores of the current version (or new empty ones) and what is known to be in them."""

    catalog: Catalog
    vectors: VectorStore
    keyword: KeywordIndex
    documents: dict[str, dict[str, Any]]  # doc_id → {"file", "sha256", "info", "digest"} of intact documents
    repaired: list[str]
    # The previous index's catalog and vectors when they cannot be updated in place (other chunking or index type)
    # but hold vectors of the same model: unchanged passages are not embedded again.
    previous: tuple[Catalog, VectorStore] | None = None
    sentences: VectorStore | None = None  # sentence vectors (see .sentences); None when the settings keep none

    def stores(self) -> list[Any]:
        """Every store of the version, the sentence store included when kept."""
        return [self.catalog, self.vectors, self.keyword, *([self.sentences] if self.sentences is not None else [])]


def _open_current(folder: Path, settings: Settings, embedder: Embedder, force: bool) -> tuple[_Current, str]:
    """Open the current version for updating, salvaging intact segments; empty stores when nothing is usable."""
    reason = "forced" if force else ""
    manifest: dict[str, Any] | None = None
    if not force:
        try:
            manifest = read_manifest(folder)
        except IndexStateError as exc:
            reason = str(exc)
    reusable = (manifest is not None and manifest.get("settings_fingerprint") == settings.index_fingerprint()
                and manifest.get("model_id") == embedder.model_id)
    if manifest is not None and not reusable:
        reason = "the settings or the model that shape the index changed"
    if not reusable:
        vectors, keyword = make_stores(settings, folder, embedder.dim, None)
        fresh = _Current(Catalog(folder, None), vectors, keyword, {}, [],
                         sentences=open_sentence_store(settings, folder, embedder.dim))
        if manifest is not None and manifest.get("model_id") == embedder.model_id:
            fresh.previous = _previous_vectors(folder, settings, manifest)
        return fresh, reason
    assert manifest is not None
    stores, damaged = _salvage(folder, manifest)
    dropped = bool(damaged)
    catalog = Catalog(folder, stores.get("catalog"), verify=False)
    try:
        vectors, keyword = make_stores(settings, folder, int(manifest["dim"]), stores, verify=False)
    except (CorruptIndexError, AssistantError) as exc:  # an unreadable remote store: start it afresh
        log.warning("Rebuilding the vector and keyword stores: %s", exc)
        vectors, keyword = make_stores(settings, folder, embedder.dim, None)
        damaged |= catalog.live_doc_ids()
        dropped = True
    sentences = open_sentence_store(settings, folder, int(manifest["dim"]), stores.get(STORE_NAME), verify=False)
    damaged |= _reconcile(catalog, vectors)
    if dropped:  # a dropped segment of one store leaves its documents in the others: those are damaged too
        damaged |= _disagreeing(catalog, vectors, keyword)
    current = _Current(catalog, vectors, keyword, {}, sorted(damaged), sentences=sentences)
    for doc_id in damaged:
        for store in current.stores():
            store.delete(doc_id=doc_id)
    current.documents = {d: entry for d, entry in catalog.corpus_entries().items() if d not in damaged}
    if damaged:
        reason = reason or f"repairing {len(damaged)} damaged document(s)"
    return current, reason


def _salvage(folder: Path, manifest: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The manifest's store states without their damaged segments, and the documents those held."""
    from .segments import verify_segment

    stores: dict[str, Any] = {}
    damaged: set[str] = set()
    for name, state in manifest.get("stores", {}).items():
        if state.get("backend") not in {"catalog", "faiss", "bm25"}:
            stores[name] = state  # a remote store (Milvus) is checked by its backend
            continue
        good = []
        for record in state.get("segments", []):
            try:
                verify_segment(folder, record)
                good.append(record)
            except CorruptIndexError as exc:
                log.warning("Damaged index segment dropped: %s", exc)
                damaged |= set(record.get("docs", []))
        stores[name] = {**state, "segments": good}
    return stores, damaged


def _previous_vectors(folder: Path, settings: Settings, manifest: dict[str, Any]) -> tuple[Catalog, VectorStore] | None:
    """The previous index's catalog and vectors, read-only, when its backend is the current one (else ``None``)."""
    stores, _ = _salvage(folder, manifest)
    if manifest.get("store") != settings.retrieval.store:
        return None
    try:
        vectors, _ = make_stores(settings, folder, int(manifest["dim"]), stores, verify=False)
        return Catalog(folder, stores.get("catalog"), verify=False), vectors
    except AssistantError as exc:
        log.info("Previous vectors not reused: %s", exc)
        return None


def _remote_problems(settings: Settings, manifest: dict[str, Any]) -> list[str]:
    """Problems of a remote store the manifest records (Milvus: collection missing or changed since published)."""
    state = manifest.get("stores", {}).get("vectors", {})
    if state.get("backend") != "milvus" or settings.retrieval.store != "milvus":
        return []
    from .milvus_store import milvus_problem

    problem = milvus_problem(settings, state)
    return [problem] if problem else []


def _reconcile(catalog: Catalog, vectors: VectorStore) -> set[str]:
    """Documents a remote store (Milvus) lost after a build stopped between writing it and publishing the index.

    A remote store changes in place, so such a build leaves rows the catalog does not know (the store queues their
    deletion) or lacks rows it knows (their documents are returned, to be ingested again). The embedded stores are
    versioned with the manifest and have nothing to reconcile.
    """
    reconcile = getattr(vectors, "reconcile", None)
    if reconcile is None:
        return set()
    ids = {}
    for segment in catalog.segments:
        dead = set(segment.rows.dead.tolist())
        for doc in segment.rows.docs:
            ids.update({segment.rows.chunk_ids[r]: doc.doc_id for r in range(doc.start, doc.end) if r not in dead})
    return set(reconcile(ids))


def _disagreeing(catalog: Catalog, vectors: VectorStore, keyword: KeywordIndex) -> set[str]:
    """Documents whose chunks are not the same in all three stores (e.g. one store's segment was dropped)."""
    by_doc: dict[str, set[str]] = {}
    for chunk in catalog.iter_chunks():
        by_doc.setdefault(chunk.doc_id, set()).add(chunk.chunk_id)
    bad = set()
    for doc_id, ids in by_doc.items():
        ordered = sorted(ids)
        if set(vectors.get(ordered)) != ids or set(keyword.get(ordered)) != ids:
            bad.add(doc_id)
    return bad


def _old_vectors(catalog: Catalog, vectors: VectorStore, doc_ids: Sequence[str] | None) -> dict[str, np.ndarray]:
    """Vectors of the chunks of some documents (``None``: all), keyed by passage hash, to reuse when unchanged."""
    chunks = catalog.iter_chunks() if doc_ids is None else catalog.doc_chunks(doc_ids)
    ids_by_hash = {text_hash(passage_for_embedding(c)): c.chunk_id for c in chunks}
    rows = vectors.get(list(ids_by_hash.values()))
    return {key: rows[cid].vector for key, cid in ids_by_hash.items() if cid in rows and rows[cid].vector is not None}


def update_index(settings: Settings, embedder: Embedder, corpus: Path | None = None, force: bool = False,
                 progress: Progress | None = None, paths: Sequence[Path] | None = None) -> BuildReport:
    """Bring the index in ``paths.index/store`` up to date with the corpus.

    Args:
        settings: Paths and the settings that shape the index.
        embedder: The dense model.
        corpus: The corpus folder (default ``paths.corpus``).
        force: Re-ingest and re-embed everything.
        progress: Called as ``progress(stage, done, total)`` with stages ``ingest`` and ``embed``.
        paths: Only these files changed (added, edited or removed): update their documents without listing the
            corpus, so that adding a document costs what the document costs, not what the corpus does. The whole
            corpus is listed as without ``paths`` when the index is missing, damaged or shaped by other settings,
            when a file's id is taken by another file, or when a folder's ``manifest.toml`` is among the paths.

    Returns:
        What was done; ``rebuilt`` is false when the index was already current and intact.

    Raises:
        IndexBusyError: Another build holds the lock for longer than ``index.lock_timeout_s``.
        ConfigError: The corpus folder does not exist or a manifest is invalid.
    """
    started = time.perf_counter()
    corpus = corpus or settings.paths.corpus
    folder = settings.paths.index / "store"
    with build_lock(folder, settings.index.lock_timeout_s):
        collect_garbage(folder)
        if paths is not None and not force:
            report = _update_files(settings, embedder, corpus, paths, progress)
            if report is not None:
                report.seconds = time.perf_counter() - started
                collect_garbage(folder)
                return report
        found = scan(corpus, settings.paths.uploads)
        files = found.files
        installed = None if force else install_prebuilt(settings, embedder, files)
        if installed is not None:  # an empty folder: the verified prebuilt index of the bundled corpus, not embedded
            added = sorted(Catalog(folder, installed["stores"]["catalog"], verify=False).live_doc_ids())
            return BuildReport(True, "installed the verified prebuilt index", installed["n_documents"],
                               installed["n_chunks"], 0, installed["n_chunks"], installed.get("skipped", []),
                               time.perf_counter() - started, installed["version"], added)
        if not force and index_problem(settings, embedder, files) is None:
            manifest = read_manifest(folder)
            return BuildReport(False, "index is current", manifest["n_documents"], manifest["n_chunks"], 0,
                               manifest["n_chunks"], manifest.get("skipped", []), time.perf_counter() - started,
                               manifest["version"])
        current, reason = _open_current(folder, settings, embedder, force)
        report = _apply(settings, embedder, files, current, progress)
        report.skipped = found.problems + report.skipped
        report.reason = reason or "the documents in the corpus changed"
        report.repaired = current.repaired
        report.seconds = time.perf_counter() - started
        collect_garbage(folder)
        return report


def _update_files(settings: Settings, embedder: Embedder, corpus: Path, paths: Sequence[Path],
                  progress: Progress | None) -> BuildReport | None:
    """Update the documents of some files only; ``None`` when the whole corpus must be listed instead."""
    if any(Path(p).name == MANIFEST_NAME for p in paths):  # metadata of every file of its folder may have changed
        return None
    folder = settings.paths.index / "store"
    try:
        manifest = read_manifest(folder)
    except IndexStateError:
        return None
    if "entries" not in manifest:  # written before the index recorded each file's digest
        return None
    current, reason = _open_current(folder, settings, embedder, force=False)
    if reason:  # other settings, or damaged documents to ingest again: only a full listing finds their files
        return None
    root = os.path.abspath(corpus)
    scope = {Path(os.path.relpath(os.path.abspath(p), root)).as_posix() for p in paths}
    taken = {doc_id for doc_id, entry in current.documents.items() if entry["file"] not in scope}
    found = scan_files(corpus, paths, settings.paths.uploads, taken)
    if found.problems or found.renamed:
        return None
    report = _apply(settings, embedder, found.files, current, progress, scope, manifest)
    report.reason = f"updated {len(scope)} file(s)"
    return report


def _as_json(value: Any) -> Any:
    """``value`` as the manifest holds it after a JSON round trip (tuples become lists), without serializing it.

    Example: ``{"page_starts": (0, 12)}`` → ``{"page_starts": [0, 12]}``.
    """
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_json(v) for v in value]
    return value


@lru_cache(maxsize=1 << 17)
def _info_json(info: DocumentInfo) -> dict[str, Any]:
    """A document's info as the manifest holds it (cached: every build compares every document's; do not mutate)."""
    return _as_json(info.to_dict())


def _apply(settings: Settings, embedder: Embedder, files: list[CorpusFile], current: _Current,
           progress: Progress | None, scope: set[str] | None = None,
           previous: dict[str, Any] | None = None) -> BuildReport:
    """Delete, ingest, embed, upsert and commit; return the report (reason and timing filled by the caller).

    ``files`` is the whole corpus, or with ``scope`` (relative paths) what is left of those files: documents of
    other files stay as they are, and their entries are taken from the ``previous`` manifest.
    """
    wanted = {f.info.doc_id: f for f in files}
    unchanged = {doc_id for doc_id, entry in current.documents.items()
                 if (scope is not None and entry["file"] not in scope)
                 or ((f := wanted.get(doc_id)) is not None and entry["sha256"] == f.sha256
                     and entry["info"] == _info_json(f.info))}
    removed = [doc_id for doc_id in current.documents if doc_id not in unchanged]
    cache = _old_vectors(current.catalog, current.vectors, removed)
    if current.previous is not None:
        cache.update(_old_vectors(*current.previous, None))
    sentence_cache = _old_sentence_vectors(current, removed)
    for doc_id in removed:
        for store in current.stores():
            store.delete(doc_id=doc_id)
    todo = [f for f in files if f.info.doc_id not in unchanged]
    documents, chunks, skipped = _ingest(settings, todo, progress)
    fault_point("ingested")
    vectors, embedded = _embed(settings, embedder, chunks, cache, progress)
    sentences_embedded = 0
    if current.sentences is not None:
        rows, texts = sentence_rows(chunks)
        sentence_vectors, sentences_embedded = _embed_texts(settings, embedder, texts, sentence_cache, progress,
                                                            "embed sentences")
        if rows:
            current.sentences.upsert(rows, sentence_vectors)
    fault_point("embedded")
    entries = {doc.doc_id: _corpus_entry(wanted[doc.doc_id]) for doc in documents}
    for doc in documents:
        current.catalog.add(doc, [c for c in chunks if c.doc_id == doc.doc_id], entries[doc.doc_id])
    if chunks:
        current.vectors.upsert(chunks, vectors)
        current.keyword.upsert(chunks)
    stores = {"catalog": current.catalog.commit(), "vectors": current.vectors.commit(),
              "keyword": current.keyword.commit()}
    if current.sentences is not None:
        stores[STORE_NAME] = current.sentences.commit()
    fault_point("segments-written")
    n_documents = len(unchanged) + len(documents)
    # The manifest records each file's digest (what the corpus hash is made of), not the documents: those are in the
    # catalog, so that adding one document does not rewrite a table of every document.
    digests = {f.info.file: f.entry_digest for f in files}
    if scope is not None and previous is not None:
        digests = {**{k: v for k, v in previous["entries"].items() if k not in scope}, **digests}
        skipped = [s for s in previous.get("skipped", []) if s["file"] not in scope] + skipped
    manifest = commit_version(settings.paths.index / "store", {
        "settings_fingerprint": settings.index_fingerprint(), **shaping_settings(settings),
        "model_id": embedder.model_id, "dim": embedder.dim, "corpus_hash": entries_hash(digests), "entries": digests,
        "n_documents": n_documents, "skipped": skipped, "n_chunks": current.catalog.count(), "stores": stores,
    })
    return BuildReport(True, "", n_documents, manifest["n_chunks"], embedded, len(chunks) - embedded, skipped, 0.0,
                       manifest["version"], [d.doc_id for d in documents], [d for d in removed if d not in wanted],
                       sentences_embedded=sentences_embedded)


def _corpus_entry(item: CorpusFile) -> dict[str, Any]:
    """What the catalog records of the corpus file a document was read from (JSON types only)."""
    return {"file": item.info.file, "sha256": item.sha256, "info": _info_json(item.info), "digest": item.entry_digest}


def _ingest(settings: Settings, files: list[CorpusFile],
            progress: Progress | None) -> tuple[list[Document], list[Chunk], list[dict[str, str]]]:
    documents: list[Document] = []
    chunks: list[Chunk] = []
    skipped: list[dict[str, str]] = []
    for done, item in enumerate(files, start=1):
        if progress:
            progress("ingest", done, len(files))
        try:
            doc, doc_chunks, _ = ingest_file(item, settings)
        except DocumentError as exc:
            log.warning("Skipped %s: %s", item.info.file, exc)
            skipped.append({"file": item.info.file, "reason": str(exc), "type": type(exc).__name__})
            continue
        documents.append(doc)
        chunks.extend(doc_chunks)
    return documents, chunks, skipped


def _old_sentence_vectors(current: _Current, doc_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Sentence vectors of some documents keyed by the sentence's text hash, to reuse for unchanged sentences."""
    if current.sentences is None or not doc_ids:
        return {}
    rows, texts = sentence_rows(list(current.catalog.doc_chunks(doc_ids)))
    stored = current.sentences.get([r.chunk_id for r in rows])
    return {text_hash(text): stored[r.chunk_id].vector for r, text in zip(rows, texts, strict=True)
            if r.chunk_id in stored and stored[r.chunk_id].vector is not None}


def _embed(settings: Settings, embedder: Embedder, chunks: list[Chunk], cache: dict[str, np.ndarray],
           progress: Progress | None) -> tuple[np.ndarray, int]:
    """Vectors of ``chunks`` (reused from ``cache`` by passage hash); return them and how many were embedded."""
    return _embed_texts(settings, embedder, [passage_for_embedding(c) for c in chunks], cache, progress, "embed")


def _embed_texts(settings: Settings, embedder: Embedder, passages: list[str], cache: dict[str, np.ndarray],
                 progress: Progress | None, stage: str) -> tuple[np.ndarray, int]:
    """Passage vectors of ``passages`` (reused from ``cache`` by text hash); return them and how many were embedded."""
    keys = [text_hash(p) for p in passages]
    vectors = np.zeros((len(passages), embedder.dim), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in cache and cache[key].shape == (embedder.dim,):
            vectors[i] = cache[key]
    # Longest first, so each batch holds passages of similar length (less padding) and the bar ends fast.
    missing = sorted((i for i, key in enumerate(keys) if key not in cache), key=lambda i: -len(passages[i]))
    batch = max(1, settings.embedding.batch_size)
    for start in range(0, len(missing), batch):
        ids = missing[start : start + batch]
        vectors[ids] = embedder.embed_passages([passages[i] for i in ids])
        if progress:
            progress(stage, min(start + batch, len(missing)), len(missing))
    return vectors, len(missing)
