import pytest

from assistant.search.keyword import KeywordIndex, bigrams, tokenize
from assistant.text.script import normalize


@pytest.mark.parametrize(
    "text,expected",
    [("", []), ("沈", ["沈"]), ("数字经济", ["数字", "字经", "经济"]), ("5G基站6000个", ["5g", "基站", "6000", "个"])],
)
def test_bigrams(text, expected):
    assert bigrams(text) == expected


def test_both_mode_prefixes_words():
    tokens = tokenize("辽宁数字经济", "both")
    assert "数字" in tokens and "w:辽宁" in tokens


PASSAGES = [
    "大力发展数字经济。新建5G基站6000个以上,开发“5G+工业互联网”应用场景。",
    "持续扩大有效投资。全年开复工亿元以上项目1600个以上,产业项目突破1000个。",
    "突出抓好保就业。新增城镇就业9万人以上。",
]


@pytest.mark.parametrize("mode", ["bigram", "jieba", "both"])
def test_bm25_finds_the_passage_in_either_script(mode, tmp_path):
    index = KeywordIndex(mode)
    index.build([normalize(p) for p in PASSAGES])
    for query, expected in [("新建多少个5G基站", 0), ("城鎮就業目標", 2), ("亿元以上项目", 1)]:
        scores = index.scores(normalize(query))
        assert int(scores.argmax()) == expected
    index.save(tmp_path / "bm25")
    loaded = KeywordIndex.load(tmp_path / "bm25")
    assert loaded.scores(normalize("城镇就业")).argmax() == 2


def test_unknown_tokens_score_zero():
    index = KeywordIndex("bigram")
    index.build([normalize(p) for p in PASSAGES])
    assert not index.scores(normalize("量子计算机")).any()
