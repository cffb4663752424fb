import pytest

from assistant.answers.followup import Resolved, resolve_conversation, resolve_followup

FIVE_G = "沈阳2021年要新建多少个5G基站？"
SHARE = "辽宁到2025年数字经济要占多少？"


def texts(questions: list[str], doc_years: list[int | None] | None = None) -> list[str]:
    return [t.text for t in resolve_conversation(questions, doc_years or [])]


# ----- one follow-up against one earlier question -----
@pytest.mark.parametrize(
    "question,history,expected",
    [
        ("那沈阳呢？", [SHARE], "沈阳到2025年数字经济要占多少？"),
        ("那2035年呢？", [SHARE], "辽宁到2035年数字经济要占多少？"),
        ("大連呢", [SHARE], "大連到2025年数字经济要占多少？"),
        ("那二〇三五年呢？", [SHARE], "辽宁到二〇三五年数字经济要占多少？"),
        ("那农业呢？", [SHARE], "辽宁到2025年农业要占多少？"),
        ("大连的情况呢？", [FIVE_G], "大连2021年要新建多少个5G基站？"),
        ("Dalian?", [FIVE_G], "大连2021年要新建多少个5G基站？"),
        ("十四五期间？", [FIVE_G], "沈阳十四五期间要新建多少个5G基站？"),
        ("沈阳今年新建多少5G基站？", [SHARE], "沈阳今年新建多少5G基站？"),  # a question of its own
        ("数字经济", [FIVE_G], "数字经济"),  # a keyword of its own, not a follow-up
        ("？？？？", [FIVE_G], "？？？？"),  # noise: answered (refused) as it is
        ("😀😀😀", [], "😀😀😀"),
        ("", [SHARE], ""),
    ],
)
def test_one_followup(question, history, expected):
    assert resolve_followup(question, history).text == expected


def test_a_standalone_question_is_its_own_resolution():
    turn = resolve_followup(FIVE_G, [SHARE])
    assert turn == Resolved(FIVE_G, FIVE_G) and not turn.is_followup and not turn.needs_clarification


# ----- chains: each turn builds on the previous resolved question -----
def test_the_chain_of_the_issue_keeps_the_topic_and_swaps_the_year_for_the_period():
    turns = resolve_conversation([FIVE_G, "那辽宁全省呢？", "十四五期间呢？"])
    assert [t.text for t in turns] == [FIVE_G, "辽宁2021年要新建多少个5G基站？", "辽宁十四五期间要新建多少个5G基站？"]
    assert turns[1].carried == ("period", "topic") and turns[2].carried == ("place", "topic")
    assert "2021" not in turns[2].text


@pytest.mark.parametrize(
    "questions,expected",
    [
        ([SHARE, "那沈阳呢？", "那2035年呢？", "那农业呢？"],
         ["沈阳到2025年数字经济要占多少？", "沈阳到2035年数字经济要占多少？", "沈阳到2035年农业要占多少？"]),
        (["遼寧十四五期間要培育多少科技型中小企業？", "那瀋陽呢？", "十三五呢？"],
         ["瀋陽十四五期間要培育多少科技型中小企業？", "瀋陽十三五要培育多少科技型中小企業？"]),
        ([FIVE_G, "What about Dalian?", "And during the 14th Five-Year Plan?"],
         ["大连2021年要新建多少个5G基站？", "大连十四五期间要新建多少个5G基站？"]),
        (["How many 5G base stations will Shenyang build in 2021?", "What about Dalian?",
          "And during the 14th Five-Year Plan?", "那辽宁呢？"],
         ["How many 5G base stations will Dalian build in 2021?",
          "How many 5G base stations will Dalian build during the 14th Five-Year Plan?",
          "How many 5G base stations will Liaoning build during the 14th Five-Year Plan?"]),
        (["辽宁数控机床本地配套率目标是多少？", "到2025年呢？", "十四五期间呢"],
         ["辽宁到2025年数控机床本地配套率目标是多少？", "辽宁十四五期间数控机床本地配套率目标是多少？"]),
        ([SHARE, "十四五期间呢"], ["辽宁十四五期间数字经济要占多少？"]),  # 到 does not stay before a span
        ([FIVE_G, "二〇二二年呢？", "大连的情况呢？"],
         ["沈阳二〇二二年要新建多少个5G基站？", "大连二〇二二年要新建多少个5G基站？"]),
        (["How many 5G base stations will Shenyang build?", "And during the 14th Five-Year Plan?"],
         ["How many 5G base stations will Shenyang build during the 14th Five-Year Plan?"]),
        (["数控机床本地配套率目标是多少？", "辽宁呢？"], ["辽宁数控机床本地配套率目标是多少？"]),  # place inserted
        (["辽宁数控机床本地配套率目标是多少？", "十三五呢"], ["辽宁十三五数控机床本地配套率目标是多少？"]),
    ],
)
def test_chains(questions, expected):
    assert texts(questions)[1:] == expected


def test_relative_years_follow_the_cited_document_or_stay():
    assert texts(["沈阳2021年要做好哪些工作？", "明年呢？"], [2021])[1] == "沈阳2022年要做好哪些工作？"
    assert texts(["沈阳2021年要做好哪些工作？", "去年呢？"], [2021])[1] == "沈阳2020年要做好哪些工作？"
    assert texts(["沈阳2021年要做好哪些工作？", "明年呢？"])[1] == "沈阳明年要做好哪些工作？"  # date unknown
    english = ["How many 5G base stations will Shenyang build in 2021?", "And next year?"]
    assert texts(english, [2021])[1] == "How many 5G base stations will Shenyang build in 2022?"


# ----- what cannot be resolved asks for more -----
@pytest.mark.parametrize(
    "questions",
    [["那辽宁全省呢？"], ["还有呢？"], ["十四五期间呢？"], ["What about Dalian?"], ["那农业呢？"], [FIVE_G, "还有呢？"],
     [FIVE_G, "然后呢？"], [FIVE_G, "还有别的吗？"]],
)
def test_fragments_without_anything_to_attach_to_need_clarification(questions):
    last = resolve_conversation(questions)[-1]
    assert last.needs_clarification and last.text == questions[-1].strip()


def test_a_clarification_turn_is_skipped_by_the_next_followup():
    turns = resolve_conversation([FIVE_G, "还有呢？", "大连呢？"])
    assert turns[1].needs_clarification and turns[2].text == "大连2021年要新建多少个5G基站？"


def test_resolved_history_gives_the_same_result_as_typed_history():
    typed = [FIVE_G, "那辽宁全省呢？"]
    resolved = [t.text for t in resolve_conversation(typed)]
    assert resolve_followup("十四五期间呢？", resolved) == resolve_conversation([*typed, "十四五期间呢？"])[-1]
