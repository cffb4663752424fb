"""Tests for assistant/quantities.py (and the gazetteer in assistant/places.py) on seed-corpus sentences."""

from __future__ import annotations

import pytest

from assistant.text.places import extract_places
from assistant.text.quantities import (
    Quantity,
    dimension,
    extract,
    fold,
    parse_chinese_number,
    qualifiers_conflict,
    values_agree,
)

# Real sentences from corpus/ (000 and 003 simplified, 001 and 002 traditional).
S000 = (
    "“十四五”期间,辽宁省计划培育科技型中小企业突破20000家,高新技术企业突破10000家,"
    "培育雏鹰瞪羚独角兽企业突破5000家;支持中小企业做专做精,培育“小升规”1000户、“规升巨”100户,"
    "培育一批“专精特新”中小企业、“小巨人”企业;保障粮食安全,2021年全省粮食播种面积只增不减。"
)
S001_TITLE = "遼寧“十四五”規劃和二〇三五年遠景目標綱要(附全文) 發布時間:2021-04-21 10:54"
S001_GDP = "2020年統籌推進疫情防控和經濟社會發展,全省地區生產總值實現25115億元,“十三五”期間年均增長3.2%"
S001_AIR = "空氣質量優良天數比率為82.6%,較五年前提高11.1個百分點"
S001_ROAD = "實施農村公路建設改造工程4.6萬公里"
S002 = "招商(shāng)引資(zī)實際到位資(zī)金增長10%以上"
S003_5G = "新建5G基站6000个以上,开发“5G+工业互联网”等示范场景"
S003_DEBT = "市属企业资产负债率控制在63%以下"


def simple(qs: list[Quantity]) -> list[tuple[str, float, str, str, str]]:
    return [(q.kind, q.value, q.unit, q.qualifier, q.text) for q in qs]


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("二〇三五", 2035.0),
        ("七十五", 75.0),
        ("一千亿", 1e11),
        ("两万", 20000.0),
        ("兩萬", None),  # parse_chinese_number expects folded (simplified) text; extract() folds first
        ("十", 10.0),
        ("十四", 14.0),
        ("一百零五", 105.0),
        ("三万五", 35000.0),
        ("一亿五", 1.5e8),
        ("三百五", 350.0),
        ("十五", 15.0),
        ("三亿五千万", 3.5e8),
        ("一万亿", 1e12),
        ("三点五", 3.5),
        ("十四五", None),  # the plan name
        ("十三五", None),
        ("", None),
    ],
)
def test_parse_chinese_number(numeral, value):
    assert parse_chinese_number(numeral) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("百分之七十五", [("percent", 75.0, "%", "", "百分之七十五")]),
        ("75%", [("percent", 75.0, "%", "", "75%")]),
        ("７５％", [("percent", 75.0, "%", "", "７５％")]),
        ("一千亿元", [("amount", 1e11, "元", "", "一千亿元")]),
        ("1000億元", [("amount", 1e11, "元", "", "1000億元")]),
        ("二〇三五年", [("year", 2035.0, "年", "", "二〇三五年")]),
        ("到2025年", [("year", 2025.0, "年", "", "2025年")]),
        ("两万", [("number", 20000.0, "", "", "两万")]),
        ("兩萬", [("number", 20000.0, "", "", "兩萬")]),
        ("3.5万", [("number", 35000.0, "", "", "3.5万")]),
        ("1,600", [("number", 1600.0, "", "", "1,600")]),
        ("七个新突破", [("count", 7.0, "个", "", "七个")]),
        ("190多億美元", [("amount", 1.9e10, "美元", "more_than", "190多億美元")]),
        ("增长5%—6%", [("percent", 5.0, "%", "range", "5%—6%")]),
        ("2021—2025年", [("year", 2021.0, "年", "", "2021"), ("year", 2025.0, "年", "", "2025年")]),
    ],
)
def test_extract_numerals_and_units(text, expected):
    assert simple(extract(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "一",
        "辽",
        "十四五",
        "“十四五”期间",
        "第三章",
        "第十四届",
        "一批",
        "一流",
        "一体化",
        "统一",
        "一(yī)體(tǐ)化",
        "千方百计",
        "每万人口",
        "5G",
        "PM2.5",
        "专栏3",
        "(十一)",
        "2021-04-21 10:54",
        "1.沈阳",
        "推动数字经济和实体经济深度融合",
    ],
)
def test_not_quantities(text):
    assert extract(text) == []


def test_seed_sentence_000_counts_and_year():
    assert simple(extract(S000)) == [
        ("count", 20000.0, "家", "more_than", "20000家"),
        ("count", 10000.0, "家", "more_than", "10000家"),
        ("count", 5000.0, "家", "more_than", "5000家"),
        ("count", 1000.0, "户", "", "1000户"),
        ("count", 100.0, "户", "", "100户"),
        ("year", 2021.0, "年", "", "2021年"),
    ]


def test_traditional_title_year_and_no_date():
    assert simple(extract(S001_TITLE)) == [("year", 2035.0, "年", "", "二〇三五年")]


def test_traditional_amount_offsets():
    qs = extract(S001_GDP)
    assert simple(qs) == [
        ("year", 2020.0, "年", "", "2020年"),
        ("amount", 2.5115e12, "元", "", "25115億元"),
        ("percent", 3.2, "%", "", "3.2%"),
    ]
    for q in qs:
        assert S001_GDP[q.start : q.end] == q.text


def test_points_are_not_percent():
    pct, years, points = extract(S001_AIR)
    assert (pct.kind, pct.value) == ("percent", 82.6)
    assert (years.kind, years.unit) == ("count", "年")  # 五年前
    assert (points.kind, points.value, points.text) == ("points", 11.1, "11.1個百分點")
    same_value = Quantity("percent", 11.1, "%", "", "11.1%", 0, 5)
    assert dimension(same_value) == dimension(points)  # comparable …
    assert not values_agree(same_value, points)  # … but never equal


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("4.6萬公里", "46000千米"),
        ("4.6万公里", "46000km"),
        ("3.37萬億元", "33700亿元"),
        ("一千亿元", "1000億元"),
        ("百分之七十五", "７５％"),
        ("二〇三五年", "2035年"),
        ("20万亩", "200000亩"),
        ("20000家", "两万个"),  # measure words are interchangeable
    ],
)
def test_unit_conversion_equal(a, b):
    (qa,), (qb,) = extract(a), extract(b)
    assert dimension(qa) == dimension(qb)
    assert values_agree(qa, qb)


def test_wan_vs_yi_differ():
    (wan,), (yi,) = extract("25115万元"), extract("25115億元")
    assert dimension(wan) == dimension(yi) == "amount:元"
    assert not values_agree(wan, yi)


def test_road_length_in_km():
    (q,) = extract(S001_ROAD)
    assert (q.kind, q.value, q.unit, q.text) == ("count", 46000.0, "km", "4.6萬公里")


@pytest.mark.parametrize(
    ("text", "qualifier"),
    [
        (S003_5G, "at_least"),
        (S003_DEBT, "at_most"),
        (S002, "at_least"),
        ("突破20000家", "more_than"),
        ("超过20000家", "more_than"),
        ("不低于20000家", "at_least"),
        ("不超过5%", "at_most"),
        ("约2万家", "about"),
        ("20000家左右", "about"),
        ("1000多个", "more_than"),
        ("力争达到16%", ""),  # an aim, not a bound
        ("节约10%", ""),
    ],
)
def test_qualifiers(text, qualifier):
    assert extract(text)[0].qualifier == qualifier


def test_qualifier_agreement():
    (more,), (exceed,), (about,), (below,), (above,) = (
        extract(t) for t in ("突破20000家", "超过20000家", "20000家左右", "63%以下", "63%以上")
    )
    assert not qualifiers_conflict(exceed, more)
    assert not qualifiers_conflict(about, more)
    assert qualifiers_conflict(above, below)


def test_about_tolerance_and_ranges():
    (about,), (exact,), (rng,), (inside,), (outside,) = (
        extract(t) for t in ("约2万家", "19800家", "增长5%—6%", "增长5.5%", "增长7%")
    )
    assert values_agree(about, exact)
    assert not values_agree(extract("20000家")[0], exact)
    assert values_agree(inside, rng)
    assert not values_agree(outside, rng)
    assert not values_agree(rng, inside)  # a claimed range is not a single document value


def test_fold_keeps_length():
    text = "遼甯省計劃培育科技型中小企業突破２００００家，①㎞…"
    assert len(fold(text)) == len(text)
    assert fold("遼甯億元,７５％") == "辽宁亿元,75%"


# Places (assistant/places.py)


def test_places_traditional_offsets():
    text = "沈陽、大連機場旅客吞吐量均突破2000萬人次/年"
    places = extract_places(text)
    assert [(p.name_norm, p.text, p.level) for p in places] == [("沈阳", "沈陽", "city"), ("大连", "大連", "city")]
    for p in places:
        assert text[p.start : p.end] == p.text


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("遼甯省第十四屆人民代表大會", ["辽宁"]),
        ("“十四五”期间,辽宁省计划培育", ["辽宁"]),
        ("东北亚开放合作枢纽地", ["东北亚"]),
        ("内蒙古支线(朝阳输水线路)", ["内蒙古", "朝阳"]),
        ("发展朝阳产业", []),
        ("推进中街、太原街、北市场", []),
        ("江西安徽", ["江西", "安徽"]),
        ("", []),
    ],
)
def test_place_names(text, names):
    assert [p.name_norm for p in extract_places(text)] == names
