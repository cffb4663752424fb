"""Tests for assistant/verify.py: claims against real seed-corpus passages and changed variants."""

from __future__ import annotations

import pytest

from assistant.answers.verify import Comparison, compare, overlap, quote_is_exact

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


# A place the passage also names, but in another role (eval dev-142). Real passages: 002 (the 2024 government
# report, as cleaned for the index: pinyin annotations removed) and 001 (the plan outline, 暢通國際通道).
E002_CHINA_EUROPE = (
    "打造東北海陸大通道。支持沈陽建設國家中歐班列集結中心,推進大連東北亞國際航運中心建設。加快運産貿一體化,"
    "推動“經濟通道”向“通道經濟”“落地經濟”轉變。發展開放型經濟。加快沈陽、大連等國家跨境電商綜合試驗區建設,支持布局海外倉"
)
E001_CHANNELS = (
    "加快沈陽國際陸港建設,支持沈陽建設中歐班列集結中心和平臺網絡體系,推進莫斯科別雷拉斯特物流中心運營發展,"
    "提升中歐班列密度和效率。推動長(春)白(山)通(化)丹(東)、錫(林郭勒)赤(峰)朝(陽)錦(州)等綜合運輸通道建設,"
    "開辟東北陸海新通道。以沈陽、大連機場為主體,拓展國際航線網絡,構建東北亞空港樞紐。"
)
E002_COAST = (
    "高質量建設遼甯沿海經濟帶。支持大連現代海洋城市建設,推進“兩先區”“三個中心”建設提質升級。健全沿海六市協同聯動發展機制,"
    "推動協同開放創新。加快遼河三角洲高質量發展試驗區和北黃海經濟合作區建設。推動太平灣合作創新區高質量發展。"
    "支持丹東創建國家級沿海漁港經濟區。推進遼西融入京津冀協同發展戰略先導區建設。支持遼西打造京津冀科技成果孵化基地和"
    "創新創業示範基地。支持錦州建設區域中心城市,支持阜新、朝陽發展陸上風光新能源"
)


@pytest.mark.parametrize(
    ("claim", "evidence", "anchor"),
    [
        ("辽宁“十四五”规划提出支持大连建设中欧班列集结中心。", E002_CHINA_EUROPE, "沈陽建設國家中歐"),
        ("辽宁“十四五”规划提出支持大连建设中欧班列集结中心。", E001_CHANNELS, "沈陽建設中歐"),
        ("支持大连建设中欧班列集结中心和平台网络体系", E001_CHANNELS, "沈陽建設中歐"),
        ("支持大连建设国家级沿海渔港经济区", E002_COAST, "丹東創建"),
        ("支持丹东建设区域中心城市", E002_COAST, "錦州建設"),
    ],
)
def test_place_named_elsewhere_in_another_role_is_contradicted(claim, evidence, anchor):
    result = check(claim, evidence)
    assert result.verdict == "contradicted", result.reason
    (m,) = result.mismatches
    start = evidence.index(anchor)
    assert (m.kind, m.start, m.end) == ("place", start, start + 2)
    assert m.claim_value not in result.matched
    assert f"地点文件为 {m.document_value}，说法为 {m.claim_value}" in result.reason


def test_place_in_another_role_reason():
    result = check("辽宁“十四五”规划提出支持大连建设中欧班列集结中心。", E002_CHINA_EUROPE)
    assert result.reason == "地点文件为 沈陽，说法为 大连"


@pytest.mark.parametrize(
    ("claim", "evidence", "places"),
    [
        ("支持沈阳建设国家中欧班列集结中心", E002_CHINA_EUROPE, ("沈阳",)),
        ("推进大连东北亚国际航运中心建设", E002_CHINA_EUROPE, ("大连", "东北亚")),
        ("加快沈阳、大连等国家跨境电商综合试验区建设", E002_CHINA_EUROPE, ("沈阳", "大连")),  # a list shares one role
        ("支持大连建设国家跨境电商综合试验区", E002_CHINA_EUROPE, ("大连",)),
        ("支持沈阳建设中欧班列集结中心和平台网络体系", E001_CHANNELS, ("沈阳",)),
        ("以大连机场为主体,拓展国际航线网络", E001_CHANNELS, ("大连",)),
        ("支持锦州建设区域中心城市", E002_COAST, ("锦州",)),
        # only generic words (支持, 创建, 国家) fit 丹东's role: not enough to move 锦州
        ("支持锦州创建国家物流枢纽", E002_COAST, ("锦州",)),
    ],
)
def test_place_in_its_own_role_stays_matched(claim, evidence, places):
    result = check(claim, evidence)
    assert result.verdict == "supported", result.reason
    assert result.matched == places


# The real 000 passage (科技厅): 25% is the “十四五” target, 21% the 2021 one, a sentence after 2021年 (eval dev-144).
E000_HIGHTECH = (
    "“十四五”期间,全省计划培育科技型中小企业突破20000家,高新技术企业突破10000家,培育雏鹰瞪羚独角兽企业突破5000家。"
    "2021年,新培育高新技术企业1000家以上,培育雏鹰瞪羚独角兽企业500家以上。\n\n"
    "“十四五”期间,力争全省高新区地区生产总值占全省比重达到16%,\n\n"
    "高新技术产品产值占全省比重达到25%。2021年,支持沈大两市建设沈阳浑南科学城、大连英歌石科学城,为辽宁实验室等重大科技平台配套,"
    "承接重大科技基础设施建设任务;建设省内首批雏鹰瞪羚独角兽企业集聚区,构建雏鹰瞪羚独角兽企业培育库,"
    "成立省雏鹰瞪羚独角兽企业技术创新联盟。力争全省高新区集聚科技型企业等重点科技资源占全省50%以上,"
    "高新技术产品产值占全省比重达到21%。"
)


def test_value_under_the_claims_year_wins():
    result = check("辽宁省科技厅提出2021年全省高新技术产品产值占全省比重达到25%。", E000_HIGHTECH)
    assert result.verdict == "contradicted", result.reason
    assert [(m.kind, m.claim_value, m.document_value) for m in result.mismatches] == [("percent", "25%", "21%")]
    assert result.mismatches[0].start == E000_HIGHTECH.rindex("21%")
    assert "2021年" in result.matched
    assert "百分比文件为 21%，说法为 25%" in result.reason


@pytest.mark.parametrize(
    "claim",
    [
        "“十四五”期间,全省高新技术产品产值占全省比重达到25%",
        "2021年,全省高新技术产品产值占全省比重达到21%",
        "2021年,力争全省高新区集聚科技型企业等重点科技资源占全省50%以上",  # 2021年 frames it across sentences
        "辽宁提出2021年新培育高新技术企业1000家以上",
    ],
)
def test_year_scoped_values_supported(claim):
    assert check(claim, E000_HIGHTECH).verdict == "supported"


# Constructed from the brief: the target year stated a sentence earlier still frames the value.
E_YEAR_EARLIER = (
    "到2025年,力争全省高新区地区生产总值占全省比重达到16%。高新技术产品产值占全省比重达到25%。"
    "2021年,力争全省高新区集聚科技型企业等重点科技资源占全省50%以上,高新技术产品产值占全省比重达到21%。"
)


@pytest.mark.parametrize(
    ("claim", "verdict", "mismatch"),
    [
        ("到2025年,高新技术产品产值占全省比重达到25%", "supported", None),
        ("2021年,高新技术产品产值占全省比重达到21%", "supported", None),
        ("2021年高新技术产品产值占全省比重达到25%", "contradicted", ("percent", "21%")),
        ("到2025年,高新技术产品产值占全省比重达到21%", "contradicted", ("percent", "25%")),
    ],
)
def test_year_frames_later_sentences(claim, verdict, mismatch):
    result = check(claim, E_YEAR_EARLIER)
    assert result.verdict == verdict, result.reason
    assert [(m.kind, m.document_value) for m in result.mismatches] == ([mismatch] if mismatch else [])


@pytest.mark.parametrize("reset", ["\n\n", "“十四五”期间,", "二是", "(二)"])
def test_scope_resets_end_a_years_frame(reset):
    # Without the reset 25% would be a 2021 value too and (equal to the claim's) win over 21%.
    evidence = (
        "2021年,新培育高新技术企业1000家以上。" + reset + "高新技术产品产值占全省比重达到25%。"
        "2021年,力争全省高新区集聚科技型企业等重点科技资源占全省50%以上,高新技术产品产值占全省比重达到21%。"
    )
    result = check("2021年全省高新技术产品产值占全省比重达到25%", evidence)
    assert [(m.kind, m.document_value) for m in result.mismatches] == [("percent", "21%")], result.reason


def test_no_reset_inside_a_word():
    # "统一是" is not a list item: 25% stays framed by 2021年 and agrees.
    evidence = "2021年,全省统一是关键,高新技术产品产值占全省比重达到25%。力争重点科技资源占全省50%以上。"
    assert check("2021年高新技术产品产值占全省比重达到25%", evidence).verdict == "supported"


# A lost table's note names the indicator but states no value; another indicator's value is no contradiction.
@pytest.mark.parametrize(
    ("claim", "evidence"),
    [
        ("辽宁省2023年地区生产总值增长8%",
         "注:①地區生產總值、全員勞動生產率、居民收入的絕對數和增長速度,按可比價計算。到2035年基本實現現代化"),
        ("辽宁“十四五”规划提出一般公共预算收入年均增长5%",
         "發展質量和效益不斷提高,城鎮、農村常住居民人均可支配收入年均分別增長5.3%和7%"),
        ("辽宁“十四五”规划提出到2025年数字经济占地区生产总值比重达到45%",
         "“十四五”期间,力争全省高新区地区生产总值占全省比重达到16%"),
    ],
)
def test_no_value_for_the_indicator_is_not_a_contradiction(claim, evidence):
    assert check(claim, evidence).verdict == "unrelated"


def test_a_negation_does_not_lower_overlap():
    evidence = "全面推進農村地區清潔取暖"
    assert overlap("不再推进农村地区清洁取暖", evidence) == overlap("推进农村地区清洁取暖", evidence) == 1.0


def test_a_change_goes_with_the_documents_change_of_the_same_values():
    evidence = "在职职工普通门诊年度起付标准由1000元调整为800元，退休人员由700元调整为500元。"
    assert compare("杭州退休人员普通门诊年度起付标准由700元调整为500元。", evidence).verdict == "supported"
    changed = compare("杭州退休人员普通门诊年度起付标准由700元调整为600元。", evidence)
    assert changed.verdict == "contradicted" and changed.mismatches[0].document_value == "500元"
    rising = "勞動年齡人口平均受教育年限由10.5年增加到11年。"
    assert compare("辽宁劳动年龄人口平均受教育年限从10.5年提高到11年。", rising).verdict == "supported"
