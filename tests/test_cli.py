"""The CLI through click's CliRunner, with the hash embedder (the real model is tested elsewhere)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main


@pytest.fixture
def env(tmp_path: Path, small_corpus: Path) -> dict[str, str]:
    return {
        "ASSISTANT_PATHS__CORPUS": str(small_corpus),
        "ASSISTANT_PATHS__INDEX": str(tmp_path / "index"),
        "ASSISTANT_EMBEDDING__MODEL": "hash:256",
    }


def run(env, *args, input=None):
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_ingest_writes_chunks_and_cleaned_texts(env, tmp_path: Path):
    out = tmp_path / "chunks.jsonl"
    result = run(env, "ingest", "--out", str(out))
    assert result.exit_code == 0, result.output
    chunks = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {c["doc_id"] for c in chunks} == {
        "shenyang-2021-ten-tasks", "liaoning-six-positions-2023", "liaoning-2024-gov-report-part2"}
    for key in ("chunk_id", "doc_id", "title", "section_path", "text", "text_norm", "start", "end"):
        assert key in chunks[0]
    docs = {p.stem: p.read_text(encoding="utf-8") for p in (tmp_path / "chunks_documents").glob("*.txt")}
    for chunk in chunks:
        assert docs[chunk["doc_id"]][chunk["start"] : chunk["end"]] == chunk["text"]


def test_ingest_exit_codes(env, small_corpus: Path, tmp_path: Path):
    (small_corpus / "empty.txt").write_text("")
    result = run(env, "ingest", "--out", str(tmp_path / "c.jsonl"))
    assert result.exit_code == 1 and "empty.txt" in result.output
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "bad.txt").write_bytes(b"\x00\x01" * 50)
    result = run(env, "ingest", "--corpus", str(empty), "--out", str(tmp_path / "d.jsonl"))
    assert result.exit_code == 2 and "bad.txt" in result.output


def test_search_json_single_and_batch(env):
    assert run(env, "build").exit_code == 0
    single = run(env, "search", "新建5G基站", "--json", "-k", "3", "--mode", "bm25")
    obj = json.loads(single.stdout)
    assert obj["query"] == "新建5G基站" and len(obj["results"]) == 3
    assert set(obj["results"][0]) >= {"chunk_id", "doc_id", "title", "section_path", "text", "score"}
    assert "5G基站" in obj["results"][0]["text"]
    batch = run(env, "search", "--json", "-k", "2", input="沈阳就业\n\n  \n城镇就业\n六地\n")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["沈阳就业", "城镇就业", "六地"]


def test_search_filters_and_human_output(env):
    run(env, "build")
    result = run(env, "search", "工作", "--doc", "shenyang-2021-ten-tasks", "--json")
    assert {r["doc_id"] for r in json.loads(result.stdout)["results"]} == {"shenyang-2021-ten-tasks"}
    human = run(env, "search", "新建5G基站", "-k", "2")
    assert human.exit_code == 0 and "1." in human.output and "›" in human.output


def test_search_reports_and_rebuilds_stale_index(env, small_corpus: Path):
    run(env, "build")
    (small_corpus / "003_6a6d947e374aa1af.txt").write_text("沈阳新建智慧灯杆八千根。", encoding="utf-8")
    result = run(env, "search", "智慧灯杆", "--json", "--mode", "bm25")
    assert "rebuild" in result.output.lower()
    assert "智慧灯杆" in json.loads(result.stdout.splitlines()[-1])["results"][0]["text"]


def test_second_build_is_a_no_op(env):
    run(env, "build")
    result = run(env, "build")
    assert "nothing to do" in result.output


def test_build_of_named_files_updates_only_them(env, small_corpus: Path, tmp_path: Path):
    run(env, "build")
    note = small_corpus / "note.txt"
    note.write_text("新增通知\n\n全市新建智慧灯杆八千根。", encoding="utf-8")
    result = run(env, "build", "--file", str(note))
    assert result.exit_code == 0 and "updated 1 file(s)" in result.output and "documents 4" in result.output
    assert "nothing to do" in run(env, "build").output  # what a full listing finds: the same state
    outside = tmp_path / "outside.txt"
    outside.write_text("别处的文件", encoding="utf-8")
    refused = run(env, "build", "--file", str(outside))
    assert refused.exit_code != 0 and "not inside the corpus folder" in refused.output


def test_settings_prints_effective_values(env):
    result = run(env, "settings")
    assert json.loads(result.stdout)["embedding"]["model"] == "hash:256"


def test_batch_of_100_queries_builds_one_embedder(env, monkeypatch):
    import assistant.pipeline as pipeline

    run(env, "build")
    made = []
    real = pipeline.make_embedder
    monkeypatch.setattr(pipeline, "make_embedder", lambda settings: made.append(1) or real(settings))
    queries = "".join(f"沈阳第{i}项工作\n" for i in range(100))
    result = run(env, "search", "--json", "-k", "1", input=queries)
    assert len(result.stdout.splitlines()) == 100 and len(made) == 1
