"""Index lifecycle: build, reuse, staleness, corruption, incremental add/remove, atomic writes."""

import shutil
from pathlib import Path

import pytest

from assistant.errors import CorruptIndexError, IndexMissingError, StaleIndexError
from assistant.pipeline import Assistant
from assistant.search.keyword import KeywordIndex

from .conftest import CORPUS, make_settings


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
    for key in ("corpus_hash", "settings_fingerprint", "chunker_version", "created"):
        assert index.manifest[key]


def test_changed_document_makes_index_stale_and_rebuild_uses_it(hash_assistant: Assistant, small_corpus: Path):
    hash_assistant.build()
    path = small_corpus / "003_6a6d947e374aa1af.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\n全市新建智慧灯杆八千八百八十八根。\n", encoding="utf-8")
    fresh = Assistant(hash_assistant.settings, hash_assistant.embedder)
    with pytest.raises(StaleIndexError, match="changed"):
        fresh.open_index()
    fresh.open_index(rebuild=True)
    hits = fresh.search("智慧灯杆", k=1, mode="bm25")
    assert "八千八百八十八" in hits[0].chunk.text


def test_truncated_faiss_file_is_detected_and_rebuilt(hash_assistant: Assistant):
    hash_assistant.build()
    dense = hash_assistant.store_dir / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[:100])
    fresh = Assistant(hash_assistant.settings, hash_assistant.embedder)
    with pytest.raises(CorruptIndexError, match=r"dense\.faiss"):
        fresh.open_index()
    fresh.open_index(rebuild=True)
    assert fresh.search("沈阳", k=3, mode="dense")


def test_settings_change_makes_index_stale(hash_assistant: Assistant, tmp_path: Path, small_corpus: Path):
    hash_assistant.build()
    other = Assistant(make_settings(tmp_path, small_corpus, chunking={"max_chars": 300}))
    with pytest.raises(StaleIndexError, match="settings"):
        other.open_index()


def test_add_and_remove_document_reembeds_only_its_chunks(hash_assistant: Assistant, small_corpus: Path):
    first = hash_assistant.build()
    shutil.copy(CORPUS / "000_a44cb53fb1e7b1bd.txt", small_corpus / "000_a44cb53fb1e7b1bd.txt")
    added = hash_assistant.build()
    assert added.documents == 4 and added.reused == first.chunks
    assert added.embedded == added.chunks - first.chunks > 0
    (small_corpus / "000_a44cb53fb1e7b1bd.txt").unlink()
    removed = hash_assistant.build()
    assert removed.documents == 3 and removed.embedded == 0 and removed.chunks == first.chunks
    doc_ids = {c.doc_id for c in Assistant(hash_assistant.settings, hash_assistant.embedder).open_index().chunks}
    assert "lnwb-2021-plan-briefing" not in doc_ids


def test_failed_write_leaves_previous_index_intact(hash_assistant: Assistant, small_corpus: Path, monkeypatch):
    hash_assistant.build()
    (small_corpus / "new.txt").write_text("全市新建智慧灯杆八千根。", encoding="utf-8")

    def boom(self, texts):
        raise OSError("disk full")

    monkeypatch.setattr(KeywordIndex, "build", boom)
    with pytest.raises(OSError, match="disk full"):
        hash_assistant.build()
    monkeypatch.undo()
    leftovers = [p.name for p in hash_assistant.store_dir.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    (small_corpus / "new.txt").unlink()
    Assistant(hash_assistant.settings, hash_assistant.embedder).open_index()  # still loads, still current


def test_unreadable_file_is_skipped_and_reported(hash_assistant: Assistant, small_corpus: Path):
    (small_corpus / "empty.txt").write_bytes(b"")
    (small_corpus / "binary.txt").write_bytes(bytes(range(256)) * 8)
    report = hash_assistant.build()
    assert report.documents == 3
    assert {s["file"] for s in report.skipped} == {"empty.txt", "binary.txt"}
