"""Periods: years, ranges, Five-Year Plans and relative years as year intervals; which figure answers which year."""

import pytest

from assistant.text.periods import Period, doc_year_of, extract_periods, framing_periods, plan_number, plan_years


def labels(text: str, doc_year: int | None = None) -> list[tuple[str, str]]:
    return [(p.label, p.role) for p in extract_periods(text, doc_year)]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", []),
        ("年", []),
        ("新建5G基站6000个以上", []),  # a count is no year
        ("十五个", []),  # the number 15, not the 10th plan
        ("沈阳2024年要新建多少个5G基站？", [("2024", "point")]),
        ("辽宁“十四五”期间培育,到2025年达到45%", [("2021-2025", "span"), ("2025", "target")]),
        ("“十三五”末辽宁空气质量", [("2020", "point")]),
        ("十五五规划", [("2026-2030", "span")]),
        ("2021—2025年", [("2021-2025", "span")]),
        ("2021年至2025年全省", [("2021-2025", "span")]),
        ("遼寧省國民經濟和社會發展第十四個五年規劃和二〇三五年遠景目標綱要", [("2021-2025", "span"), ("2035", "point")]),
        ("萬元地區生產總值用水量較2020年下降12%", [("2020", "base")]),
        ("按2020年可比价计算", [("2020", "base")]),
        ("２０２４年辽宁营造林", [("2024", "point")]),  # full-width digits
        ("How many SMEs during the 14th Five-Year Plan by 2025?", [("2021-2025", "span"), ("2025", "target")]),
        ("20245年", []),  # part of a longer number
    ],
)
def test_extract_periods(text, expected):
    assert labels(text) == expected


def test_relative_years_need_the_document_date():
    assert labels("今年要新增") == []
    assert labels("今年要新增,去年完成", 2024) == [("2024", "point"), ("2023", "point")]


def test_offsets_point_into_the_input():
    text = "遼寧“十四五”期間"
    (period,) = extract_periods(text)
    assert text[period.start : period.end] == period.text == "“十四五”期間"


def test_framing_leaves_base_years_out():
    assert [p.label for p in framing_periods("到2025年,用水量较2020年下降12%")] == ["2025"]


@pytest.mark.parametrize(
    "found,asked,covers",
    [
        (Period(2021, 2025, "", 0, 0, "span"), Period(2025, 2025, "", 0, 0), True),  # the plan's target year
        (Period(2021, 2025, "", 0, 0, "span"), Period(2023, 2023, "", 0, 0), False),  # a 5-year total is not 2023's
        (Period(2021, 2025, "", 0, 0, "span"), Period(2030, 2030, "", 0, 0), False),
        (Period(2025, 2025, "", 0, 0, "target"), Period(2021, 2025, "", 0, 0, "span"), True),  # 到2025年 in 十四五
        (Period(2024, 2024, "", 0, 0), Period(2021, 2025, "", 0, 0, "span"), False),
        (Period(2021, 2021, "", 0, 0), Period(2021, 2021, "", 0, 0), True),
        (Period(2021, 2021, "", 0, 0), Period(2024, 2024, "", 0, 0), False),
    ],
)
def test_covers(found, asked, covers):
    assert found.covers(asked) is covers


def test_plan_number_is_the_inverse_of_plan_years():
    assert [plan_number(*plan_years(n)) for n in (3, 11, 14, 19)] == [3, 11, 14, 19]
    assert plan_number(2021, 2024) is None and plan_number(2022, 2026) is None


def test_plan_years_and_doc_year():
    assert plan_years(14) == (2021, 2025) and plan_years(13) == (2016, 2020) and plan_years(15) == (2026, 2030)
    assert doc_year_of("2024-01-30") == 2024 and doc_year_of("2021-02") == 2021 and doc_year_of("") is None


@pytest.mark.parametrize(
    "text,role",
    [
        ("在2020年基础上翻一番", "base"),  # a word after the year makes it a base
        ("与2020年相比下降15%", "base"),
        ("By how much should water use fall compared with 2020?", "base"),  # an English phrase longer than 12 chars
        ("How much more than in 2020?", "point"),
        ("How much higher than 2020?", "base"),
        ("2024年新建5G基站", "point"),
        ("到2025年达到", "target"),
    ],
)
def test_base_years_before_and_after(text, role):
    assert [p.role for p in extract_periods(text)] == [role]
