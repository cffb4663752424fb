"""Choose the retrieval defaults on tuning questions only: keyword tokens x expansion x fusion x dense scale.

Usage: .venv/bin/python scripts/tune_retrieval.py [--bench ../shared/bench] [--limit 1000] [--report] [--tokens]

Tuning questions: the `tune` split of eval/dev.jsonl over corpus/ (its English items, together with the English `tune`
items of eval/trust.jsonl, are also shown as their own row, "en tune"), and for drcd and cmrc2018 in shared/bench
`questions_all.jsonl` minus the `sample*.jsonl` questions (the first --limit of them after a fixed shuffle), each asked
in both scripts (the original and its OpenCC conversion, as the samples are). Each corpus is indexed with the
product's pipeline (the eval's scratch folders), then every question's dense cosines and BM25 scores over all chunks
are computed once, so the grid is pure arithmetic. The grid: BM25 tokens (bigram, unigram+bigram), expansion (off,
the term table, the table plus the CC-CEDICT bridge: 1-2 terms per English key, two candidate orders, single words
looked up among nouns only or verbs too, translated English words kept or dropped), fusion (min-max weighted 0.4 and
the old default 0.6, calibrated at several dense scales).

The objective (the goal is "at or above the bigram-BM25 baseline on every set and script, and best on the dev set"):
for each configuration, margin = the smallest of (ours - baseline) over the four bench tuning sets (drcd and
cmrc2018, both scripts) and the three metrics hit@1, hit@5, MRR@10. Among the configurations with margin >= 0 the one
with the best dev-tune MRR@10 is chosen (ties: larger margin, then en-tune MRR@10); when none has margin >= 0, the one
with the largest margin (ties: dev-tune, then en-tune MRR@10). The mean-MRR@10 choice of the first round is printed
beside it. --report adds the held-out sets (dev test and its English rows, policy_synth, the bench samples in both
scripts) for the old default, the first round's default, the mean choice and the objective's choice; nothing is
chosen on them. --tokens prints a BM25-only table of the token kinds, including original-script tokens (an
experiment, not a product mode). A passage of shared/bench ranks where its best chunk ranks. Not a CI step.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np

from assistant.evaluation.bench import BigramBM25, load_questions
from assistant.evaluation.external import _open
from assistant.evaluation.harness import scratch_dir
from assistant.evaluation.items import load_eval_set, read_ids
from assistant.evaluation.relevance import match_key, relevant_sets
from assistant.ingest.chunk import search_text
from assistant.search.bridge import load_bridge
from assistant.search.expand import TermTable, expand_query, load_terms
from assistant.search.keyword import tokenize
from assistant.settings import load_settings
from assistant.text.script import normalize, to_simplified, to_traditional

RETRIEVAL_TYPES = {"fact", "paraphrase", "section", "multi"}
TOKENS = ("bigram", "unigram+bigram")
# Expansion variants: off, the term table, the table plus the dictionary bridge (terms per key, candidate order).
# "-verbs": single English words are looked up among verb senses too; "-replace": translated English words are dropped.
EXPANSIONS = ("off", "table", "table-replace", *(f"bridge{n}-{o}{v}{r}" for n in (1, 2) for o in ("frequent", "dictionary")
                                                 for v in ("", "-verbs") for r in ("", "-replace")))
# The dictionary without the English part of the term table: what the bridge does for words nobody curated.
DICT_ONLY = ("table-noenglish", *(f"dictonly{n}-{o}{r}" for n in (1, 2) for o in ("frequent", "dictionary")
                                  for r in ("", "-replace")))
K1, B = 1.2, 0.75
METRICS = ("hit@1", "hit@5", "MRR@10")


class Corpus:
    """One indexed corpus: chunk vectors and an in-memory BM25 per token kind (the store's formulas)."""

    def __init__(self, folder_or_file: Path, extra_tokens: bool = False) -> None:
        settings = load_settings()
        self.assistant, index, self.passages, self.alias = _open(settings, folder_or_file, None)
        chunks = index.chunks
        self.ids = [c.chunk_id for c in chunks]
        self.doc = [c.doc_id for c in chunks]
        self.keys = {c.chunk_id: match_key(c.text) for c in chunks}
        rows = index.vectors.get(self.ids)
        self.vectors = np.stack([rows[i].vector for i in self.ids]).astype(np.float32)
        texts = [search_text(c) for c in chunks]
        self.bm25 = {mode: _Bm25([tokenize(t, mode) for t in texts]) for mode in TOKENS}
        if extra_tokens:  # original-script tokens beside the normalized ones (the --tokens experiment)
            originals = [f"{fold(' '.join((c.title, *c.section_path)))} {fold(c.text)}" for c in chunks]
            for mode in TOKENS:
                self.bm25[mode + "+original"] = _Bm25([tokenize(t, mode) + original_tokens(o, mode)
                                                       for t, o in zip(texts, originals, strict=True)])
        self.baseline = BigramBM25(self.passages) if self.passages and folder_or_file.is_file() else None


def fold(text: str) -> str:
    """Width folding and whitespace as :func:`normalize`, but the script kept: ``遼寧 省`` → ``遼寧省``."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


@cache
def _changed(ch: str) -> bool:
    return to_simplified(ch) != ch


def original_tokens(text: str, mode: str) -> list[str]:
    """Tokens of the original script that normalization changes, prefixed ``o:`` (``遼寧`` → ``o:遼寧``)."""
    return ["o:" + t for t in tokenize(fold(text).lower(), mode) if any(_changed(c) for c in t)]


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
        """BM25 of every chunk and the question's mass (summed IDF of its distinct tokens, unknown at the maximum).

        ``o:`` tokens the index does not hold count nothing in the mass (their normalized twin already counts).
        """
        scores = np.zeros(self.n)
        for token, repeat in Counter(tokens).items():
            if token in self.postings:
                rows, tf = self.postings[token]
                norm = K1 * ((1 - B) + B * self.lengths[rows] / self.avg)
                scores[rows] += repeat * self.idf[token] * tf / (norm + tf)
        mass = sum(self.idf.get(t, 0.0 if t.startswith("o:") else self.unknown) for t in set(tokens))
        return scores, mass

    def term_idf(self, term: str, mode: str) -> float:
        """The bm25 store's ``term_idf``: 0 unless every token of the term is indexed, else their largest IDF."""
        tokens = tokenize(normalize(term), mode)
        if not tokens or any(t not in self.idf for t in tokens):
            return 0.0
        return max(self.idf[t] for t in tokens)


def questions(corpus: Corpus, path: Path, exclude: list[Path] = (), limit: int | None = None,
              split: str | None = None, lang: str | None = None, convert: object = None) -> list[dict]:
    """Questions with their relevant sets: chunk ids (item files) or passage ids (shared/bench files).

    ``convert`` rewrites each bench question (OpenCC to the other script); ``lang`` keeps items of one language.
    """
    if path.name.startswith(("dev", "trust", "questions.jsonl")) or "policy_synth" in str(path):
        items = [i for i in load_eval_set(path) if i.type in RETRIEVAL_TYPES and (split is None or i.split == split)
                 and (lang is None or i.lang == lang)]
        return [{"question": i.question, "relevant": set().union(*relevant_sets(corpus.keys, i.evidence)),
                 "level": "chunk", "lang": i.lang, "split": i.split} for i in items]
    dropped = set().union(*(read_ids(p) for p in exclude)) if exclude else set()
    rows = [r for r in load_questions(path) if str(r["id"]) not in dropped]
    if limit:
        random.Random(0).shuffle(rows)
        rows = rows[:limit]
    return [{"question": convert(r["question"]) if convert else r["question"], "level": "doc",
             "relevant": {corpus.alias.get(str(g), str(g)) for g in r["gold_passage_ids"]}} for r in rows]


def _embed(corpus: Corpus, norms: list[str]) -> np.ndarray:
    """Query vectors, cached on disk by model and question text (re-runs skip the model)."""
    model = corpus.assistant.embedder.model_id
    digest = hashlib.sha256("\n".join([model, *norms]).encode()).hexdigest()[:16]
    cache = scratch_dir("tune-cache") / f"{digest}.npy"
    if cache.exists():
        return np.load(cache)
    vectors = np.asarray(corpus.assistant.embedder.embed_queries(norms), dtype=np.float32)
    np.save(cache, vectors)
    return vectors


def prepare(corpus: Corpus, qs: list[dict], expansions: tuple[str, ...] = EXPANSIONS) -> None:
    """Cosines and BM25 scores of every chunk for each question, per token kind and expansion variant."""
    terms, bridge = load_terms(), load_bridge()
    norms = [normalize(q["question"]) for q in qs]
    for q, norm, vector in zip(qs, norms, _embed(corpus, norms), strict=True):
        q["cos"] = corpus.vectors @ vector
        for mode, bm25 in corpus.bm25.items():
            for expansion in expansions:
                text = keyword_query(norm, expansion, terms, bridge, lambda t, b=bm25, m=mode: b.term_idf(t, m))
                tokens = tokenize(text, mode.removesuffix("+original"))
                if mode.endswith("+original"):
                    tokens += original_tokens(q["question"], mode.removesuffix("+original"))
                q[(mode, expansion)] = bm25.scores(tokens)
        if corpus.baseline is not None:
            q["baseline"] = [corpus.alias.get(p, p) for p in corpus.baseline.search(q["question"], 10)]


def keyword_query(norm: str, expansion: str, terms: object, bridge: object, known: object) -> str:
    """The keyword query of one expansion variant (``off``, ``table``, ``bridge<n>-<order>[-verbs]``, ``…-replace``;
    ``table-noenglish`` and ``dictonly…``: the same without the English part of the term table)."""
    replace = expansion.endswith("-replace")
    expansion = expansion.removesuffix("-replace")
    verbs = expansion.endswith("-verbs")
    expansion = expansion.removesuffix("-verbs")
    if expansion == "off":
        return norm
    if expansion.startswith(("dictonly", "table-noenglish")):
        terms = TermTable(terms.colloquial, {})
        expansion = expansion.replace("dictonly", "bridge").replace("table-noenglish", "table")
    if expansion == "table":
        return expand_query(norm, terms, replace=replace)
    per_key, order = int(expansion[6]), expansion.split("-", 1)[1]
    return expand_query(norm, terms, lambda rest: bridge.match(rest, known, per_key, order, verbs), replace)


def rank(q: dict, config: tuple, candidates: int = 50) -> list[int]:
    """Chunk rows, best first, for one configuration ``(tokens, expansion, fusion, parameter)``."""
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


def _metrics(ranked: list[str], relevant: set[str]) -> np.ndarray:
    first = next((i for i, cid in enumerate(ranked[:10], 1) if cid in relevant), None)
    return np.array([first == 1, first is not None and first <= 5, 1 / first if first else 0.0])


def score(corpus: Corpus, qs: list[dict], config: tuple | str) -> tuple[float, float, float]:
    """hit@1, hit@5 and MRR@10 of a configuration, or of ``"baseline"`` (passages rank where their best chunk ranks)."""
    totals = np.zeros(3)
    for q in qs:
        if config == "baseline":
            totals += _metrics(q["baseline"], q["relevant"])
            continue
        ranked = [corpus.ids[r] if q["level"] == "chunk" else corpus.doc[r] for r in rank(q, config)]
        totals += _metrics(list(dict.fromkeys(ranked)), q["relevant"])
    return tuple(float(v) for v in totals / max(len(qs), 1))


def margin(cells: dict[str, tuple[float, ...]], baselines: dict[str, tuple[float, ...]]) -> float:
    """The smallest (ours - baseline) over the sets that have a baseline and the three metrics.

    Example: ``margin({"a": (0.9, 1.0, 0.95)}, {"a": (0.92, 0.99, 0.94)})`` → ``-0.02`` (hit@1 is 0.02 below).
    """
    return min(ours - base for name, base_cells in baselines.items()
               for ours, base in zip(cells[name], base_cells, strict=True))


def choose(results: list[tuple[tuple, dict[str, tuple[float, ...]]]], baselines: dict[str, tuple[float, ...]],
           dev: str = "dev tune", english: str = "en tune") -> tuple[tuple, str]:
    """The objective's choice: best dev MRR@10 among configurations at or above every baseline, else largest margin.

    Args:
        results: ``(config, {set name: (hit@1, hit@5, MRR@10)})`` per configuration.
        baselines: ``{set name: (hit@1, hit@5, MRR@10)}`` of the baseline on the sets that have one.
        dev: The set whose MRR@10 decides among the feasible configurations.
        english: The set whose MRR@10 breaks the remaining ties (when present).

    Returns:
        The chosen configuration and why, in words. Remaining ties go to the earliest configuration.
    """
    scored = [(config, margin(cells, baselines), cells[dev][2], cells.get(english, (0, 0, 0))[2])
              for config, cells in results]
    feasible = [r for r in scored if r[1] >= 0]
    if feasible:
        config, m, mrr, en = max(feasible, key=lambda r: (r[2], r[1], r[3]))
        return config, (f"{len(feasible)} of {len(scored)} configurations are at or above the baseline on every bench "
                        f"tuning set and metric; of those, best {dev} MRR@10 ({mrr:.4f}, margin {m:+.4f}, "
                        f"{english} {en:.4f})")
    config, m, mrr, en = max(scored, key=lambda r: (r[1], r[2], r[3]))
    return config, (f"no configuration is at or above the baseline everywhere; largest margin {m:+.4f} "
                    f"({dev} MRR@10 {mrr:.4f}, {english} {en:.4f})")


def _cell(values: tuple[float, ...]) -> str:
    return "/".join(f"{v:.3f}" for v in values)


def _row(config: tuple) -> str:
    return f"| {config[0]} | {config[1]} | {config[2]} | {config[3] or ''} | "


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default="../shared/bench", type=Path)
    parser.add_argument("--limit", default=1000, type=int, help="tuning questions per bench set")
    parser.add_argument("--report", action="store_true", help="also print the held-out sets for three configurations")
    parser.add_argument("--tokens", action="store_true", help="also print BM25 alone per token kind, original-script "
                        "tokens included")
    args = parser.parse_args()
    corpora = {"dev": Corpus(Path("corpus")),
               "drcd": Corpus(args.bench / "drcd/corpus.jsonl", args.tokens),
               "cmrc": Corpus(args.bench / "cmrc2018/corpus.jsonl", args.tokens)}
    bench = {"drcd": ("sample.jsonl", "sample.simplified.jsonl"), "cmrc": ("sample.jsonl", "sample.traditional.jsonl")}
    other = {"drcd": ("simplified", to_simplified), "cmrc": ("traditional", to_traditional)}
    tune = {"dev tune": ("dev", questions(corpora["dev"], Path("eval/dev.jsonl"), split="tune")),
            "en tune": ("dev", questions(corpora["dev"], Path("eval/dev.jsonl"), split="tune", lang="en")
                        + questions(corpora["dev"], Path("eval/trust.jsonl"), split="tune", lang="en"))}
    for name, folder in (("drcd", "drcd"), ("cmrc", "cmrc2018")):
        same = "traditional" if name == "drcd" else "simplified"
        for script, convert in ((same, None), other[name]):
            tune[f"{name} tune {script}"] = (name, questions(
                corpora[name], args.bench / folder / "questions_all.jsonl",
                [args.bench / folder / f for f in bench[name]], args.limit, convert=convert))
    for corpus_name, qs in tune.values():
        prepare(corpora[corpus_name], qs)
    baselines = {n: score(corpora[c], qs, "baseline") for n, (c, qs) in tune.items() if corpora[c].baseline is not None}
    if args.tokens:
        print("BM25 alone (no expansion), hit@1/hit@5/MRR@10:\n\n| tokens | " + " | ".join(baselines) + " |\n"
              + "|---|" + "---|" * len(baselines))
        print("| bigram BM25 baseline | " + " | ".join(_cell(v) for v in baselines.values()) + " |")
        for mode in corpora["drcd"].bm25:
            print(f"| {mode} | " + " | ".join(_cell(score(corpora[tune[n][0]], tune[n][1], (mode, "off", "bm25", None)))
                                            for n in baselines) + " |", flush=True)
        print()
    configs = [(tokens, expansion, "bm25", None) for tokens in TOKENS for expansion in EXPANSIONS[:3]]
    configs += [("bigram", "off", "dense", None)]
    configs += [(tokens, "off", "weighted", 0.6) for tokens in TOKENS]  # the old default
    configs += [(tokens, expansion, "weighted", 0.4) for tokens in TOKENS for expansion in EXPANSIONS]
    configs += [(tokens, expansion, "calibrated", s) for tokens in TOKENS for expansion in EXPANSIONS
                for s in (1.5, 2.0, 3.0, 4.0, 6.0)]
    print("Tuning questions: " + ", ".join(f"{n} {len(q)}" for n, (_, q) in tune.items()) + "\n")
    print("| tokens | expansion | fusion | parameter | " + " | ".join(f"{n} h@1/h@5/mrr" for n in tune)
          + " | margin | mean mrr |")
    print("|---|---|---|---|" + "---|" * (len(tune) + 2))
    print("| bigram BM25 baseline | | | | " + " | ".join(_cell(baselines[n]) if n in baselines else "" for n in tune)
          + " | | |")
    results = []
    for config in configs:
        cells = {n: score(corpora[c], qs, config) for n, (c, qs) in tune.items()}
        mean = float(np.mean([cells[n][2] for n in ("dev tune", *baselines)]))
        results.append((config, cells))
        print(_row(config) + " | ".join(_cell(c) for c in cells.values())
              + f" | {margin(cells, baselines):+.4f} | {mean:.4f} |", flush=True)
    fused = [(c, cells) for c, cells in results if c[2] in ("calibrated", "weighted")]
    chosen, why = choose(fused, baselines)
    by_mean = max(fused, key=lambda r: np.mean([r[1][n][2] for n in ("dev tune", *baselines)]))[0]
    print(f"\nChosen by the objective: {chosen}: {why}")
    print(f"Chosen by mean MRR@10 (dev tune and the bench tuning sets), for comparison: {by_mean}")
    with_bridge = english_table(corpora["dev"], tune, chosen)
    if args.report:
        report(args, corpora, bench, other, [("old default", ("bigram", "off", "weighted", 0.6)),
                                             ("first round", ("bigram", "table", "calibrated", 4.0)),
                                             ("mean choice", by_mean), ("objective's choice", chosen),
                                             ("objective's choice + bridge", with_bridge)])


def english_table(dev: Corpus, tune: dict[str, tuple[str, list[dict]]], chosen: tuple) -> tuple:
    """English rows per expansion at the chosen tokens and fusion, the dictionary alone included; the bridge variant
    with the best en-tune MRR@10 (ties: the earliest) is returned for the held-out report."""
    for name in ("dev tune", "en tune"):
        prepare(dev, tune[name][1], DICT_ONLY)
    print(f"\nEnglish: expansion variants at {chosen[0]} tokens, {chosen[2]} {chosen[3]} (hit@1/hit@5/MRR@10)\n\n"
          "| expansion | en tune | dev tune |\n|---|---|---|")
    best: tuple[float, tuple] | None = None
    for expansion in (*EXPANSIONS, *DICT_ONLY):
        config = (chosen[0], expansion, chosen[2], chosen[3])
        english = score(dev, tune["en tune"][1], config)
        print(f"| {expansion} | {_cell(english)} | {_cell(score(dev, tune['dev tune'][1], config))} |")
        if expansion.startswith("bridge") and (best is None or english[2] > best[0]):
            best = (english[2], config)
    return best[1]


def report(args: argparse.Namespace, corpora: dict[str, Corpus], bench: dict, other: dict,
           configs: list[tuple[str, tuple]]) -> None:
    """hit@1/hit@5/MRR@10 of some configurations on the held-out sets (nothing is chosen here)."""
    dev_test = questions(corpora["dev"], Path("eval/dev.jsonl"), split="test")
    held = {"dev test": (corpora["dev"], dev_test),
            "dev test en": (corpora["dev"], [q for q in dev_test if q["lang"] == "en"])}
    policy = Corpus(Path("eval/corpora/policy_synth/corpus"))
    synth = questions(policy, Path("eval/corpora/policy_synth/questions.jsonl"))
    held["policy_synth"] = (policy, synth)
    held["policy_synth en"] = (policy, [q for q in synth if q["lang"] == "en"])
    held["policy_synth test en"] = (policy, [q for q in synth if q["lang"] == "en" and q["split"] == "test"])
    for name, folder in (("drcd", "drcd"), ("cmrc", "cmrc2018")):
        for file in bench[name]:
            held[f"{name} {file}"] = (corpora[name], questions(corpora[name], args.bench / folder / file))
    print("\n| held-out set | baseline | " + " | ".join(f"{n} {c}" for n, c in configs) + " |\n|---|---|"
          + "---|" * len(configs))
    for name, (corpus, qs) in held.items():
        prepare(corpus, qs, tuple(dict.fromkeys(c[1] for _, c in configs)))
        base = _cell(score(corpus, qs, "baseline")) if corpus.baseline is not None else ""
        print(f"| {name} ({len(qs)}) | {base} | " + " | ".join(_cell(score(corpus, qs, c)) for _, c in configs) + " |",
              flush=True)


if __name__ == "__main__":
    main()
