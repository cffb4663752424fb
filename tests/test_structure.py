"""Tests for assistant.ingest.structure: heading hierarchies of the seed documents and section invariants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.ingest.clean import clean
from assistant.ingest.structure import derive_title, parse_sections
from assistant.types import Section

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).parents[1] / "corpus"


def raw_text(doc_id: str) -> str:
    return next(CORPUS.glob(f"{doc_id}_*.txt")).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def docs() -> dict[str, tuple[str, list[Section]]]:
    out = {}
    for path in sorted(CORPUS.glob("*.txt")):
        text = clean(path.read_text(encoding="utf-8"))
        out[path.name[:3]] = (text, parse_sections(text, derive_title(text)))
    return out


def labels(sections: list[Section]) -> set[str]:
    return {label for section in sections for label in section.path}


def top_levels(sections: list[Section]) -> list[str]:
    return list(dict.fromkeys(section.path[0] for section in sections))


# --- edge inputs ---------------------------------------------------------------------------------------------


def test_empty_and_headingless_text():
    assert parse_sections("", "標題") == []
    assert parse_sections("一句话。", "標題") == [Section(path=("標題",), start=0, end=4)]
    assert parse_sections("一句话。\n\n两句话。", "") == [Section(path=(), start=0, end=10)]


def test_full_width_inline_heading():
    text = "（一）壯大經濟實力，在保持經濟趕超勢頭上攻堅突破。統籌擴大内需和優化供給。"
    assert parse_sections(text, "T") == [
        Section(path=("（一）壯大經濟實力，在保持經濟趕超勢頭上攻堅突破",), start=0, end=len(text))
    ]


def test_one_sentence_list_items_are_not_headings():
    text = "專欄4區域性國有企業綜合改革試驗\n\n(四)以大連市為主,配合招商局集團共同開發建設太平灣合作創新區。"
    assert [s.path for s in parse_sections(text, "T")] == [("專欄4區域性國有企業綜合改革試驗",)]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("2021年沈阳要重点做好十方面工作\n\n辽沈晚报 2021年02月06日", "2021年沈阳要重点做好十方面工作"),
        ("", ""),
        ("注重供需两端发力,挖掘发展潜力,释放发展动能,推动经济高质量发展。" * 2, "注重供需两端发力"),
    ],
)
def test_derive_title(text, title):
    assert derive_title(text) == title


def test_derive_title_keeps_long_title_line(docs):
    assert derive_title(docs["002"][0]) == "政府工作報告 ——2024年1月23日在遼甯省第十四屆人民代表大會第二次會議上(二)"


# --- 001: 篇 › 章 › 节 › 专栏 -----------------------------------------------------------------------------------


def test_headings_excerpt_001():
    text = clean((DATA / "headings_001.txt").read_text(encoding="utf-8"))
    paths = [s.path for s in parse_sections(text, "遼寧“十四五”規劃綱要")]
    first = "第一篇 全面建成小康社會 開啟全面建設社會主義現代化新征程"
    assert paths == [("遼寧“十四五”規劃綱要",), (first,), (first, "第一章 編制依據和發展基礎", "第一節 編制依據")]


def test_glued_heading_excerpt_001():
    text = clean((DATA / "glued_heading_001.txt").read_text(encoding="utf-8"))
    sections = parse_sections(text, "T")
    assert [s.path for s in sections] == [("第二節 提高城鄉居民收入水平",), ("第三節 建設教育強省",)]
    assert text[sections[1].start :].startswith("第三節 建設教育強省\n\n全面貫徹黨的教育方針")


@pytest.mark.parametrize(("level", "count"), [("篇", 3), ("章", 22), ("節", 94)])
def test_001_heading_counts_match_raw_text(docs, level, count):
    found = {label for label in labels(docs["001"][1]) if re.match(f"第[一二三四五六七八九十]+{level}", label)}
    assert len(found) == count
    assert len(re.findall(f"第[一二三四五六七八九十]+{level}", raw_text("001"))) == count


def test_001_boxes(docs):
    sections = docs["001"][1]
    boxes = {int(re.match(r"專欄\s*(\d+)", label).group(1)): label for label in labels(sections) if label.startswith("專欄")}
    assert sorted(boxes) == list(range(3, 48))  # the reprint lost boxes 1 and 2 with the tables
    assert boxes[3] == "專欄3優化營商環境專項工程" and boxes[38] == "專欄38 就業專項工程"
    for section in sections:
        box = [i for i, label in enumerate(section.path) if label.startswith("專欄")]
        if box:  # a box is a child of a 节 (or 章); its titled items ("(二)數控機床產業鏈") may sit below it
            assert len(box) == 1 and box[0] >= len(section.path) - 2 and re.match("第.+[節章]", section.path[box[0] - 1])
            if box[0] == len(section.path) - 2:
                assert re.match(r"[(（][一二三四五六七八九十]+[)）]", section.path[-1])


def test_001_glued_headings_found(docs):
    assert "第三節 建設教育強省" in labels(docs["001"][1])
    text, sections = docs["001"]
    # "…7.錦州市。(九)建設四季旅游精品線路" is split so that (九) opens its own item of 專欄33.
    ninth = next(s for s in sections if s.path[-1] == "(九)建設四季旅游精品線路")
    assert "專欄33建設東北亞旅游目的地" in ninth.path and text[ninth.start - 8 : ninth.start] == "7.錦州市。\n\n"


def test_001_preamble_and_part_intros_are_the_only_sections_without_chapter(docs):
    sections = docs["001"][1]
    without = [s.path for s in sections if not any(re.match("第.+章", label) for label in s.path)]
    assert without[0] == ("遼寧“十四五”規劃和二〇三五年遠景目標綱要(附全文)",)
    assert [path[0][:3] for path in without[1:]] == ["第一篇", "第二篇", "第三篇"]


# --- 002: inline (一)…(八) -------------------------------------------------------------------------------------


def test_002_inline_headings(docs):
    text, sections = docs["002"]
    assert top_levels(sections) == [
        "政府工作報告 ——2024年1月23日在遼甯省第十四屆人民代表大會第二次會議上(二)",
        "(一)壯大經濟實力,在保持經濟趕超勢頭上攻堅突破",
        "(二)強化創新引領,在開辟新領域新賽道上攻堅突破",
        "(三)加快動能轉換,在構建現代化産業體系上攻堅突破",
        "(四)推進鄉村振興,在建設農業強省上攻堅突破",
        "(五)激發動力活力,在深化改革開放上攻堅突破",
        "(六)統籌發展安全,在建設平安遼甯上攻堅突破",
        "(七)堅持綠色低碳,在建設美麗遼甯上攻堅突破",
        "(八)增進民生福祉,在保障和改善民生上攻堅突破",
        "三、全面加強政府自身建設",
    ]
    third = sections[3]
    assert text[third.start : third.end].startswith("(三)加快動能轉換,在構建現代化産業體系上攻堅突破。紮實做好")


# --- 000: several articles -------------------------------------------------------------------------------------


def test_000_articles(docs):
    sections = docs["000"][1]
    assert top_levels(sections) == [
        "我省“十四五”将实现七个新突破 构建“一圈一带两区”发展格局",
        "困难女职工将获免费“两癌”筛查",
        "新闻速递",
        "获评劳动竞赛优胜单位 将给予20万元资金支持",
        "沈北新区居民可享医生“实时坐诊”",
    ]
    paths = [s.path for s in sections]
    assert ("我省“十四五”将实现七个新突破 构建“一圈一带两区”发展格局", "在优化营商环境上取得新突破") in paths
    assert ("困难女职工将获免费“两癌”筛查", "用好12351热线平台 职工诉求100%回复") in paths
    assert not any("辽沈晚报记者" in label for label in labels(sections))


# --- 003 / 004: headline lines -----------------------------------------------------------------------------------


def test_003_headlines_and_misplaced_body(docs):
    text, sections = docs["003"]
    assert top_levels(sections)[:3] == [
        "2021年沈阳要重点做好十方面工作",
        "把握扩大内需战略基点 努力保持经济向上向好态势",
        "突出抓好营商环境 全面深化重点领域改革",
    ]
    assert len(top_levels(sections)) == 11  # the title and ten tasks
    assert "辽沈晚报 2021年02月06日" in text[sections[0].start : sections[0].end]
    opening = [s for s in sections if s.path == ("加快沈阳现代化都市圈建设 不断提升对内对外开放水平",)]
    assert [text[s.start : s.end][:12] for s in opening] == ["加快沈阳现代化都市圈建设", "对标国家中心城市功能定位"]
    assert "推动自贸区制度创新" in text[opening[1].start : opening[1].end]


def test_004_headlines(docs):
    assert [s.path for s in docs["004"][1]] == [
        ("紧扣新时代“六地”目标定位推动辽宁全面振兴取得新突破",),
        ("坚定发展信心,把握重大历史机遇",),
        ("推动产业创新,构建现代化产业体系",),
        ("坚持人民至上,提升民生幸福指数",),
    ]


# --- invariants ----------------------------------------------------------------------------------------------


def test_sections_cover_text_in_order(docs):
    for doc_id, (text, sections) in docs.items():
        position = 0
        for section in sections:
            assert section.start < section.end, doc_id
            assert not text[position : section.start].strip(), doc_id
            assert text[section.start : section.end] == text[section.start : section.end].strip(), doc_id
            position = section.end
        assert not text[position:].strip(), doc_id
