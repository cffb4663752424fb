"""Choose the retrieval defaults on tuning questions only: keyword tokens x fusion x dense scale x expansion.

Usage: .venv/bin/python scripts/tune_retrieval.py [--bench ../shared/bench] [--limit 1000] [--report]

Tuning questions, three corpora: the `tune` split of eval/dev.jsonl over corpus/, and for drcd and cmrc2018 in
shared/bench `questions_all.jsonl` minus the `sample*.jsonl` questions (the first --limit of them after a fixed
shuffle). Each corpus is indexed with the product's pipeline (the eval's scratch folders), then every question's
dense cosines and BM25 scores over all chunks are computed once, so the grid is pure arithmetic. The grid: BM25 tokens
(bigram, unigram+bigram), fusion (min-max weighted at several dense weights, calibrated at several dense scales),
expansion on/off. Printed: hit@1 / hit@5 / MRR@10 per tuning set and the mean MRR@10 over the three (the choice).
--report adds the held-out sets (dev test, policy_synth, the bench samples in both scripts) for the chosen and the
old default configurations; nothing is chosen on them. A passage of shared/bench ranks where its best chunk ranks.
Not a CI step.
"""

from __future__ import annotations

import argparse
import math
import random
from collections import Counter
from pathlib import Path

import numpy as np

from assistant.evaluation.bench import load_questions
from assistant.evaluation.external import _open
from assistant.evaluation.items import load_eval_set, read_ids
from assistant.evaluation.relevance import match_key, relevant_sets
from assistant.ingest.chunk import search_text
from assistant.search.expand import expand_query, load_terms
from assistant.search.keyword import tokenize
from assistant.settings import load_settings
from assistant.text.script import normalize

RETRIEVAL_TYPES = {"fact", "paraphrase", "section", "multi"}
TOKENS = ("bigram", "unigram+bigram")
K1, B = 1.2, 0.75


class Corpus:
    """One indexed corpus: chunk vectors and an in-memory BM25 per token kind (the store's formulas)."""

    def __init__(self, folder_or_file: Path) -> None:
        settings = load_settings()
        self.assistant, index, _, self.alias = _open(settings, folder_or_file, None)
        chunks = index.chunks
        self.ids = [c.chunk_id for c in chunks]
        self.doc = [c.doc_id for c in chunks]
        self.keys = {c.chunk_id: match_key(c.text) for c in chunks}
        rows = index.vectors.get(self.ids)
        self.vectors = np.stack([rows[i].vector for i in self.ids]).astype(np.float32)
        texts = [search_text(c) for c in chunks]
        self.bm25 = {mode: _Bm25([tokenize(t, mode) for t in texts]) for mode in TOKENS}


class _Bm25:
    def __init__(self, docs: list[list[str]]) -> None:
        self.n = len(docs)
        self.lengths = np.array([max(len(d), 1) for d in docs], dtype=np.float64)
        self.avg = float(self.lengths.mean())
        postings: dict[str, list[tuple[int, int]]] = {}
        for row, doc in enumerate(docs):
            for token, tf in Counter(doc).items():
                postings.setdefault(token, []).append((row, tf))
        self.postings = {t: (np.array([r for r, _ in p]), np.array([f for _, f in p], float)) for t, p in postings.items()}
        self.idf = {t: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        self.unknown = math.log(1 + (self.n + 0.5) / 0.5)

    def scores(self, tokens: list[str]) -> tuple[np.ndarray, float]:
        """BM25 of every chunk and the question's mass (summed IDF of its distinct tokens, unknown at the maximum)."""
        scores = np.zeros(self.n)
        for token, repeat in Counter(tokens).items():
            if token in self.postings:
                rows, tf = self.postings[token]
                norm = K1 * ((1 - B) + B * self.lengths[rows] / self.avg)
                scores[rows] += repeat * self.idf[token] * tf / (norm + tf)
        return scores, sum(self.idf.get(t, self.unknown) for t in set(tokens))


def questions(corpus: Corpus, path: Path, exclude: list[Path] = (), limit: int | None = None,
              split: str | None = None) -> list[dict]:
    """Questions with their relevant sets: chunk ids (item files) or passage ids (shared/bench files)."""
    if path.name.startswith(("dev", "questions.jsonl")) or "policy_synth" in str(path):
        items = [i for i in load_eval_set(path) if i.type in RETRIEVAL_TYPES and (split is None or i.split == split)]
        return [{"question": i.question, "relevant": set().union(*relevant_sets(corpus.keys, i.evidence)),
                 "level": "chunk"} for i in items]
    dropped = set().union(*(read_ids(p) for p in exclude)) if exclude else set()
    rows = [r for r in load_questions(path) if str(r["id"]) not in dropped]
    if limit:
        random.Random(0).shuffle(rows)
        rows = rows[:limit]
    return [{"question": r["question"], "relevant": {corpus.alias.get(str(g), str(g)) for g in r["gold_passage_ids"]},
             "level": "doc"} for r in rows]


def prepare(corpus: Corpus, qs: list[dict]) -> None:
    """Cosines and BM25 scores of every chunk for each question, per token kind and with/without expansion."""
    terms = load_terms()
    norms = [normalize(q["question"]) for q in qs]
    vectors = corpus.assistant.embedder.embed_queries(norms)
    for q, norm, vector in zip(qs, norms, vectors, strict=True):
        q["cos"] = corpus.vectors @ np.asarray(vector, dtype=np.float32)
        for expand in (False, True):
            text = expand_query(norm, terms) if expand else norm
            for mode in TOKENS:
                q[(mode, expand)] = corpus.bm25[mode].scores(tokenize(text, mode))


def rank(q: dict, config: tuple, candidates: int = 50) -> list[int]:
    """Chunk rows, best first, for one configuration ``(tokens, expand, fusion, parameter)``."""
    tokens, expand, fusion, parameter = config
    scores, mass = q[(tokens, expand)]
    dense_top = np.argsort(-q["cos"], kind="stable")[:candidates]
    keyword_top = [r for r in np.argsort(-scores, kind="stable")[:candidates] if scores[r] > 0]
    pool = np.array(sorted(set(dense_top.tolist()) | set(keyword_top)))
    if fusion == "bm25":
        fused = np.where(np.isin(pool, keyword_top), scores[pool], -1.0)
    elif fusion == "dense":
        fused = np.where(np.isin(pool, dense_top), q["cos"][pool], -1.0)
    elif fusion == "calibrated":
        fused = parameter * q["cos"][pool] + (scores[pool] * np.isin(pool, keyword_top)) / (mass or 1.0)
    else:  # min-max weighted over each list's own candidates
        def minmax(values: np.ndarray, members: np.ndarray) -> np.ndarray:
            if not members.any():
                return np.zeros(len(values))
            low, high = values[members].min(), values[members].max()
            out = (values - low) / (high - low) if high > low else np.ones(len(values))
            return np.where(members, out, 0.0)
        fused = (parameter * minmax(q["cos"][pool], np.isin(pool, dense_top))
                 + (1 - parameter) * minmax(scores[pool], np.isin(pool, keyword_top)))
    return [int(pool[i]) for i in np.argsort(-fused, kind="stable")]


def score(corpus: Corpus, qs: list[dict], config: tuple) -> tuple[float, float, float]:
    """hit@1, hit@5 and MRR@10 of a configuration (passages rank where their best chunk ranks)."""
    totals = np.zeros(3)
    for q in qs:
        ranked = [corpus.ids[r] if q["level"] == "chunk" else corpus.doc[r] for r in rank(q, config)]
        ranked = list(dict.fromkeys(ranked))[:10]
        first = next((i for i, cid in enumerate(ranked, 1) if cid in q["relevant"]), None)
        totals += [first == 1, first is not None and first <= 5, 1 / first if first else 0.0]
    return tuple(totals / max(len(qs), 1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default="../shared/bench", type=Path)
    parser.add_argument("--limit", default=1000, type=int, help="tuning questions per bench set")
    parser.add_argument("--report", action="store_true", help="also print the held-out sets for two configurations")
    args = parser.parse_args()
    corpora = {"dev": Corpus(Path("corpus")), "drcd": Corpus(args.bench / "drcd/corpus.jsonl"),
               "cmrc": Corpus(args.bench / "cmrc2018/corpus.jsonl")}
    bench = {"drcd": ("sample.jsonl", "sample.simplified.jsonl"), "cmrc": ("sample.jsonl", "sample.traditional.jsonl")}
    tune = {"dev": questions(corpora["dev"], Path("eval/dev.jsonl"), split="tune")}
    for name, folder in (("drcd", "drcd"), ("cmrc", "cmrc2018")):
        tune[name] = questions(corpora[name], args.bench / folder / "questions_all.jsonl",
                               [args.bench / folder / f for f in bench[name]], args.limit)
    for name, qs in tune.items():
        prepare(corpora[name], qs)
    configs = [(tokens, expand, fusion, None) for tokens in TOKENS for expand in (False, True) for fusion in ("bm25",)]
    configs += [("bigram", False, "dense", None)]
    configs += [(tokens, expand, "weighted", w) for tokens in TOKENS for expand in (False, True) for w in (0.4, 0.5, 0.6)]
    configs += [(tokens, expand, "calibrated", s) for tokens in TOKENS for expand in (False, True)
                for s in (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)]
    print("Tuning questions: " + ", ".join(f"{n} {len(q)}" for n, q in tune.items()) + "\n")
    print("| tokens | expansion | fusion | parameter | " + " | ".join(f"{n} h@1/h@5/mrr" for n in tune) + " | mean mrr |")
    print("|---|---|---|---|" + "---|" * (len(tune) + 1))
    results = []
    for config in configs:
        cells = {n: score(corpora[n], qs, config) for n, qs in tune.items()}
        mean = sum(c[2] for c in cells.values()) / len(cells)
        results.append((mean, config))
        print(f"| {config[0]} | {'on' if config[1] else 'off'} | {config[2]} | {config[3] or ''} | "
              + " | ".join("/".join(f"{v:.3f}" for v in c) for c in cells.values()) + f" | {mean:.4f} |", flush=True)
    # The issue asks for fusion that adapts to the question instead of one global weight: the default is the best
    # calibrated configuration; the best of all (min-max weighted included) is printed and reported beside it.
    best = max((r for r in results if r[1][2] == "calibrated"), key=lambda r: r[0])[1]
    overall = max(results, key=lambda r: r[0])[1]
    print(f"\nChosen (best calibrated configuration by mean MRR@10 on the tuning questions): {best}")
    print(f"Best of all configurations: {overall}")
    if args.report:
        old = ("bigram", False, "weighted", 0.6)
        held = {"dev test": (corpora["dev"], questions(corpora["dev"], Path("eval/dev.jsonl"), split="test"))}
        policy = Corpus(Path("eval/corpora/policy_synth/corpus"))
        held["policy_synth"] = (policy, questions(policy, Path("eval/corpora/policy_synth/questions.jsonl")))
        for name, folder in (("drcd", "drcd"), ("cmrc", "cmrc2018")):
            for file in bench[name]:
                held[f"{name} {file}"] = (corpora[name], questions(corpora[name], args.bench / folder / file))
        print(f"\n| held-out set | old default h@1/h@5/mrr | chosen h@1/h@5/mrr | best of all {overall} |\n|---|---|---|---|")
        for name, (corpus, qs) in held.items():
            prepare(corpus, qs)
            cells = ["/".join(f"{v:.3f}" for v in score(corpus, qs, c)) for c in (old, best, overall)]
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
