"""Tests for assistant/verify.py: claims against real seed-corpus passages and changed variants."""

from __future__ import annotations

import pytest

from assistant.verify import Comparison, compare, overlap, quote_is_exact

# Real passages from corpus/.
E000_FIRMS = (
    "“十四五”期间,辽宁省计划培育科技型中小企业突破20000家,高新技术企业突破10000家,"
    "培育雏鹰瞪羚独角兽企业突破5000家;支持中小企业做专做精,培育“小升规”1000户、“规升巨”100户,"
    "培育一批“专精特新”中小企业、“小巨人”企业;保障粮食安全,2021年全省粮食播种面积只增不减。"
)
E000_WORKSHOPS = "新工作室转化,到2025年,省级劳模和职工创新工作室达1200家,全省各级超5000家"
E000_SHARE = "“十四五”期间,力争全省高新区地区生产总值占全省比重达到16%,"
E001_GDP = "2020年統籌推進疫情防控和經濟社會發展,全省地區生產總值實現25115億元,“十三五”期間年均增長3.2%"
E001_AIR = "空氣質量優良天數比率為82.6%,較五年前提高11.1個百分點"
E002_SHARE = "裝備制造業要向高新突破,促進數控機床、電力裝備等優勢産業産品叠代升級,高端裝備制造業規模占比提高到27.5%"
E003_5G = "新建5G基站6000个以上,开发“5G+工业互联网”等示范场景"
E003_DEBT = "完善国资监管体系,拓宽国资监管平台监管范围,加强债务风险防控,市属企业资产负债率控制在63%以下"
E003_LAB = "加快推进沈阳材料科学国家研究中心等5个“国字号”重大科技创新平台建设"


def check(claim: str, evidence: str) -> Comparison:
    result = compare(claim, evidence)
    for m in result.mismatches:  # offsets always point at the document's value
        assert evidence[m.start : m.end] == m.document_value
    return result


@pytest.mark.parametrize("claim", ["", " ", "辽", "2025年", "数字经济"])
def test_edge_claims_are_unrelated(claim):
    result = check(claim, E003_5G)
    assert result.verdict == "unrelated"
    assert result.mismatches == ()


@pytest.mark.parametrize("evidence", ["", "辽", "推动数字经济和实体经济深度融合"])
def test_edge_evidence_is_unrelated(evidence):
    assert check("辽宁省计划培育科技型中小企业突破20000家", evidence).verdict == "unrelated"


def test_no_numbers_supported_by_overlap():
    result = check("辽宁省计划培育科技型中小企业", E000_FIRMS)
    assert result.verdict == "supported"
    assert result.overlap == 1.0


@pytest.mark.parametrize(
    ("claim", "evidence"),
    [
        ("辽宁省计划培育科技型中小企业突破20000家", E000_FIRMS),
        ("辽宁省计划培育科技型中小企业超过20000家", E000_FIRMS),  # 超过 == 突破
        ("辽宁省计划培育科技型中小企业突破2万家", E000_FIRMS),
        ("辽宁省计划培育科技型中小企业两万家左右", E000_FIRMS),  # 左右 hedges, does not contradict 突破
        ("遼寧省計劃培育科技型中小企業突破２００００家", E000_FIRMS),  # traditional, full width
        ("全省地区生产总值实现25115亿元", E001_GDP),  # simplified claim, traditional document
        ("全省地区生产总值实现2.5115万亿元", E001_GDP),
        ("新建5G基站6000个以上", E003_5G),
        ("辽宁提出“十四五”期间全省高新区地区生产总值占全省比重达到百分之十六", E000_SHARE),
    ],
)
def test_supported(claim, evidence):
    result = check(claim, evidence)
    assert result.verdict == "supported", result.reason
    assert result.matched


def test_year_change_contradicted():
    result = check("到2035年,省级劳模和职工创新工作室达1200家", E000_WORKSHOPS)
    assert result.verdict == "contradicted"
    assert [(m.kind, m.claim_value, m.document_value) for m in result.mismatches] == [("year", "2035年", "2025年")]
    assert "2025 年" in result.reason and "2035 年" in result.reason
    assert "1200家" in result.matched


def test_partial_support_names_the_right_part():
    result = check("到2025年,省级劳模和职工创新工作室达1200家,全省各级超6000家", E000_WORKSHOPS)
    assert result.verdict == "contradicted"
    assert [(m.kind, m.document_value) for m in result.mismatches] == [("count", "5000家")]
    assert result.reason.startswith("年份 2025 年、数量 1200家与文件一致，但")
    assert "文件为 超过5000家，说法为 超过6000家" in result.reason


@pytest.mark.parametrize(
    ("claim", "evidence", "kind", "document_value"),
    [
        ("辽宁省计划培育科技型中小企业突破30000家", E000_FIRMS, "count", "20000家"),
        ("高新技术企业突破20000家", E000_FIRMS, "count", "10000家"),  # swapped figures
        ("培育“小升规”1000户、“规升巨”1000户", E000_FIRMS, "count", "100户"),
        ("2022年全省粮食播种面积只增不减", E000_FIRMS, "year", "2021年"),
        ("新建5G基站60000个以上", E003_5G, "count", "6000个"),
        ("全省地区生产总值实现25115万元", E001_GDP, "amount", "25115億元"),  # 万 vs 亿
        ("高端装备制造业规模占比提高到25.7%", E002_SHARE, "percent", "27.5%"),
        ("空气质量优良天数比率较五年前提高11.1%", E001_AIR, "percent", "11.1個百分點"),  # % is not 个百分点
        ("市属企业资产负债率控制在63%以上", E003_DEBT, "qualifier", "63%"),
        ("加快推进大连材料科学国家研究中心等5个“国字号”重大科技创新平台建设", E003_LAB, "place", "沈阳"),
        ("“十四五”期间,吉林省计划培育科技型中小企业突破20000家", E000_FIRMS, "place", "辽宁省"),
    ],
)
def test_contradicted(claim, evidence, kind, document_value):
    result = check(claim, evidence)
    assert result.verdict == "contradicted", result.reason
    assert [(m.kind, m.document_value) for m in result.mismatches] == [(kind, document_value)]
    assert "文件为" in result.reason and "说法为" in result.reason


def test_place_change_reason_and_offsets():
    result = check("加快推进大连材料科学国家研究中心等5个“国字号”重大科技创新平台建设", E003_LAB)
    (m,) = result.mismatches
    assert (m.claim_value, m.start, m.end) == ("大连", 4, 6)
    assert "5个" in result.matched
    assert result.reason == "数量 5个与文件一致，但地点文件为 沈阳，说法为 大连"


def test_traditional_offsets_point_at_document_value():
    result = check("全省地区生产总值实现25115万元,“十三五”期间年均增长3.2%", E001_GDP)
    (m,) = result.mismatches
    assert E001_GDP[m.start : m.end] == "25115億元"
    assert "3.2%" in result.matched


def test_unrelated_passage():
    result = check("新建5G基站6000个以上", E000_FIRMS)
    assert result.verdict == "unrelated"
    assert result.mismatches == ()
    assert result.overlap < 0.5


def test_missing_value_is_not_supported():
    result = check("辽宁省计划培育科技型中小企业突破20000家,到2030年全部上市", E000_FIRMS[:40])
    assert result.verdict == "unrelated"
    assert "2030年" in result.reason


def test_missing_value_allowed_when_not_required():
    claim = "辽宁省计划培育科技型中小企业突破20000家,带动就业50万人"
    assert compare(claim, E000_FIRMS).verdict == "unrelated"
    result = compare(claim, E000_FIRMS, require_all_quantities=False)
    assert result.verdict == "supported"
    assert result.matched == ("20000家", "辽宁省")


def test_threshold_is_a_parameter():
    claim = "辽宁提出培育科技型中小企业和高新技术企业,做大做强数字经济"
    low, high = compare(claim, E000_FIRMS, min_overlap=0.1), compare(claim, E000_FIRMS, min_overlap=0.95)
    assert low.verdict == "supported"
    assert high.verdict == "unrelated"
    assert low.overlap == high.overlap


def test_overlap_ignores_numbers_and_reporting_words():
    # claim bigrams: 辽宁, 新建, G基, 基站 (提出 and 2025年 removed, digits split runs); 辽宁 misses
    assert overlap("辽宁提出到2025年新建5G基站", "新建5G基站") == pytest.approx(3 / 4)
    assert overlap("", "新建") == 0.0


def test_to_dict():
    data = check("到2035年,省级劳模和职工创新工作室达1200家", E000_WORKSHOPS).to_dict()
    assert data["verdict"] == "contradicted"
    assert data["mismatches"][0] == {
        "kind": "year",
        "claim_value": "2035年",
        "document_value": "2025年",
        "start": E000_WORKSHOPS.index("2025年"),
        "end": E000_WORKSHOPS.index("2025年") + 5,
    }


@pytest.mark.parametrize(
    ("quote", "start", "end", "ok"),
    [
        ("6000个", 6, 11, True),
        ("6000个", 5, 10, False),
        ("6000個", 6, 11, False),  # exact, not normalized
        ("", 0, 0, False),
        ("新建", -1, 1, False),
        ("示范场景", len(E003_5G) - 4, len(E003_5G), True),
        ("示范场景", len(E003_5G) - 4, len(E003_5G) + 1, False),
    ],
)
def test_quote_is_exact(quote, start, end, ok):
    assert quote_is_exact(E003_5G, quote, start, end) is ok


# A longer real passage (000) with several years: a year is judged by the values it frames.
E000_PLAN = (
    "到2025年,辽宁省将在现有19个文化宫的基础上,计划完成已批复28个县级新建和改造项目,力争再建成23个县级工人文化宫。\n\n"
    "这是昨日辽宁省总工会制定的《2021—2025五年计划》中提到的。\n\n"
    "《计划》提出,在提升职工职业技能方面,工会将每年开展超千项各级职工技能大赛,发挥38家省级工会职工职业技能培训基地作用。"
    "到2025年,培训职工300万人次,参赛职工100万人次,帮助千名职工晋升技术等级。\n\n"
    "在推动企业创新方面,到2025年,力争实现职工技术革新5万项、发明创造2万项、总结推广先进操作法1万项,"
    "全省职工合理化建议达20万件,实施率超60%。"
)


@pytest.mark.parametrize(
    ("claim", "verdict", "mismatch"),
    [
        ("到2025年,培训职工300万人次", "supported", None),
        ("到2030年,培训职工300万人次", "contradicted", ("year", "2025年")),
        ("到2025年,培训职工3000万人次", "contradicted", ("count", "300万人次")),
        ("到2025年,力争实现职工技术革新5万项、发明创造3万项", "contradicted", ("count", "2万项")),
        ("全省职工合理化建议达20万件,实施率超70%", "contradicted", ("percent", "60%")),
        ("到2025年,辽宁省将在现有19个文化宫的基础上,力争再建成25个县级工人文化宫", "contradicted", ("count", "23个")),
    ],
)
def test_long_passage(claim, verdict, mismatch):
    result = check(claim, E000_PLAN)
    assert result.verdict == verdict, result.reason
    assert [(m.kind, m.document_value) for m in result.mismatches] == ([mismatch] if mismatch else [])


def test_year_mismatch_points_at_the_framing_year():
    (m,) = check("到2030年,培训职工300万人次", E000_PLAN).mismatches
    assert m.start == E000_PLAN.index("2025年,培训职工")


# Constructed from the brief's example: two targets, each framed by its own year, in one sentence.
E_TWO_TARGETS = "到2025年,数字经济增加值占地区生产总值比重达到10%,到2035年达到45%"


@pytest.mark.parametrize(
    ("claim", "verdict", "reason"),
    [
        ("辽宁提出到2025年数字经济增加值占地区生产总值比重达到10%", "supported", "与文件一致：年份 2025 年、百分比 10%"),
        ("到2035年数字经济增加值占地区生产总值比重达到45%", "supported", "与文件一致：年份 2035 年、百分比 45%"),
        (
            "辽宁提出到2025年数字经济增加值占地区生产总值比重达到45%",
            "contradicted",
            "年份 2025 年与文件一致，但百分比文件为 10%，说法为 45%",
        ),
        (
            "到2030年数字经济增加值占地区生产总值比重达到10%",
            "contradicted",
            "百分比 10%与文件一致，但年份文件为 2025 年，说法为 2030 年",
        ),
    ],
)
def test_years_frame_their_values(claim, verdict, reason):
    result = check(claim, E_TWO_TARGETS)
    assert (result.verdict, result.reason) == (verdict, reason)
