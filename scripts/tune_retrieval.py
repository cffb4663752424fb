"""Choose retrieval defaults on the tune split only: keyword tokens x fusion method x weights.

Usage: .venv/bin/python scripts/tune_retrieval.py [--set eval/dev.jsonl]
Prints a Markdown table (tune split) of hit@1, hit@5, mrr@10, section_hit@5 per configuration. Not a CI step.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from assistant.evaluation.evaluate import RETRIEVAL_TYPES, K, load_eval_set, retrieval_record
from assistant.evaluation.relevance import match_key, relevant_sets
from assistant.ingest.chunk import search_text
from assistant.pipeline import Assistant
from assistant.search.keyword import KeywordIndex
from assistant.types import Chunk


class TokenIndex:
    """An in-memory BM25 over one kind of tokens with the keyword store's ``search`` (all the retriever calls)."""

    def __init__(self, tokens: str, chunks: list[Chunk]) -> None:
        self.ids = [c.chunk_id for c in chunks]
        self.bm25 = KeywordIndex(tokens)
        self.bm25.build([search_text(c) for c in chunks])

    def search(self, query_norm: str, k: int, filters: object = None) -> list[tuple[str, float]]:
        """The ``k`` best ``(chunk_id, score)`` pairs (filters are not used by this script)."""
        scores = self.bm25.scores(query_norm)
        return [(self.ids[i], float(scores[i])) for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default="eval/dev.jsonl")
    parser.add_argument("--split", default="tune")
    args = parser.parse_args()
    assistant = Assistant()
    index = assistant.open_index(rebuild=True)
    items = [i for i in load_eval_set(Path(args.set)) if i.type in RETRIEVAL_TYPES and i.split == args.split]
    keys = {c.chunk_id: match_key(c.text) for c in index.chunks}
    paths = {c.chunk_id: c.section_path for c in index.chunks}
    retriever = assistant.retriever
    base = retriever.settings
    keyword_indexes = {tokens: TokenIndex(tokens, index.chunks) for tokens in ("bigram", "jieba", "both")}
    configs = [("bm25", None, None), ("dense", None, None)]
    configs += [("rrf", k, w) for k, w in itertools.product((10, 30, 60), (0.3, 0.4, 0.5, 0.6))]
    configs += [("weighted", None, w) for w in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)]
    print(f"{args.split} split, {len(items)} retrieval items, k={K}\n")
    print("| tokens | fusion | rrf_k | dense_weight | hit@1 | hit@5 | mrr@10 | section_hit@5 |")
    print("|---|---|---|---|---|---|---|---|")
    for tokens, (fusion, rrf_k, weight) in itertools.product(keyword_indexes, configs):
        index.keyword = keyword_indexes[tokens]
        mode = fusion if fusion in ("bm25", "dense") else "hybrid"
        if mode == "dense" and tokens != "both":
            continue
        update = {"fusion": fusion if mode == "hybrid" else base.fusion}
        if rrf_k:
            update["rrf_k"] = rrf_k
        if weight is not None:
            update["dense_weight"] = weight
        retriever.settings = base.model_copy(update=update)
        totals = {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "section_hit@5": 0.0}
        for item in items:
            retrieved = [h.chunk.chunk_id for h in retriever.search(item.question, k=K, mode=mode)]
            record = retrieval_record(item.id, item.type, item.split, mode, retrieved, relevant_sets(keys, item.evidence),
                                      0.0, paths, item.sections)
            for key in totals:
                totals[key] += record["scores"][key]
        cells = " | ".join(f"{totals[k] / len(items):.3f}" for k in totals)
        print(f"| {tokens} | {fusion} | {rrf_k or ''} | {'' if weight is None else weight} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
