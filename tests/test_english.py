"""English numbers: scale words, units, years and names left out."""

import pytest

from assistant.text.english import english_numbers


@pytest.mark.parametrize(
    "text,expected",
    [
        ("", []),
        ("Liaoning will renovate 700 old residential compounds in 2024.", [("count", 700.0)]),
        ("During the 14th Five-Year Plan, train 1.5 million person-times.", [("count", 1_500_000.0)]),
        ("more than 20,000 SMEs", [("count", 20_000.0)]),
        ("45% by 2025", [("percent", 45.0)]),
        ("up 5.3 percent", [("percent", 5.3)]),
        ("8 billion yuan", [("amount", 8e9)]),
        ("5G base stations", []),  # a name
    ],
)
def test_english_numbers(text, expected):
    assert [(n.kind, n.value) for n in english_numbers(text)] == expected
