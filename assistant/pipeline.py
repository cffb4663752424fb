"""Pipeline: the Assistant facade that wires the stages (ingest → index → retrieve → answer)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .answers.answer import Extractor, idf_table
from .answers.claims import check_claim
from .answers.followup import resolve_followup
from .errors import AssistantError, DocumentError, IndexStateError, StaleIndexError
from .ingest.chunk import search_text
from .ingest.corpus import corpus_hash, discover
from .ingest.documents import IngestResult, ingest_file
from .ingest.uploads import add_manifest_entry, remove_manifest_entry, store_upload
from .search.embed import Embedder, make_embedder
from .search.index import IndexContents, LoadedIndex, load_index, read_manifest, staleness, text_hash, verify_files, write_index
from .search.retrieve import Filters, Retriever
from .settings import Settings, load_settings
from .text.script import detect_script, normalize
from .types import Answer, Chunk, Document, DocumentInfo, Hit, Verdict

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    """What ``build`` did."""

    rebuilt: bool
    reason: str
    documents: int
    chunks: int
    embedded: int
    reused: int
    skipped: list[dict[str, str]]
    seconds: float


def passage_for_embedding(chunk: Chunk) -> str:
    """The text the dense model sees for a chunk (the same as the keyword index's, see :func:`search_text`)."""
    return search_text(chunk)


class Assistant:
    """The one entry point for the CLI, the UI and the eval: build, search, ask, check."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or load_settings()
        self.embedder = embedder or make_embedder(self.settings)
        self._index: LoadedIndex | None = None
        self._retriever: Retriever | None = None
        self._extractor: Extractor | None = None
        self._corpus_norm: str | None = None

    # ----- ingestion and building -----
    def ingest(self, corpus: Path | None = None, progress: Progress | None = None,
               reuse: dict[str, tuple[Document, list[Chunk]]] | None = None) -> IngestResult:
        """Ingest every file of a corpus folder; unreadable files are reported and skipped.

        Args:
            corpus: The folder (default ``paths.corpus``).
            progress: Called as ``progress(file, done, total)``.
            reuse: Already-ingested documents by file sha256 (unchanged files are not re-read).
        """
        files = discover(corpus or self.settings.paths.corpus)
        result = IngestResult(files=files)
        for done, item in enumerate(files, start=1):
            if progress:
                progress(item.info.file, done, len(files))
            cached = (reuse or {}).get(item.sha256)
            try:
                if cached and cached[0].info == item.info:
                    doc, chunks = cached
                    n_sections = len({c.section_path for c in chunks})
                else:
                    doc, chunks, n_sections = ingest_file(item, self.settings)
            except DocumentError as exc:
                log.warning("Skipped %s: %s", item.info.file, exc)
                result.skipped.append({"file": item.info.file, "reason": str(exc), "type": type(exc).__name__})
                continue
            result.documents.append(doc)
            result.chunks.extend(chunks)
            result.sections += n_sections
        return result

    def _previous(self) -> tuple[dict[str, tuple[Document, list[Chunk]]], dict[str, np.ndarray]]:
        """Reusable parts of the current index (empty if unusable).

        Documents are reused only when the index-shaping settings are unchanged; vectors (keyed by the hash of the
        embedded text) whenever the same model built them.
        """
        try:
            old = load_index(self.store_dir, self.settings)
        except AssistantError:
            return {}, {}
        vectors = {}
        if old.manifest.get("model_id") == self.embedder.model_id:
            vectors = {text_hash(passage_for_embedding(c)): np.array(old.vectors[i]) for i, c in enumerate(old.chunks)}
        if old.manifest.get("settings_fingerprint") != self.settings.index_fingerprint():
            return {}, vectors
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in old.chunks:
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        reuse = {}
        sha_by_file = old.manifest.get("files", {})
        for doc_id, info in old.documents.items():
            sha = sha_by_file.get(info.file)
            if sha and doc_id in by_doc:
                reuse[sha] = (Document(info=info, text=old.document_text(doc_id)), by_doc[doc_id])
        return reuse, vectors

    def build(self, corpus: Path | None = None, force: bool = False, progress: Progress | None = None) -> BuildReport:
        """Build or update the index; only new or changed documents are re-read and re-embedded.

        Args:
            corpus: The folder (default ``paths.corpus``).
            force: Rebuild even when the index is current.
            progress: Called as ``progress(stage, done, total)``.
        """
        started = time.perf_counter()
        corpus = corpus or self.settings.paths.corpus
        folder = self.store_dir
        if not force:
            reason = self.index_problem(corpus)
            if reason is None:
                manifest = read_manifest(folder)
                return BuildReport(False, "index is current", manifest["n_documents"], manifest["n_chunks"], 0,
                                   manifest["n_chunks"], manifest.get("skipped", []), time.perf_counter() - started)
        else:
            reason = "forced"
        reuse, cached = self._previous() if not force else ({}, {})
        result = self.ingest(corpus, progress=(lambda f, d, t: progress("ingest", d, t)) if progress else None,
                             reuse=reuse)
        passages = [passage_for_embedding(c) for c in result.chunks]
        keys = [text_hash(p) for p in passages]
        # Longest first, so each batch holds passages of similar length (less padding) and the bar ends fast.
        missing = sorted((i for i, key in enumerate(keys) if key not in cached), key=lambda i: -len(passages[i]))
        dim = self.embedder.dim
        vectors = np.zeros((len(passages), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in cached and cached[key].shape == (dim,):
                vectors[i] = cached[key]
        batch = max(1, self.settings.embedding.batch_size)
        for start in range(0, len(missing), batch):
            ids = missing[start : start + batch]
            vectors[ids] = self.embedder.embed_passages([passages[i] for i in ids])
            if progress:
                progress("embed", min(start + batch, len(missing)), len(missing))
        contents = IndexContents(
            chunks=result.chunks,
            vectors=vectors,
            documents={d.doc_id: d.info for d in result.documents},
            texts={d.doc_id: d.text for d in result.documents},
            files={f.info.file: f.sha256 for f in result.files},
            corpus_hash=corpus_hash(result.files),
            model_id=self.embedder.model_id,
            skipped=result.skipped,
        )
        write_index(folder, contents, self.settings)
        self._index = self._retriever = self._extractor = self._corpus_norm = None
        return BuildReport(True, reason or "", len(result.documents), len(result.chunks), len(missing),
                           len(passages) - len(missing), result.skipped, time.perf_counter() - started)

    def check_index(self, corpus: Path | None = None) -> None:
        """Raise when the index cannot be used as it is.

        Raises:
            IndexMissingError: No index has been built.
            CorruptIndexError: An index file is missing, truncated or changed.
            StaleIndexError: The corpus or the index-shaping settings changed since the build.
        """
        manifest = read_manifest(self.store_dir)
        verify_files(self.store_dir, manifest)
        files = discover(corpus or self.settings.paths.corpus)
        reason = staleness(manifest, self.settings, corpus_hash(files), self.embedder.model_id)
        if reason:
            raise StaleIndexError(f"The index in {self.store_dir} is stale: {reason}. Run `assistant build`.")

    def index_problem(self, corpus: Path | None = None) -> str | None:
        """Why the index cannot be used as it is (missing, stale, corrupt), or ``None`` when it is current."""
        try:
            self.check_index(corpus)
        except IndexStateError as exc:
            return str(exc)
        return None

    def open_index(self, rebuild: bool = False, progress: Progress | None = None) -> LoadedIndex:
        """Load the index, checking it is current and intact.

        Args:
            rebuild: Rebuild a missing, stale or corrupt index instead of raising.
            progress: Build progress callback.

        Raises:
            IndexStateError: The index is missing, stale or corrupt and ``rebuild`` is false.
        """
        if self._index is not None:
            return self._index
        try:
            self.check_index()
            self._index = load_index(self.store_dir, self.settings)
        except IndexStateError as exc:
            if not rebuild:
                raise
            log.warning("Rebuilding the index: %s", exc)
            self.build(force=not isinstance(exc, StaleIndexError), progress=progress)
            self._index = load_index(self.store_dir, self.settings)
        self._retriever = Retriever(self._index, self.embedder, self.settings)
        return self._index

    @property
    def store_dir(self) -> Path:
        """The folder of the built index (``paths.index/store``; ``ingest`` output sits beside it)."""
        return self.settings.paths.index / "store"

    @property
    def retriever(self) -> Retriever:
        """The retriever over the open index (opened without rebuilding if needed)."""
        if self._retriever is None:
            self.open_index()
        return self._retriever  # type: ignore[return-value]

    # ----- documents -----
    def documents(self) -> list[dict]:
        """The indexed documents with their metadata and chunk counts."""
        index = self.open_index()
        counts: dict[str, int] = {}
        for chunk in index.chunks:
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        uploads = self._uploads_prefix()
        return [
            {**info.to_dict(), "chunks": counts.get(doc_id, 0), "removable": info.file.startswith(uploads)}
            for doc_id, info in index.documents.items()
        ]

    def _uploads_prefix(self) -> str:
        try:
            return self.settings.paths.uploads.resolve().relative_to(self.settings.paths.corpus.resolve()).as_posix() + "/"
        except ValueError:
            return "\0"  # uploads outside the corpus are never indexed, so nothing is removable

    def add_document(self, name: str, data: bytes, progress: Progress | None = None) -> DocumentInfo:
        """Store an uploaded file, check it can be read, and index it incrementally.

        Raises:
            DocumentError: Wrong type, too large, empty, or unreadable (the file is not kept).
        """
        folder = self.settings.paths.uploads
        path = store_upload(folder, name, data, int(self.settings.ui.max_upload_mb * 1024 * 1024))
        try:
            item = next(f for f in discover(self.settings.paths.corpus) if f.path.resolve() == path.resolve())
            doc, _, _ = ingest_file(item, self.settings)
        except (DocumentError, StopIteration) as exc:
            path.unlink(missing_ok=True)
            if isinstance(exc, StopIteration):
                raise DocumentError(f"{path.name}: the uploads folder is not inside the corpus folder.") from None
            raise
        entry = {"file": path.name, "title": doc.info.title, "doc_type": "上传文件",
                 "date": time.strftime("%Y-%m-%d"), "script": detect_script(doc.text[:2000])}
        add_manifest_entry(folder, entry)
        self.build(progress=progress)
        index = self.open_index()
        return next(info for info in index.documents.values() if info.file.endswith("/" + path.name))

    def remove_document(self, doc_id: str) -> None:
        """Remove an uploaded document from the corpus and the index (bundled documents stay).

        Raises:
            DocumentError: The document is unknown or not an upload.
        """
        index = self.open_index()
        info = index.documents.get(doc_id)
        if info is None:
            raise DocumentError(f"No document {doc_id!r} in the index.")
        if not info.file.startswith(self._uploads_prefix()):
            raise DocumentError(f"{info.title or doc_id} is part of the bundled corpus; only uploads can be removed here.")
        path = self.settings.paths.corpus / info.file
        path.unlink(missing_ok=True)
        remove_manifest_entry(path.parent, path.name)
        self.build()
        self.open_index()

    def document_text(self, doc_id: str) -> str:
        """The cleaned text of an indexed document (what citation offsets point into)."""
        return self.open_index().document_text(doc_id)

    # ----- answers -----
    @property
    def extractor(self) -> Extractor:
        """The extractive answerer over the open index (IDF table built on first use)."""
        if self._extractor is None:
            index = self.open_index() if self._index is None else self._index
            self._extractor = Extractor(self.settings.answer, idf_table([c.text_norm for c in index.chunks]))
        return self._extractor

    def ask(self, question: str, history: list[str] | None = None, backend: str | None = None) -> Answer:
        """Answer a question with citations, or refuse with the closest sections.

        Args:
            question: The question in simplified or traditional Chinese, or English.
            history: Earlier questions of the conversation, oldest first (for follow-ups like "那沈阳呢？").
            backend: ``extractive`` (default from settings), ``openai`` or ``local``.

        Raises:
            QueryError: The question is empty.
            ModelUnavailableError: An LLM backend is not reachable or not installed.
        """
        backend = backend or self.settings.answer.backend
        query = resolve_followup(question, history or [])
        hits = self.search(query, k=self.settings.answer.top_k)
        index = self.open_index()
        texts = index.document_texts()
        regions = {doc_id: info.region for doc_id, info in index.documents.items()}
        evidence = self.extractor.evidence(query, hits, self.retriever.cosines(query, hits), texts, regions)
        if backend == "extractive":
            answer = self.extractor.answer(question, evidence, index.documents, "extractive", hits, texts)
        else:
            from .answers.generate import generate_answer

            answer = generate_answer(question, evidence, hits, index.documents, texts, self.settings, backend,
                                     self.extractor)
        if query != question:
            answer = Answer(answer.question, answer.answer, answer.refused, answer.backend, answer.citations,
                            {**answer.extra, "resolved_question": query})
        return answer

    def check(self, claim: str) -> Verdict:
        """Check a claim against the documents: supported, contradicted (with what differs) or not_found.

        Raises:
            QueryError: The claim is empty.
        """
        hits = self.search(claim, k=self.settings.answer.top_k)
        index = self.open_index()
        if self._corpus_norm is None:
            self._corpus_norm = "\n".join(normalize(t) for t in index.document_texts().values())
        return check_claim(claim, hits, index.document_texts(), index.documents, self.settings.answer, self._corpus_norm)

    # ----- search -----
    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        """Search the open index; see :meth:`Retriever.search`."""
        return self.retriever.search(query, k=k, mode=mode, filters=filters)
