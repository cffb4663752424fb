"""Milvus fields: a chunk's row in the Milvus collection, its keyword text, filters as expressions, the URI.

The keyword text is our own tokens (:func:`assistant.search.keyword.tokenize` with ``retrieval.bm25_tokens``, the
same tokens as the embedded BM25 store) joined by spaces, not Milvus' ``jieba`` analyzer over the normalized text.
Both were measured on the dev set in one run (docs/benchmarks.md, "Storage backends (issue 14)"): BM25 hit@5 0.953
with our bigrams (the embedded store's 0.941) against 0.912 with jieba, hybrid hit@5 0.947 (embedded 0.953) against
0.941 and MRR@10 0.848 against 0.769 over the 170 retrieval items. (Milvus Lite's jieba analyzer also keeps
punctuation and function words as tokens, which our tokenizer drops.)
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..ingest.chunk import search_text
from ..settings import Settings
from ..text.script import normalize
from ..types import Chunk
from .keyword import tokenize
from .segments import Filters, pad_date

TEXT_BYTES = 65_535  # Milvus' longest VARCHAR
BM25_K1 = 1.2  # as the embedded BM25 (assistant.search.bm25.K1)
# The keyword analyzer: "tokens" (our tokens, whitespace-split; chosen) or "jieba" (Milvus' jieba analyzer over the
# normalized search text; kept to reproduce the measurement).
ANALYZER = "tokens"
_NON_WORD = re.compile(r"\W")  # ":" of "w:规划", "." of "3.5": Milvus Lite's standard analyzer splits there


def milvus_uri(settings: Settings) -> str:
    """The Milvus URI of the settings: ``retrieval.milvus_uri``, or ``milvus.db`` in ``paths.index`` when empty.

    Raises:
        ConfigError: A local path that does not end in ``.db`` (pymilvus only runs Milvus Lite for those).
    """
    uri = settings.retrieval.milvus_uri or str(settings.paths.index / "milvus.db")
    if uri.startswith(("http://", "https://", "tcp://", "unix:")):
        return uri
    if not uri.endswith(".db"):
        raise ConfigError(f"retrieval.milvus_uri {uri!r} is neither a server URI (http://host:19530) nor a Milvus "
                          "Lite file ending in .db.")
    Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return uri


def keyword_text(text_norm: str, mode: str) -> str:
    """The text stored for (and searched by) Milvus' BM25: our tokens joined by spaces.

    Example: ``数字经济2025年`` (bigram) → ``数字 字经 经济 2025 年``; ``w:规划`` (both) → ``w_规划``.
    """
    if ANALYZER == "jieba":
        return text_norm
    return " ".join(_NON_WORD.sub("_", t) for t in tokenize(text_norm, mode))


def filter_expression(filters: Filters | None) -> str:
    """A Milvus filter expression equivalent to :meth:`Filters.accepts` on the stored fields (``""``: none).

    Example: ``Filters(region="沈阳", since="2021")`` → ``region_key like "%沈阳%" and date_hi >= "2021-01-01"``.
    """
    if not filters:
        return ""
    parts = []
    if filters.doc_ids:
        parts.append(f"doc_id in {literals(filters.doc_ids)}")
    if filters.exclude_doc_ids:
        parts.append(f"not (doc_id in {literals(filters.exclude_doc_ids)})")
    if filters.sources:
        parts.append(f"source in {literals(filters.sources)}")
    if filters.region:  # Milvus Lite's LIKE has no escape: a "%" or "_" in a region name acts as a wildcard
        parts.append(f"region_key like {literal('%' + normalize(filters.region) + '%')}")
    if filters.since:  # a chunk without a date has empty bounds, below every date: never passes
        parts.append(f"date_hi >= {literal(pad_date(filters.since, high=False))}")
    if filters.until:
        parts.append(f'date_lo != "" and date_lo <= {literal(pad_date(filters.until, high=True))}')
    return " and ".join(parts)


def literal(value: str) -> str:
    """A Milvus string literal (JSON's quoting): ``沈阳`` → ``"沈阳"``."""
    return json.dumps(value, ensure_ascii=False)


def literals(values: Iterable[str]) -> str:
    """A Milvus list of string literals: ``["a", "b"]``."""
    return "[" + ", ".join(literal(v) for v in values) + "]"


def row(chunk: Chunk, vector: np.ndarray | None, tokens: str) -> dict[str, Any]:
    """The Milvus row of a chunk: stored fields, padded date bounds, normalized region, vector and keyword text."""
    text = keyword_text(search_text(chunk), tokens)
    if len(text.encode("utf-8")) > TEXT_BYTES:  # cut at the last whole token that fits
        text = text.encode("utf-8")[:TEXT_BYTES].decode("utf-8", errors="ignore").rsplit(" ", 1)[0]
    return {"chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id, "date": chunk.date,
            "date_lo": pad_date(chunk.date, high=False), "date_hi": pad_date(chunk.date, high=True),
            "region": chunk.region, "region_key": normalize(chunk.region), "source": chunk.source,
            "vector": np.asarray(vector, dtype=np.float32).tolist(), "text": text}


def query_mass(client: Any, collection: str, text: str, cache: dict[str, int]) -> float:
    """Summed IDF of the distinct tokens of a keyword text, as :meth:`Bm25Index.query_mass` computes it.

    Document frequencies come from ``TEXT_MATCH`` counts, one query per token not yet in ``cache`` (an inverted-index
    lookup on a Milvus server, a scan on Milvus Lite); the caller clears the cache when the collection changes. A
    token no chunk holds counts with the highest possible IDF.
    """
    tokens = sorted(set(text.split()))
    if not tokens:
        return 0.0
    for key in [t for t in ["", *tokens] if t not in cache]:  # "": the number of chunks
        expr = f"TEXT_MATCH(text, {literal(key)})" if key else ""
        cache[key] = int(client.query(collection, filter=expr, output_fields=["count(*)"])[0]["count(*)"])
    n = cache[""]
    return sum(math.log(1 + (n - cache[t] + 0.5) / (cache[t] + 0.5)) for t in tokens)


def batches(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` (requests of bounded size)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
