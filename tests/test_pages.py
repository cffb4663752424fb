"""Pages and structure of real-looking PDFs and Word files: headers and footers gone, columns in order, sentences
joined across page breaks, headings from Word styles, tables and footnotes kept; every chunk knows its pages and every
quote its own page (``cleaned[start:end] == quote``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.ingest.clean import clean_loaded
from assistant.ingest.corpus import discover
from assistant.ingest.documents import ingest_file
from assistant.ingest.pages import locate_citation, page_at, page_span, span_confidence
from assistant.settings import load_settings
from assistant.types import Citation, LoadedText
from tests import makedocs


def _ingest(tmp_path: Path, make, name: str):
    folder = tmp_path / "corpus"
    folder.mkdir()
    make(folder / name)
    settings = load_settings(overrides={"paths": {"corpus": str(folder), "index": str(tmp_path / "index")}})
    (item,) = discover(folder)
    doc, chunks, _ = ingest_file(item, settings)
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
    return doc, chunks


def _citation(doc, quote: str, min_confidence: float = 0.9) -> Citation:
    start = doc.text.index(quote)
    bare = Citation(1, "c", doc.doc_id, doc.info.title, "", "", (), quote, start, start + len(quote))
    return locate_citation(bare, doc.info, min_confidence)


@pytest.mark.parametrize(
    ("starts", "offset", "page"), [((0, 120, 260), 0, 1), ((0, 120, 260), 119, 1), ((0, 120, 260), 120, 2),
                                   ((0, 120, 260), 900, 3), ((0, 5, 5, 9), 5, 3), ((), 10, None)])
def test_page_at(starts, offset, page):
    assert page_at(starts, offset) == page


def test_page_span_and_confidence_by_hand():
    assert page_span((0, 120), 100, 130) == (1, 2)
    assert page_span((0, 120), 100, 120) == (1, 1)  # the end is exclusive
    marks = ((0, None), (50, 0.9), (80, 0.6))
    assert span_confidence(marks, 40, 90) == pytest.approx((30 * 0.9 + 10 * 0.6) / 40)
    assert span_confidence(marks, 0, 50) is None  # text layer only
    assert span_confidence((), 0, 50) is None


def test_cleaning_moves_page_starts_into_the_cleaned_text():
    # Page 2 begins inside a word cut by the page break (为国 / 家粮食安全): it starts where 家 lands.
    raw = "一、保障粮食安全\n  为国\n\n家粮食安全作出贡献。\n新建5G基站(jī zhàn)6000个以上。"
    loaded = LoadedText(raw, page_starts=(0, raw.index("家")), ocr_marks=((0, None), (raw.index("家"), 0.8)))
    cleaned = clean_loaded(loaded)
    assert cleaned.text == "一、保障粮食安全\n\n为国家粮食安全作出贡献。\n\n新建5G基站6000个以上。"
    assert cleaned.page_starts == (0, cleaned.text.index("家"))
    assert cleaned.ocr_marks == ((0, None), (cleaned.text.index("家"), 0.8))


def test_header_footer_pdf(tmp_path: Path):
    doc, chunks = _ingest(tmp_path, makedocs.header_footer_pdf, "report.pdf")
    text = doc.text
    assert "办公厅文件" not in text and "页 共" not in text  # running header and page-number footer gone
    assert len(doc.info.page_starts) == 3
    # The sentence cut by the first page break (…地下综合管廊建设，完 / 善城市功能…) is one sentence again.
    assert "加快地铁、城市快速路和地下综合管廊建设，完善城市功能，补齐发展短板" in text
    assert {c.section_path for c in chunks} >= {("一、把握扩大内需战略基点",), ("二、加快建设数字沈阳",)}
    invest = next(c for c in chunks if "完善城市功能" in c.text)
    assert (invest.page_start, invest.page_end) == (1, 2)
    assert invest.ocr_confidence is None
    digital = next(c for c in chunks if "5G基站" in c.text)
    assert (digital.page_start, digital.page_end, digital.section_path) == (3, 3, ("二、加快建设数字沈阳",))
    # A quote has its own page, not its chunk's: the end of the 投资 paragraph is on page 2.
    cite = _citation(doc, "统筹推进老旧小区改造，改善居民居住条件")
    assert text[cite.start : cite.end] == cite.quote
    assert (cite.page_start, cite.page_end) == (2, 2)
    assert cite.page_offset == doc.info.page_starts[1] and text[cite.page_offset :].startswith("善城市功能")
    assert (cite.ocr_confidence, cite.low_confidence) == (None, False)
    assert _citation(doc, "持续扩大有效投资。").page_start == 1


def test_two_column_pdf_reads_left_column_first(tmp_path: Path):
    doc, chunks = _ingest(tmp_path, makedocs.two_column_pdf, "columns.pdf")
    text = doc.text
    assert "- 1 -" not in text
    # The 投资 paragraph runs on from the foot of the left column to the head of the right one.
    assert makedocs.INVEST in text
    assert text.index("一、把握扩大内需战略基点") < text.index(makedocs.INVEST) < text.index("二、加快建设数字沈阳")
    assert makedocs.DIGITAL in text
    assert doc.info.page_starts == (0,)
    assert {(c.page_start, c.page_end) for c in chunks} == {(1, 1)}
    assert next(c for c in chunks if "5G" in c.text).section_path == ("二、加快建设数字沈阳",)


def test_word_styles_table_and_footnote(tmp_path: Path):
    doc, chunks = _ingest(tmp_path, makedocs.styled_docx, "plan.docx")
    text = doc.text
    assert doc.info.page_starts == () and doc.info.ocr_marks == ()
    assert all(c.page_start is None and c.page_end is None and c.ocr_confidence is None for c in chunks)
    by_text = {c.text: c.section_path for c in chunks}

    def path_of(snippet: str) -> tuple[str, ...]:
        return next(path for chunk_text, path in by_text.items() if snippet in chunk_text)

    goal = ("第一章 总体要求", "第一节 发展目标")
    assert path_of("比重达到10%①。") == goal
    # The footnote is a note of its section, right after the paragraph that cites it.
    note = f"注①：{makedocs.FOOTNOTE}"
    assert note in text and text.index("10%①。") < text.index(note)
    assert path_of(note) == goal
    # Table rows stay rows (cleaning never glues them together).
    assert "指标 | 2020年 | 2025年\n\n5G基站（万个） | 2.5 | 6\n\n数字经济核心产业增加值占比（%） | 7.5 | 10" in text
    # An unstyled numbered heading nests under the styled 第一节; styled headings without numbers open sections.
    assert path_of("全年新建5G基站6000个以上") == (*goal, "（一）建设数字基础设施")
    assert path_of("成立数字经济发展领导小组") == ("保障措施", "加强组织领导")  # outline level 1 → level 2
    assert path_of("纳入年度绩效考核") == ("保障措施", "加强组织领导", "强化考核评估")  # style named 标题 3
    cite = _citation(doc, "全年新建5G基站6000个以上")
    assert (cite.page_start, cite.page_end, cite.page_offset) == (None, None, None)


def test_cli_ingest_prints_pages_and_paths(tmp_path: Path):
    from click.testing import CliRunner

    from assistant.cli import main

    folder = tmp_path / "corpus"
    folder.mkdir()
    makedocs.header_footer_pdf(folder / "report.pdf")
    shutil.copy(Path(makedocs.__file__).parent / "data" / "headings_001.txt", folder / "headings.txt")
    env = {"ASSISTANT_PATHS__CORPUS": str(folder), "ASSISTANT_PATHS__INDEX": str(tmp_path / "index"),
           "ASSISTANT_EMBEDDING__MODEL": "hash:256"}
    result = CliRunner().invoke(main, ["ingest", "--out", str(tmp_path / "chunks.jsonl")], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    chunks = {c["chunk_id"]: c for c in map(json.loads, (tmp_path / "chunks.jsonl").read_text().splitlines())}
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[0] for line in lines] == list(chunks)  # one line per chunk: id, pages, path
    pdf = [line[1:] for line in lines if chunks[line[0]]["page_start"] is not None]
    assert ["p.1-2", "一、把握扩大内需战略基点"] in pdf and ["p.3", "二、加快建设数字沈阳"] in pdf
    assert {(c["page_start"], c["page_end"]) for c in chunks.values()} >= {(None, None), (1, 2), (3, 3)}
    assert all(line[1] == "-" for line in lines if chunks[line[0]]["page_start"] is None)


def test_answer_and_verdict_cite_the_page_of_their_quote(tmp_path: Path):
    from assistant.pipeline import Assistant
    from assistant.web import ui_render
    from tests.conftest import make_settings

    folder = tmp_path / "corpus"
    folder.mkdir()
    makedocs.header_footer_pdf(folder / "report.pdf")
    assistant = Assistant(make_settings(tmp_path, folder))
    assistant.build()
    for result in (assistant.ask("沈阳2021年要新建多少个5G基站？"), assistant.check("沈阳2021年新建5G基站6000个以上")):
        cite = next(c for c in result.citations if "5G基站" in c.quote)
        text = assistant.document_text(cite.doc_id)
        assert text[cite.start : cite.end] == cite.quote
        assert (cite.page_start, cite.page_end, cite.ocr_confidence, cite.low_confidence) == (3, 3, None, False)
        assert text[cite.page_offset :].startswith("二、加快建设数字沈阳")
        data = result.to_dict()["citations"][list(result.citations).index(cite)]
        assert (data["page_start"], data["page_end"], data["page_offset"]) == (3, 3, cite.page_offset)
        assert '<span class="cite-page">第 3 页</span>' in ui_render.citation_html(cite, text)
        viewer = ui_render.document_html(cite, text)
        assert viewer.index('id="doc-page"') < viewer.index('id="doc-mark"')
        page_start = viewer.index('id="doc-page"></span>') + len('id="doc-page"></span>')
        assert viewer[page_start:].startswith("二、加快建设数字沈阳")


def test_citation_html_pages_and_low_confidence():
    from assistant.web import ui_render

    text = "三、加快建设数字沈阳\n\n全年新建5G基站6000个以上。"
    start = text.index("全年")
    base = Citation(1, "c", "d", "题", "", "", ("三、加快建设数字沈阳",), text[start:], start, len(text),
                    page_start=12, page_end=13, ocr_confidence=0.72, low_confidence=True, page_offset=0)
    html = ui_render.citation_html(base, text)
    assert "第 12–13 页" in html and "OCR 识别置信度较低（72%）" in html
    plain = Citation(1, "c", "d", "题", "", "", (), text[start:], start, len(text))
    assert "cite-page" not in ui_render.citation_html(plain, text) and "OCR" not in ui_render.citation_html(plain, text)
    assert 'id="doc-page"' not in ui_render.document_html(plain, text)
    assert ui_render.page_label(plain) == "" and ui_render.page_label(base) == "第 12–13 页"
