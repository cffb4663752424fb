"""Pipeline: the Assistant facade that wires the stages (ingest → index → retrieve → answer)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from .answers.answer import Extractor
from .answers.rerank import Reranker
from .answers.service import AnswerService, query_terms, sentence_cosines
from .errors import DocumentError, IndexMissingError, IndexStateError, QueryError, StaleIndexError
from .ingest.corpus import CorpusFile, derive_doc_id, file_sha256
from .ingest.documents import IngestResult, ingest_corpus, ingest_file
from .ingest.pages import locate_citation
from .ingest.uploads import UPLOAD_SUFFIXES, add_manifest_entry, check_quota, remove_manifest_entry, store_upload
from .search.build import BuildReport, index_problem, passage_for_embedding, stale_reason, update_index
from .search.embed import Embedder, make_embedder
from .search.index import POINTER, IndexSnapshot, current_version, open_snapshot, tidy
from .search.retrieve import Filters, Retriever
from .settings import Settings, load_settings
from .text.script import detect_script
from .types import Answer, DocumentInfo, Hit, Verdict

__all__ = ["UPLOAD_SUFFIXES", "Assistant", "BuildReport", "IngestResult", "passage_for_embedding"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
R = TypeVar("R", Answer, Verdict)


@dataclass
class _Open:
    """Everything derived from one open index version; replaced as a whole when a new version is opened."""

    snapshot: IndexSnapshot
    retriever: Retriever
    answers: AnswerService


class Assistant:
    """The one entry point for the CLI, the UI and the eval: build, search, ask, check.

    Questions are answered from one open index version at a time; :meth:`reload` switches to a newer version that a
    build (in this or another process) published, without blocking questions already running.
    """

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or load_settings()
        self.embedder = embedder or make_embedder(self.settings)
        self._open: _Open | None = None
        self._opening = threading.Lock()

    # ----- ingestion and building -----
    def ingest(self, corpus: Path | None = None, progress: Progress | None = None) -> IngestResult:
        """Ingest every file of a corpus folder; unreadable files are reported and skipped.

        Args:
            corpus: The folder (default ``paths.corpus``).
            progress: Called as ``progress(file, done, total)``.
        """
        return ingest_corpus(corpus or self.settings.paths.corpus, self.settings, progress)

    def build(self, corpus: Path | None = None, force: bool = False, progress: Progress | None = None,
              paths: Sequence[Path] | None = None) -> BuildReport:
        """Bring the index up to date: only new or changed documents are read and embedded; damage is repaired.

        Args:
            corpus: The folder (default ``paths.corpus``).
            force: Rebuild everything even when the index is current.
            progress: Called as ``progress(stage, done, total)``.
            paths: Only these files changed (added, edited or removed): the corpus is not listed (see
                :func:`~assistant.search.build.update_index`).
        """
        report = update_index(self.settings, self.embedder, corpus, force, progress, paths)
        if report.rebuilt and self._open is not None:
            self.reload()  # questions meanwhile were answered from the version open before
        return report

    def has_index(self) -> bool:
        """Whether an index version exists in the index folder (current or not); ``False`` on a first start."""
        return (self.store_dir / POINTER).exists()

    def index_problem(self, corpus: Path | None = None) -> str | None:
        """Why the index cannot be used as it is (missing, stale, damaged), or ``None`` when it is current."""
        settings = self.settings
        if corpus is not None:
            settings = settings.model_copy(update={"paths": settings.paths.model_copy(update={"corpus": corpus})})
        return index_problem(settings, self.embedder)

    def check_index(self, corpus: Path | None = None) -> None:
        """Raise when the index cannot be used as it is.

        Raises:
            IndexStateError: The index is missing, stale or damaged (the message says which).
        """
        problem = self.index_problem(corpus)
        if problem:
            raise IndexStateError(f"{problem} Run `assistant build`.")

    def open_index(self, rebuild: bool = False, progress: Progress | None = None) -> IndexSnapshot:
        """The open index version, opened (and checked) on first use.

        Args:
            rebuild: Build a missing, stale or damaged index instead of raising.
            progress: Build progress callback.

        Raises:
            IndexStateError: The index is missing, stale or damaged and ``rebuild`` is false.
        """
        current = self._open
        if current is not None:
            return current.snapshot
        with self._opening:
            if self._open is None:
                tidy(self.store_dir)
                try:
                    stale = stale_reason(self.settings, self.embedder)
                    if stale:
                        raise StaleIndexError(f"The index is stale: {stale}. Run `assistant build`.")
                    snapshot = open_snapshot(self.store_dir, self.settings)  # checks every file
                except IndexStateError as exc:
                    if not rebuild:
                        raise
                    if isinstance(exc, IndexMissingError):  # a first start: nothing is wrong
                        log.info("No index yet: building it (or installing the verified prebuilt one).")
                    else:
                        log.warning("Rebuilding the index: %s", exc)
                    self.build(progress=progress)
                    snapshot = open_snapshot(self.store_dir, self.settings)
                self._swap(snapshot)
        return self._open.snapshot  # type: ignore[union-attr]

    def _swap(self, snapshot: IndexSnapshot) -> None:
        # The reranker reads candidates as the answer step does, with its IDF table (built once per version).
        retrieval = self.settings.retrieval
        weights = retrieval.rerank_weights if snapshot.sentences is not None else retrieval.rerank_weights_without_sentences
        reranker = Reranker(weights, lambda: answers.extractor.cover,
                            lambda query: query_terms(retriever, query),
                            lambda query: sentence_cosines(retriever, query))
        retriever = Retriever(snapshot, self.embedder, self.settings, reranker)
        answers = AnswerService(self.settings, snapshot, retriever)
        self._open = _Open(snapshot, retriever, answers)

    def reload(self) -> bool:
        """Open the newest committed version if it differs from the open one; return whether it switched.

        Raises:
            IndexStateError: The newest version cannot be opened (the open one stays in use).
        """
        current = self._open
        version = current_version(self.store_dir)
        if current is None or version is None or version == current.snapshot.version:
            return False
        with self._opening:
            self._swap(open_snapshot(self.store_dir, self.settings))
        log.info("Switched to index version %s", version)
        return True

    @property
    def store_dir(self) -> Path:
        """The folder of the built index (``paths.index/store``; ``ingest`` output sits beside it)."""
        return self.settings.paths.index / "store"

    def _current(self) -> _Open:
        self.open_index()
        return self._open  # type: ignore[return-value]

    @property
    def retriever(self) -> Retriever:
        """The retriever over the open index (opened without rebuilding if needed)."""
        return self._current().retriever

    # ----- documents -----
    def documents(self) -> list[dict]:
        """The indexed documents with their metadata and chunk counts."""
        snapshot = self.open_index()
        counts: dict[str, int] = {}
        for segment in snapshot.catalog.segments:
            for doc in segment.rows.docs:
                live = doc.end - doc.start - int(((segment.rows.dead >= doc.start) & (segment.rows.dead < doc.end)).sum())
                counts[doc.doc_id] = counts.get(doc.doc_id, 0) + live
        return [
            {**info.to_dict(), "chunks": counts.get(doc_id, 0), "removable": info.source == "upload"}
            for doc_id, info in snapshot.documents.items()
        ]

    def add_document(self, name: str, data: bytes, progress: Progress | None = None) -> DocumentInfo:
        """Store an uploaded file, check it can be read, and index it incrementally (see :meth:`accept_upload`).

        Raises:
            DocumentError: Wrong type, too large, over the uploads quota, empty, or unreadable (nothing is kept).
        """
        path = self.accept_upload(name, data)
        self.build(progress=progress, paths=[path])
        snapshot = self.open_index()
        relative = path.relative_to(self.settings.paths.corpus).as_posix()
        return next(info for info in snapshot.documents.values() if info.file == relative)

    def accept_upload(self, name: str, data: bytes) -> Path:
        """Store an upload in ``paths.uploads`` and record it in the uploads manifest, without indexing it yet.

        The file must be readable and hold text; its title (first heading) is cleaned of control characters.

        Returns:
            The stored file.

        Raises:
            DocumentError: Wrong type, too large, over the uploads quota, empty, unreadable, or the uploads folder
                is outside the corpus folder (nothing is kept).
        """
        ui, folder = self.settings.ui, self.settings.paths.uploads
        if not folder.resolve().is_relative_to(self.settings.paths.corpus.resolve()):
            raise DocumentError("The uploads folder (paths.uploads) is not inside the corpus folder (paths.corpus).")
        check_quota(folder, len(data), ui.max_uploads, int(ui.max_upload_total_mb * 1024 * 1024))
        path = store_upload(folder, name, data, int(ui.max_upload_mb * 1024 * 1024))
        relative = path.resolve().relative_to(self.settings.paths.corpus.resolve())
        item = CorpusFile(path, DocumentInfo(derive_doc_id(relative), relative.as_posix(), source="upload"),
                          file_sha256(path))
        try:
            doc, _, _ = ingest_file(item, self.settings)  # readable, with text: else nothing is kept
        except DocumentError:
            path.unlink(missing_ok=True)
            raise
        add_manifest_entry(folder, {"file": path.name, "title": doc.info.title, "doc_type": "上传文件",
                                    "date": time.strftime("%Y-%m-%d"), "script": detect_script(doc.text[:2000]),
                                    "source": "upload"})
        return path

    def remove_document(self, doc_id: str) -> None:
        """Remove an uploaded document from the corpus and the index (official documents stay).

        Raises:
            DocumentError: The document is unknown or not an upload.
        """
        path = self.forget_upload(doc_id)
        self.build(paths=[path])
        self.open_index()

    def forget_upload(self, doc_id: str) -> Path:
        """Delete an uploaded document's file and manifest entry, without rebuilding the index yet.

        Returns:
            The deleted file.

        Raises:
            DocumentError: The document is unknown or not an upload.
        """
        info = self.open_index().documents.get(doc_id)
        if info is None:
            raise DocumentError(f"No document {doc_id!r} in the index.")
        if info.source != "upload":
            raise DocumentError(f"{info.title or doc_id} is an official document; only uploads can be removed here.")
        path = self.settings.paths.corpus / info.file
        path.unlink(missing_ok=True)
        remove_manifest_entry(path.parent, path.name)
        return path

    def document_text(self, doc_id: str) -> str:
        """The cleaned text of an indexed document (what citation offsets point into)."""
        return self.open_index().document_text(doc_id)

    # ----- answers -----
    @property
    def extractor(self) -> Extractor:
        """The extractive answerer over the open index (IDF table built on first use)."""
        return self._current().answers.extractor

    def _checked(self, text: str, what: str) -> None:
        limit = self.settings.answer.max_question_chars
        if len(text) > limit:
            raise QueryError(f"The {what} is {len(text):,} characters long; the limit is {limit:,} "
                             "(answer.max_question_chars). Shorten it to the part you want answered.")

    def ask(self, question: str, history: Sequence[str | Answer] | None = None, backend: str | None = None) -> Answer:
        """Answer a question with citations, or refuse with the closest sections.

        Official documents answer first; an uploaded document answers only when they say nothing (marked as such),
        and an upload that disagrees with the official answer is listed under ``conflicts``. Every answer carries
        ``resolved_question`` (the question itself when it stands alone); a follow-up with nothing to attach to
        (``那辽宁全省呢？`` first, ``还有呢？``) gets ``needs_clarification: true`` and a request to say more.

        Args:
            question: The question in simplified or traditional Chinese, or English.
            history: The conversation so far, oldest first (the last 10 are used): the earlier questions as typed
                (resolved turn by turn), or the earlier answers (their resolved questions, and the year of the
                document each cited, for ``明年呢？``). ``十四五期间呢？`` after ``辽宁2021年要新建多少个5G基站？`` asks
                ``辽宁十四五期间要新建多少个5G基站？``.
            backend: ``extractive`` (default from settings), ``openai`` or ``local``.

        Raises:
            QueryError: The question is empty or longer than ``answer.max_question_chars``.
            ModelUnavailableError: An LLM backend is not reachable or not installed.
        """
        self._checked(question, "question")
        current = self._current()
        return self._located(current.answers.ask(question, history, backend), current.snapshot.documents)

    def check(self, claim: str) -> Verdict:
        """Check a claim against the documents: supported, contradicted (with what differs) or not_found.

        Raises:
            QueryError: The claim is empty or longer than ``answer.max_question_chars``.
        """
        self._checked(claim, "claim")
        current = self._current()
        return self._located(current.answers.check(claim), current.snapshot.documents)

    def _located(self, result: R, documents: dict[str, DocumentInfo]) -> R:
        """The answer or verdict with each citation's pages and OCR confidence those of its quote itself."""
        threshold = self.settings.loading.ocr_min_confidence
        return replace(result, citations=tuple(locate_citation(c, documents.get(c.doc_id), threshold)
                                               for c in result.citations))

    # ----- search -----
    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        """Search the open index; see :meth:`Retriever.search`.

        Raises:
            QueryError: The query is empty, too long, or a filter is invalid.
        """
        self._checked(query, "query")
        return self.retriever.search(query, k=k, mode=mode, filters=filters)
