"""Scope: a question's places, periods and indicator; a figure's time and place in its document; the notice."""

import pytest

from assistant.answers.asks import Span, answer_spans, asked_for
from assistant.answers.evidence import Sentence, analyze, spans_of
from assistant.answers.scope import (
    EvidenceScope,
    evidence_scope,
    indicator_elsewhere,
    indicator_mismatch,
    scope_mismatches,
    stock_flow_mismatch,
)
from assistant.text.periods import Period
from assistant.text.scope import indicator_of, place_names, question_scope
from assistant.text.script import normalize
from assistant.types import Chunk, DocumentInfo, Hit


@pytest.mark.parametrize(
    "question,places,periods,indicator",
    [
        ("", (), [], ""),
        ("沈阳2024年要新建多少个5G基站？", ("沈阳",), ["2024"], "5G基站"),
        ("遼寧“十四五”期間要新增多少套共有產權住房？", ("辽宁",), ["2021-2025"], "共有产权住房"),
        ("辽宁2035年常住人口城镇化率的目标是多少？", ("辽宁",), ["2035"], "常住人口城镇化率"),
        ("规划纲要提出农田灌溉水有效利用系数要达到多少？", (), [], "农田灌溉水有效利用系数"),
        ("专栏22“协力推进沈阳现代化都市圈高质量发展”列了哪些城市？", (), [], ""),  # 都市圈 is a region, a topic
        ("How many 5G base stations will Shenyang build in 2021?", ("沈阳",), ["2021"], ""),
    ],
)
def test_question_scope(question, places, periods, indicator):
    scope = question_scope(question)
    assert scope.places == places
    assert [p.label for p in scope.periods] == periods
    assert scope.indicator == indicator


def test_an_indicator_keeps_the_qualifier_in_its_parentheses():
    # Statistical indicators qualify a word in parentheses; cutting there left only the last word (医师数).
    assert indicator_of("2025年每千人口拥有执业（助理）医师数是多少？") == "每千人口拥有执业(助理)医师数"
    assert indicator_of("到2025年研究与试验发展（R&D）经费投入强度要达到多少？") == "研究与试验发展(R&D)经费投入强度"
    assert indicator_of("沈阳2024年要新建多少个5G基站？") == "5G基站"


def test_a_base_year_is_not_asked():
    assert question_scope("万元GDP用水量较2020年下降多少？").periods == ()


def test_place_names_in_both_scripts_and_english():
    assert place_names("遼寧省大連市") == ["辽宁", "大连"]
    assert place_names("What does Liaoning plan for Dalian?") == ["辽宁", "大连"]
    assert indicator_of("沈阳中欧班列要开行多少列？") == "中欧班列"


def test_a_metropolitan_area_is_a_region_in_english_as_in_chinese():
    # 沈阳都市圈 is a region (a topic), so its English name must not scope the question to the city of Shenyang.
    assert question_scope("2024年沈阳都市圈跨域通办事项要超过多少项？").places == ()
    assert question_scope("How many services will the Shenyang metropolitan area handle across cities in 2024?").places == ()
    assert question_scope("How many 5G base stations will Shenyang build in the coming year?").places == ("沈阳",)


def _sentence(text: str, doc_text: str, section: tuple[str, ...] = (), title: str = "", region: str = "") -> Sentence:
    start = doc_text.index(text)
    chunk = Chunk("d:1", "d", title, section, doc_text, doc_text, 0, len(doc_text), region=region)
    return Sentence(Hit(chunk, 1.0, 1), start, start + len(text), text, text)


SHENYANG = DocumentInfo("d", "003.txt", "2021年沈阳要重点做好十方面工作", date="2021-02-06", region="沈阳市")
PLAN = DocumentInfo("d", "001.txt", "辽宁省国民经济和社会发展第十四个五年规划和二〇三五年远景目标纲要", date="2021-04-21",
                    region="辽宁省")


def test_a_figure_takes_its_year_from_the_title_and_its_place_from_the_region():
    text = "大力发展数字经济。新建5G基站6000个以上。"
    scope = evidence_scope(_sentence("新建5G基站6000个以上。", text, title=SHENYANG.title, region="沈阳市"), text, SHENYANG)
    assert [p.label for p in scope.periods] == ["2021"] and scope.period_source == "title"
    assert scope.places == ("沈阳",)
    assert scope_mismatches(question_scope("沈阳2024年要新建多少个5G基站？"), scope) == [
        {"kind": "year", "asked": "2024", "found": "2021"}]
    assert scope_mismatches(question_scope("大连2021年要新建多少个5G基站？"), scope) == [
        {"kind": "place", "asked": "大连", "found": "沈阳"}]
    assert scope_mismatches(question_scope("沈阳2021年要新建多少个5G基站？"), scope) == []


def test_the_sentence_and_its_paragraph_come_before_the_title():
    text = "“十四五”期间,全省计划培育科技型中小企业突破20000家。2021年,新培育高新技术企业1000家以上。"
    first = evidence_scope(_sentence("“十四五”期间,全省计划培育科技型中小企业突破20000家。", text), text, PLAN)
    assert [p.label for p in first.periods] == ["2021-2025"] and first.period_source == "sentence"
    assert scope_mismatches(question_scope("辽宁2030年要培育多少科技型中小企业？"), first) == [
        {"kind": "year", "asked": "2030", "found": "2021-2025"}]
    text2 = "2021年,科技厅提出目标。新培育高新技术企业1000家以上。"
    second = evidence_scope(_sentence("新培育高新技术企业1000家以上。", text2), text2, PLAN)
    assert [p.label for p in second.periods] == ["2021"] and second.period_source == "paragraph"


def test_a_review_section_speaks_of_the_previous_plan():
    text = "獲國家科技獎勵90項。"
    scope = evidence_scope(_sentence(text, text, section=("第一章", "第一節 發展基礎")), text, PLAN)
    assert {p.label for p in scope.periods} == {"2016-2020", "2020"}
    assert scope_mismatches(question_scope("遼寧“十三五”期間獲得了多少項國家科技獎勵？"), scope) == []


def test_a_policy_holds_for_the_cities_of_its_province_a_figure_does_not():
    scope = EvidenceScope((Period(2021, 2025, "", 0, 0, "span"),), "title", ("辽宁",), "辽宁")
    asked = question_scope("沈阳“十四五”期间要新增多少套保障性租赁住房？")
    assert scope_mismatches(asked, scope, figure=True) == [{"kind": "place", "asked": "沈阳", "found": "辽宁"}]
    assert scope_mismatches(asked, scope, figure=False) == []
    assert scope_mismatches(question_scope("2024年沈阳怎么推进养老服务？"), scope, figure=False) == []


@pytest.mark.parametrize(
    "indicator,sentence,found",
    [
        ("共有产权住房", "扩大保障性租赁住房供给,新增保障性租赁住房5万套。", "保障性租赁住房"),
        ("5G基站", "新建5G基站6000个以上。", None),
        ("养老院床位", "新增养老床位2000张。", None),  # a paraphrase shares the modifier
        ("数控机床本地配套率", "数控机床行业营业收入争取达到200亿元,本地配套率达55%。", None),
        ("4G基站", "新建5g基站6000个以上,开发“5g+工业互联网”等示范场景。", "5g基站"),  # 5G is a word, not a number
        ("5G基站", "新建5g基站6000个以上,开发“5g+工业互联网”等示范场景。", None),  # letter case does not matter
    ],
)
def test_indicator_mismatch(indicator, sentence, found):
    result = indicator_mismatch(indicator, normalize(sentence), "")
    assert (result["found"] if result else None) == found
    if result:
        assert result["asked"] == indicator


@pytest.mark.parametrize(
    "question,sentence,found",
    [
        # The sentence names 城中村, but its figure stands in a clause about 老旧小区.
        ("2024年辽宁要改造多少个城中村？", "穩步推進城中村改造,加快城市地下管網改造,改造老舊小區700個、老舊管網4600公裏。",
         "老旧小区"),
        ("2024年辽宁要改造多少个老旧小区？", "穩步推進城中村改造,加快城市地下管網改造,改造老舊小區700個、老舊管網4600公裏。",
         None),
        ("沈阳2021年要新建多少个5G基站？", "新建5G基站6000个以上,开发“5G+工业互联网”等示范场景。", None),
    ],
)
def test_a_figure_in_a_clause_about_another_indicator(question, sentence, found):
    asked = analyze(question)
    result = indicator_elsewhere(asked.scope.indicator, sentence, spans_of(asked, sentence, in_note=False))
    assert (result["found"] if result else None) == found


def test_a_total_is_not_answered_by_an_addition():
    asked = asked_for(normalize("大连高新技术企业总数要达到多少家？"))

    def spans(sentence: str) -> list[Span]:
        return answer_spans(asked, sentence)

    added = "推动创新发展,新增高新技术企业800家。"
    assert stock_flow_mismatch(normalize("大连高新技术企业总数要达到多少家？"), added, spans(added)) == {
        "kind": "indicator", "asked": "总数", "found": "新增"}
    total = "高新技术企业总数达到3000家。"
    assert stock_flow_mismatch(normalize("大连高新技术企业总数要达到多少家？"), total, spans(total)) is None
    both = "新增高新技术企业800家,累计达到3000家。"
    assert stock_flow_mismatch(normalize("大连高新技术企业总数要达到多少家？"), both, spans(both)) is None
    assert stock_flow_mismatch(normalize("大连要新增多少家高新技术企业？"), added, spans(added)) is None  # a flow asked
