"""Tests of the web UI without a server: HTML rendering, the page's construction, and the backend it talks to."""

from __future__ import annotations

import pytest

from assistant import prompts
from assistant.errors import IndexStateError
from assistant.types import Answer, Citation, Mismatch, Verdict
from assistant.web.ui_render import (
    answer_html,
    answer_text_html,
    citation_html,
    context_window,
    document_html,
    highlight,
    reference,
    verdict_badge,
    verdict_html,
)

from .conftest import make_settings

# A real passage of the Shenyang 2021 tasks article (two paragraphs), with an injected tag to prove escaping.
TEXT = (
    "做好产业结构调整“三篇大文章”。\n\n"
    "大力发展数字经济。新建5G基站6000个以上,开发“5G+工业互联网”等示范场景。建设人工智能产业园<script>x</script>。\n"
)
QUOTE = "新建5G基站6000个以上,开发“5G+工业互联网”等示范场景。"
START = TEXT.index(QUOTE)


def citation(quote: str = QUOTE, start: int = START, title: str = "2021年沈阳要重点做好十方面工作",
             path: tuple[str, ...] = ("第二篇 数字沈阳", "第七章 产业", "第一节 数字经济")) -> Citation:
    return Citation(1, "shenyang:abc", "shenyang", title, "2021-02-06", "辽沈晚报", path, quote, start, start + len(quote))


# ----- pure helpers, edge cases first -----
@pytest.mark.parametrize(
    ("text", "start", "end", "expected"),
    [
        ("", 0, 0, (0, 0)),
        ("甲", 0, 1, (0, 1)),
        ("甲。\n乙。丙。丁。\n戊。", 5, 7, (3, 9)),  # the paragraph around the quote, not its neighbours
        ("甲。" * 200 + "乙。", 400, 402, (242, 402)),  # a long paragraph is cut at a sentence end
    ],
)
def test_context_window(text, start, end, expected):
    assert context_window(text, start, end) == expected


def test_highlight_marks_quote_and_differing_value():
    text = "建成5G基站2.5万个。"
    assert highlight(text, 0, len(text), (0, len(text)), [(6, 11)]) == (
        '<mark class="quote">建成5G基站</mark><mark class="diff">2.5万个</mark><mark class="quote">。</mark>'
    )


def test_highlight_adds_ellipses_only_inside_a_paragraph():
    assert highlight("甲乙丙丁", 1, 3, (1, 2)) == '…<mark class="quote">乙</mark>丙…'
    assert highlight("甲\n乙\n丙", 2, 3, (2, 3)) == '<mark class="quote">乙</mark>'


def test_reference_joins_the_full_section_path():
    assert reference(citation()) == "《2021年沈阳要重点做好十方面工作》第二篇 数字沈阳›第七章 产业›第一节 数字经济"


def test_answer_text_markers_become_superscripts_and_text_is_escaped():
    assert answer_text_html("占比<b>45%</b>[1]") == '占比&lt;b&gt;45%&lt;/b&gt;<sup class="cite-n">[1]</sup>'


# ----- citations -----
def test_citation_html_marks_the_quote_inside_its_paragraph():
    out = citation_html(citation(), TEXT)
    assert '<mark class="quote">新建5G基站6000个以上,开发“5G+工业互联网”等示范场景。</mark>' in out
    assert out.count("<mark") == 1
    assert "大力发展数字经济。<mark" in out  # the paragraph before the quote
    assert "三篇大文章" not in out  # … but not the paragraph before that
    assert "&lt;script&gt;x&lt;/script&gt;" in out and "<script>" not in out
    assert "《2021年沈阳要重点做好十方面工作》" in out
    assert "2021-02-06 · 辽沈晚报 › 第二篇 数字沈阳 › 第七章 产业 › 第一节 数字经济" in out
    assert "<code>《2021年沈阳要重点做好十方面工作》第二篇 数字沈阳›第七章 产业›第一节 数字经济</code>" in out


def test_citation_html_escapes_the_quote_and_title():
    text = "前文。<img src=x onerror=alert(1)>。后文。"
    quote = "<img src=x onerror=alert(1)>。"
    out = citation_html(citation(quote, text.index(quote), title="<b>标题</b>"), text)
    assert '<mark class="quote">&lt;img src=x onerror=alert(1)&gt;。</mark>' in out
    assert "《&lt;b&gt;标题&lt;/b&gt;》" in out
    assert "<img" not in out and "<b>标题" not in out


def test_citation_html_shows_the_quote_alone_when_offsets_do_not_match():
    out = citation_html(citation(start=0), "另一个版本的文件。")
    assert f'<mark class="quote">{QUOTE}</mark>' in out


# ----- answers -----
def answer(refused: bool = False, **extra) -> Answer:
    text = prompts.REFUSAL if refused else "新建5G基站6000个以上。[1]"
    return Answer("沈阳2021年要新建多少5G基站？", text, refused, "extractive", (citation(),), extra)


def test_answer_html_lists_sources_under_the_answer():
    out = answer_html(answer(), {"shenyang": TEXT}.__getitem__)
    assert out.index('<sup class="cite-n">[1]</sup>') < out.index(prompts.UI_SOURCES) < out.index("<mark")
    assert "\n" not in out  # one line: the chat's Markdown renderer leaves it alone


def test_refused_answer_shows_the_refusal_and_the_closest_sections():
    out = answer_html(answer(refused=True), {"shenyang": TEXT}.__getitem__)
    assert prompts.REFUSAL in out and prompts.UI_CLOSEST in out and '<mark class="quote">' in out


def test_partial_answer_has_no_citations_yet_and_resolved_question_is_shown():
    out = answer_html(answer(resolved_question="沈阳到2025年数字经济要占多少？"), partial="新建5G基站")
    assert "<mark" not in out and prompts.UI_SOURCES not in out
    assert prompts.UI_RESOLVED.format(question="沈阳到2025年数字经济要占多少？") in out


def test_document_html_marks_the_passage_to_scroll_to():
    out = document_html(citation(), TEXT)
    assert f'<mark class="quote" id="doc-mark">{QUOTE}</mark>' in out
    assert "&lt;script&gt;" in out and "<script>" not in out


# ----- verdicts -----
@pytest.mark.parametrize(("verdict", "label", "color"), [
    ("supported", "文件支持", "#1a7f37"), ("contradicted", "与文件不符", "#cf222e"), ("not_found", "文件未提及", "#6e7781"),
])
def test_verdict_badge(verdict, label, color):
    assert verdict_badge(verdict) == f'<span class="verdict verdict-{verdict}" style="background:{color}">{label}</span>'


def test_verdict_html_highlights_the_differing_number_in_the_evidence():
    at = TEXT.index("6000个")
    mismatch = Mismatch("count", "8000个", "6000个", at, at + len("6000个"))
    reason = "数量文件为 6000个以上，说法为 8000个"
    verdict = Verdict("沈阳2021年要新建5G基站8000个。", "contradicted", reason, (mismatch,), (citation(),))
    out = verdict_html(verdict, {"shenyang": TEXT}.__getitem__)
    assert out.startswith('<div class="check"><span class="verdict verdict-contradicted"')
    assert '<mark class="quote">新建5G基站</mark><mark class="diff">6000个</mark><mark class="quote">以上' in out
    assert "数量：说法为 8000个，文件为 <mark class=\"diff\">6000个</mark>" in out


def test_verdict_html_lists_a_mismatch_without_a_place():
    mismatch = Mismatch("year", "2025年", "二〇三五年", -1, -1)
    verdict = Verdict("说法", "contradicted", "年份不符", (mismatch,), (citation(),))
    out = verdict_html(verdict, {"shenyang": TEXT}.__getitem__)
    assert "年份：说法为 2025年，文件为 <mark class=\"diff\">二〇三五年</mark>" in out
    assert out.count('class="diff"') == 1  # nothing marked in the passage


def test_not_found_verdict_has_no_evidence():
    out = verdict_html(Verdict("辽宁计划在月球上建设港口。", "not_found", prompts.NOT_FOUND_REASON), {}.__getitem__)
    assert "文件未提及" in out and prompts.UI_EVIDENCE not in out


# ----- the app and its backend, with the hash embedder (no model, no server) -----
gr = pytest.importorskip("gradio")


def test_build_app_constructs_without_a_server(hash_assistant):
    from assistant.web.ui import build_app

    app = build_app(hash_assistant)
    assert isinstance(app, gr.Blocks)
    public = {fn.api_name for fn in app.fns.values() if fn.api_visibility == "public"}
    assert public == {"ask", "check", "upload"}
    assert not (hash_assistant.settings.paths.index / "store").exists()  # building the page builds no index


def test_service_refuses_politely_until_ready_then_answers(hash_assistant):
    from assistant.web.service import Job, Service

    service = Service(hash_assistant, watch=False)
    service._started = True  # pretend the first build is under way
    with pytest.raises(IndexStateError, match=prompts.UI_INDEX_BUILDING):
        service.read(hash_assistant.ask, "沈阳2021年要新建多少5G基站？")
    assert service.api_ask("问题") == {"question": "问题", "error": {"type": "IndexStateError",
                                                                     "message": prompts.UI_INDEX_BUILDING}}
    assert service.status() == (prompts.UI_INDEX_BUILDING, "info")
    service._current = Job("index")
    service._current.progress("embed", 64, 340)
    assert service.status() == ("索引正在建立：计算向量 64/340", "info")

    service = Service(hash_assistant, watch=False)
    assert service.wait(120)
    result = service.api_ask("沈阳2021年要新建多少5G基站？")
    assert result == hash_assistant.ask("沈阳2021年要新建多少5G基站？").to_dict()
    assert result["citations"] and "6000" in result["answer"]
    assert service.api_ask("  ")["error"]["type"] == "QueryError"
    assert service.api_check("沈阳2021年要新建5G基站8000个。")["verdict"] == "contradicted"
    assert service.status()[1] == "ready"


def test_chat_stream_answers_then_resolves_a_follow_up(hash_assistant):
    from assistant.web.service import Service
    from assistant.web.ui import _new_session, _stream

    backend = Service(hash_assistant, watch=False)
    assert backend.wait(120)
    steps = list(_stream(backend, "辽宁到2025年数字经济要占多少？", _new_session()))
    assert steps[0][0][-1]["content"] == prompts.UI_SEARCHING
    messages, session = steps[-1]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert '<mark class="quote">' in messages[-1]["content"]
    assert session["questions"] == ["辽宁到2025年数字经济要占多少？"] and session["citations"]

    messages, session = list(_stream(backend, "那沈阳呢？", session))[-1]
    assert len(messages) == 4 and session["questions"][-1] == "沈阳到2025年数字经济要占多少？"  # kept resolved
    assert "按上下文理解为：沈阳" in messages[-1]["content"]

    # The next turn builds on the resolved question, not on the typed fragment.
    messages, session = list(_stream(backend, "十四五期间呢？", session))[-1]
    assert session["questions"][-1] == "沈阳十四五期间数字经济要占多少？"
    assert prompts.UI_RESOLVED.format(question="沈阳十四五期间数字经济要占多少？") in messages[-1]["content"]


def test_chat_asks_for_more_when_a_first_question_is_a_fragment(hash_assistant):
    from assistant.web.service import Service
    from assistant.web.ui import _new_session, _stream

    backend = Service(hash_assistant, watch=False)
    assert backend.wait(120)
    messages, session = list(_stream(backend, "那辽宁全省呢？", _new_session()))[-1]
    assert prompts.CLARIFY in messages[-1]["content"] and prompts.UI_RESOLVED.split("：")[0] not in messages[-1]["content"]
    assert session["answers"][-1].extra["needs_clarification"] is True and not session["citations"]
    messages, session = list(_stream(backend, "沈阳2021年要新建多少5G基站？", session))[-1]
    messages, session = list(_stream(backend, "那辽宁全省呢？", session))[-1]
    assert session["questions"][-1] == "辽宁2021年要新建多少5G基站？"  # the clarification turn is skipped


def test_upload_through_the_service_is_searchable_once_indexed(tmp_path, small_corpus):
    from assistant.pipeline import Assistant
    from assistant.web.service import Service

    assistant = Assistant(make_settings(tmp_path, small_corpus, paths={"uploads": str(small_corpus / "uploads")}))
    service = Service(assistant, watch=False)
    assert service.wait(120)
    text = "某市海洋牧场建设方案\n\n第一章 总体目标\n\n到2026年，全市要建成国家级海洋牧场示范区18个。\n"
    job = service.upload("../海洋 方案.txt", text.encode())
    assert job.wait(120) and job.error is None
    docs = {d["file"]: d for d in service.read(assistant.documents)}
    info = docs["uploads/海洋_方案.txt"]
    assert info["title"] == "某市海洋牧场建设方案" and info["source"] == "upload" and info["removable"]
    result = service.api_ask("全市要建成多少个国家级海洋牧场示范区？")
    assert result["citations"][0]["doc_id"] == info["doc_id"] and result["citations"][0]["source"] == "upload"
    assert result.get("source") == "upload" and prompts.UPLOAD_ONLY_ANSWER in result["answer"]
    assert service.remove(info["doc_id"]).wait(120)
    assert info["doc_id"] not in {d["doc_id"] for d in service.read(assistant.documents)}


def test_unexpected_errors_reach_the_user_as_one_line_without_a_trace(hash_assistant, monkeypatch):
    from assistant.web.service import Service
    from assistant.web.ui import _new_session, _stream

    backend = Service(hash_assistant, watch=False)
    assert backend.wait(120)
    monkeypatch.setattr(hash_assistant, "ask", lambda *args: 1 / 0)
    assert backend.api_ask("问题") == {"question": "问题", "error": {"type": "InternalError",
                                                                     "message": prompts.UI_INTERNAL_ERROR}}
    messages, _ = list(_stream(backend, "问题", _new_session()))[-1]
    assert prompts.UI_INTERNAL_ERROR in messages[-1]["content"] and "ZeroDivision" not in messages[-1]["content"]


def test_importing_the_ui_does_not_import_gradio():
    import subprocess
    import sys

    code = "import sys, assistant.web.ui; sys.exit('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
