"""Service: what a running server does besides answering — background builds, uploads, reload, access control.

Questions are answered from the index version that is open; builds (the first one, an upload's, a removal's, one
started because the corpus changed) run one at a time in a worker thread and publish a new version, which the
service then opens. A watcher notices a new version published by another process (``assistant build`` in another
shell) and changes to the corpus folder, so the server never needs a restart to see new data.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .. import prompts
from ..errors import AssistantError, DocumentError, IndexStateError
from ..ingest.corpus import list_files
from ..pipeline import Assistant

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server on this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host in {"localhost", ""}:
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_message(exc: BaseException, assistant: Assistant) -> str:
    """An error message fit for the page: absolute server paths replaced by names relative to the corpus or index."""
    text = str(exc)
    paths = assistant.settings.paths
    for folder, label in ((paths.uploads, "uploads"), (paths.corpus, "corpus"), (paths.index, "index"),
                          (Path.cwd(), "."), (Path.home(), "~")):
        for form in {str(folder.resolve()), str(folder)}:
            if os.path.isabs(form) and len(form) > 1:
                text = text.replace(form, label)
    return text


@dataclass
class Job:
    """A build the worker runs (an upload, a removal, a corpus change); wait on it or watch its progress."""

    label: str
    stage: str = ""
    done: int = 0
    total: int = 0
    error: AssistantError | None = None
    stored: str = ""  # an upload's file, relative to the corpus
    paths: tuple[Path, ...] | None = None  # the files that changed (``None``: list the whole corpus)
    finished: threading.Event = field(default_factory=threading.Event)

    def progress(self, stage: str, done: int, total: int) -> None:
        """Progress callback for the build."""
        self.stage, self.done, self.total = stage, done, total

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job; ``True`` when it finished (check :attr:`error`)."""
        return self.finished.wait(timeout)


class Service:
    """The assistant behind the page.

    Args:
        assistant: The facade.
        watch: Start the watcher that reloads on external builds and rebuilds on corpus changes.
    """

    def __init__(self, assistant: Assistant, watch: bool = True) -> None:
        self.assistant = assistant
        self.error: AssistantError | None = None
        self.updated: str = ""
        self._watch = watch
        self._ready = threading.Event()
        self._started = False
        self._start_lock = threading.Lock()
        self._jobs: queue.Queue[tuple[Job, Callable[[Job], None]]] = queue.Queue()
        self._current: Job | None = None
        self._stop = threading.Event()
        self._corpus_state: tuple | None = None

    # ----- lifecycle -----
    def start(self) -> None:
        """Start the worker (first job: open or build the index) and the watcher; later calls do nothing."""
        with self._start_lock:
            if self._started:
                return
            self._started = True
        self.submit(Job("index"), self._open)
        threading.Thread(target=self._work, name="index-worker", daemon=True).start()
        if self._watch:
            threading.Thread(target=self._watcher, name="index-watcher", daemon=True).start()

    def stop(self) -> None:
        """Stop the watcher and the worker after the job in hand."""
        self._stop.set()
        self._jobs.put((Job("stop"), lambda job: None))

    def _open(self, job: Job) -> None:
        problem = self.assistant.index_problem()
        if problem and not self.assistant.has_index():  # a first start: nothing is wrong
            log.info("Building the index in the background (none yet).")
        elif problem:
            log.warning("Building the index in the background: %s", public_message(RuntimeError(problem), self.assistant))
        self._corpus_state = self._corpus_fingerprint()
        self.assistant.open_index(rebuild=True, progress=job.progress)
        self.assistant.retriever.warm()  # the model and the dictionary load here, not on the first question
        self.assistant.search(prompts.UI_EXAMPLE_QUESTIONS[0], k=1)  # and the stores' lazily read parts
        self._ready.set()

    def _work(self) -> None:
        while not self._stop.is_set():
            job, run = self._jobs.get()
            if self._stop.is_set():
                break
            self._current = job
            try:
                run(job)
            except AssistantError as exc:
                log.error("%s failed: %s", job.label, exc)
                job.error = exc
                if job.label == "index":
                    self.error = exc
            except Exception as exc:
                log.exception("%s failed", job.label)
                job.error = AssistantError(prompts.UI_INTERNAL_ERROR)
                if job.label == "index":
                    self.error = job.error
                del exc
            finally:
                self._current = None
                job.finished.set()

    def submit(self, job: Job, run: Callable[[Job], None]) -> Job:
        """Queue a job for the worker (builds run one at a time) and return it."""
        self._jobs.put((job, run))
        return job

    def _rebuild(self, job: Job) -> None:
        """A build job: update the index, then answer from the new version."""
        report = self.assistant.build(progress=job.progress, paths=job.paths)
        self._corpus_state = self._corpus_fingerprint()
        if report.rebuilt:
            self._mark_updated()

    def _mark_updated(self) -> None:
        self.updated = time.strftime("%H:%M:%S")

    # ----- watching for changes -----
    def _corpus_fingerprint(self) -> tuple:
        """Cheap state of the corpus folder: every file's path, size and modification time."""
        try:
            return tuple((relative, stamp) for relative, _, _, stamp in list_files(self.assistant.settings.paths.corpus))
        except OSError:
            return ()

    def _watcher(self) -> None:
        interval = self.assistant.settings.ui.reload_interval_s
        while not self._stop.wait(interval):
            if not self._ready.is_set():
                continue
            try:
                self.poll()
            except AssistantError as exc:  # keep answering from the open version
                log.error("Reload failed: %s", public_message(exc, self.assistant))

    def poll(self) -> None:
        """Reload a version another process published; queue a build when the corpus changed."""
        if self.assistant.reload():
            self._mark_updated()
        state = self._corpus_fingerprint()
        if state != self._corpus_state and self._current is None and self._jobs.empty():
            self._corpus_state = state
            log.info("The corpus changed: updating the index in the background")
            self.submit(Job("corpus"), self._rebuild)

    # ----- reading -----
    @property
    def ready(self) -> bool:
        """Whether questions can be answered now."""
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Start if needed and wait until the index is open; ``False`` on timeout or failure."""
        self.start()
        self._ready.wait(timeout)
        return self.ready

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a read-only facade call on the open index version.

        Raises:
            IndexStateError: The index is still being built.
            AssistantError: The index could not be built, or the call failed.
        """
        self.start()
        if self.error is not None:
            raise self.error
        if not self.ready:
            raise IndexStateError(prompts.UI_INDEX_BUILDING)
        return fn(*args)

    def status(self) -> tuple[str, str]:
        """The status line and its kind (``info``, ``ready`` or ``failed``)."""
        if self.error is not None:
            return prompts.UI_INDEX_FAILED.format(message=public_message(self.error, self.assistant)), "failed"
        job = self._current
        if not self.ready:
            if job is None or not job.total:
                return prompts.UI_INDEX_BUILDING, "info"
            stage = prompts.UI_INDEX_STAGES.get(job.stage, job.stage)
            return prompts.UI_INDEX_PROGRESS.format(stage=stage, done=job.done, total=job.total), "info"
        if job is not None and job.total:
            stage = prompts.UI_INDEX_STAGES.get(job.stage, job.stage)
            return prompts.UI_INDEX_UPDATING.format(stage=stage, done=job.done, total=job.total), "info"
        docs = self.assistant.documents()
        chunks = sum(d["chunks"] for d in docs)
        if self.updated:
            return prompts.UI_INDEX_UPDATED.format(time=self.updated, documents=len(docs), chunks=chunks), "ready"
        return prompts.UI_INDEX_READY.format(documents=len(docs), chunks=chunks), "ready"

    # ----- writing -----
    def authorize(self, token: str | None) -> None:
        """Allow an upload or removal: the admin token must match; without one, only on a loopback server.

        Raises:
            DocumentError: The token is wrong, or missing where one is required.
        """
        expected = self.assistant.settings.ui.admin_token.get_secret_value()
        if not expected:
            if not is_loopback(self.assistant.settings.ui.host):
                raise DocumentError(prompts.UI_TOKEN_REQUIRED)
            return
        if not hmac.compare_digest((token or "").encode(), expected.encode()):
            raise DocumentError(prompts.UI_TOKEN_WRONG)

    def upload(self, name: str, data: bytes, token: str | None = None) -> Job:
        """Accept an upload now (checked, stored, recorded) and index it in the background.

        Raises:
            DocumentError: Not authorized, wrong type, too large, over the quota, or unreadable (nothing kept).
        """
        self.authorize(token)
        self.read(lambda: None)
        path = self.assistant.accept_upload(name, data)
        job = Job(f"upload {name}", paths=(path,))
        job.stored = path.resolve().relative_to(self.assistant.settings.paths.corpus.resolve()).as_posix()
        return self.submit(job, self._rebuild)

    def remove(self, doc_id: str, token: str | None = None) -> Job:
        """Remove an uploaded document now from the corpus, and from the index in the background.

        Raises:
            DocumentError: Not authorized, unknown document, or an official one.
        """
        self.authorize(token)
        self.read(lambda: None)
        path = self.assistant.forget_upload(doc_id)
        return self.submit(Job(f"remove {doc_id}", paths=(path,)), self._rebuild)

    # ----- the API -----
    def api(self, key: str, text: str, fn: Callable[[str], Any]) -> dict[str, Any]:
        """The JSON of ``fn(text).to_dict()``, or ``{key: text, "error": {type, message}}``."""
        try:
            return self.read(fn, text).to_dict()
        except AssistantError as exc:
            return {key: text[:200], "error": {"type": type(exc).__name__, "message": public_message(exc, self.assistant)}}
        except Exception:
            log.exception("%s failed", key)
            return {key: text[:200], "error": {"type": "InternalError", "message": prompts.UI_INTERNAL_ERROR}}

    def api_upload(self, name: str, content_base64: str, token: str = "") -> dict:
        """Upload a document (base64 content) and wait until it is indexed; same checks as the page's upload.

        Returns:
            ``{"file", "doc_id", "title", "chunks", "seconds"}`` or ``{"file", "error": {type, message}}``.
        """
        import base64
        import binascii

        started = time.perf_counter()
        try:
            try:
                data = base64.b64decode(content_base64, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise DocumentError("The upload's content is not valid base64.") from exc
            job = self.upload(name, data, token)
            job.wait()
            if job.error is not None:
                raise job.error
            done = next((d for d in self.read(self.assistant.documents) if d["file"] == job.stored), None)
        except AssistantError as exc:
            return {"file": name[:200], "error": {"type": type(exc).__name__, "message": public_message(exc, self.assistant)}}
        return {"file": name, "doc_id": done["doc_id"] if done else "", "title": done["title"] if done else "",
                "chunks": done["chunks"] if done else 0, "seconds": round(time.perf_counter() - started, 3)}

    def api_ask(self, question: str, history: list[str] | None = None) -> dict:
        """Answer a question; returns the ``assistant ask --json`` object (or an ``error`` object).

        Args:
            question: The question.
            history: The earlier questions of the conversation as the user typed them, oldest first (the last 10
                are used); the question may be a follow-up to them (``那辽宁全省呢？``). A string is read as one
                question per line.
        """
        if isinstance(history, str):
            history = history.splitlines()
        earlier = [str(q).strip() for q in history or [] if str(q).strip()]
        return self.api("question", question, lambda text: self.assistant.ask(text, earlier))

    def api_check(self, claim: str) -> dict:
        """Check a claim; returns the ``assistant check --json`` object (or an ``error`` object)."""
        return self.api("claim", claim, self.assistant.check)
