"""Tests for assistant/ingest/load/ (one module per format).

The fixture files are generated under ``tmp_path`` at test time (from short excerpts of the seed documents in
``corpus/``) rather than committed, so each test shows the exact bytes it feeds the loader.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from assistant.errors import EmptyDocumentError, UnreadableDocumentError, UnsupportedFileTypeError
from assistant.ingest.load import SUPPORTED_SUFFIXES, load_document, load_text

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _paragraphs(name: str, start: int, stop: int) -> str:
    text = (CORPUS / name).read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "\n\n".join(paragraphs[start:stop])


# 2021年沈阳要重点做好十方面工作 (simplified) and 遼寧“十四五”規劃 (traditional; these paragraphs fit in Big5).
SIMPLIFIED = _paragraphs("003_6a6d947e374aa1af.txt", 0, 6)
TRADITIONAL = _paragraphs("001_d8f660d016160240.txt", 2, 8)
# Short headings that charset-normalizer alone misreads (as cp932 and utf_16_be).
SHORT_TRADITIONAL = "第一節 編制依據"
SHORT_SIMPLIFIED = "突出抓好营商环境 全面深化重点领域改革"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (SIMPLIFIED, "utf-8"),
        (SIMPLIFIED, "utf-8-sig"),
        (SIMPLIFIED, "utf-16"),  # Python writes a BOM for "utf-16"
        (SIMPLIFIED, "gbk"),
        (SIMPLIFIED, "gb18030"),
        (TRADITIONAL, "utf-8"),
        (TRADITIONAL, "big5"),
        (TRADITIONAL, "gb18030"),
        (SHORT_TRADITIONAL, "big5"),
        (SHORT_SIMPLIFIED, "gbk"),
        # One character: the BOM or UTF-8 decides. (A lone legacy-encoded character is ambiguous: GBK "一" is
        # also valid UTF-8, and Big5 "遼" reads as GBK "狂", so legacy detection needs a few characters.)
        ("一", "utf-8"),
        ("遼", "utf-16"),
    ],
)
def test_txt_encodings_load_to_the_original_text(tmp_path: Path, text: str, encoding: str) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(text.encode(encoding))
    assert load_text(path) == text


def test_crlf_and_markdown_suffix_case(tmp_path: Path) -> None:
    path = tmp_path / "DOC.TXT"
    path.write_bytes(SIMPLIFIED.replace("\n", "\r\n").encode("gbk"))
    assert load_text(path) == SIMPLIFIED


def test_normalization_touches_only_line_ends_and_trailing_spaces(tmp_path: Path) -> None:
    path = tmp_path / "doc.txt"
    path.write_text("  第一章　總則 \t\r\n\r\n\r\n\r\n第一條\u3000ＡＢＣ１２３\r全 民乐购\xa0\n\n\n", encoding="utf-8")
    assert load_text(path) == "  第一章　總則\n\n第一條\u3000ＡＢＣ１２３\n全 民乐购\xa0"


def test_markdown_keeps_text_and_drops_markup(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    path.write_text(
        "# 2021年沈阳要重点做好十方面工作\n"
        "## 把握扩大内需战略基点 ##\n"
        "**持续扩大有效投资。**全年开复工亿元以上项目*1600个*以上,详见[通知](https://www.gov.cn/a.html)。\n"
        "![沈阳](img/a.png)\n\n"
        "- 推动华晨宝马铁西新工厂建设\n"
        "- 桃仙机场二跑道取得突破\n\n"
        "| 指标 | 目标 |\n"
        "|:---|---:|\n"
        "| 亿元以上项目 | 1600个 |\n"
        "| 外贸实绩企业 | 80家 |\n\n"
        "着力稳定外经外贸\n"
        "---\n"
        "支持中小外贸企业发展,file_name 保持 3 * 4 不变。\n",
        encoding="utf-8",
    )
    assert load_text(path) == (
        "2021年沈阳要重点做好十方面工作\n\n"
        "把握扩大内需战略基点\n\n"
        "持续扩大有效投资。全年开复工亿元以上项目1600个以上,详见通知。\n\n"
        "推动华晨宝马铁西新工厂建设\n"
        "桃仙机场二跑道取得突破\n\n"
        "指标 | 目标\n"
        "亿元以上项目 | 1600个\n"
        "外贸实绩企业 | 80家\n\n"
        "着力稳定外经外贸\n\n"
        "支持中小外贸企业发展,file_name 保持 3 * 4 不变。"
    )


HTML_PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>遼寧省人民政府</title><style>p {{ color: red; }}</style><script>var menu = "首页";</script></head>
<body>
<header>遼寧省人民政府 门户网站</header>
<nav><a href="/">首页</a> | <a href="/zc">政策文件</a></nav>
<div class="article">
  <h1>2021年沈阳要重点做好十方面工作</h1>
  <!-- 正文开始 -->
  <p>持续扩大有效投资。全年开复工亿元<br>以上项目1600个以上。</p>
  <table>
    <tr><th>指标</th><th>目标</th></tr>
    <tr><td>亿元以上项目</td><td><span>1600</span>个</td></tr>
  </table>
  <p>推进中街、太原街&nbsp;等重点商圈建设 &amp; 发展夜经济。</p>
  <ul><li>遼寧</li><li>沈阳</li></ul>
</div>
<footer>版权所有</footer><script>document.write("广告");</script>
</body></html>"""
HTML_TEXT = (
    "2021年沈阳要重点做好十方面工作\n\n"
    "持续扩大有效投资。全年开复工亿元\n以上项目1600个以上。\n\n"
    "指标 | 目标\n"
    "亿元以上项目 | 1600个\n\n"
    "推进中街、太原街\xa0等重点商圈建设 & 发展夜经济。\n\n"
    "遼寧\n\n"
    "沈阳"
)


@pytest.mark.parametrize(
    ("charset", "encoding"),
    [
        ("utf-8", "utf-8"),
        ("gbk", "gbk"),
        ("gb2312", "gbk"),  # "遼" is in GBK, not GB2312: a gb2312 label is read with a superset, as browsers do
        ("gb2312", "utf-8"),  # a stale label on a page re-saved as UTF-8: valid UTF-8 wins
    ],
)
def test_html_drops_chrome_and_keeps_table_rows(tmp_path: Path, charset: str, encoding: str) -> None:
    path = tmp_path / "doc.html"
    path.write_bytes(HTML_PAGE.format(charset=charset).encode(encoding))
    assert load_text(path) == HTML_TEXT


def test_html_layout_table_is_read_as_blocks(tmp_path: Path) -> None:
    path = tmp_path / "doc.htm"
    path.write_text(
        "<table><tr><td><p>第一章 總則</p><p>第一條 為了規範管理。</p></td></tr></table>",
        encoding="utf-8",
    )
    assert load_text(path) == "第一章 總則\n\n第一條 為了規範管理。"


def _write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("第一章 編制依據和發展基礎", level=1)
    document.add_paragraph("持續擴大有效投資。")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("指標", "目標"), ("億元以上項目", "1600個")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_paragraph("全面促進消費增長。")
    document.save(str(path))


def test_docx_keeps_tables_in_place(tmp_path: Path) -> None:
    path = tmp_path / "doc.docx"
    _write_docx(path)
    assert load_text(path) == (
        "第一章 編制依據和發展基礎\n\n持續擴大有效投資。\n\n指標 | 目標\n億元以上項目 | 1600個\n\n全面促進消費增長。"
    )


def test_text_pdf_loads_page_by_page(tmp_path: Path) -> None:
    pytest.importorskip("reportlab", reason="reportlab is in the dev extra")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))  # built-in CID font: no font file needed
    path = tmp_path / "doc.pdf"
    pdf = canvas.Canvas(str(path))
    for lines in (["持续扩大有效投资。", "全年开复工亿元以上项目1600个以上"], ["遼寧十四五規劃"]):
        pdf.setFont("STSong-Light", 12)
        for n, line in enumerate(lines):
            pdf.drawString(72, 720 - 20 * n, line)
        pdf.showPage()
    pdf.save()
    assert load_text(path) == "持续扩大有效投资。\n全年开复工亿元以上项目1600个以上\n\n遼寧十四五規劃"


def test_scanned_pdf_is_read_by_ocr(tmp_path: Path) -> None:
    from tests import makedocs

    path = makedocs.image_pdf(tmp_path / "scan.pdf", [makedocs.scanned_page()])
    loaded = load_document(path)
    lines = loaded.text.split("\n")
    assert "- 2 -" not in lines  # the page number is not text of the page
    assert char_accuracy("".join(makedocs.SCAN_LINES), "".join(lines)) >= 0.97
    assert "全年新建5G基站6000个以上" in loaded.text
    assert "遼寧省國民經濟和社會發展第十四個五年規劃" in lines  # traditional characters read as they are
    assert loaded.page_starts == (0,)
    assert [offset for offset, _ in loaded.ocr_marks][:1] == [0]
    assert all(confidence is not None and confidence > 0.9 for _, confidence in loaded.ocr_marks)


def test_scan_without_text_names_the_page(tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(image).rectangle((40, 40, 360, 160), outline="black")
    path = tmp_path / "scan.pdf"
    image.save(path, "PDF")
    with pytest.raises(UnreadableDocumentError, match=r"OCR found no text on page\(s\) 1 of 1") as info:
        load_text(path)
    assert "scan.pdf" in str(info.value)


def char_accuracy(truth: str, read: str) -> float:
    """1 - edit distance / length of the truth (spaces ignored): the OCR character accuracy."""
    truth, read = "".join(truth.split()), "".join(read.split())
    previous = list(range(len(read) + 1))
    for i, a in enumerate(truth, start=1):
        current = [i]
        for j, b in enumerate(read, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return 1 - previous[-1] / max(1, len(truth))


def test_encrypted_pdf_needs_a_password(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    with pytest.raises(UnreadableDocumentError, match=r"locked\.pdf is an encrypted PDF"):
        load_text(path)


def _truncated_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>" * 200)
    return buffer.getvalue()[:100]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("random.docx", random.Random(0).randbytes(2048)),
        ("truncated.docx", _truncated_docx()),
        ("text.docx", SIMPLIFIED.encode("utf-8")),
        ("broken.pdf", b"%PDF-1.4\n" + random.Random(1).randbytes(512)),
    ],
)
def test_corrupt_files_are_unreadable(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnreadableDocumentError, match=name):
        load_text(path)


def test_truncated_real_docx_is_unreadable(tmp_path: Path) -> None:
    full = tmp_path / "full.docx"
    _write_docx(full)
    path = tmp_path / "cut.docx"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(UnreadableDocumentError, match=r"cut\.docx"):
        load_text(path)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty.txt", b""),
        ("blank.txt", " \r\n\t\n\u3000\n".encode()),
        ("blank.md", b"\n\n---\n\n"),
        ("empty.html", b"<html><head><title>t</title></head><body> <p> </p><script>x()</script></body></html>"),
        ("bom.txt", b"\xef\xbb\xbf\n"),
    ],
)
def test_empty_documents(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(EmptyDocumentError, match=name):
        load_text(path)


def test_empty_docx(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "empty.docx"
    docx.Document().save(str(path))
    with pytest.raises(EmptyDocumentError, match=r"empty\.docx"):
        load_text(path)


@pytest.mark.parametrize(
    "data",
    [
        "第一章".encode() + b"\x00\x01\x02\x00",
        random.Random(2).randbytes(4096),
        bytes(range(1, 9)) * 50,  # control bytes without NUL
    ],
)
def test_binary_files_are_unreadable(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(data)
    with pytest.raises(UnreadableDocumentError, match="looks like a binary file"):
        load_text(path)


def test_oversized_file_names_size_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text(SIMPLIFIED, encoding="utf-8")
    size = path.stat().st_size
    with pytest.raises(UnreadableDocumentError, match=r"big\.txt") as info:
        load_text(path, max_bytes=100)
    assert f"{size:,} bytes" in str(info.value)
    assert "100 bytes" in str(info.value)


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocumentError, match=r"missing\.txt"):
        load_text(tmp_path / "missing.txt")


@pytest.mark.parametrize("name", ["setup.exe", "table.xlsx", "old.doc", "README"])
def test_unsupported_types(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"MZ\x90\x00")
    with pytest.raises(UnsupportedFileTypeError, match=name):
        load_text(path)


def test_supported_suffixes() -> None:
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf", ".png", ".jpg", ".jpeg", ".tif",
            ".tiff"} == SUPPORTED_SUFFIXES
