"""Dictionary bridge: CC-CEDICT lines inverted to English keys, question words matched, terms the index holds kept."""

from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from assistant.search.bridge import Bridge, english_words, invert, load_bridge, parse, singular, variants
from assistant.search.expand import expand_query, load_terms

from .conftest import make_settings, with_and_without

LINES = [
    "# CC-CEDICT header line",
    "就業 就业 [jiu4 ye4] /to get a job/employment/",
    "崗位 岗位 [gang3 wei4] /a post/a job/",
    "工作 工作 [gong1 zuo4] /to work/(of a machine) to operate/job/work/task/CL:個|个[ge4]/",
    "差 差 [chai1] /to send (on an errand)/job/",  # one character: never a candidate
    "差事 差事 [chai1 shi5] /(archaic) job/errand/",  # an archaic sense is dropped
    "喬布斯 乔布斯 [Qiao2 bu4 si1] /Jobs (name)/Steve Jobs (1955-2011)/",
    "瀋陽 沈阳 [Shen3 yang2] /Shenyang subprovincial city and capital of Liaoning province/",
    "國內生產總值 国内生产总值 [guo2 nei4 sheng1 chan3 zong3 zhi2] /gross domestic product (GDP)/",
    "產業集群 产业集群 [chan3 ye4 ji2 qun2] /industrial cluster/",
    "OK OK [O K] /OK/",  # not a CJK headword
]


@pytest.fixture(scope="module")
def small_bridge() -> Bridge:
    return invert(parse(LINES))


def test_parse_inverts_glosses_into_keys():
    inverted = parse(LINES)
    assert inverted["employment"] == [("就业", 1, 2, "noun")]
    assert inverted["get a job"] == [("就业", 0, 2, "verb")]  # the leading "to" marks a verb and goes
    assert [r[0] for r in inverted["job"]] == ["岗位", "工作"]  # 差 (one character) and the archaic 差事 are left out
    assert inverted["gross domestic product"] == inverted["gdp"] == [("国内生产总值", 0, 1, "noun")]
    assert inverted["operate"] == [("工作", 1, 5, "verb")]  # "(of a machine)" removed; the CL: sense is no sense
    assert inverted["shenyang"] == [("沈阳", 0, 1, "name")]
    assert "ok" not in inverted and "cl" not in inverted


@pytest.mark.parametrize("word,forms", [
    ("", [""]),
    ("job", ["job"]),
    ("cities", ["cities", "city"]),
    ("clusters", ["clusters", "cluster"]),
    ("renovating", ["renovating", "renovat", "renovate"]),
    ("planned", ["planned", "plann", "planne", "plan"]),
    ("business", ["business"]),
    ("2025", ["2025"]),
])
def test_variants(word, forms):
    assert variants(word) == forms


def test_singular_and_words():
    assert singular("clusters") == "cluster" and singular("cluster") == "cluster" and singular("cities") == "city"
    assert english_words("Liaoning's high-tech firms, 2025") == ["liaoning", "high", "tech", "firms", "2025"]
    assert english_words("辽宁") == []


def test_terms_longest_key_first_common_words_before_names(small_bridge: Bridge):
    assert small_bridge.terms("industrial clusters in Shenyang") == ["产业集群", "沈阳"]
    # A single word is a noun (the topic) unless asked otherwise; a phrase may be a verb.
    assert small_bridge.terms("operate") == [] and small_bridge.terms("operate", verbs=True) == ["工作"]
    assert small_bridge.terms("get a job") == ["就业"]
    assert small_bridge.terms("new jobs", per_key=1) == ["岗位"]  # "jobs" is a job, not 乔布斯 (Jobs)
    assert small_bridge.terms("what is the gdp") == ["国内生产总值"]  # question words are never looked up
    assert small_bridge.terms("") == [] and small_bridge.terms("辽宁") == []


def test_terms_keep_only_what_the_index_holds(small_bridge: Bridge):
    idf = {"工作": 1.2, "就业": 3.0}  # 岗位 is in no chunk
    assert small_bridge.terms("jobs", lambda t: idf.get(t, 0.0), per_key=2) == ["工作"]
    assert small_bridge.terms("jobs", lambda t: 0.0) == []
    # "frequent": of the candidates the index holds, the most frequent (lowest IDF) first; "dictionary": as listed.
    both = {"岗位": 4.0, "工作": 1.2}
    assert small_bridge.terms("job", lambda t: both.get(t, 0.0), per_key=1) == ["工作"]
    assert small_bridge.terms("job", lambda t: both.get(t, 0.0), per_key=1, order="dictionary") == ["岗位"]


def test_bundled_dictionary_loads_offline():
    bridge = load_bridge()
    assert len(bridge.entries) > 50_000
    assert bridge.entries["employment"][0] == "就业"
    assert "研发" in bridge.entries["research and development"]
    assert bridge.names["shenyang"][0] == "沈阳"


def test_hand_table_goes_first_then_the_dictionary():
    table = load_terms()
    expanded = expand_query("what is liaoning's gdp target for glacier coverage?", table, load_bridge().match)
    assert expanded.startswith("what is liaoning's gdp target for glacier coverage? 辽宁 地区生产总值")
    assert {"冰川", "覆盖率"} <= set(expanded.split())  # the dictionary, for the words the table has not
    assert "国内生产总值" not in expanded  # gdp was the table's: not looked up again


def test_english_question_gains_the_corpus_term(tmp_path: Path, small_corpus: Path):
    """A real index of three seed documents: the bridge adds 地震 for "earthquake" (not in the term table)."""
    on, off = with_and_without(tmp_path, small_corpus, {"bridge": False})
    question = "Who monitors earthquakes?"
    assert not {"earthquake", "earthquakes"} & set(load_terms().english)
    assert "地震" in on.retriever.keyword_query(question).split()
    assert "地震" not in off.retriever.keyword_query(question)
    keyword = on.retriever.index.keyword
    assert keyword.term_idf("地震") > 0 and keyword.term_idf("乔布斯") == 0
    assert "地震" in on.search(question, k=1, mode="bm25")[0].chunk.text_norm
    assert not any("地震" in h.chunk.text_norm for h in off.search(question, k=3, mode="bm25"))


def test_warm_loads_the_dictionary_only_when_the_bridge_is_on(tmp_path: Path, small_corpus: Path):
    off = Assistant(make_settings(tmp_path, small_corpus, retrieval={"bridge": False}))
    off.build()
    load_bridge.cache_clear()
    off.retriever.warm()
    assert load_bridge.cache_info().currsize == 0
    on = Assistant(make_settings(tmp_path, small_corpus))
    on.retriever.warm()  # what the server does at start, so a first English question does not wait for it
    assert load_bridge.cache_info().currsize == 1
