"""Shared fixtures: real seed excerpts, per-test settings under tmp_path, one real model per session."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from assistant.pipeline import Assistant
from assistant.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"


def load_script(name: str) -> ModuleType:
    """A script of ``scripts/`` imported as a module (its functions are tested; its ``main`` is not run)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_settings(tmp: Path, corpus: Path, model: str = "hash:256", **sections: dict) -> Settings:
    """Settings whose corpus and index live under ``tmp`` (the model cache stays shared)."""
    overrides: dict = {"paths": {"corpus": str(corpus), "index": str(tmp / "index")}, "embedding": {"model": model}}
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_settings(overrides=overrides)


def with_and_without(tmp: Path, corpus: Path, off: dict) -> tuple[Assistant, Assistant]:
    """Two open Assistants over one built index: default retrieval settings, and with ``off`` applied (query-time
    settings only, so both read the same index)."""
    on, other = Assistant(make_settings(tmp, corpus)), Assistant(make_settings(tmp, corpus, retrieval=off))
    on.build()
    for assistant in (on, other):
        assistant.open_index()
    return on, other


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A corpus folder with three real seed documents and the real manifest."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("003_6a6d947e374aa1af.txt", "004_31686fc52e7b446b.txt", "002_918026e46bde4402.txt"):
        shutil.copy(CORPUS / name, folder / name)
    shutil.copy(CORPUS / "manifest.toml", folder / "manifest.toml")
    return folder


@pytest.fixture
def hash_assistant(tmp_path: Path, small_corpus: Path) -> Assistant:
    """An Assistant over the small corpus with the deterministic hash embedder (no model load)."""
    return Assistant(make_settings(tmp_path, small_corpus))


@pytest.fixture
def built(hash_assistant: Assistant) -> Assistant:
    """``hash_assistant`` with its index built and open."""
    hash_assistant.build()
    hash_assistant.open_index()
    return hash_assistant


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The real embedding model over the whole seed corpus, built once per test session."""
    tmp = tmp_path_factory.mktemp("real")
    assistant = Assistant(make_settings(tmp, CORPUS, model=Settings().embedding.model))
    assistant.build()
    assistant.open_index()
    return assistant
