"""UI: the Gradio web app, a thin adapter over the Assistant facade (chat with citations, claim check, documents).

``build_app(assistant)`` builds the page without starting anything; ``launch(assistant)`` starts the index build in
a background thread and serves the page at once. Gradio is imported inside the functions that use it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .. import prompts
from ..errors import AssistantError, IndexStateError, ModelUnavailableError
from ..pipeline import Assistant
from ..types import Citation
from . import ui_render as render

log = logging.getLogger(__name__)
T = TypeVar("T")
# The extensions offered by the file picker; Assistant.add_document enforces the real allow-list.
UPLOAD_TYPES = [".txt", ".md", ".docx", ".pdf", ".html", ".htm"]
# A piece of an answer to stream: up to a sentence end and its citation markers, e.g. "…6000个以上。[1]".
_PIECE = re.compile(r".+?(?:[。！？!?.](?:\[\d+\])*|$)", re.S)


def _gradio() -> Any:
    try:
        import gradio
    except ImportError as exc:
        raise ModelUnavailableError("The web UI needs gradio. Install it with: pip install 'policy-assistant[ui]'") from exc
    return gradio


class Backend:
    """The assistant behind the page: builds the index in the background and lets uploads run alone.

    Questions and checks share the assistant (many at once); an upload or removal waits for them and runs alone.
    """

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.stage, self.done, self.total = "", 0, 0
        self.error: AssistantError | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    def start(self) -> None:
        """Start loading (or rebuilding) the index in a background thread; later calls do nothing."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._load, name="index-build", daemon=True)
                self._thread.start()

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def _load(self) -> None:
        try:
            problem = self.assistant.index_problem()
            if problem:
                log.warning("Building the index in the background: %s", problem)
            self.assistant.open_index(rebuild=True, progress=self._progress)
            self.assistant.search(prompts.UI_EXAMPLE_QUESTIONS[0], k=1)  # loads the embedding model
        except AssistantError as exc:
            log.error("The index cannot be opened: %s", exc)
            self.error = exc
        except Exception as exc:
            log.exception("The index cannot be opened")
            self.error = AssistantError(str(exc))
        else:
            self._ready.set()

    @property
    def ready(self) -> bool:
        """Whether questions can be answered now."""
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Start loading if needed and wait until the index is ready; ``False`` on timeout or failure."""
        self.start()
        self._ready.wait(timeout)
        return self.ready

    def status(self) -> tuple[str, str]:
        """The status line and its kind (``info``, ``ready`` or ``failed``)."""
        if self.error is not None:
            return prompts.UI_INDEX_FAILED.format(message=self.error), "failed"
        if not self.ready:
            if not self.total:
                return prompts.UI_INDEX_BUILDING, "info"
            stage = prompts.UI_INDEX_STAGES.get(self.stage, self.stage)
            return prompts.UI_INDEX_PROGRESS.format(stage=stage, done=self.done, total=self.total), "info"
        docs = self.assistant.documents()
        chunks = sum(d["chunks"] for d in docs)
        return prompts.UI_INDEX_READY.format(documents=len(docs), chunks=chunks), "ready"

    @contextmanager
    def _reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def _writing_alone(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._writing = True
            self._cond.wait_for(lambda: self._readers == 0)
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a read-only facade call once the index is ready.

        Raises:
            IndexStateError: The index is still being built.
            AssistantError: The index could not be built, or the call failed.
        """
        self.start()
        if self.error is not None:
            raise self.error
        if not self.ready:
            raise IndexStateError(prompts.UI_INDEX_BUILDING)
        with self._reading():
            return fn(*args)

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a facade call that changes the index, alone (same errors as :meth:`read`)."""
        self.read(lambda: None)
        with self._writing_alone():
            return fn(*args, **kwargs)

    def api(self, key: str, text: str, fn: Callable[[str], Any]) -> dict[str, Any]:
        """The JSON of ``fn(text).to_dict()``, or ``{key: text, "error": {type, message}}``."""
        try:
            return self.read(fn, text).to_dict()
        except AssistantError as exc:
            return {key: text, "error": exc.to_dict()}
        except Exception:
            log.exception("%s failed for %r", key, text)
            return {key: text, "error": {"type": "InternalError", "message": prompts.UI_INTERNAL_ERROR}}

    def api_ask(self, question: str) -> dict:
        """Answer a question; returns the ``assistant ask --json`` object (or an ``error`` object)."""
        return self.api("question", question, self.assistant.ask)

    def api_check(self, claim: str) -> dict:
        """Check a claim; returns the ``assistant check --json`` object (or an ``error`` object)."""
        return self.api("claim", claim, self.assistant.check)


def _failure(exc: Exception) -> str:
    if isinstance(exc, AssistantError):
        return str(exc) if str(exc) == prompts.UI_INDEX_BUILDING else prompts.UI_ERROR.format(message=exc)
    log.exception("UI request failed", exc_info=exc)
    return prompts.UI_INTERNAL_ERROR


def _viewer_choices(citations: list[tuple[int, Citation]]) -> list[tuple[str, str]]:
    """Dropdown entries for every citation of the conversation, newest question first, e.g. ``问2 [1] 《…》 第六章…``."""
    order = sorted(range(len(citations)), key=lambda i: (-citations[i][0], citations[i][1].n))
    return [(f"问{citations[i][0]} [{citations[i][1].n}] 《{citations[i][1].title}》 "
             f"{' › '.join(citations[i][1].section_path[-1:])}", str(i)) for i in order]


def _new_session() -> dict[str, list]:
    return {"messages": [], "questions": [], "citations": []}


def _with_texts(assistant: Assistant, fn: Callable[..., Any], *args: Any) -> tuple[Any, dict[str, str]]:
    """``fn(*args)`` (an Answer or a Verdict) and the cleaned text of each document it cites."""
    result = fn(*args)
    return result, {c.doc_id: assistant.document_text(c.doc_id) for c in result.citations}


def _stream(backend: Backend, question: str, session: dict[str, list]) -> Iterator[tuple[list, dict]]:
    """Chat turns as they grow: the question, a searching note, the answer sentence by sentence, then citations."""
    messages = [*session["messages"], {"role": "user", "content": render.esc(question)}]
    yield [*messages, {"role": "assistant", "content": render.esc(prompts.UI_SEARCHING)}], session
    try:
        answer, texts = backend.read(_with_texts, backend.assistant, backend.assistant.ask, question, session["questions"])
    except Exception as exc:
        reply = {"role": "assistant", "content": render.message_html(_failure(exc), "failed")}
        yield [*messages, reply], {**session, "messages": [*messages, reply]}
        return
    shown = ""
    for piece in _PIECE.findall(answer.answer)[:-1]:
        shown += piece
        yield [*messages, {"role": "assistant", "content": render.answer_html(answer, partial=shown)}], session
    reply = {"role": "assistant", "content": render.answer_html(answer, texts.__getitem__)}
    turn = len(session["questions"]) + 1
    cites = [*session["citations"], *((turn, c) for c in answer.citations)]
    yield [*messages, reply], {"messages": [*messages, reply], "questions": [*session["questions"], question],
                               "citations": cites}


def _document_rows(backend: Backend) -> tuple[list[list], list[tuple[str, str]]]:
    docs = backend.read(backend.assistant.documents) if backend.ready else []
    rows = [[d["title"], d["date"], d["publisher"], d["doc_type"], d["region"], d["chunks"]] for d in docs]
    return rows, [(d["title"], d["doc_id"]) for d in docs if d["removable"]]


def _ask_tab(gr: Any, backend: Backend) -> None:
    session = gr.State(_new_session())
    chat = gr.Chatbot(label=prompts.UI_CHAT_LABEL, height=620, elem_id="chat", buttons=["copy"], feedback_options=None)
    with gr.Row():
        box = gr.Textbox(show_label=False, placeholder=prompts.UI_QUESTION_PLACEHOLDER, scale=8, elem_id="question",
                         max_lines=4)
        ask = gr.Button(prompts.UI_ASK_BUTTON, variant="primary", scale=1, elem_id="ask-button")
        clear = gr.Button(prompts.UI_CLEAR_BUTTON, scale=1, elem_id="clear-button")
    gr.Examples([[q] for q in prompts.UI_EXAMPLE_QUESTIONS], inputs=[box], label=prompts.UI_EXAMPLES)
    with gr.Accordion(prompts.UI_VIEWER, open=True, elem_id="viewer-panel"):
        choice = gr.Dropdown(choices=[], value=None, label=prompts.UI_VIEWER_CHOICE, elem_id="viewer-choice")
        viewer = gr.HTML(render.message_html(prompts.UI_VIEWER_EMPTY), elem_id="viewer")

    def respond(question: str, state: dict[str, list]) -> Iterator[tuple]:
        question = (question or "").strip()
        if not question:
            yield state["messages"], "", state, gr.skip()
            return
        for messages, new_state in _stream(backend, question, state):
            yield messages, "", new_state, gr.Dropdown(choices=_viewer_choices(new_state["citations"]), value=None)

    def open_document(key: str | None, state: dict[str, list]) -> str:
        if key is None or not key.isdigit() or int(key) >= len(state["citations"]):
            return render.message_html(prompts.UI_VIEWER_EMPTY)
        citation = state["citations"][int(key)][1]
        try:
            return render.document_html(citation, backend.read(backend.assistant.document_text, citation.doc_id))
        except Exception as exc:
            return render.message_html(_failure(exc), "failed")

    outputs = [chat, box, session, choice]
    for event in (box.submit, ask.click):
        event(respond, [box, session], outputs, concurrency_id="work", api_visibility="private", show_progress="hidden")
    clear.click(lambda: ([], "", _new_session(), gr.Dropdown(choices=[], value=None)), None, outputs,
                api_visibility="private", queue=False)
    choice.change(open_document, [choice, session], viewer, api_visibility="private").then(
        None, None, None, js=render.SCROLL_TO_MARK_JS)


def _check_tab(gr: Any, backend: Backend) -> None:
    claim = gr.Textbox(label=prompts.UI_CLAIM, placeholder=prompts.UI_CLAIM_PLACEHOLDER, lines=2, elem_id="claim")
    button = gr.Button(prompts.UI_CHECK_BUTTON, variant="primary", elem_id="check-button")
    gr.Examples([[c] for c in prompts.UI_EXAMPLE_CLAIMS], inputs=[claim], label=prompts.UI_EXAMPLES)
    result = gr.HTML(elem_id="verdict")

    def show_verdict(text: str) -> str:
        if not (text or "").strip():
            return render.message_html(prompts.UI_EMPTY_INPUT)
        try:
            verdict, texts = backend.read(_with_texts, backend.assistant, backend.assistant.check, text.strip())
        except Exception as exc:
            return render.message_html(_failure(exc), "failed")
        return render.verdict_html(verdict, texts.__getitem__)

    for event in (claim.submit, button.click):
        event(show_verdict, claim, result, concurrency_id="work", api_visibility="private")


def _docs_tab(gr: Any, backend: Backend) -> tuple[Any, Any]:
    table = gr.Dataframe(headers=list(prompts.UI_DOC_HEADERS), value=[], interactive=False, wrap=True,
                         show_search="search", elem_id="documents")
    mb = backend.assistant.settings.ui.max_upload_mb
    upload = gr.File(label=prompts.UI_UPLOAD.format(mb=mb), file_types=UPLOAD_TYPES, type="filepath", elem_id="upload")
    message = gr.HTML(elem_id="upload-message")
    with gr.Row():
        removable = gr.Dropdown(choices=[], value=None, label=prompts.UI_REMOVE_CHOICE, elem_id="remove-choice", scale=3)
        remove = gr.Button(prompts.UI_REMOVE_BUTTON, variant="stop", elem_id="remove-button", scale=1)

    def refreshed(note: str, kind: str = "ready") -> tuple:
        rows, choices = _document_rows(backend)
        return render.message_html(note, kind), rows, gr.Dropdown(choices=choices, value=None)

    def add(path: str | None, progress: Any = gr.Progress()) -> tuple:  # noqa: B008 (gradio's progress injection)
        if not path:
            return (*refreshed(prompts.UI_NO_FILE, "info"), None)

        def report(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=f"{prompts.UI_UPLOADING}：{prompts.UI_INDEX_STAGES.get(stage, stage)}")

        try:
            info = backend.write(backend.assistant.add_document, Path(path).name, Path(path).read_bytes(), report)
        except Exception as exc:
            return (*refreshed(_failure(exc), "failed"), None)
        chunks = next((d["chunks"] for d in backend.read(backend.assistant.documents) if d["doc_id"] == info.doc_id), 0)
        return (*refreshed(prompts.UI_UPLOADED.format(title=info.title, chunks=chunks)), None)

    def drop(doc_id: str | None) -> tuple:
        if not doc_id:
            return refreshed(prompts.UI_NOTHING_SELECTED, "info")
        try:
            title = next((d["title"] for d in backend.read(backend.assistant.documents) if d["doc_id"] == doc_id), doc_id)
            backend.write(backend.assistant.remove_document, doc_id)
        except Exception as exc:
            return refreshed(_failure(exc), "failed")
        return refreshed(prompts.UI_REMOVED.format(title=title))

    upload.upload(add, upload, [message, table, removable, upload], concurrency_limit=1, concurrency_id="write",
                  api_visibility="private")
    remove.click(drop, removable, [message, table, removable], concurrency_limit=1, concurrency_id="write",
                 api_visibility="private")
    return table, removable


def build_app(assistant: Assistant, backend: Backend | None = None) -> Any:
    """Build the web page (``gr.Blocks``) over an assistant; nothing is started or served.

    Args:
        assistant: The facade the page talks to.
        backend: Shared loading state (``launch`` passes the one it started); a new one loads on first use.

    Returns:
        The ``gr.Blocks`` app, with API endpoints ``/ask`` and ``/check`` (one string in, the JSON dict out).

    Raises:
        ModelUnavailableError: gradio is not installed.
    """
    gr = _gradio()
    backend = backend or Backend(assistant)
    with gr.Blocks(title=prompts.UI_TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {prompts.UI_TITLE}\n{prompts.UI_INTRO}")
        status = gr.HTML(render.message_html(prompts.UI_INDEX_BUILDING), elem_id="index-status")
        timer = gr.Timer(1.0)
        with gr.Tab(prompts.UI_TAB_ASK, elem_id="tab-ask"):
            _ask_tab(gr, backend)
        with gr.Tab(prompts.UI_TAB_CHECK, elem_id="tab-check"):
            _check_tab(gr, backend)
        with gr.Tab(prompts.UI_TAB_DOCS, elem_id="tab-docs"):
            table, removable = _docs_tab(gr, backend)

        def tick() -> tuple:
            backend.start()
            text, kind = backend.status()
            if kind == "info":
                return render.message_html(text, kind), gr.skip(), gr.skip(), gr.Timer(active=True)
            rows, choices = _document_rows(backend)
            return render.message_html(text, kind), rows, gr.Dropdown(choices=choices, value=None), gr.Timer(active=False)

        outputs = [status, table, removable, timer]
        app.load(tick, None, outputs, api_visibility="private", show_progress="hidden")
        timer.tick(tick, None, outputs, api_visibility="private", show_progress="hidden", concurrency_limit=None)
        gr.api(backend.api_ask, api_name="ask", concurrency_id="work")
        gr.api(backend.api_check, api_name="check", concurrency_id="work")
    return app


def launch(assistant: Assistant, block: bool = True) -> Any:
    """Serve the app on ``ui.host:ui.port`` at once; a missing, stale or corrupt index is rebuilt in the background.

    Args:
        assistant: The facade to serve.
        block: Keep serving until interrupted; ``False`` returns once the server is up (tests).

    Returns:
        The running ``gr.Blocks`` app (``app.close()`` stops it).

    Raises:
        ModelUnavailableError: gradio is not installed.
    """
    gr = _gradio()
    ui = assistant.settings.ui
    backend = Backend(assistant)
    backend.start()
    app = build_app(assistant, backend)
    app.queue(default_concurrency_limit=ui.concurrency)
    app.launch(server_name=ui.host, server_port=ui.port, show_error=False, prevent_thread_lock=not block,
               max_file_size=int(ui.max_upload_mb * 1024 * 1024), css=render.CSS, theme=gr.themes.Default(),
               footer_links=["api"], quiet=not block)
    return app
