"""One contract for every storage backend: same answers on a small real corpus, filters, delete, re-open, damage.

Backends: the embedded FAISS store (exact, IVF, HNSW: ``ann_min_rows=1`` makes even this small corpus use the ANN
index), the embedded BM25 store, and Milvus (Lite, when the ``milvus`` extra is installed).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import CorruptIndexError
from assistant.ingest.chunk import search_text
from assistant.ingest.documents import ingest_corpus
from assistant.search.bm25 import CorpusStats, Postings
from assistant.search.embed import HashEmbedder
from assistant.search.keyword import tokenize
from assistant.search.segments import Filters
from assistant.search.store import make_stores
from assistant.text.script import normalize

from .conftest import CORPUS, make_settings

HAS_MILVUS = importlib.util.find_spec("pymilvus") is not None and importlib.util.find_spec("milvus_lite") is not None
BACKENDS = [
    pytest.param({"store": "faiss", "dense_index": "flat"}, id="faiss-flat"),
    pytest.param({"store": "faiss", "dense_index": "ivf", "ann_min_rows": 1, "ivf_nprobe": 64}, id="faiss-ivf"),
    pytest.param({"store": "faiss", "dense_index": "hnsw", "ann_min_rows": 1, "hnsw_ef_search": 256}, id="faiss-hnsw"),
    pytest.param({"store": "milvus"}, id="milvus-lite",
                 marks=pytest.mark.skipif(not HAS_MILVUS, reason="the milvus extra (pymilvus, milvus-lite) is not installed")),
]
EMBEDDER = HashEmbedder(256)


@pytest.fixture(scope="module")
def seed_chunks(tmp_path_factory: pytest.TempPathFactory):
    """Real chunks of three seed documents, and their (hash) vectors."""
    tmp = tmp_path_factory.mktemp("contract")
    corpus = tmp / "corpus"
    corpus.mkdir()
    for name in ("002_918026e46bde4402.txt", "003_6a6d947e374aa1af.txt", "004_31686fc52e7b446b.txt", "manifest.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    result = ingest_corpus(corpus, make_settings(tmp, corpus))
    vectors = EMBEDDER.embed_passages([search_text(c) for c in result.chunks])
    return result.chunks, vectors


def _stores(tmp_path: Path, retrieval: dict, states: dict | None = None):
    settings = make_settings(tmp_path, tmp_path, retrieval=retrieval)
    return make_stores(settings, tmp_path / "index", EMBEDDER.dim, states)


def _filled(tmp_path: Path, retrieval: dict, chunks, vectors):
    dense, keyword = _stores(tmp_path, retrieval)
    dense.upsert(chunks, vectors)
    keyword.upsert(chunks)
    states = {"vectors": dense.commit(), "keyword": keyword.commit()}
    return dense, keyword, states


QUERIES = ["沈阳2021年要新建多少5G基站", "辽宁 六地 定位", "科技型中小企业", "營商環境 改革"]


@pytest.mark.parametrize("retrieval", BACKENDS)
def test_same_answers_as_exact_search(tmp_path, seed_chunks, retrieval):
    chunks, vectors = seed_chunks
    dense, keyword, _ = _filled(tmp_path, retrieval, chunks, vectors)
    assert dense.count() == keyword.count() == len(chunks)
    for query in QUERIES:
        q = EMBEDDER.embed_queries([normalize(query)])[0]
        exact = np.argsort(-(vectors @ q), kind="stable")[:5]
        got = dense.search(q, 5)
        assert [cid for cid, _ in got][:3] == [chunks[i].chunk_id for i in exact[:3]], query
        assert got[0][1] == pytest.approx(float(vectors[exact[0]] @ q), abs=1e-4)
        words = keyword.search(normalize(query), 5)
        assert words and all(score > 0 for _, score in words)


def test_bm25_scores_equal_bm25s_lucene(seed_chunks):
    """The segment postings give exactly the scores of the library they replace, on one segment."""
    import bm25s

    chunks, _ = seed_chunks
    tokens = [tokenize(search_text(c), "bigram") or [""] for c in chunks]
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index(tokens, show_progress=False)
    postings = Postings.build(tokens)
    stats = CorpusStats([postings])
    for query in QUERIES:
        q = [t for t in tokenize(normalize(query), "bigram") if t in reference.vocab_dict]
        expected = np.asarray(reference.get_scores(q))
        rows, scores = stats.scores(postings, q)
        got = np.zeros(len(chunks))
        got[rows] = scores
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_bm25_scores_do_not_depend_on_segmentation(tmp_path, seed_chunks):
    chunks, vectors = seed_chunks
    _, one, _ = _filled(tmp_path / "one", {"store": "faiss"}, chunks, vectors)
    _, many = _stores(tmp_path / "many", {"store": "faiss"})
    for part in range(0, len(chunks), 7):
        many.upsert(chunks[part : part + 7])
        many.commit()
    for query in QUERIES:
        a, b = one.search(normalize(query), 10), many.search(normalize(query), 10)
        assert [c for c, _ in a] == [c for c, _ in b]
        assert [s for _, s in a] == pytest.approx([s for _, s in b], rel=1e-5)


@pytest.mark.parametrize("retrieval", BACKENDS)
def test_filters_are_applied_inside_the_store(tmp_path, seed_chunks, retrieval):
    chunks, vectors = seed_chunks
    dense, keyword, _ = _filled(tmp_path, retrieval, chunks, vectors)
    q = EMBEDDER.embed_queries(["沈阳 5G"])[0]
    by_id = {c.chunk_id: c for c in chunks}
    cases = {
        Filters(doc_ids=("shenyang-2021-ten-tasks",)): lambda c: c.doc_id == "shenyang-2021-ten-tasks",
        Filters(exclude_doc_ids=("shenyang-2021-ten-tasks",)): lambda c: c.doc_id != "shenyang-2021-ten-tasks",
        Filters(region="沈阳"): lambda c: "沈阳" in c.region,
        Filters(since="2023"): lambda c: c.date >= "2023",
        Filters(until="2021-12"): lambda c: c.date <= "2021-12-31",
        Filters(sources=("upload",)): lambda c: c.source == "upload",
    }
    for filters, ok in cases.items():
        for found in (dense.search(q, 20, filters), keyword.search(normalize("沈阳 5G 建设"), 20, filters)):
            assert all(ok(by_id[cid]) for cid, _ in found), filters
        expected = sum(ok(c) for c in chunks)
        assert len(dense.search(q, 1000, filters)) == expected, filters


@pytest.mark.parametrize("retrieval", BACKENDS)
def test_delete_get_and_reopen(tmp_path, seed_chunks, retrieval):
    chunks, vectors = seed_chunks
    dense, keyword, _ = _filled(tmp_path, retrieval, chunks, vectors)
    gone = [c.chunk_id for c in chunks if c.doc_id == "shenyang-2021-ten-tasks"]
    assert dense.delete(doc_id="shenyang-2021-ten-tasks") == len(gone)
    assert keyword.delete(doc_id="shenyang-2021-ten-tasks") == len(gone)
    one = chunks[0].chunk_id
    assert dense.delete([one]) == 1 and keyword.delete([one]) == 1
    states = {"vectors": dense.commit(), "keyword": keyword.commit()}
    alive = [c for c in chunks if c.chunk_id not in set(gone) | {one}]
    reopened_dense, reopened_keyword = _stores(tmp_path, retrieval, states)  # a restarted process
    for store in (dense, keyword, reopened_dense, reopened_keyword):
        assert store.count() == len(alive)
    q = EMBEDDER.embed_queries(["沈阳 5G"])[0]
    for found in (reopened_dense.search(q, 1000), reopened_keyword.search("沈阳5g基站", 1000)):
        assert not {cid for cid, _ in found} & (set(gone) | {one})
    rows = reopened_dense.get([alive[0].chunk_id, gone[0]])
    assert set(rows) == {alive[0].chunk_id}
    row = rows[alive[0].chunk_id]
    assert row.doc_id == alive[0].doc_id and row.date == alive[0].date and row.source == alive[0].source
    np.testing.assert_allclose(row.vector, vectors[chunks.index(alive[0])], atol=1e-6)
    assert set(reopened_keyword.get([alive[1].chunk_id, gone[1]])) == {alive[1].chunk_id}


@pytest.mark.parametrize("retrieval", BACKENDS)
def test_upsert_replaces_an_existing_id(tmp_path, seed_chunks, retrieval):
    chunks, vectors = seed_chunks
    dense, keyword, _ = _filled(tmp_path, retrieval, chunks, vectors)
    target = chunks[3]
    new_vector = EMBEDDER.embed_passages(["完全不同的内容：全市新建智慧灯杆八千根"])
    dense.upsert([target], new_vector)
    keyword.upsert([target])
    dense.commit()
    keyword.commit()
    assert dense.count() == keyword.count() == len(chunks)
    np.testing.assert_allclose(dense.get([target.chunk_id])[target.chunk_id].vector, new_vector[0], atol=1e-6)


@pytest.mark.parametrize("retrieval", [p for p in BACKENDS if "faiss" in p.id])
def test_damaged_segment_is_detected_on_open(tmp_path, seed_chunks, retrieval):
    chunks, vectors = seed_chunks
    _, _, states = _filled(tmp_path, retrieval, chunks, vectors)
    for name, record in ((n, s["segments"][0]) for n, s in states.items()):
        victim = next(iter(record["files"]))
        path = tmp_path / "index" / "segments" / record["name"] / victim
        data = path.read_bytes()
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        with pytest.raises(CorruptIndexError, match=record["name"]):
            _stores(tmp_path, retrieval, states)
        path.write_bytes(data)
        del name


@pytest.mark.skipif(not HAS_MILVUS, reason="the milvus extra (pymilvus, milvus-lite) is not installed")
def test_a_missing_or_different_milvus_collection_is_detected_on_open(tmp_path, seed_chunks):
    chunks, vectors = seed_chunks
    dense, _, states = _filled(tmp_path, {"store": "milvus"}, chunks, vectors)
    settings = make_settings(tmp_path, tmp_path, retrieval={"store": "milvus"})
    with pytest.raises(CorruptIndexError, match="dimension"):
        make_stores(settings, tmp_path / "index", EMBEDDER.dim * 2, states)
    dense.store.client.drop_collection(dense.store.collection)
    with pytest.raises(CorruptIndexError, match="missing"):
        _stores(tmp_path, {"store": "milvus"}, states)


def test_the_document_table_filters_as_the_per_document_rule():
    """The array form of a segment's filter (DocTable) keeps exactly the rows Filters.accepts keeps, document by document."""
    import random

    from assistant.search.segments import DocRow, DocTable

    rng = random.Random(5)
    regions = ["沈阳市", "瀋陽市", "大连市", "辽宁省", "辽宁省沈阳市", ""]
    dates = ["2021", "2021-02", "2021-02-06", "2019-12-31", "2024-07", ""]
    docs, start = [], 0
    for i in range(400):
        size = rng.randint(1, 5)
        docs.append(DocRow(f"d{i}", start, start + size, rng.choice(dates), rng.choice(regions),
                           rng.choice(["corpus", "upload"])))
        start += size
    table = DocTable(docs)
    for _ in range(300):
        filters = Filters(
            doc_ids=tuple(f"d{rng.randrange(400)}" for _ in range(rng.choice([0, 0, 3]))),
            exclude_doc_ids=tuple(f"d{rng.randrange(400)}" for _ in range(rng.choice([0, 0, 5]))),
            since=rng.choice(["", "2020", "2021-02", "2021-02-06", "2021-02-07"]),
            until=rng.choice(["", "2021", "2021-02-05", "2021-02-06", "2019-12-31"]),
            region=rng.choice(["", "沈阳", "瀋陽", "辽宁", "鞍山"]), sources=rng.choice([(), ("corpus",), ("upload",)]))
        expected = [r for d in docs if filters.accepts(d) for r in range(d.start, d.end)]
        assert table.rows(filters).tolist() == expected, filters
