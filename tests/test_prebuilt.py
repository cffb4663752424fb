"""Prebuilt index: installed into an empty index folder only when fingerprints, checksums and the model agree."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.corpus import corpus_hash, discover
from assistant.pipeline import Assistant
from assistant.search import prebuilt
from assistant.search.build import update_index
from assistant.search.embed import Embedder, make_embedder
from assistant.search.index import POINTER, open_snapshot, read_manifest, read_pointer
from assistant.search.segments import file_sha256
from assistant.search.sentences import sentence_rows
from assistant.settings import Settings, load_settings

from .conftest import CORPUS

REGENERATE = "Run `.venv/bin/python scripts/prebuild_index.py` and commit assistant/data/prebuilt/."


class CountingEmbedder:
    """The real embedder, counting the passages it embeds (a build that embedded nothing counts 0)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.model_id, self.dim, self.passages = inner, inner.model_id, inner.dim, 0

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions."""
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages, counting them."""
        self.passages += len(texts)
        return self.inner.embed_passages(texts, show_progress)


def settings_for(tmp: Path, corpus: Path, model: str | None = None, **sections: dict) -> Settings:
    """Settings over ``corpus`` with the index (and uploads) under ``tmp``; the default model unless ``model``."""
    overrides: dict = {"paths": {"corpus": str(corpus), "index": str(tmp / "index"), "uploads": str(tmp / "uploads")}}
    if model:
        overrides["embedding"] = {"model": model}
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_settings(overrides=overrides)


def copy_corpus(tmp: Path, names: list[str] | None = None) -> Path:
    """A copy of the bundled corpus (or some of its files) with its manifest."""
    folder = tmp / "corpus"
    folder.mkdir()
    for path in CORPUS.iterdir():
        if path.is_file() and (names is None or path.name in names or path.name == "manifest.toml"):
            shutil.copy(path, folder / path.name)
    return folder


def test_committed_prebuilt_index_is_current(tmp_path: Path):
    settings = settings_for(tmp_path, CORPUS)
    assert (prebuilt.PREBUILT / POINTER).is_file(), f"No prebuilt index. {REGENERATE}"
    manifest = read_manifest(prebuilt.PREBUILT)
    assert manifest["settings_fingerprint"] == Settings(paths=settings.paths).index_fingerprint(), (
        f"The prebuilt index was made with other settings than the defaults (chunking, model, tokens…). {REGENERATE}")
    assert manifest["model_id"] == make_embedder(settings).model_id, f"The default model changed. {REGENERATE}"
    assert manifest["corpus_hash"] == corpus_hash(discover(CORPUS, tmp_path / "uploads")), (
        f"The bundled corpus changed since the prebuilt index was made. {REGENERATE}")
    snapshot = open_snapshot(prebuilt.PREBUILT, settings)  # every file checks
    assert snapshot.count() == manifest["n_chunks"] > 400
    assert not manifest["skipped"]


def test_hash_embedder_never_takes_the_prebuilt_index(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    settings = settings_for(tmp_path, copy_corpus(tmp_path), model="hash:256")  # the bundled corpus, exactly
    assistant = Assistant(settings)
    files = discover(settings.paths.corpus, settings.paths.uploads)
    assert corpus_hash(files) == read_manifest(prebuilt.PREBUILT)["corpus_hash"]
    # The model is part of the settings fingerprint, which is compared first.
    assert prebuilt.prebuilt_problem(settings, assistant.embedder, files) == (
        "settings that shape the index (chunking, model, tokens, index type, store) changed")
    with caplog.at_level(logging.INFO, logger="assistant.search.prebuilt"):
        report = assistant.build()
    assert report.reason != "installed the verified prebuilt index"
    assert report.embedded == report.chunks > 400
    assert "prebuilt" not in read_manifest(settings.paths.index / "store")
    assert "Prebuilt index not used: settings that shape the index" in caplog.text


@pytest.mark.slow
def test_prebuilt_index_answers_without_embedding_the_corpus(tmp_path: Path, real_assistant: Assistant):
    settings = settings_for(tmp_path, CORPUS)
    embedder = CountingEmbedder(real_assistant.embedder)
    assistant = Assistant(settings, embedder)
    assistant.open_index(rebuild=True)  # what the server does on start
    assert embedder.passages == prebuilt.CHECK_PASSAGES  # only the model check, not the 459 passages
    manifest = read_manifest(settings.paths.index / "store")
    assert manifest["prebuilt"] is True and manifest["version"] == 1
    assert assistant.index_problem() is None
    answer = assistant.ask("沈阳2021年要新建多少5G基站？")
    assert "6000" in answer.answer and not answer.refused
    again = Assistant(settings, embedder).build()  # an existing index is never replaced by the prebuilt one
    assert (again.rebuilt, again.embedded, read_pointer(settings.paths.index / "store")["version"]) == (False, 0, 1)


@pytest.fixture(scope="module")
def small_prebuilt(tmp_path_factory: pytest.TempPathFactory, real_assistant: Assistant) -> tuple[Path, Path]:
    """A prebuilt index of a one-document corpus made with the real model: (corpus folder, prebuilt folder)."""
    tmp = tmp_path_factory.mktemp("small-prebuilt")
    corpus = copy_corpus(tmp, ["003_6a6d947e374aa1af.txt"])
    settings = settings_for(tmp, corpus)
    update_index(settings, real_assistant.embedder, force=True)
    return corpus, settings.paths.index / "store"


def _tamper_vectors(source: Path, fix_checksums: bool) -> None:
    """Turn every stored vector a little (cosine ≈ 0.99, as another quantization would), with or without checksums."""
    pointer = read_pointer(source)
    manifest = json.loads((source / pointer["manifest"]).read_text(encoding="utf-8"))
    record = manifest["stores"]["vectors"]["segments"][0]
    path = source / "segments" / record["name"] / "vectors.npy"
    vectors = np.load(path)
    noise = np.random.default_rng(0).standard_normal(vectors.shape).astype(np.float32)
    turned = vectors + 0.15 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    np.save(path, turned / np.linalg.norm(turned, axis=1, keepdims=True))
    if fix_checksums:
        record["files"]["vectors.npy"] = file_sha256(path)
        (source / pointer["manifest"]).write_text(json.dumps(manifest), encoding="utf-8")
        pointer["sha256"] = file_sha256(source / pointer["manifest"])
        (source / POINTER).write_text(json.dumps(pointer), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(("change", "reason"), [
    ("none", ""),
    ("corpus", "the documents in the corpus changed"),
    ("settings", "settings that shape the index"),
    ("vector", "the local model embeds its passages differently"),
    ("checksum", "it is damaged"),
])
def test_prebuilt_index_not_used_when_anything_differs(change: str, reason: str, tmp_path: Path,
                                                         small_prebuilt: tuple[Path, Path], real_assistant: Assistant,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture):
    corpus, made = small_prebuilt
    source = tmp_path / "prebuilt"
    shutil.copytree(made, source, ignore=shutil.ignore_patterns("build.lock"))
    corpus = shutil.copytree(corpus, tmp_path / "corpus")
    monkeypatch.setattr(prebuilt, "PREBUILT", source)
    sections: dict = {}
    if change == "corpus":
        with (corpus / "003_6a6d947e374aa1af.txt").open("a", encoding="utf-8") as handle:
            handle.write("\n全省新建5G基站1万个。\n")
    elif change == "settings":
        sections = {"chunking": {"max_chars": 400}}
    elif change in {"vector", "checksum"}:
        _tamper_vectors(source, fix_checksums=change == "vector")
    settings = settings_for(tmp_path, corpus, **sections)
    embedder = CountingEmbedder(real_assistant.embedder)
    with caplog.at_level(logging.INFO, logger="assistant.search.prebuilt"):
        report = update_index(settings, embedder)
    manifest = read_manifest(settings.paths.index / "store")
    assert report.rebuilt
    if change == "none":  # the control: the same prebuilt index, untouched, is installed
        assert (report.embedded, manifest.get("prebuilt")) == (0, True)
        assert embedder.passages == prebuilt.CHECK_PASSAGES
        return
    assert f"Prebuilt index not used: {reason}" in caplog.text
    assert "prebuilt" not in manifest
    checked = prebuilt.CHECK_PASSAGES if change == "vector" else 0  # the model check ran before rejecting
    built = Assistant(settings, embedder)
    sentences = len(sentence_rows(built.open_index().chunks)[0])  # each answerable sentence is embedded too
    assert report.embedded == report.chunks == embedder.passages - checked - sentences > 0
    assert built.index_problem() is None
