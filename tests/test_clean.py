"""Tests for assistant.ingest.clean: each rule on a real excerpt of the seed documents, then on the whole corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.ingest.clean import clean, ends_sentence, is_headline, splits_word, strip_pinyin

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).parents[1] / "corpus"
CJK = "\u3400-\u4dbf\u4e00-\u9fff"
PINYIN = re.compile(rf"(?<=[{CJK}])[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+[)）]")
FURNITURE = (
    "閱讀最新報告 开通报告库会员 開通報告庫會員 掃一掃 扫一扫 当前位置 當前位置 欢迎访问 原文链接 網站首頁 网站首页 字體 "
    "字体大小 發布時間 发布时间 中商情報網訊 作者:佚名 招商情報庫 報告庫會員 查看更多報告 特色服務推薦 免责声明 版权 QQ 邮箱"
).split()
PHONE_MAIL_QQ = re.compile(r"0\d{2,3}-\d{7,8}|1[3-9]\d{9}|[\w.]+@[\w.]+\.\w+|qq[:：]?\s*\d{5,}", re.IGNORECASE)


def fixture(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


@pytest.fixture(scope="module")
def raw() -> dict[str, str]:
    return {path.name[:3]: path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt"))}


@pytest.fixture(scope="module")
def cleaned(raw: dict[str, str]) -> dict[str, str]:
    return {doc_id: clean(text) for doc_id, text in raw.items()}


# --- edge inputs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", ""), ("\n\n \xa0\n", ""), ("中", "中"), ("a", "a"), ("辽宁 Liaoning 2021年", "辽宁 Liaoning 2021年")],
)
def test_clean_edge_inputs(text, expected):
    assert clean(text) == expected


# --- pinyin readings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("網站首頁 > 新聞中(zhōng)心 > 行業資(zī)訊", "網站首頁 > 新聞中心 > 行業資訊"),
        ("(一(yī))壯大(dà)經濟實力", "(一)壯大經濟實力"),
        ("我(wǒ)(wǒ)們走在大(dà)路上!", "我們走在大路上!"),
        ("新聞中（zhōng）心", "新聞中心"),  # full-width parentheses
        ("新聞中(zhong)心", "新聞中心"),  # a tone-less syllable
        ("", ""),
        ("zhōng", "zhōng"),
    ],
)
def test_strip_pinyin_removes_readings(text, expected):
    assert strip_pinyin(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "(二)強化創新引領",
        "第五代移動通信技術(5G)網絡建設",
        "遼寧“十四五”規劃和二〇三五年遠景目標綱要(附全文)",
        "報告庫會員(¥)199/年起售",
        "基礎設施領域不動產投資信托基金(REITs)",
        "區域全面經濟伙伴關系協定(RCEP)簽署",
        "國內生產總值(GDP)",
        "加強農業種子資源庫(场、区、圃)建設",
        "附件(a)",
    ],
)
def test_strip_pinyin_keeps_real_parentheses(text):
    assert strip_pinyin(text) == text


def test_clean_pinyin_excerpt():
    text = clean(fixture("pinyin_002.txt"))
    assert not PINYIN.search(text)
    assert paragraphs(text)[0] == "政府工作報告 ——2024年1月23日在遼甯省第十四屆人民代表大會第二次會議上(二)"
    assert "(一)壯大經濟實力,在保持經濟趕超勢頭上攻堅突破。" in text
    assert "我們走在大路上!我們的道路灑滿陽光!" in text


# --- page breaks ---------------------------------------------------------------------------------------------


def test_page_break_rejoins_word_but_keeps_headlines():
    parts = paragraphs(clean(fixture("page_break_000.txt")))
    assert parts[0] == "在创新驱动发展上取得新突破"
    assert "建设高水平创新型省份,推进振兴发展向效率变革" in parts[1]
    assert parts[2] == "在做好结构调整三篇大文章上取得新突破"


def test_page_break_after_short_line_found_by_word():
    parts = paragraphs(clean(fixture("page_break_headline_000.txt")))
    assert parts[1].startswith("推动职工创新工作室向劳模创新工作室转化,到2025年")
    assert parts[2] == "困难女职工 将获得免费“两癌”筛查"


@pytest.mark.parametrize(
    "joined",
    [
        "建设高水平创新型省份,推进",
        "为国家粮食安全作出辽宁应有贡献",
        "扶持100个科技型中小企业",
        "劳模创新工作室转化",
        "《省女职工劳动保护办法》,推动",
        "随时在线远程就诊“云医院”网络信息化平台",
        "以推动东北亚深度合作为重点,向东联动日本",
        "占全省比重达到16%,高新技术产品产值",
    ],
)
def test_all_page_breaks_of_000_rejoined(cleaned, joined):
    assert joined in cleaned["000"]


@pytest.mark.parametrize(
    "headline",
    [
        "我省“十四五”将实现七个新突破 构建“一圈一带两区”发展格局",
        "加快建设沈中心城市大连海洋名城",
        "在优化营商环境上取得新突破",
        "在更高水平对外开放上取得新突破",
        "科技厅: 计划培育科技型 中小企业突破2万家",
        "困难女职工将获免费“两癌”筛查",
        "每年开展超千项技能大赛",
        "辽沈晚报记者 闫柳",
        "新闻速递",
        "沈北新区居民可享医生“实时坐诊”",
    ],
)
def test_headlines_of_000_stay_paragraphs(cleaned, headline):
    assert headline in paragraphs(cleaned["000"])


def test_page_break_full_width_punctuation():
    assert (
        clean("以推动东北亚深度合作为重点，\n\n向东联动日本、韩国、朝鲜。")
        == "以推动东北亚深度合作为重点，向东联动日本、韩国、朝鲜。"
    )


# --- site furniture ------------------------------------------------------------------------------------------


def test_site_header_removed_title_kept():
    parts = paragraphs(clean(fixture("site_header_004.txt")))
    assert parts[0] == "紧扣新时代“六地”目标定位推动辽宁全面振兴取得新突破"
    assert parts[1].startswith("省委十三届六次全会审议通过了")
    assert len(parts) == 2


def test_site_footer_removed():
    text = clean(fixture("site_footer_004.txt"))
    assert text.endswith("努力打造高品质文体旅融合发展示范地。")
    assert not PHONE_MAIL_QQ.search(text)
    assert "免责声明" not in text and "北京" not in text


def test_report_site_ads_removed():
    text = clean(fixture("ads_001.txt"))
    assert text.endswith("為奪取全面建設社會主義現代化國家新勝利作出遼寧貢獻!")
    assert not any(marker in text for marker in FURNITURE)


def test_publish_time_and_wire_prefix_removed():
    parts = paragraphs(clean(fixture("headings_001.txt")))
    assert parts[0] == "遼寧“十四五”規劃和二〇三五年遠景目標綱要(附全文)"
    assert parts[1].startswith("《遼寧省國民經濟和社會發展第十四個五年規劃")


# --- glued headings, indentation, layout spaces ----------------------------------------------------------------


def test_glued_section_heading_split():
    parts = paragraphs(clean(fixture("glued_heading_001.txt")))
    index = parts.index("第三節 建設教育強省")
    assert parts[index - 1].endswith("加大關鍵崗位核心人才中長期激勵力度。")


def test_glued_list_item_heading_split():
    parts = paragraphs(clean(fixture("glued_list_001.txt")))
    index = parts.index("(九)建設四季旅游精品線路")
    assert parts[index - 1].endswith("6.鞍山市;7.錦州市。")


def test_glued_heading_full_width():
    assert paragraphs(clean("1．沈陽市；7．錦州市。（九）建設四季旅游精品線路")) == [
        "1．沈陽市；7．錦州市。",
        "（九）建設四季旅游精品線路",
    ]


def test_glued_list_items_stay_together():
    text = "(一)多災種安全運行智能指揮中心建設工程;(二)智慧應急信息化建設工程;"
    assert clean(text) == text


@pytest.mark.parametrize("indent", ["\xa0 ", " \xa0", "\u3000\u3000", "    ", "\t"])
def test_indentation_stripped(indent):
    assert clean(f"{indent}今年要重點在以下(xià)八個方面攻堅突破。  ") == "今年要重點在以下八個方面攻堅突破。"


def test_layout_space_inside_word_removed_others_kept():
    line = "商务厅: 继续组织开展“2021全 民乐购 约惠辽宁” 系列促消费活动"
    assert clean(line) == "商务厅: 继续组织开展“2021全民乐购 约惠辽宁” 系列促消费活动"
    assert clean("第十八章 共享振興成果 建設幸福遼寧") == "第十八章 共享振興成果 建設幸福遼寧"


# --- helpers -------------------------------------------------------------------------------------------------


def test_helpers():
    assert ends_sentence("…實現“一個號碼管服務”。") and ends_sentence("辦就辦好!")
    assert not ends_sentence("在优化营商环境上取得新突破")
    assert is_headline("把握扩大内需战略基点 努力保持经济向上向好态势")
    assert not is_headline("切实加强政治建设。") and not is_headline("以推动东北亚深度合作为重点,")
    assert splits_word("推动职工创新工作室向劳模创", "新工作室转化")
    assert not splits_word("在优化营商环境上取得新突破", "规划《纲要》将优化")


# --- the whole corpus ----------------------------------------------------------------------------------------


def test_corpus_has_no_pinyin_or_furniture(cleaned):
    for doc_id, text in cleaned.items():
        assert not PINYIN.search(text), doc_id
        assert not [marker for marker in FURNITURE if marker in text], doc_id
        assert not PHONE_MAIL_QQ.search(text), doc_id


def test_corpus_keeps_table_notes_and_dateline(cleaned):
    assert "注:①2020年情況均為預計數" in cleaned["001"]
    assert "辽沈晚报 2021年02月06日" in paragraphs(cleaned["003"])


def test_corpus_layout(cleaned):
    for doc_id, text in cleaned.items():
        assert "\n\n\n" not in text and text == text.strip(), doc_id
        assert all(part and part == part.strip() and "\n" not in part for part in paragraphs(text)), doc_id


def test_corpus_keeps_script_and_width(raw, cleaned):
    # Nothing is converted: every character of the cleaned text was in the raw text.
    for doc_id, text in cleaned.items():
        assert set(text) <= set(raw[doc_id]), doc_id
    assert "遼甯" in cleaned["002"] and "," in cleaned["002"] and "，" not in cleaned["002"]


def test_clean_is_idempotent(cleaned):
    for doc_id, text in cleaned.items():
        assert clean(text) == text, doc_id
