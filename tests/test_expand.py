"""Query expansion: the term table, a user's own table, and colloquial questions finding official passages."""

import os
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.pipeline import Assistant
from assistant.search.expand import BUNDLED_TERMS, expand_query, load_terms
from assistant.text.script import normalize

from .conftest import make_settings, with_and_without


def test_bundled_table_loads_both_sections():
    table = load_terms()
    assert table.colloquial["看病"] == ("就医", "医疗")
    assert table.english["gdp"] == ("地区生产总值", "生产总值", "GDP")
    assert len(table.colloquial) > 100 and len(table.english) > 300


@pytest.mark.parametrize("question,expanded", [
    ("老房子改造有补贴吗", "老房子改造有补贴吗 老旧小区改造 城市更新"),  # the longer key wins over 老房子
    ("看病报销能报多少", "看病报销能报多少 就医 医疗 医保 医疗保险"),  # 报销 itself is not added again
    ("沈阳地铁几号线", "沈阳地铁几号线 城市轨道交通"),
    ("辽宁数字经济占比多少", "辽宁数字经济占比多少"),  # no key: unchanged
    ("", ""),
])
def test_expand_chinese(question, expanded):
    assert expand_query(normalize(question), load_terms()) == expanded


def test_traditional_question_expands_like_simplified():
    table = load_terms()
    assert expand_query(normalize("舊房改造"), table) == expand_query(normalize("旧房改造"), table) != "旧房改造"
    assert table.terms(normalize("看病報銷")) == table.terms(normalize("看病报销"))


def test_english_keys_match_whole_words_longest_first():
    table = load_terms()
    assert table.terms("what is liaoning's gdp target?") == ["辽宁", "地区生产总值", "生产总值", "GDP", "目标"]
    assert table.terms("digital economy share") == ["数字经济", "比重", "占比"]  # not 数字 + 经济 separately
    assert table.terms("gdps") == []  # part of a word: no match


def test_user_file_extends_and_overrides(tmp_path: Path):
    user = tmp_path / "terms.toml"
    user.write_text('[colloquial]\n"菜市场" = ["农贸市场"]\n"看病" = ["诊疗"]\n\n[english]\n"wet market" = "农贸市场"\n',
                    encoding="utf-8")
    table = load_terms(user)
    assert table.colloquial["菜市场"] == ("农贸市场",)
    assert table.colloquial["看病"] == ("诊疗",)  # the user's entry replaces the bundled one
    assert table.english["wet market"] == ("农贸市场",)  # a single string is one term
    assert table.colloquial["老小区"] == load_terms().colloquial["老小区"]  # bundled entries stay
    user.write_text('[colloquial]\n"菜市场" = ["菜场"]\n', encoding="utf-8")
    os.utime(user, (1, 1))  # a changed file is read again (the cache key holds its mtime)
    assert load_terms(user).colloquial["菜市场"] == ("菜场",)


@pytest.mark.parametrize("content,message", [
    ('[colloquial]\n"看病" = []\n', "list of terms"),
    ('[colloquial]\n"看病" = [1]\n', "list of terms"),
    ("[synonyms]\n", "unknown table"),
    ("[colloquial\n", "Cannot read"),
])
def test_malformed_user_file_is_a_config_error(tmp_path: Path, content: str, message: str):
    user = tmp_path / "bad.toml"
    user.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_terms(user)


def test_missing_user_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_terms(tmp_path / "nope.toml")


def test_bundled_file_is_package_data():
    assert BUNDLED_TERMS.name == "terms.toml" and BUNDLED_TERMS.is_file()


def test_retriever_expands_the_keyword_query_only_when_on(tmp_path: Path, small_corpus: Path):
    on, off = with_and_without(tmp_path, small_corpus, {"expansion": False})
    assert on.retriever.keyword_query("老房子改造") == "老房子改造 老旧小区改造 城市更新"
    assert off.retriever.keyword_query("老房子改造") == "老房子改造"
    # bm25 mode: the everyday words share no token with the official passage; the added terms do.
    assert not any("老旧小区" in h.chunk.text for h in off.search("老房子改造", k=3, mode="bm25"))
    assert any("老旧小区" in h.chunk.text for h in on.search("老房子改造", k=3, mode="bm25"))


@pytest.mark.slow
def test_colloquial_question_finds_the_official_passage_with_the_real_model(real_assistant: Assistant):
    """Real model, whole seed corpus: everyday words find the passage written in official terms."""
    question = "在外地看病能直接报销吗"  # the documents say 醫保 / 异地就医联网结算, never 看病报销
    hits = real_assistant.search(question, k=5)
    assert any("医保" in normalize(h.chunk.text) or "异地就医" in normalize(h.chunk.text) for h in hits[:3])
    assert all(h.dense_score is not None and -1.0 <= h.dense_score <= 1.0 for h in hits)  # still the e5 cosine


@pytest.mark.parametrize("question,expanded", [
    ("gdp of liaoning", "of 地区生产总值 生产总值 GDP 辽宁"),  # translated English words leave the query
    ("辽宁的gdp是多少", "辽宁的 是多少 地区生产总值 生产总值 GDP"),
    ("辽宁数字经济占比多少", "辽宁数字经济占比多少"),  # nothing matched: unchanged
    ("suburban gdp", "suburban 地区生产总值 生产总值 GDP"),  # whole words only
])
def test_replace_english_drops_translated_words(question, expanded):
    assert expand_query(normalize(question), load_terms(), replace=True) == expanded


def test_keyword_query_starts_with_the_question_unless_replacing(tmp_path: Path, small_corpus: Path):
    """Callers read the added terms after the question (refusal's topic terms); search itself replaces."""
    assistant = Assistant(make_settings(tmp_path, small_corpus))
    assistant.build()
    assistant.open_index()
    question = "how many 5g base stations will shenyang build"
    assert assistant.retriever.keyword_query(question).startswith(question + " ")
    replaced = assistant.retriever.keyword_query(question, replace_english=True)
    assert "shenyang" not in replaced and "沈阳" in replaced.split() and replaced.startswith("will ")
