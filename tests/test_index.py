"""Index lifecycle: build, reuse, staleness, incremental add/remove, fault injection on every file, atomic steps, lock."""

import json
import logging
import os
import shutil
from pathlib import Path

import pytest

from assistant.errors import CorruptIndexError, IndexBusyError, IndexMissingError, IndexStateError, StaleIndexError
from assistant.pipeline import Assistant
from assistant.search.index import LOCK, build_lock, inject_fault, read_manifest

from .conftest import CORPUS, ROOT, make_settings

QUESTION = "沈阳2021年要新建多少5G基站？"


def _fresh(assistant: Assistant) -> Assistant:
    """A new Assistant over the same settings (what a restarted process or a second process sees)."""
    return Assistant(assistant.settings, assistant.embedder)


def _segments(assistant: Assistant) -> set[str]:
    return {p.name for p in (assistant.store_dir / "segments").iterdir()}


def test_missing_index_is_reported(hash_assistant: Assistant):
    with pytest.raises(IndexMissingError, match="assistant build"):
        hash_assistant.open_index()


def test_build_then_nothing_changed_is_a_no_op(hash_assistant: Assistant):
    first = hash_assistant.build()
    assert first.rebuilt and first.documents == 3 and first.chunks > 10 and first.embedded == first.chunks
    second = hash_assistant.build()
    assert not second.rebuilt and second.embedded == 0 and second.chunks == first.chunks
    index = hash_assistant.open_index()
    assert index.manifest["model_id"] == "hash:256" and index.manifest["dim"] == 256
    for key in ("corpus_hash", "settings_fingerprint", "chunker_version", "created", "version"):
        assert index.manifest[key]


def test_changed_document_makes_index_stale_and_rebuild_reembeds_only_it(hash_assistant: Assistant, small_corpus: Path):
    first = hash_assistant.build()
    path = small_corpus / "003_6a6d947e374aa1af.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n全市新建智慧灯杆八千八百八十八根。\n", encoding="utf-8")
    fresh = _fresh(hash_assistant)
    with pytest.raises(StaleIndexError, match="changed"):
        fresh.open_index()
    fresh.open_index(rebuild=True)
    hits = fresh.search("智慧灯杆", k=1, mode="bm25")
    assert "八千八百八十八" in hits[0].chunk.text
    second = read_manifest(hash_assistant.store_dir)
    assert second["version"] == first.version + 1
    unchanged = {c.chunk_id for c in fresh.open_index().chunks if c.doc_id != "shenyang-2021-ten-tasks"}
    assert unchanged and fresh.build().embedded == 0


def test_settings_change_makes_index_stale(hash_assistant: Assistant, tmp_path: Path, small_corpus: Path):
    hash_assistant.build()
    other = Assistant(make_settings(tmp_path, small_corpus, chunking={"max_chars": 300}))
    with pytest.raises(StaleIndexError, match="settings"):
        other.open_index()


def test_model_change_makes_index_stale(hash_assistant: Assistant, tmp_path: Path, small_corpus: Path):
    hash_assistant.build()
    other = Assistant(make_settings(tmp_path, small_corpus, model="hash:128"))
    with pytest.raises(StaleIndexError):
        other.open_index()
    report = other.build()
    assert report.rebuilt and report.embedded == report.chunks


def test_add_and_remove_document_touch_only_its_chunks(hash_assistant: Assistant, small_corpus: Path):
    first = hash_assistant.build()
    before = _segments(hash_assistant)
    shutil.copy(CORPUS / "000_a44cb53fb1e7b1bd.txt", small_corpus / "000_a44cb53fb1e7b1bd.txt")
    added = hash_assistant.build()
    assert added.documents == 4 and added.embedded == added.chunks - first.chunks > 0
    assert before < _segments(hash_assistant)  # old segments kept as they are; new ones added beside them
    assert len(_segments(hash_assistant) - before) == 4  # one per store: catalog, vectors, keyword, sentences
    (small_corpus / "000_a44cb53fb1e7b1bd.txt").unlink()
    removed = hash_assistant.build()
    assert removed.documents == 3 and removed.embedded == 0 and removed.chunks == first.chunks
    fresh = _fresh(hash_assistant)
    assert "lnwb-2021-plan-briefing" not in {c.doc_id for c in fresh.open_index().chunks}
    assert all(h.chunk.doc_id != "lnwb-2021-plan-briefing" for h in fresh.search("十四五 新突破", k=20))


def _no_listing(*args, **kwargs):
    raise AssertionError("the corpus was listed")


def test_updating_named_files_does_not_list_the_corpus_and_ends_where_a_full_build_would(
        hash_assistant: Assistant, small_corpus: Path, monkeypatch: pytest.MonkeyPatch):
    first = hash_assistant.build()
    added_file = small_corpus / "000_a44cb53fb1e7b1bd.txt"
    shutil.copy(CORPUS / "000_a44cb53fb1e7b1bd.txt", added_file)
    (small_corpus / "empty.txt").write_bytes(b"")
    with monkeypatch.context() as patch:
        patch.setattr("assistant.search.build.scan", _no_listing)
        added = hash_assistant.build(paths=[added_file, small_corpus / "empty.txt"])
    assert added.rebuilt and added.added == ["lnwb-2021-plan-briefing"] and added.documents == 4
    assert added.embedded == added.chunks - first.chunks > 0
    assert [s["file"] for s in added.skipped] == ["empty.txt"]
    # The full check lists the corpus and finds the index current: the recorded corpus state is the same.
    assert hash_assistant.index_problem() is None and not hash_assistant.build().rebuilt
    # The manifest this process remembers from writing it is what its file says (JSON types only).
    pointer = json.loads((hash_assistant.store_dir / "CURRENT").read_text(encoding="utf-8"))
    written = json.loads((hash_assistant.store_dir / pointer["manifest"]).read_text(encoding="utf-8"))
    assert read_manifest(hash_assistant.store_dir) == written
    assert any(h.chunk.doc_id == "lnwb-2021-plan-briefing" for h in _fresh(hash_assistant).search("十四五 新突破", k=20))
    added_file.unlink()
    with monkeypatch.context() as patch:
        patch.setattr("assistant.search.build.scan", _no_listing)
        removed = hash_assistant.build(paths=[added_file])
    assert removed.removed == ["lnwb-2021-plan-briefing"] and removed.chunks == first.chunks and removed.embedded == 0
    assert hash_assistant.index_problem() is None
    assert "lnwb-2021-plan-briefing" not in _fresh(hash_assistant).open_index().documents


def test_updating_named_files_lists_the_corpus_when_it_must(hash_assistant: Assistant, small_corpus: Path):
    # No index yet: a full build.
    note = small_corpus / "note.txt"
    note.write_text("新增通知\n\n全市新建智慧灯杆八千根。", encoding="utf-8")
    assert hash_assistant.build(paths=[note]).documents == 4
    # A second file whose manifest id is the note's: the full listing decides which file keeps the id.
    twin = small_corpus / "aaa.txt"  # sorts first: a full listing gives it the id and the note another
    twin.write_text("另一通知\n\n全市新建公园三座。", encoding="utf-8")
    manifest = small_corpus / "manifest.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + '\n[[document]]\nfile = "aaa.txt"\nid = "note-txt"\n',
                        encoding="utf-8")
    report = hash_assistant.build(paths=[twin])
    assert report.documents == 5 and hash_assistant.index_problem() is None
    # A changed folder manifest: the metadata of every file it lists may have changed.
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('id = "note-txt"', 'id = "note-txt"\ntitle = "双胞"'),
                        encoding="utf-8")
    hash_assistant.build(paths=[manifest])
    assert hash_assistant.index_problem() is None
    assert _fresh(hash_assistant).open_index().documents["note-txt"].title == "双胞"
    # A damaged index: repaired by a full build even when only one file was named.
    largest = max((hash_assistant.store_dir / "segments").glob("vec-*/vectors.npy"), key=lambda p: p.stat().st_size)
    largest.write_bytes(b"garbage")  # the first build's documents, not only the named file's
    twin.write_text("另一通知\n\n全市新建公园五座。", encoding="utf-8")
    report = hash_assistant.build(paths=[twin])
    assert report.repaired and report.documents == 5 and hash_assistant.index_problem() is None
    assert _fresh(hash_assistant).open_index().count() == report.chunks


def test_unreadable_file_is_skipped_and_reported(hash_assistant: Assistant, small_corpus: Path):
    (small_corpus / "empty.txt").write_bytes(b"")
    (small_corpus / "binary.txt").write_bytes(bytes(range(256)) * 8)
    report = hash_assistant.build()
    assert report.documents == 3
    assert {s["file"] for s in report.skipped} == {"empty.txt", "binary.txt"}


def test_many_small_changes_stay_compact(hash_assistant: Assistant, small_corpus: Path):
    hash_assistant.build()
    for i in range(12):
        (small_corpus / f"note{i}.txt").write_text(f"第{i}号通知\n\n全市新建智慧灯杆{i + 1}千根。", encoding="utf-8")
        hash_assistant.build()
    manifest = read_manifest(hash_assistant.store_dir)
    assert all(len(state["segments"]) <= 8 for state in manifest["stores"].values())
    fresh = _fresh(hash_assistant)
    assert fresh.open_index().count() == manifest["n_chunks"]
    assert "第7号通知" in fresh.search("第7号通知 智慧灯杆", k=1, mode="bm25")[0].chunk.title


# ----- fault injection: every file of a built index, four kinds of damage -----
def _damage(path: Path, kind: str) -> None:
    data = path.read_bytes()
    if kind == "delete":
        path.unlink()
    elif kind == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "edit":  # a plausible edit that keeps the file well-formed: one character changed
        text = data.decode("utf-8", errors="surrogateescape")
        changed = text.replace("6000", "9999", 1) if "6000" in text else (text[:-1] + ("0" if text[-1:] != "0" else "1"))
        path.write_bytes(changed.encode("utf-8", errors="surrogateescape"))
    else:  # garble
        path.write_bytes(os.urandom(max(16, len(data))))


def _index_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != LOCK)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], list[str]]:
    """A built hash-embedder index over two seed documents, its file list, and the reference answer."""
    tmp = tmp_path_factory.mktemp("pristine")
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name in ("003_6a6d947e374aa1af.txt", "004_31686fc52e7b446b.txt", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    assistant = Assistant(make_settings(tmp, corpus))
    assistant.build()
    reference = [h.chunk.chunk_id for h in assistant.search(QUESTION, k=5)]
    return tmp, _index_files(assistant.store_dir), reference


def _copy(pristine: tuple[Path, list[str], list[str]], tmp_path: Path) -> Assistant:
    source, _, _ = pristine
    shutil.copytree(source / "corpus", tmp_path / "corpus")
    shutil.copytree(source / "index", tmp_path / "index")
    return Assistant(make_settings(tmp_path, tmp_path / "corpus"))


@pytest.mark.parametrize("kind", ["delete", "truncate", "edit", "garble"])
def test_every_index_file_damaged_is_detected_and_repaired(pristine, tmp_path: Path, kind: str):
    _, files, reference = pristine
    assert len(files) >= 15  # pointer, manifest, and the files of three segments
    for number, name in enumerate(files):
        case = tmp_path / f"case{number}"
        case.mkdir()
        assistant = _copy(pristine, case)
        _damage(assistant.store_dir / name, kind)
        problem = assistant.index_problem()
        assert problem, f"{kind} {name} went unnoticed"
        assert str(ROOT) not in problem and str(case) not in problem, problem  # no server paths in messages
        with pytest.raises(IndexStateError):
            _fresh(assistant).open_index()  # never answered from
        report = assistant.build()  # no --force needed
        assert report.rebuilt, f"{kind} {name}: build did not repair"
        assert assistant.index_problem() is None, f"{kind} {name}: still damaged after build"
        repaired = _fresh(assistant)
        assert [h.chunk.chunk_id for h in repaired.search(QUESTION, k=5)] == reference, f"{kind} {name}"
        text = repaired.document_text("shenyang-2021-ten-tasks")
        assert "新建5G基站6000个以上" in text and "9999" not in text


def test_damage_repairs_only_the_damaged_documents(pristine, tmp_path: Path):
    assistant = _copy(pristine, tmp_path)
    manifest = read_manifest(assistant.store_dir)
    catalog = manifest["stores"]["catalog"]["segments"][0]
    _damage(assistant.store_dir / "segments" / catalog["name"] / "chunks.sqlite", "edit")  # records and texts
    with pytest.raises(CorruptIndexError, match=r"chunks\.sqlite"):
        _fresh(assistant).open_index()
    report = assistant.build()
    assert report.rebuilt and set(report.repaired) >= {"shenyang-2021-ten-tasks"}


def test_real_model_index_damage_is_repaired(real_assistant: Assistant, tmp_path: Path):
    """One case of the matrix with the real embedding model: an edited vector file is caught and rebuilt."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("003_6a6d947e374aa1af.txt", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    assistant = Assistant(make_settings(tmp_path, corpus, model=real_assistant.settings.embedding.model),
                          real_assistant.embedder)
    assistant.build()
    vectors = next((assistant.store_dir / "segments").glob("vec-*/vectors.npy"))
    _damage(vectors, "truncate")
    assert "vectors.npy" in (assistant.index_problem() or "")
    assert assistant.build().rebuilt and assistant.index_problem() is None
    assert "6000" in _fresh(assistant).ask(QUESTION).answer


# ----- atomic steps, lock, leftovers -----
@pytest.mark.parametrize("step", ["ingested", "embedded", "segments-written", "manifest-written"])
def test_a_build_failing_at_any_step_leaves_the_previous_version(hash_assistant: Assistant, small_corpus: Path, step):
    hash_assistant.build()
    before = read_manifest(hash_assistant.store_dir)
    reference = [h.chunk.chunk_id for h in hash_assistant.search(QUESTION, k=5)]
    (small_corpus / "new.txt").write_text("新增通知\n\n全市新建智慧灯杆八千根。", encoding="utf-8")
    with inject_fault(step, OSError("disk full")), pytest.raises(OSError, match="disk full"):
        hash_assistant.build()
    assert read_manifest(hash_assistant.store_dir)["version"] == before["version"]
    fresh = _fresh(hash_assistant)
    with pytest.raises(StaleIndexError):  # the corpus changed, the old version is still the current one
        fresh.open_index()
    (small_corpus / "new.txt").unlink()
    assert [h.chunk.chunk_id for h in _fresh(hash_assistant).search(QUESTION, k=5)] == reference
    (small_corpus / "new.txt").write_text("新增通知\n\n全市新建智慧灯杆八千根。", encoding="utf-8")
    report = hash_assistant.build()
    assert report.rebuilt and report.version == before["version"] + 1
    referenced = {r["name"] for s in read_manifest(hash_assistant.store_dir)["stores"].values() for r in s["segments"]}
    referenced |= {r["name"] for s in before["stores"].values() for r in s["segments"]}
    assert _segments(hash_assistant) <= referenced  # what the failed build wrote was cleaned up


def test_a_build_killed_after_the_pointer_swap_is_complete(hash_assistant: Assistant, small_corpus: Path):
    hash_assistant.build()
    (small_corpus / "new.txt").write_text("新增通知\n\n全市新建智慧灯杆八千根。", encoding="utf-8")
    with inject_fault("pointer-replaced", KeyboardInterrupt()), pytest.raises(KeyboardInterrupt):
        hash_assistant.build()
    fresh = _fresh(hash_assistant)
    assert fresh.index_problem() is None
    assert "八千" in fresh.search("智慧灯杆", k=1, mode="bm25")[0].chunk.text


def test_second_build_waits_for_the_lock_then_says_so(hash_assistant: Assistant, tmp_path: Path, small_corpus: Path):
    hash_assistant.build()
    impatient = Assistant(make_settings(tmp_path, small_corpus, index={"lock_timeout_s": 0.2}), hash_assistant.embedder)
    with build_lock(hash_assistant.store_dir, 1), pytest.raises(IndexBusyError, match="Another build"):
        impatient.build(force=True)
    assert impatient.build(force=True).rebuilt  # once the lock is free it proceeds


def test_leftovers_of_a_crashed_build_are_removed(hash_assistant: Assistant):
    hash_assistant.build()
    folder = hash_assistant.store_dir
    (folder / ".pointer-abc").write_text("{}")
    orphan = folder / "segments" / "vec-deadbeef0000"
    orphan.mkdir()
    (orphan / "vectors.npy").write_bytes(b"partial")
    (folder / "manifests" / "v000099.json").write_text(json.dumps({"never": "published"}))
    hash_assistant.build(force=True)
    assert not (folder / ".pointer-abc").exists() and not orphan.exists()
    assert not (folder / "manifests" / "v000099.json").exists()


def test_leftovers_are_removed_when_the_index_is_next_opened(hash_assistant: Assistant):
    hash_assistant.build()
    orphan = hash_assistant.store_dir / "segments" / "kw-0123456789ab"
    orphan.mkdir()
    (hash_assistant.store_dir / ".pointer-xyz").write_text("{}")
    _fresh(hash_assistant).open_index()  # a restart
    assert not orphan.exists() and not (hash_assistant.store_dir / ".pointer-xyz").exists()
    with build_lock(hash_assistant.store_dir, 1):  # ... but never while a build is writing
        orphan.mkdir()
        _fresh(hash_assistant).open_index()
        assert orphan.exists()


def test_a_first_start_builds_without_a_warning_and_a_damaged_index_warns(hash_assistant: Assistant,
                                                                          caplog: pytest.LogCaptureFixture):
    assert not hash_assistant.has_index()
    with caplog.at_level(logging.INFO, logger="assistant.pipeline"):
        hash_assistant.open_index(rebuild=True)  # what the server does on a fresh clone
    assert hash_assistant.has_index() and "No index yet" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    caplog.clear()
    fresh = _fresh(hash_assistant)
    (fresh.store_dir / "CURRENT").write_text("garbled", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="assistant.pipeline"):
        fresh.open_index(rebuild=True)
    assert [r for r in caplog.records if r.levelno == logging.WARNING and "Rebuilding the index" in r.getMessage()]
