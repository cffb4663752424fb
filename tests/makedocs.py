"""Real-looking documents made at test time: PDFs with running headers and two columns (reportlab), a scanned page
(PIL + a CJK font, with noise and a small rotation), a Word file with styled headings, a table and a footnote.

The texts are sentences of the seed documents (corpus/003, 2021年沈阳要重点做好十方面工作) set as an office would.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

A4 = (595.28, 841.89)
FONT = "STSong-Light"  # reportlab's built-in CID font: no font file needed

# Body paragraphs of corpus/003; the first is long enough to run over a page or column break.
INVEST = ("持续扩大有效投资。全年开复工亿元以上项目1600个以上，推动华晨宝马铁西新工厂建设，推进桃仙机场二跑道、"
          "沈白高铁等重大基础设施项目，加快地铁、城市快速路和地下综合管廊建设，完善城市功能，补齐发展短板，"
          "统筹推进老旧小区改造，改善居民居住条件，为国家粮食安全和区域协调发展作出沈阳贡献。")
CONSUME = "全面促进消费增长。推进中街、太原街等重点商圈建设，发展夜经济，培育消费新业态新模式。"
DIGITAL = "建设数字沈阳。全年新建5G基站6000个以上，推动工业互联网平台建设，数字经济核心产业增加值增长10%以上。"
OPEN = "稳定外经外贸。支持中小外贸企业发展，全年外贸实绩企业新增80家，实际利用外资增长5%。"


def require_reportlab() -> None:
    pytest.importorskip("reportlab", reason="reportlab is in the dev extra")


def _canvas(path: Path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return canvas.Canvas(str(path), pagesize=A4)


def wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy line breaking by measured width, as a typesetter fills a line."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for ch in text:
        if stringWidth(line + ch, FONT, size) > width:
            lines.append(line)
            line = ch
        else:
            line += ch
    return [*lines, line] if line else lines


def header_footer_pdf(path: Path) -> Path:
    """Three pages with a running header, a "第 N 页 共 3 页" footer, and a sentence cut by the first page break.

    Page 1: title line, 一、… heading, the 投资 paragraph (its last lines move to page 2). Page 2: the rest of it,
    then the 消费 paragraph. Page 3: 二、… heading and the 数字 paragraph.
    """
    require_reportlab()
    pdf = _canvas(path)
    size, left, width, lead = 10.5, 72, A4[0] - 144, 18
    invest = wrap(INVEST, width, size)
    pages = [
        [("2021年沈阳要重点做好十方面工作", 0), ("一、把握扩大内需战略基点", 0), *[(x, 0) for x in invest[:2]]],
        [*[(x, 0) for x in invest[2:]], (CONSUME, 2)],
        [("二、加快建设数字沈阳", 0), (DIGITAL, 2)],
    ]
    for number, lines in enumerate(pages, start=1):
        pdf.setFont(FONT, 9)
        pdf.drawCentredString(A4[0] / 2, A4[1] - 50, "沈阳市人民政府办公厅文件")
        pdf.drawCentredString(A4[0] / 2, 40, f"第 {number} 页 共 3 页")
        pdf.setFont(FONT, size)
        y = A4[1] - 110
        for text, indent in lines:
            for k, line in enumerate(wrap(text, width - indent * size, size) if indent else [text]):
                pdf.drawString(left + (indent * size if k == 0 else 0), y, line)
                y -= lead
        pdf.showPage()
    pdf.save()
    return path


def two_column_pdf(path: Path) -> Path:
    """One page: a title across the page, then two columns drawn row by row (left line, right line, …).

    The left column holds 一、… and the 投资 paragraph, whose end runs on at the head of the right column, then
    二、… and the 数字 paragraph. The page number "- 1 -" sits at the foot.
    """
    require_reportlab()
    pdf = _canvas(path)
    size, lead, gutter = 10.5, 17, 24
    column = (A4[0] - 144 - gutter) / 2
    flow = [("一、把握扩大内需战略基点", False), *[(x, True) for x in wrap(INVEST, column, size)],
            ("二、加快建设数字沈阳", False), *[(x, True) for x in wrap(DIGITAL, column, size)]]
    half = 6  # lines in the left column: the 投资 paragraph breaks into the right column
    rows = list(zip(flow[:half], flow[half:] + [("", False)] * (2 * half - len(flow)), strict=False))
    pdf.setFont(FONT, 14)
    pdf.drawCentredString(A4[0] / 2, A4[1] - 90, "2021年沈阳要重点做好十方面工作")
    pdf.setFont(FONT, size)
    y = A4[1] - 130
    for (left_text, _), (right_text, _) in rows:
        pdf.drawString(72, y, left_text)
        pdf.drawString(72 + column + gutter, y, right_text)
        y -= lead
    pdf.drawCentredString(A4[0] / 2, 40, "- 1 -")
    pdf.showPage()
    pdf.save()
    return path


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """A font file with simplified and traditional Chinese (Noto CJK from Debian's fonts-noto-cjk), or None."""
    if not shutil.which("fc-list"):
        return None
    out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    preferred = [f for f in files if "NotoSansCJK-Regular" in f] + [f for f in files if "CJK" in f] + files
    return preferred[0] if preferred else None


def require_cjk_font() -> str:
    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font (install Debian's fonts-noto-cjk; scripts/test.sh does when run as root)")
    return font


# The scanned page: a heading, a traditional-script line, and two body paragraphs of 003.
SCAN_LINES = [
    "三、加快建设数字沈阳",
    "遼寧省國民經濟和社會發展第十四個五年規劃",
    "全年新建5G基站6000个以上，推动工业互联网平台建设，",
    "数字经济核心产业增加值增长10%以上。",
    "稳定外经外贸。支持中小外贸企业发展，全年外贸实绩",
    "企业新增80家，实际利用外资增长5%。",
]


def scanned_page(lines: list[str] = SCAN_LINES, seed: int = 0, angle: float = 0.8, noise: float = 0.03,
                 footer: str = "- 2 -"):
    """An A4 page at 150 dpi as a scanner makes it: text in a CJK font, speckle noise, blur, a small rotation."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font_file = require_cjk_font()
    rnd = random.Random(seed)
    image = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(font_file, 30)
    y = 200
    for line in lines:
        draw.text((150, y), line, font=font, fill=20)
        y += 58
    if footer:
        draw.text((580, 1620), footer, font=ImageFont.truetype(font_file, 24), fill=20)
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = image.load()
    for _ in range(int(image.width * image.height * noise)):
        pixels[rnd.randrange(image.width), rnd.randrange(image.height)] = rnd.choice((0, 100, 170))
    return image.filter(ImageFilter.GaussianBlur(0.6)).convert("RGB")


def noise_page(seed: int = 1):
    """A scanned blank page: speckles only, nothing OCR can read."""
    from PIL import Image

    rnd = random.Random(seed)
    image = Image.new("L", (1240, 1754), 255)
    pixels = image.load()
    for _ in range(4000):
        pixels[rnd.randrange(image.width), rnd.randrange(image.height)] = rnd.choice((0, 120))
    return image.convert("RGB")


def image_pdf(path: Path, images: list, quality: int = 95) -> Path:
    """An image-only PDF (a scan without a text layer), one JPEG page per image at 150 dpi.

    ``quality`` is the JPEG quality: a scanner's high quality by default (PIL's default of 75 blurs thin strokes
    such as 大/工/二 enough for OCR to drop a character in ten; scripts/bench_ocr.py measures both).
    """
    images[0].save(path, "PDF", resolution=150, save_all=True, append_images=images[1:], quality=quality)
    return path


def mixed_pdf(path: Path, scan) -> Path:
    """Page 1 with a text layer (the 投资 paragraph), page 2 the scanned image, page 3 a blank scan."""
    from reportlab.lib.utils import ImageReader

    require_reportlab()
    pdf = _canvas(path)
    pdf.setFont(FONT, 10.5)
    y = A4[1] - 110
    for line in ["二、稳定扩大投资", *wrap(INVEST, A4[0] - 144, 10.5)]:
        pdf.drawString(72, y, line)
        y -= 18
    pdf.showPage()
    for image in (scan, noise_page()):
        pdf.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
        pdf.showPage()
    pdf.save()
    return path


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTE = "数据来源：沈阳市统计局《2020年沈阳市国民经济和社会发展统计公报》。"


def styled_docx(path: Path) -> Path:
    """A Word file as an office writes one: Title, Heading 1/2 styles, a Chinese-named 标题 3 style, an outline
    level set on a Normal paragraph, an unstyled (一) heading, a table, and a footnote on a body paragraph."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_paragraph("沈阳市推进数字经济发展实施方案", style="Title")
    document.add_paragraph("第一章 总体要求", style="Heading 1")
    document.add_paragraph("第一节 发展目标", style="Heading 2")
    cited = document.add_paragraph("到2025年，数字经济核心产业增加值占地区生产总值比重达到10%")
    reference = OxmlElement("w:r")
    mark = OxmlElement("w:footnoteReference")
    mark.set(qn("w:id"), "1")
    reference.append(mark)
    cited._p.append(reference)
    cited.add_run("。")
    table = document.add_table(rows=3, cols=3)
    rows = [("指标", "2020年", "2025年"), ("5G基站（万个）", "2.5", "6"), ("数字经济核心产业增加值占比（%）", "7.5", "10")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("（一）建设数字基础设施。全年新建5G基站6000个以上，推动工业互联网平台建设。")
    document.add_paragraph("保障措施", style="Heading 1")
    lead = document.add_paragraph("加强组织领导")
    outline = OxmlElement("w:outlineLvl")
    outline.set(qn("w:val"), "1")
    lead._p.get_or_add_pPr().append(outline)
    document.add_paragraph("成立数字经济发展领导小组，统筹推进重大项目建设。")
    chinese = document.styles.add_style("标题 3", WD_STYLE_TYPE.PARAGRAPH)
    chinese.base_style = document.styles["Normal"]
    document.add_paragraph("强化考核评估", style=chinese)
    document.add_paragraph("将数字经济发展纳入年度绩效考核。")
    footnotes = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{_W}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        f'</w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>{FOOTNOTE}</w:t></w:r></w:p></w:footnote></w:footnotes>'
    ).encode()
    part = Part(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, footnotes, document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    document.save(str(path))
    return path
