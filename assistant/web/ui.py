"""UI: the Gradio web app, a thin adapter over the Assistant facade (chat with citations, claim check, documents).

``build_app(assistant)`` builds the page without starting anything; ``launch(assistant)`` starts the service
(background index build, reload on changes: :mod:`.service`) and serves the page at once. Gradio is imported inside
the functions that use it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .. import prompts
from ..errors import AssistantError, ModelUnavailableError
from ..pipeline import UPLOAD_SUFFIXES, Assistant
from ..types import Citation
from . import ui_render as render
from .service import Service, public_message

log = logging.getLogger(__name__)
# The extensions offered by the file picker: what the loaders read (the uploads module enforces the same list).
UPLOAD_TYPES = sorted(UPLOAD_SUFFIXES)
# A piece of an answer to stream: up to a sentence end and its citation markers, e.g. "…6000个以上。[1]".
_PIECE = re.compile(r".+?(?:[。！？!?.](?:\[\d+\])*|$)", re.S)


def _gradio() -> Any:
    try:
        import gradio
    except ImportError as exc:
        raise ModelUnavailableError("The web UI needs gradio. Install it with: pip install 'policy-assistant[ui]'") from exc
    return gradio


def _failure(exc: Exception, service: Service) -> str:
    if isinstance(exc, AssistantError):
        message = public_message(exc, service.assistant)
        return message if message == prompts.UI_INDEX_BUILDING else prompts.UI_ERROR.format(message=message)
    log.exception("UI request failed", exc_info=exc)
    return prompts.UI_INTERNAL_ERROR


def _viewer_choices(citations: list[tuple[int, Citation]]) -> list[tuple[str, str]]:
    """Dropdown entries for every citation of the conversation, newest question first, e.g. ``问2 [1] 《…》 第六章…``."""
    order = sorted(range(len(citations)), key=lambda i: (-citations[i][0], citations[i][1].n))
    return [(f"问{citations[i][0]} [{citations[i][1].n}] 《{citations[i][1].title}》 "
             f"{' › '.join(citations[i][1].section_path[-1:])}", str(i)) for i in order]


def _new_session() -> dict[str, list]:
    """A conversation: chat messages, each turn's resolved question and answer, and every citation shown."""
    return {"messages": [], "questions": [], "answers": [], "citations": []}


def _with_texts(assistant: Assistant, fn: Callable[..., Any], *args: Any) -> tuple[Any, dict[str, str]]:
    """``fn(*args)`` (an Answer or a Verdict) and the cleaned text of each document it cites."""
    result = fn(*args)
    return result, {c.doc_id: assistant.document_text(c.doc_id) for c in result.citations}


def _stream(service: Service, question: str, session: dict[str, list]) -> Iterator[tuple[list, dict]]:
    """Chat turns as they grow: the question, a searching note, the answer sentence by sentence, then citations."""
    messages = [*session["messages"], {"role": "user", "content": render.esc(question)}]
    yield [*messages, {"role": "assistant", "content": render.esc(prompts.UI_SEARCHING)}], session
    try:
        answer, texts = service.read(_with_texts, service.assistant, service.assistant.ask, question,
                                     session.get("answers", []))  # earlier answers: resolved questions, cited years
    except Exception as exc:
        reply = {"role": "assistant", "content": render.message_html(_failure(exc, service), "failed")}
        yield [*messages, reply], {**session, "messages": [*messages, reply]}
        return
    shown = ""
    for piece in _PIECE.findall(answer.answer)[:-1]:
        shown += piece
        yield [*messages, {"role": "assistant", "content": render.answer_html(answer, partial=shown)}], session
    reply = {"role": "assistant", "content": render.answer_html(answer, texts.__getitem__)}
    turn = len(session["questions"]) + 1
    cites = [*session["citations"], *((turn, c) for c in answer.citations)]
    resolved = answer.extra.get("resolved_question", question)
    yield [*messages, reply], {"messages": [*messages, reply], "questions": [*session["questions"], resolved],
                               "answers": [*session.get("answers", []), answer], "citations": cites}


def _document_rows(service: Service) -> tuple[list[list], list[tuple[str, str]]]:
    docs = service.read(service.assistant.documents) if service.ready else []
    rows = [[d["title"], d["date"], d["publisher"], d["doc_type"], d["region"], d["chunks"],
             prompts.SOURCE_LABELS.get(d["source"], d["source"])] for d in docs]
    return rows, [(d["title"], d["doc_id"]) for d in docs if d["removable"]]


def _ask_tab(gr: Any, service: Service) -> None:
    session = gr.State(_new_session())
    chat = gr.Chatbot(label=prompts.UI_CHAT_LABEL, height=620, elem_id="chat", buttons=["copy"], feedback_options=None)
    with gr.Row():
        box = gr.Textbox(show_label=False, placeholder=prompts.UI_QUESTION_PLACEHOLDER, scale=8, elem_id="question",
                         max_lines=4)
        ask = gr.Button(prompts.UI_ASK_BUTTON, variant="primary", scale=1, elem_id="ask-button")
        clear = gr.Button(prompts.UI_CLEAR_BUTTON, scale=1, elem_id="clear-button")
    gr.Examples([[q] for q in prompts.UI_EXAMPLE_QUESTIONS], inputs=[box], label=prompts.UI_EXAMPLES)
    gr.Examples([[q] for q in prompts.UI_EXAMPLE_FOLLOWUP], inputs=[box], label=prompts.UI_EXAMPLES_FOLLOWUP)
    with gr.Accordion(prompts.UI_VIEWER, open=True, elem_id="viewer-panel"):
        choice = gr.Dropdown(choices=[], value=None, label=prompts.UI_VIEWER_CHOICE, elem_id="viewer-choice")
        viewer = gr.HTML(render.message_html(prompts.UI_VIEWER_EMPTY), elem_id="viewer")

    def respond(question: str, state: dict[str, list]) -> Iterator[tuple]:
        question = (question or "").strip()
        if not question:
            yield state["messages"], "", state, gr.skip()
            return
        for messages, new_state in _stream(service, question, state):
            yield messages, "", new_state, gr.Dropdown(choices=_viewer_choices(new_state["citations"]), value=None)

    def open_document(key: str | None, state: dict[str, list]) -> str:
        if key is None or not key.isdigit() or int(key) >= len(state["citations"]):
            return render.message_html(prompts.UI_VIEWER_EMPTY)
        citation = state["citations"][int(key)][1]
        try:
            return render.document_html(citation, service.read(service.assistant.document_text, citation.doc_id))
        except Exception as exc:
            return render.message_html(_failure(exc, service), "failed")

    outputs = [chat, box, session, choice]
    for event in (box.submit, ask.click):
        event(respond, [box, session], outputs, concurrency_id="work", api_visibility="private", show_progress="hidden")
    clear.click(lambda: ([], "", _new_session(), gr.Dropdown(choices=[], value=None)), None, outputs,
                api_visibility="private", queue=False)
    choice.change(open_document, [choice, session], viewer, api_visibility="private").then(
        None, None, None, js=render.SCROLL_TO_MARK_JS)


def _check_tab(gr: Any, service: Service) -> None:
    claim = gr.Textbox(label=prompts.UI_CLAIM, placeholder=prompts.UI_CLAIM_PLACEHOLDER, lines=2, elem_id="claim")
    button = gr.Button(prompts.UI_CHECK_BUTTON, variant="primary", elem_id="check-button")
    gr.Examples([[c] for c in prompts.UI_EXAMPLE_CLAIMS], inputs=[claim], label=prompts.UI_EXAMPLES)
    result = gr.HTML(elem_id="verdict")

    def show_verdict(text: str) -> str:
        if not (text or "").strip():
            return render.message_html(prompts.UI_EMPTY_INPUT)
        try:
            verdict, texts = service.read(_with_texts, service.assistant, service.assistant.check, text.strip())
        except Exception as exc:
            return render.message_html(_failure(exc, service), "failed")
        return render.verdict_html(verdict, texts.__getitem__)

    for event in (claim.submit, button.click):
        event(show_verdict, claim, result, concurrency_id="work", api_visibility="private")


def _docs_tab(gr: Any, service: Service) -> tuple[Any, Any]:
    table = gr.Dataframe(headers=list(prompts.UI_DOC_HEADERS), value=[], interactive=False, wrap=True,
                         show_search="search", elem_id="documents")
    mb = service.assistant.settings.ui.max_upload_mb
    upload = gr.File(label=prompts.UI_UPLOAD.format(mb=mb), file_types=UPLOAD_TYPES, type="filepath", elem_id="upload")
    token = gr.Textbox(label=prompts.UI_TOKEN, placeholder=prompts.UI_TOKEN_PLACEHOLDER, type="password",
                       elem_id="admin-token", max_lines=1)
    message = gr.HTML(elem_id="upload-message")
    with gr.Row():
        removable = gr.Dropdown(choices=[], value=None, label=prompts.UI_REMOVE_CHOICE, elem_id="remove-choice", scale=3)
        remove = gr.Button(prompts.UI_REMOVE_BUTTON, variant="stop", elem_id="remove-button", scale=1)

    def refreshed(note: str, kind: str = "ready") -> tuple:
        rows, choices = _document_rows(service)
        return render.message_html(note, kind), rows, gr.Dropdown(choices=choices, value=None)

    def add(path: str | None, secret: str, progress: Any = gr.Progress()) -> tuple:  # noqa: B008 (gradio's injection)
        if not path:
            return (*refreshed(prompts.UI_NO_FILE, "info"), None)
        try:
            job = service.upload(Path(path).name, Path(path).read_bytes(), secret)
            while not job.wait(0.5):  # questions go on meanwhile: the build runs in the service's worker
                if job.total:
                    stage = prompts.UI_INDEX_STAGES.get(job.stage, job.stage)
                    progress((job.done, job.total), desc=f"{prompts.UI_UPLOADING}：{stage}")
            if job.error is not None:
                raise job.error
        except Exception as exc:
            return (*refreshed(_failure(exc, service), "failed"), None)
        name = Path(path).name
        done = next((d for d in reversed(service.read(service.assistant.documents)) if d["source"] == "upload"), None)
        note = prompts.UI_UPLOADED.format(title=done["title"], chunks=done["chunks"]) if done else name
        return (*refreshed(note), None)

    def drop(doc_id: str | None, secret: str) -> tuple:
        if not doc_id:
            return refreshed(prompts.UI_NOTHING_SELECTED, "info")
        try:
            title = next((d["title"] for d in service.read(service.assistant.documents) if d["doc_id"] == doc_id), doc_id)
            job = service.remove(doc_id, secret)
            job.wait()
            if job.error is not None:
                raise job.error
        except Exception as exc:
            return refreshed(_failure(exc, service), "failed")
        return refreshed(prompts.UI_REMOVED.format(title=title))

    upload.upload(add, [upload, token], [message, table, removable, upload], concurrency_limit=1,
                  concurrency_id="write", api_visibility="private")
    remove.click(drop, [removable, token], [message, table, removable], concurrency_limit=1, concurrency_id="write",
                 api_visibility="private")
    return table, removable


def build_app(assistant: Assistant, service: Service | None = None) -> Any:
    """Build the web page (``gr.Blocks``) over an assistant; nothing is started or served.

    Args:
        assistant: The facade the page talks to.
        service: The running service (``launch`` passes the one it started); a new one starts on first use.

    Returns:
        The ``gr.Blocks`` app, with API endpoints ``/ask`` and ``/check`` (one string in, the JSON dict out).

    Raises:
        ModelUnavailableError: gradio is not installed.
    """
    gr = _gradio()
    service = service or Service(assistant)
    with gr.Blocks(title=prompts.UI_TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"## {prompts.UI_TITLE}\n{prompts.UI_INTRO}")
        status = gr.HTML(render.message_html(prompts.UI_INDEX_BUILDING), elem_id="index-status")
        shown = gr.State("")
        timer = gr.Timer(1.0)
        with gr.Tab(prompts.UI_TAB_ASK, elem_id="tab-ask"):
            _ask_tab(gr, service)
        with gr.Tab(prompts.UI_TAB_CHECK, elem_id="tab-check"):
            _check_tab(gr, service)
        with gr.Tab(prompts.UI_TAB_DOCS, elem_id="tab-docs"):
            table, removable = _docs_tab(gr, service)

        def tick(last: str) -> tuple:
            service.start()
            text, kind = service.status()
            if kind != "ready" or text == last:  # the documents table changes only with the index version
                return render.message_html(text, kind), gr.skip(), gr.skip(), text
            rows, choices = _document_rows(service)
            return render.message_html(text, kind), rows, gr.Dropdown(choices=choices, value=None), text

        outputs = [status, table, removable, shown]
        app.load(tick, shown, outputs, api_visibility="private", show_progress="hidden")
        timer.tick(tick, shown, outputs, api_visibility="private", show_progress="hidden", concurrency_limit=None)
        gr.api(service.api_ask, api_name="ask", concurrency_id="work")
        gr.api(service.api_check, api_name="check", concurrency_id="work")
        gr.api(service.api_upload, api_name="upload", concurrency_id="write", concurrency_limit=1)
    return app


def launch(assistant: Assistant, block: bool = True) -> Any:
    """Serve the app on ``ui.host:ui.port`` at once; a missing, stale or damaged index is rebuilt in the background.

    Args:
        assistant: The facade to serve.
        block: Keep serving until interrupted; ``False`` returns once the server is up (tests).

    Returns:
        The running ``gr.Blocks`` app (``app.close()`` stops it; ``app.service`` is its service).

    Raises:
        ModelUnavailableError: gradio is not installed.
    """
    gr = _gradio()
    ui = assistant.settings.ui
    service = Service(assistant)
    service.start()
    app = build_app(assistant, service)
    app.service = service
    app.queue(default_concurrency_limit=ui.concurrency)
    app.launch(server_name=ui.host, server_port=ui.port, show_error=False, prevent_thread_lock=not block,
               max_file_size=int(ui.max_upload_mb * 1024 * 1024), css=render.CSS, theme=gr.themes.Default(),
               footer_links=["api"], quiet=not block)
    return app
