"""Tests of the running web UI: the /ask and /check API through gradio_client, startup over a corrupt index, and a
real Chromium driving the page (ask, check, upload). Each test serves on a free localhost port."""

from __future__ import annotations

import shutil
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant import prompts
from assistant.pipeline import Assistant

from .conftest import CORPUS, ROOT, make_settings

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = ROOT / "docs" / "screenshots" / "ui-answer.png"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(assistant: Assistant) -> Iterator[str]:
    """Serve the assistant's UI on a free port (the index loads in the background); yields the URL."""
    from assistant.web.ui import launch

    ui = assistant.settings.ui.model_copy(update={"port": free_port()})
    assistant.settings = assistant.settings.model_copy(update={"ui": ui})
    app = launch(assistant, block=False)
    try:
        yield f"http://127.0.0.1:{ui.port}/"
    finally:
        app.close()


def ask_when_ready(url: str, question: str, timeout: float = 180) -> dict:
    """``/ask`` through gradio_client, retried while the index is still being built."""
    client = gradio_client.Client(url, verbose=False)
    deadline = time.monotonic() + timeout
    while True:
        result = client.predict(question, api_name="/ask")
        if result.get("error", {}).get("message") != prompts.UI_INDEX_BUILDING or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_api_ask_and_check_return_the_cli_json(tmp_path, small_corpus):
    assistant = Assistant(make_settings(tmp_path, small_corpus))
    with serving(assistant) as url:
        result = ask_when_ready(url, "沈阳2021年要新建多少5G基站？")
        assert result == assistant.ask("沈阳2021年要新建多少5G基站？").to_dict()
        assert set(result) >= {"question", "answer", "refused", "backend", "citations"}
        assert result["refused"] is False and "6000" in result["answer"]
        assert set(result["citations"][0]) >= {"n", "chunk_id", "doc_id", "title", "date", "publisher", "section_path",
                                               "quote", "start", "end", "page_start", "page_end", "source"}

        client = gradio_client.Client(url, verbose=False)
        verdict = client.predict("沈阳2021年要新建5G基站8000个。", api_name="/check")
        assert verdict == assistant.check("沈阳2021年要新建5G基站8000个。").to_dict()
        assert verdict["verdict"] == "contradicted" and verdict["mismatches"][0]["document_value"].startswith("6000")

        assert client.predict("", api_name="/ask") == {
            "question": "", "error": {"type": "QueryError", "message": "The query is empty. Type a question."}}
        assert client.predict(" ", api_name="/check")["error"]["type"] == "QueryError"
        api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert set(api) == {"/ask", "/check", "/upload"}


def test_api_ask_with_history_answers_a_follow_up(tmp_path, small_corpus):
    assistant = Assistant(make_settings(tmp_path, small_corpus))
    first = "沈阳2021年要新建多少5G基站？"
    with serving(assistant) as url:
        assert ask_when_ready(url, first)["resolved_question"] == first
        client = gradio_client.Client(url, verbose=False)
        result = client.predict("那辽宁全省呢？", [first], api_name="/ask")  # history as the second argument
        assert result == assistant.ask("那辽宁全省呢？", [first]).to_dict()
        assert result["resolved_question"] == "辽宁2021年要新建多少5G基站？" and result["carried"] == ["period", "topic"]
        assert result["refused"] or result.get("scope_mismatch")  # Shenyang's figure is not Liaoning's
        third = client.predict("十四五期间呢？", history=[first, "那辽宁全省呢？"], api_name="/ask")
        assert third["resolved_question"] == "辽宁十四五期间要新建多少5G基站？"
        assert client.predict("那辽宁全省呢？", api_name="/ask") == {
            "question": "那辽宁全省呢？", "needs_clarification": True, "answer": prompts.CLARIFY, "refused": False,
            "citations": [], "backend": "extractive", "resolved_question": "那辽宁全省呢？"}
        api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/ask"]["parameters"]
        assert [p["parameter_name"] for p in api] == ["question", "history"] and api[1]["parameter_has_default"]


def test_starts_at_once_over_a_corrupt_index_and_rebuilds_it(tmp_path, small_corpus):
    Assistant(make_settings(tmp_path, small_corpus)).build()
    vectors = next((tmp_path / "index" / "store" / "segments").glob("vec-*/vectors.npy"))
    vectors.write_bytes(vectors.read_bytes()[:100])
    assistant = Assistant(make_settings(tmp_path, small_corpus))
    assert assistant.index_problem() is not None
    started = time.monotonic()
    with serving(assistant) as url:
        with urllib.request.urlopen(url, timeout=30) as page:  # the page is served before the rebuild ends
            assert page.status == 200
        assert time.monotonic() - started < 30
        result = ask_when_ready(url, "沈阳2021年要新建多少5G基站？")
        assert "error" not in result and result["citations"]
    assert assistant.index_problem() is None


# ----- a real browser -----
def _playwright():
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs the playwright python package: pip install -e '.[dev]'")
    return sync_playwright


@pytest.fixture
def browser_assistant(tmp_path: Path, real_assistant: Assistant) -> Assistant:
    """The real model over a private copy of the seed corpus (uploads land there), reusing the session's index."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("uploads"))
    shutil.copytree(real_assistant.settings.paths.index, tmp_path / "index")
    settings = make_settings(tmp_path, corpus, model=real_assistant.settings.embedding.model,
                             paths={"uploads": str(corpus / "uploads")})
    return Assistant(settings, embedder=real_assistant.embedder)


UPLOAD = """大连市海洋牧场建设方案

第一章 总体目标

到2026年，大连市要建成国家级海洋牧场示范区18个，海参养殖面积稳定在40万亩。

第二章 保障措施

设立海洋牧场专项资金，每年安排3亿元。
"""


@pytest.mark.browser
@pytest.mark.slow
def test_browser_asks_checks_and_uploads(browser_assistant, tmp_path):
    sync_playwright = _playwright()
    upload = tmp_path / "大连 海洋牧场.txt"
    upload.write_text(UPLOAD, encoding="utf-8")
    with serving(browser_assistant) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1200})
        page.goto(url)
        page.wait_for_selector("#index-status .status-ready", timeout=180_000)

        # Ask: the answer streams in, then its citations with section paths and marked quotes.
        page.fill("#question textarea", prompts.UI_EXAMPLE_QUESTIONS[0])
        page.click("#ask-button")
        page.wait_for_selector("#chat .answer .citation", timeout=60_000)
        first = page.locator("#chat .answer").first
        heads = first.locator(".cite-meta").all_inner_texts()
        assert any("章" in head for head in heads), heads
        assert first.locator("mark.quote").count() >= 1
        assert "《" in first.locator(".cite-ref code").first.inner_text()

        # Open the first source in the document viewer: the passage is marked there.
        page.click("#viewer-choice input")
        page.locator("ul[role=listbox] li").first.click()
        page.wait_for_selector("#viewer #doc-mark", timeout=30_000)
        page.evaluate("document.querySelector('#chat [role=log]').scrollTop = 0")  # the question and answer on top
        page.evaluate("window.scrollTo(0, 0)")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))

        # Check a claim: a colored verdict badge and the differing number marked.
        page.get_by_role("tab", name=prompts.UI_TAB_CHECK).click()
        page.fill("#claim textarea", "沈阳2021年要新建5G基站8000个。")
        page.click("#check-button")
        badge = page.wait_for_selector("#verdict .verdict", timeout=60_000)
        assert badge.inner_text() == prompts.VERDICT_LABELS["contradicted"]
        assert page.locator("#verdict mark.diff").count() >= 1

        # Upload a document, then ask about it: the answer cites the new document.
        page.get_by_role("tab", name=prompts.UI_TAB_DOCS).click()
        page.set_input_files("#upload input[type=file]", str(upload))
        page.wait_for_selector("#upload-message .status-ready", timeout=120_000)
        assert "大连市海洋牧场建设方案" in page.inner_text("#documents")
        page.get_by_role("tab", name=prompts.UI_TAB_ASK).click()
        page.fill("#question textarea", "大连要建成多少个国家级海洋牧场示范区？")
        page.click("#ask-button")
        second_answer_cited = "() => document.querySelectorAll('#chat .answer')[1]?.querySelector('.citation')"
        page.wait_for_function(second_answer_cited, timeout=60_000)
        latest = page.locator("#chat .answer").nth(1)
        assert "18个" in latest.inner_text()
        assert "大连市海洋牧场建设方案" in latest.locator(".cite-head").first.inner_text()
        browser.close()
