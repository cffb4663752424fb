import pytest

from assistant.answers.followup import resolve_followup

PREVIOUS = ["辽宁到2025年数字经济要占多少？"]


@pytest.mark.parametrize(
    "question,history,expected",
    [
        ("那沈阳呢？", PREVIOUS, "沈阳到2025年数字经济要占多少？"),
        ("那2035年呢？", PREVIOUS, "辽宁到2035年数字经济要占多少？"),
        ("大連呢", PREVIOUS, "大連到2025年数字经济要占多少？"),
        ("沈阳今年新建多少5G基站？", PREVIOUS, "沈阳今年新建多少5G基站？"),
        ("那沈阳呢？", [], "那沈阳呢？"),
        ("", PREVIOUS, ""),
    ],
)
def test_followups(question, history, expected):
    assert resolve_followup(question, history) == expected


def test_followup_without_entity_appends_topic():
    resolved = resolve_followup("那农业呢？", PREVIOUS)
    assert resolved.startswith(PREVIOUS[0]) and "农业" in resolved
