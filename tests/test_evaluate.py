"""The eval harness with the hash embedder: relevance rule, run folder, naive baseline, --compare, external sets,
folder corpora with dev-format questions (rows, twins, scope, claims), refusal with the gold passage excluded."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.evaluation.evaluate import index_settings, load_eval_set, run_eval
from assistant.evaluation.external import ExcludingAssistant
from assistant.evaluation.metrics import RETRIEVAL_KEYS
from assistant.evaluation.relevance import covers, match_key, relevant_sets
from tests.conftest import CORPUS, ROOT, SHARED, make_settings

SMALL = ("002_918026e46bde4402.txt", "003_6a6d947e374aa1af.txt", "004_31686fc52e7b446b.txt")
HAS_LLAMA_INDEX = True
try:
    import llama_index.core  # noqa: F401
except ImportError:
    HAS_LLAMA_INDEX = False


# ----- relevance rule -----
@pytest.mark.parametrize(
    ("chunk", "evidence", "expected"),
    [
        ("全省地区生产总值实现25115亿元,同比增长", "全省地區生產總值實現25115億元", True),  # contained, across scripts
        ("…建成5G基站2.5万个", "建成5G基站2.5万个,实现县城全覆盖", True),  # chunk ends with 9 of 16 characters
        ("…5G基站2.5万个", "建成5G基站2.5万个,实现县城全覆盖", False),  # chunk ends with only 7 of 16
        ("实现县城全覆盖。下一句", "建成5G基站2.5万个,实现县城全覆盖", False),  # starts with 7 of 16: too little
        ("2.5万个,实现县城全覆盖。下一句", "建成5G基站2.5万个,实现县城全覆盖", True),  # starts with 12 of 16
        ("壯(zhuàng)大(dà)經濟實力", "壮大经济实力", True),  # pinyin readings and traditional script
        ("全 民 乐 购", "全民乐购", True),  # layout spaces
        ("科技型中小企业", "", False),
        ("", "科技型中小企业", False),
    ],
)
def test_relevance_rule(chunk, evidence, expected):
    assert covers(match_key(chunk), match_key(evidence)) is expected


def test_match_key_and_relevant_sets_per_piece():
    assert match_key("（一(yī)）壯(zhuàng)大 經濟") == "(一)壮大经济"
    keys = {"a": match_key("甲乙丙丁戊己"), "b": match_key("戊己庚辛壬"), "c": match_key("子丑寅")}
    assert relevant_sets(keys, ["丁戊己庚", "子丑"]) == [{"a", "b"}, {"c"}]  # a boundary piece, two chunks


# ----- a run over a small real corpus -----
def tiny_set(path: Path) -> Path:
    """Real dev items restricted to the three small-corpus documents: two per type (claims: one per verdict)."""
    rows, seen = [], {}
    for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        docs = [d for d in (row["doc"] if isinstance(row["doc"], list) else [row["doc"]]) if d]
        key = (row["type"], row["claim_verdict"])
        if all(d in SMALL for d in docs) and seen.get(key, 0) < (1 if row["type"] == "claim" else 2):
            seen[key] = seen.get(key, 0) + 1
            rows.append(line)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name in (*SMALL, "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    old = tempfile.tempdir
    tempfile.tempdir = str(tmp / "temp")  # scratch indexes of the harness stay under the test's folder
    Path(tempfile.tempdir).mkdir()
    yield tmp, corpus, tiny_set(tmp / "tiny.jsonl")
    tempfile.tempdir = old


@pytest.fixture(scope="module")
def full_run(scratch):
    tmp, corpus, eval_set = scratch
    modes = ("bm25", "dense", "hybrid", "naive") if HAS_LLAMA_INDEX else ("bm25", "dense", "hybrid")
    return run_eval(make_settings(tmp, corpus), eval_set, modes, tmp / "runs")


def test_tiny_set_is_real_and_small(scratch):
    items = load_eval_set(scratch[2])
    assert {i.type for i in items} == {"fact", "paraphrase", "section", "multi", "claim", "unanswerable"}
    assert 8 <= len(items) <= 14


def test_run_folder_and_summary_keys(full_run):
    folder, summary = full_run
    assert {p.name for p in folder.iterdir()} == {"records.jsonl", "summary.json", "report.md", "chart.png"}
    assert (folder / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8")) == summary
    for mode, by_split in summary["retrieval"].items():
        assert set(by_split) >= {"tune", "test", "all"}, mode
        assert set(RETRIEVAL_KEYS) <= set(by_split["all"]["all"]), mode
        assert set(by_split["all"]) == {"all", "fact", "paraphrase", "section", "multi"}
    assert RETRIEVAL_KEYS == ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "section_hit@5")
    assert summary["retrieval"]["bm25"]["all"]["all"]["hit@10"] > 0.5  # real questions find their evidence
    answers = summary["answers"]["all"]
    assert {"citation_coverage", "refusal_precision", "refusal_recall", "refusal_f1", "claim_accuracy",
            "claim_confusion"} <= set(answers)
    assert set(summary["latency_ms"]) >= {"search:bm25", "search:dense", "search:hybrid", "ask", "check"}
    for key in ("settings_fingerprint", "model_id", "corpus_hash", "git_commit", "relevance_rule"):
        assert key in summary
    assert summary["model_id"] == "hash:256" and not Path(summary["set"]).is_absolute()
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "| mode | n | hit@1 |" in report and "Claim confusion" in report


def test_records_have_ranks_and_pass_fail(full_run):
    folder, _ = full_run
    records = [json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    search = [r for r in records if r["mode"] == "bm25"]
    assert search and all(1 <= len(r["retrieved"]) <= 10 for r in search)  # bm25 returns only matching chunks
    for r in search:
        assert r["pass"]["hit@10"] == bool(r["relevant_ranks"])
        assert all(1 <= rank <= 10 for rank in r["relevant_ranks"])
        assert r["settings_fingerprint"] and r["model_id"] == "hash:256" and "latency_ms" in r
    assert {r["mode"] for r in records} >= {"ask", "check"}
    assert all(isinstance(r["refused"], bool) for r in records if r["mode"] == "ask")


@pytest.mark.skipif(not HAS_LLAMA_INDEX, reason="llama-index extra not installed (pip install -e '.[llamaindex]')")
def test_naive_mode_runs_through_llama_index(full_run):
    _, summary = full_run
    naive = summary["retrieval"]["naive"]["all"]["all"]
    assert naive["section_hit@5"] == 0.0  # no section metadata: zero by construction
    assert naive["hit@10"] > 0 and summary["naive"]["chunk_size"] == 400 and summary["naive"]["unit"] == "characters"


def test_config_that_reshapes_the_index_builds_elsewhere(tmp_path):
    base = make_settings(tmp_path, CORPUS)
    assert index_settings(base, base) is base
    tuned = make_settings(tmp_path, CORPUS, retrieval={"dense_weight": 0.3})
    assert index_settings(tuned, base).paths.index == base.paths.index  # search-only change: reuse the index
    rechunked = make_settings(tmp_path, CORPUS, chunking={"max_chars": 300})
    assert index_settings(rechunked, base).paths.index != base.paths.index


def test_cli_json_and_compare(scratch, full_run):
    tmp, corpus, eval_set = scratch
    env = {"ASSISTANT_PATHS__CORPUS": str(corpus), "ASSISTANT_PATHS__INDEX": str(tmp / "index"),
           "ASSISTANT_EMBEDDING__MODEL": "hash:256"}
    config = tmp / "bm25-heavy.toml"
    config.write_text("[retrieval]\ndense_weight = 0.2\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["eval", "--set", str(eval_set), "--modes", "bm25,hybrid", "--no-answers", "--json",
                                  "--config", str(config), "--out", str(tmp / "runs")], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary["retrieval"]) == ["bm25", "hybrid"] and summary["answers"] == {}
    second = tmp / "runs" / Path(summary["run"]).name
    compared = runner.invoke(main, ["eval", "--compare", str(full_run[0]), str(second)], env=env, catch_exceptions=False)
    assert compared.exit_code == 0
    assert "| retrieval.hybrid.all.hit@1 |" in compared.stdout and "B − A" in compared.stdout
    as_json = json.loads(runner.invoke(main, ["eval", "--compare", str(full_run[0]), str(second), "--json"]).stdout)
    bm25 = next(r for r in as_json["rows"] if r["metric"] == "retrieval.bm25.all.hit@5")
    assert bm25["delta"] == pytest.approx(0.0)  # the same keyword search in both runs
    assert next(r for r in as_json["rows"] if r["metric"] == "retrieval.dense.all.hit@5")["b"] is None
    bad = runner.invoke(main, ["eval", "--modes", "sparse", "--set", str(eval_set)], env=env)
    assert bad.exit_code == 1 and "Unknown eval mode" in bad.output


@pytest.mark.skipif(not (SHARED / "bench" / "cmrc2018").is_dir(), reason="../shared/bench is not present")
def test_external_passage_set(scratch):
    tmp, _, _ = scratch
    bench = SHARED / "bench" / "cmrc2018"
    passages = (bench / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:20]
    ids = {json.loads(line)["id"] for line in passages}
    (tmp / "passages.jsonl").write_text("\n".join(passages) + "\n", encoding="utf-8")
    questions = [line for line in (bench / "sample.jsonl").read_text(encoding="utf-8").splitlines()
                 if set(json.loads(line)["gold_passage_ids"]) <= ids]
    (tmp / "questions.jsonl").write_text("\n".join(questions) + "\n", encoding="utf-8")
    env = {"ASSISTANT_EMBEDDING__MODEL": "hash:256"}
    result = CliRunner().invoke(main, ["eval", "--corpus", str(tmp / "passages.jsonl"), "--questions",
                                       str(tmp / "questions.jsonl"), "--limit", "12", "--json", "--out",
                                       str(tmp / "runs")], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert list(summary["retrieval"]) == ["bigram_bm25", "bm25", "dense", "hybrid"]
    assert summary["questions"] == 12 and summary["passages"] == 20
    for mode, by_split in summary["retrieval"].items():
        metrics = by_split["all"]["all"]
        assert set(RETRIEVAL_KEYS) <= set(metrics) and metrics["section_hit@5"] is None, mode
    assert summary["retrieval"]["bigram_bm25"]["all"]["all"]["hit@5"] >= 0.9
    assert summary["retrieval"]["bm25"]["all"]["all"]["hit@5"] >= 0.9


# ----- a folder corpus with questions in the dev-set schema (rows, twins, scope, claims) -----
def _excerpt(name: str, start: int, stop: int) -> str:
    """Lines ``start:stop`` of a seed document (a real excerpt, a few hundred characters)."""
    return "\n".join((CORPUS / name).read_text(encoding="utf-8").splitlines()[start:stop]) + "\n"


FOREIGN_TRADE = "积极引进培育外向型龙头企业,新增外贸实绩企业80家"
FOLDER_ITEMS = [
    {"id": "f-1", "type": "fact", "question": "沈阳2021年计划新增外贸实绩企业多少家？", "answer": "80家",
     "evidence": FOREIGN_TRADE, "split": "test", "twin": "f-2"},
    {"id": "f-2", "type": "paraphrase", "kind": "english", "question": "How many new foreign trade firms will Shenyang add?",
     "answer": "80 (80家)", "evidence": FOREIGN_TRADE, "split": "test", "twin": "f-1"},
    {"id": "f-3", "type": "paraphrase", "kind": "colloquial", "question": "沈阳今年对夜生活有什么安排？",
     "answer": "发展夜购物、夜旅游、夜娱乐等业态", "evidence": "发展夜购物、夜旅游、夜娱乐等业态", "split": "tune"},
    {"id": "f-4", "type": "unanswerable", "kind": "wrong_year", "question": "沈阳2024年计划新增外贸实绩企业多少家？",
     "answer": "", "evidence": "", "split": "test", "scope": [{"kind": "year", "asked": "2024", "found": "2021"}]},
    {"id": "f-5", "type": "claim", "kind": "meaning", "subkind": "negation", "question": "沈阳2021年不再支持中小外贸企业发展。",
     "answer": "支持中小外贸企业发展", "evidence": "支持中小外贸企业发展,积极引进培育外向型龙头企业",
     "claim_verdict": "contradicted", "split": "test"},
    {"id": "f-6", "type": "claim", "question": "沈阳2021年计划新增外贸实绩企业80家。", "answer": "80家",
     "evidence": FOREIGN_TRADE, "claim_verdict": "supported", "split": "test"},
]


@pytest.fixture(scope="module")
def folder_corpus(scratch):
    tmp = scratch[0]
    folder = tmp / "policy"
    folder.mkdir()
    (folder / "shenyang.txt").write_text(_excerpt("003_6a6d947e374aa1af.txt", 0, 14), encoding="utf-8")
    (folder / "six_positions.txt").write_text(_excerpt("004_31686fc52e7b446b.txt", 0, 8), encoding="utf-8")
    rows = [{"answer": "", "doc": "shenyang.txt" if r["evidence"] else "", "section": "", "claim_verdict": "", **r}
            for r in FOLDER_ITEMS]
    questions = folder / "questions.jsonl"
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return folder, questions


def test_folder_corpus_with_eval_set_schema(scratch, folder_corpus):
    tmp = scratch[0]
    folder, questions = folder_corpus
    # Query expansion off: the English question then shares no token with the text (the term table would translate it).
    env = {"ASSISTANT_EMBEDDING__MODEL": "hash:256", "ASSISTANT_PATHS__INDEX": str(tmp / "main-index"),
           "ASSISTANT_RETRIEVAL__EXPANSION": "false"}
    result = CliRunner().invoke(main, ["eval", "--corpus", str(folder), "--questions", str(questions), "--modes",
                                       "bm25,hybrid", "--json", "--out", str(tmp / "runs")], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["questions"] == 6 and summary["corpus"].endswith("policy") and summary["pipeline_chunks"] >= 2
    assert not (tmp / "main-index").exists()  # the folder is indexed in a scratch dir, never the main index
    bm25 = summary["retrieval_rows"]["bm25"]
    assert bm25["test"]["lang"]["zh-Hans"]["hit@1"] == 1.0  # the Chinese question finds its sentence
    assert bm25["test"]["lang"]["en"]["hit@5"] == 0.0  # no shared characters: keyword search cannot find it
    assert bm25["tune"]["kind"]["colloquial"]["n"] == 1 and set(bm25["all"]["kind"]) == {"colloquial", "english", "fact"}
    pair = summary["cross_language"]["bm25"]["pairs"]
    assert pair == [{"en": "f-2", "zh": "f-1", "zh_lang": "zh-Hans", "split": "test", "en_hit@1": 0.0, "zh_hit@1": 1.0,
                     "en_hit@5": 0.0, "zh_hit@5": 1.0, "en_mrr@10": 0.0, "zh_mrr@10": 1.0}]
    answers = summary["answers"]["test"]
    assert answers["n_ask"] == 3 and answers["answerable"] == 2 and answers["unanswerable"] == 1
    assert 0 <= answers["answerable_refused"] <= 2 and "notice_as_refused" in answers
    scope = answers["scope"]
    assert scope["n"] == 1 and scope["silent"] + scope["notice"] + scope["refused"] >= 1
    assert answers["claims_by_kind"]["meaning"]["n"] == 1 and answers["claims_by_subkind"]["negation"]["n"] == 1
    assert summary["answer_rows"]["test"]["kind"]["wrong_year"]["n_ask"] == 1
    assert sum(v["n"] for v in summary["judges"]["ask"].values()) == 4  # tune + test asks
    records = [json.loads(line) for line in (tmp / "runs" / Path(summary["run"]).name / "records.jsonl")
               .read_text(encoding="utf-8").splitlines()]
    ask = next(r for r in records if r["id"] == "f-4" and r["mode"] == "ask")
    assert ask["scope_expected"] == [{"kind": "year", "asked": "2024", "found": "2021"}] and "judge" in ask
    assert isinstance(ask["scope_mismatch"], list) and ask["kind"] == "wrong_year"
    report = (tmp / "runs" / Path(summary["run"]).name / "report.md").read_text(encoding="utf-8")
    assert "### Cross-language" in report and "lang=en" in report and "### Refusal" in report


def test_questions_in_the_dev_format_replace_set(scratch):
    tmp, corpus, eval_set = scratch
    env = {"ASSISTANT_PATHS__CORPUS": str(corpus), "ASSISTANT_PATHS__INDEX": str(tmp / "index"),
           "ASSISTANT_EMBEDDING__MODEL": "hash:256"}
    exclude = tmp / "drop.txt"
    exclude.write_text(load_eval_set(eval_set)[0].id + "\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["eval", "--questions", str(eval_set), "--modes", "bm25", "--no-answers", "--json",
                                  "--exclude", str(exclude), "--out", str(tmp / "runs")], env=env,
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["set"].endswith("tiny.jsonl") and summary["questions"] == len(load_eval_set(eval_set)) - 1
    bad = runner.invoke(main, ["eval", "--refusal", "--questions", str(eval_set)], env=env)
    assert bad.exit_code == 1 and "--refusal runs on an external passage set" in bad.output
    lonely = runner.invoke(main, ["eval", "--corpus", str(corpus)], env=env)
    assert lonely.exit_code == 1 and "go together" in lonely.output


# ----- refusal on a passage set: each question without and with its gold passage -----
@pytest.fixture(scope="module")
def passage_set(scratch):
    """The paragraphs of a real seed article as passages, and four questions about four of them."""
    tmp = scratch[0]
    lines = [line for line in (CORPUS / "003_6a6d947e374aa1af.txt").read_text(encoding="utf-8").splitlines()
             if len(line) > 40]
    passages = [{"id": f"sy-{i}", "title": "2021年沈阳要重点做好十方面工作", "text": line} for i, line in enumerate(lines)]
    (tmp / "sy.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages), encoding="utf-8")
    asked = {"新增外贸实绩企业": "80家", "新建5G基站": "6000个以上", "修复棋盘山林地": "6742亩", "新增城镇就业": "9万人以上"}
    questions = []
    for n, (topic, answer) in enumerate(asked.items()):
        gold = next(p["id"] for p in passages if topic in p["text"])
        questions.append({"id": f"q{n}", "question": f"沈阳2021年{topic}多少？", "answer": answer, "gold_passage_ids": [gold]})
    (tmp / "sy-questions.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions),
                                            encoding="utf-8")
    return tmp / "sy.jsonl", tmp / "sy-questions.jsonl", passages


def test_refusal_mode_excludes_gold_passages_at_query_time(scratch, passage_set):
    tmp = scratch[0]
    corpus, questions, passages = passage_set
    drop = tmp / "drop.jsonl"
    drop.write_text('{"id": "q3"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "--corpus", str(corpus), "--questions", str(questions), "--refusal",
                                       "--exclude", str(drop), "--json", "--out", str(tmp / "runs")],
                                env={"ASSISTANT_EMBEDDING__MODEL": "hash:256"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["questions"] == 3 and summary["passages"] == len(passages)
    assert summary["excluded_cited"] == 0  # an excluded gold passage never reaches an answer
    answers = summary["answers"]["all"]
    assert (answers["answerable"], answers["unanswerable"], answers["n_ask"]) == (3, 3, 6)
    assert answers["tp"] + answers["fn"] == 3 and answers["answerable_refused"] == answers["fp"]
    rows = summary["answer_rows"]["all"]["kind"]
    assert rows["without_gold"]["unanswerable"] == 3 and rows["with_gold"]["answerable"] == 3
    run = tmp / "runs" / Path(summary["run"]).name
    assert run.name.endswith("-refusal")
    records = [json.loads(line) for line in (run / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["variant"] for r in records] == ["without_gold", "with_gold"] * 3
    assert any(r["gold_cited"] for r in records if r["variant"] == "with_gold")  # the gold passage is findable


def test_excluding_assistant_never_returns_excluded_documents(tmp_path, small_corpus):
    assistant = ExcludingAssistant(make_settings(tmp_path, small_corpus))
    assistant.open_index(rebuild=True)
    query = "沈阳2021年新建5G基站多少个？"
    first = assistant.search(query, k=5, mode="hybrid")[0].chunk.doc_id
    assistant.excluded = (first,)
    for mode in ("hybrid", "dense", "bm25"):
        hits = assistant.search(query, k=20, mode=mode)
        assert hits and all(h.chunk.doc_id != first for h in hits), mode
    assert all(c.doc_id != first for c in assistant.ask(query).citations)
    assistant.excluded = ()
    assert assistant.search(query, k=5, mode="hybrid")[0].chunk.doc_id == first
