"""Milvus store: dense vectors and BM25 of every chunk in one Milvus collection (VectorStore and KeywordIndex).

``retrieval.milvus_uri`` picks where: a ``.db`` path runs embedded Milvus Lite in this process (tests, one machine);
``http://host:19530`` talks to a Milvus standalone server or cluster with the same code. One row per chunk holds the
vector (FLOAT_VECTOR, inner product: the vectors are L2-normalized, so the score is the cosine), the keyword text with
Milvus' built-in BM25 function over it, and the fields filters read (``doc_id``, the padded date bounds, the
normalized region, ``source``); filters become Milvus filter expressions evaluated inside Milvus.

The keyword side is Milvus' BM25 over our own bigram tokens rather than its jieba analyzer (measured: see
:mod:`assistant.search.milvus_fields`). Both protocol objects share one :class:`MilvusStore` (one client, one
collection, one queue of changes); pymilvus' client is thread-safe and the queue is guarded by a lock.

Milvus is not versioned like the embedded segments: a build writes into the collection before it publishes the
manifest, so readers of the previous version may get chunk ids their catalog does not know (retrieval skips them).
Each commit stamps the collection with a new ``epoch`` before writing and records it in the manifest; a build that
finds a different epoch (an earlier build stopped between writing and publishing) reconciles the collection with
the catalog (:meth:`MilvusStore.reconcile`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, CorruptIndexError
from ..settings import Settings
from ..types import Chunk
from . import milvus_fields
from .milvus_fields import TEXT_BYTES, batches, filter_expression, keyword_text, literal, literals, milvus_uri, row
from .segments import Filters
from .store import StoredRow

log = logging.getLogger(__name__)

MAX_TOPK = 16_384  # Milvus' largest limit of one search or query
BATCH_ROWS = 500  # rows per upsert request (well under gRPC's message size with 30 kB texts)
ID_BATCH = 1_000  # ids per "chunk_id in [...]" expression
IVF_NLIST = 1_024  # IVF lists per Milvus segment (Milvus Lite clamps it for small segments)
EPOCH = "assistant_epoch"  # collection property: the token of the last commit that wrote to it


class MilvusStore:
    """The collection both protocol objects share: pending changes, commits, and the reads they have in common.

    Args:
        settings: ``retrieval`` names the URI, collection, index type and keyword tokens.
        dim: Vector dimension.
        state: The state a previous commit returned (``None``: a new, empty collection replaces any old one).

    Raises:
        ConfigError: The ``milvus`` extra is not installed, or the URI is invalid.
        CorruptIndexError: The collection of ``state`` is missing or has another dimension.
    """

    def __init__(self, settings: Settings, dim: int, state: dict[str, Any] | None) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise ConfigError("retrieval.store = 'milvus' needs the milvus extra: pip install -e '.[milvus]'.") from exc
        self.retrieval, self.dim = settings.retrieval, dim
        self.uri, self.collection = milvus_uri(settings), settings.retrieval.milvus_collection
        self.client = MilvusClient(self.uri)
        self._lock = threading.RLock()
        self._rows: dict[str, tuple[Chunk, np.ndarray | None]] = {}  # pending upserts
        self._deletes: set[str] = set()  # pending deletes of committed rows
        self._deleted_by: dict[str, set[str]] = {"vectors": set(), "keyword": set()}  # what each side deleted
        if state is None:
            self._create()
            self.epoch = ""
            self.consistent = True
        else:
            self._open(state)

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        client, name = self.client, self.collection
        if client.has_collection(name):
            client.drop_collection(name)
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=512)
        schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
        for field in ("date", "date_lo", "date_hi"):
            schema.add_field(field, DataType.VARCHAR, max_length=32)
        schema.add_field("region", DataType.VARCHAR, max_length=512)
        schema.add_field("region_key", DataType.VARCHAR, max_length=512)  # normalized, as Filters.accepts compares
        schema.add_field("source", DataType.VARCHAR, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES, enable_analyzer=True, enable_match=True,
                         analyzer_params=self._analyzer())  # match: document frequencies for query_mass
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                     output_field_names=["sparse"]))
        index = client.prepare_index_params()
        kind, params = self._dense_index()
        index.add_index("vector", index_type=kind, metric_type="IP", params=params)
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                        params={"bm25_k1": milvus_fields.BM25_K1, "bm25_b": 0.75})  # the embedded BM25's parameters
        # Strong consistency: a reader that sees a new index version also sees every row written before it.
        client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")

    def _analyzer(self) -> dict[str, Any]:
        if milvus_fields.ANALYZER == "jieba":
            return {"tokenizer": "jieba"}
        # Our tokens are \w-only words separated by spaces: Milvus Lite's regex "standard" analyzer keeps them whole;
        # a Milvus server's standard analyzer would cut Chinese into single characters, its whitespace one does not.
        return {"tokenizer": "standard" if self.uri.endswith(".db") else "whitespace"}

    def _dense_index(self) -> tuple[str, dict[str, Any]]:
        kind = self.retrieval.dense_index
        if kind == "hnsw":
            return "HNSW", {"M": self.retrieval.hnsw_m, "efConstruction": max(40, 2 * self.retrieval.hnsw_m)}
        if kind == "ivf":
            return "IVF_FLAT", {"nlist": IVF_NLIST}
        return "FLAT", {}

    def _open(self, state: dict[str, Any]) -> None:
        client, name = self.client, self.collection
        if not client.has_collection(name):
            raise CorruptIndexError(f"Milvus collection {name!r} at {self.uri} is missing (the index records it). "
                                    "Run `assistant build` to rebuild it.")
        described = client.describe_collection(name)
        dims = [f.get("params", {}).get("dim") for f in described.get("fields", []) if f.get("name") == "vector"]
        if not dims or int(dims[0]) != self.dim:
            raise CorruptIndexError(f"Milvus collection {name!r} has vectors of dimension {dims}, the index {self.dim}.")
        client.load_collection(name)
        self.epoch = str(state.get("epoch", ""))
        self.consistent = described.get("properties", {}).get(EPOCH, "") == self.epoch

    def state(self) -> dict[str, Any]:
        """The state recorded in the index manifest (no local files)."""
        return {"backend": "milvus", "uri": self.retrieval.milvus_uri or "milvus.db", "collection": self.collection,
                "epoch": self.epoch, "dim": self.dim, "tokens": self.retrieval.bm25_tokens}

    def upsert(self, side: str, chunks: Sequence[Chunk], vectors: np.ndarray | None) -> None:
        """Queue chunks (with their vectors from the dense side; the keyword side keeps any vector already queued)."""
        with self._lock:
            for i, chunk in enumerate(chunks):
                if vectors is not None:
                    vector = np.asarray(vectors[i], dtype=np.float32)
                else:
                    vector = self._rows[chunk.chunk_id][1] if chunk.chunk_id in self._rows else None
                self._rows[chunk.chunk_id] = (chunk, vector)
                self._deletes.discard(chunk.chunk_id)
                self._deleted_by[side].discard(chunk.chunk_id)

    def delete(self, side: str, chunk_ids: Iterable[str], doc_id: str | None) -> int:
        """Queue deletes; return how many chunks this side held (a chunk deleted by the other side still counts)."""
        ids = set(chunk_ids)
        committed = self._ids_where(ids, doc_id)
        with self._lock:
            queued = {cid for cid, (chunk, _) in self._rows.items() if cid in ids or chunk.doc_id == doc_id}
            for cid in queued:
                del self._rows[cid]
            gone = (committed | queued) - self._deleted_by[side]
            self._deletes |= committed
            self._deleted_by[side] |= gone
        return len(gone)

    def commit(self) -> dict[str, Any]:
        """Write queued deletes and upserts (stamped with a new epoch first), flush, and return the state."""
        with self._lock:
            rows, deletes = dict(self._rows), self._deletes - set(self._rows)
            if not rows and not deletes:
                return self.state()
            epoch = secrets.token_hex(8)
            self.client.alter_collection_properties(self.collection, properties={EPOCH: epoch})
            for batch in batches(sorted(deletes), ID_BATCH):
                self.client.delete(self.collection, ids=batch)
            self._fill_vectors(rows)
            for batch in batches(list(rows.values()), BATCH_ROWS):
                self.client.upsert(self.collection, [row(chunk, vector, self.retrieval.bm25_tokens) for chunk, vector in batch])
            self.client.flush(self.collection)
            self._rows, self._deletes = {}, set()
            self._deleted_by = {"vectors": set(), "keyword": set()}
            self.epoch, self.consistent = epoch, True
            return self.state()

    def _fill_vectors(self, rows: dict[str, tuple[Chunk, np.ndarray | None]]) -> None:
        """Vectors of rows the keyword side queued alone, read from the collection."""
        missing = [cid for cid, (_, vector) in rows.items() if vector is None]
        found = self.get(missing, with_vector=True) if missing else {}
        for cid in missing:
            if cid not in found:
                raise ValueError(f"chunk {cid} was given to the keyword index only: Milvus needs its vector too")
            rows[cid] = (rows[cid][0], found[cid].vector)

    def _query(self, expr: str, fields: list[str], limit: int = MAX_TOPK) -> list[dict[str, Any]]:
        return list(self.client.query(self.collection, filter=expr, output_fields=fields, limit=limit))

    def _ids_where(self, ids: set[str], doc_id: str | None) -> set[str]:
        """Committed ids among ``ids`` and of ``doc_id``."""
        found: set[str] = set()
        for batch in batches(sorted(ids), ID_BATCH):
            found |= {r["chunk_id"] for r in self._query(f"chunk_id in {literals(batch)}", ["chunk_id"])}
        if doc_id is not None:
            expr = f"doc_id == {literal(doc_id)}"
            rows = self._query(expr, ["chunk_id"])
            found |= {r["chunk_id"] for r in (rows if len(rows) < MAX_TOPK else self._scan(expr, ["chunk_id"]))}
        return found

    def _scan(self, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        """Every committed row matching ``expr`` (paged, so a result may exceed Milvus' query limit)."""
        iterator = self.client.query_iterator(self.collection, batch_size=MAX_TOPK // 2, filter=expr,
                                              output_fields=fields)
        rows: list[dict[str, Any]] = []
        try:
            while batch := iterator.next():
                rows += batch
        finally:
            iterator.close()
        return rows

    def get(self, chunk_ids: Sequence[str], with_vector: bool) -> dict[str, StoredRow]:
        """Stored rows of the live ids (queued changes included)."""
        fields = ["chunk_id", "doc_id", "date", "region", "source", *(["vector"] if with_vector else [])]
        found: dict[str, StoredRow] = {}
        for batch in batches(list(dict.fromkeys(chunk_ids)), ID_BATCH):
            for r in self._query(f"chunk_id in {literals(batch)}", fields):
                vector = np.asarray(r["vector"], dtype=np.float32) if with_vector else None
                found[r["chunk_id"]] = StoredRow(r["chunk_id"], r["doc_id"], r["date"], r["region"], r["source"], vector)
        with self._lock:
            for cid in self._deletes:
                found.pop(cid, None)
            for cid in set(chunk_ids) & set(self._rows):
                chunk, vector = self._rows[cid]
                found[cid] = StoredRow(cid, chunk.doc_id, chunk.date, chunk.region, chunk.source,
                                       vector if with_vector else None)
        return found

    def count(self) -> int:
        """Live chunks: committed rows, less queued deletes, plus queued new rows."""
        committed = int(self.client.query(self.collection, filter="", output_fields=["count(*)"])[0]["count(*)"])
        with self._lock:
            queued, deletes = set(self._rows), set(self._deletes)
        new = queued - self._ids_where(queued, None) if queued else set()
        return committed - len(deletes) + len(new)

    def search(self, data: list[Any], field: str, k: int, filters: Filters | None,
               params: dict[str, Any]) -> list[tuple[str, float]]:
        """``(chunk_id, distance)`` pairs of one query against ``field``."""
        if k <= 0:
            return []
        hits = self.client.search(self.collection, data=data, anns_field=field, limit=min(k, MAX_TOPK),
                                  filter=filter_expression(filters), search_params=params, output_fields=["chunk_id"])
        return [(str(hit["chunk_id"]), float(hit["distance"])) for hit in hits[0]]

    def reconcile(self, catalog: dict[str, str]) -> set[str]:
        """After an interrupted build: queue deletes of rows the catalog lacks; return documents missing rows.

        Args:
            catalog: ``chunk_id → doc_id`` of every chunk of the index's catalog.

        Returns:
            The documents some of whose chunks Milvus lacks (to re-ingest); empty when the epochs match.
        """
        if self.consistent:
            return set()
        log.warning("Milvus collection %r changed after the index was published: reconciling it with the catalog.",
                    self.collection)
        present = {r["chunk_id"] for r in self._scan("", ["chunk_id"])}
        stray = present - set(catalog)
        with self._lock:
            self._deletes |= stray
            for side in self._deleted_by.values():
                side |= stray
        return {doc for cid, doc in catalog.items() if cid not in present}


class MilvusVectorStore:
    """The dense side of a :class:`MilvusStore` (VectorStore protocol)."""

    versioned = False  # rows change in place: readers of an older index version see them too

    def __init__(self, store: MilvusStore) -> None:
        self.store = store

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Queue chunks with their vectors (written at :meth:`commit`)."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        self.store.upsert("vectors", chunks, np.asarray(vectors, dtype=np.float32))

    def delete(self, chunk_ids: Iterable[str] = (), doc_id: str | None = None) -> int:
        """Queue deletes by id and/or document; return how many chunks they remove."""
        return self.store.delete("vectors", chunk_ids, doc_id)

    def search(self, query: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, cosine)`` pairs (inner product of normalized vectors)."""
        params: dict[str, Any] = {"metric_type": "IP", "params": {}}
        if self.store.retrieval.dense_index == "hnsw":
            params["params"] = {"ef": max(self.store.retrieval.hnsw_ef_search, k)}
        elif self.store.retrieval.dense_index == "ivf":
            params["params"] = {"nprobe": self.store.retrieval.ivf_nprobe}
        vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
        return self.store.search([vector], "vector", k, filters, params)

    def get(self, chunk_ids: Sequence[str]) -> dict[str, StoredRow]:
        """Stored rows with their vectors."""
        return self.store.get(chunk_ids, with_vector=True)

    def count(self) -> int:
        """Number of live chunks."""
        return self.store.count()

    def commit(self) -> dict[str, Any]:
        """Write queued changes of both sides; return the state for the manifest."""
        return self.store.commit()

    def reconcile(self, catalog: dict[str, str]) -> set[str]:
        """See :meth:`MilvusStore.reconcile`."""
        return self.store.reconcile(catalog)


class MilvusKeywordIndex:
    """The keyword side of a :class:`MilvusStore`: Milvus' BM25 over our tokens (KeywordIndex protocol)."""

    versioned = False

    def __init__(self, store: MilvusStore) -> None:
        self.store, self._df = store, {}  # document frequencies for query_mass, per token (cleared by commit)

    def upsert(self, chunks: Sequence[Chunk]) -> None:
        """Queue chunks (their vectors come from the dense side)."""
        self.store.upsert("keyword", chunks, None)

    def delete(self, chunk_ids: Iterable[str] = (), doc_id: str | None = None) -> int:
        """Queue deletes by id and/or document; return how many chunks they remove."""
        return self.store.delete("keyword", chunk_ids, doc_id)

    def search(self, query_norm: str, k: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, BM25 score)`` pairs among chunks sharing a token with the query."""
        text = keyword_text(query_norm, self.store.retrieval.bm25_tokens)
        if not text.strip():
            return []
        found = self.store.search([text], "sparse", k, filters, {"metric_type": "BM25"})
        # Milvus Lite reports BM25 negated (smaller is better), a Milvus server as is: the score is its magnitude.
        # Milvus multiplies each term by (k1 + 1), our BM25 does not: divided, the scores are on our scale.
        return [(cid, abs(score) / (1 + milvus_fields.BM25_K1)) for cid, score in found if score]

    def query_mass(self, query_norm: str) -> float:
        """The most a chunk could score for this query: the summed IDF of its distinct tokens (calibrated fusion)."""
        text = keyword_text(query_norm, self.store.retrieval.bm25_tokens)
        return milvus_fields.query_mass(self.store.client, self.store.collection, text, self._df)

    def get(self, chunk_ids: Sequence[str]) -> dict[str, StoredRow]:
        """Stored rows (no vectors)."""
        return self.store.get(chunk_ids, with_vector=False)

    def count(self) -> int:
        """Number of live chunks."""
        return self.store.count()

    def commit(self) -> dict[str, Any]:
        """Write queued changes of both sides; return the state for the manifest."""
        self._df.clear()
        return self.store.commit()


def open_milvus(settings: Settings, root: Path, dim: int,
                states: dict[str, Any]) -> tuple[MilvusVectorStore, MilvusKeywordIndex]:
    """Open (or create empty, when ``states`` has no vector state) the Milvus collection as the two stores.

    Args:
        settings: Retrieval settings (URI, collection, index type, keyword tokens) and ``paths.index``.
        root: The index folder (unused: Milvus keeps no local segments; the catalog stays there).
        dim: Vector dimension.
        states: The manifest's store states (``vectors``/``keyword`` recorded by :meth:`MilvusStore.commit`).

    Raises:
        ConfigError: The extra is missing or the URI is invalid.
        CorruptIndexError: The recorded collection is missing or does not match.
    """
    state = states.get("vectors") if states else None
    if state is not None and state.get("backend") != "milvus":
        raise CorruptIndexError(f"The index's vector store is {state.get('backend')!r}, settings name 'milvus'.")
    store = MilvusStore(settings, dim, state)
    return MilvusVectorStore(store), MilvusKeywordIndex(store)


def milvus_problem(settings: Settings, state: dict[str, Any]) -> str | None:
    """Why the Milvus collection an index records cannot be used as it is, or ``None`` (for ``index_problem``).

    Raises:
        ConfigError: The extra is missing or the URI is invalid.
    """
    try:
        store = MilvusStore(settings, int(state.get("dim", 0)), state)
    except CorruptIndexError as exc:
        return str(exc)
    if not store.consistent:
        return (f"The Milvus collection {store.collection!r} changed after the index was published (a build stopped "
                "between writing it and publishing the index).")
    return None
