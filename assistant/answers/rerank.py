"""Reranking: the first hybrid candidates (``retrieval.rerank_depth``) reordered by how well their sentences answer.

Fused search scores a chunk by its words and its embedding as a whole. The reranker reads the candidates the way
the answer step does (:mod:`.evidence`): the best sentence's coverage of the question's topic, whether it holds the
kind of answer asked for (a count in 户 for 多少户), the heading's coverage, a quoted phrase found or not, and
whether the chunk's place and years fit the question's scope. A linear model over these features (weights in
``retrieval.rerank_weights``, fitted pairwise on tuning questions of several corpora by
``scripts/tune_rerank.py``) orders them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..search.sentences import sentence_id
from ..text.periods import doc_year_of
from ..text.script import normalize
from ..types import Chunk, Hit
from .evidence import Coverage, Question, analyze, score_sentences

__all__ = ["FEATURES", "Reranker", "features"]

FEATURES = (
    "fused",  # the fused score minus the best candidate's
    "cosine",  # the e5 cosine
    "keyword",  # BM25 / the question's keyword mass: the share of the question's weight matched
    "sentence",  # the best sentence's answer score (topic, heading, answer fit), minus the best candidate's
    "sentence_topic",  # that sentence's topic coverage (with headings)
    "fit_any",  # some sentence holds the kind of answer asked (0 for questions that ask for no kind)
    "fit_best",  # the best sentence holds it
    "text_cover",  # the chunk text's coverage of the topic
    "heading_cover",  # the title and section path's coverage of the topic
    "quote_found",  # a phrase the question quotes is in the chunk or its headings
    "quote_own",  # ... in the chunk's text or its own (deepest) heading, not only in an enclosing one
    "own_heading_cover",  # the deepest heading's coverage of the topic
    "char_cover",  # the share of the topic's characters in the chunk (catches 两海 for 两个海)
    "place_match",  # a place the question names is in the chunk, its headings or its document's region
    "period_match",  # a year of the question's periods is in the chunk, its headings or its document's date
    "period_other",  # the question names periods, and the chunk's years are all outside them
    "inverse_rank",  # 1 / the fused rank
    "sentence_cosine",  # the best e5 cosine of the question with the chunk's two best-scoring sentences
)
SENTENCES_READ = 2  # a chunk's best-scoring sentences whose embeddings are compared with the question's
SentenceCosines = Callable[[list[str]], dict[str, float]]  # sentence keys → cosine with the question (known ones)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def _years(chunk: Chunk, blob: str) -> set[int]:
    years = {int(y) for y in _YEAR.findall(blob)}
    doc_year = doc_year_of(chunk.date)
    return years | {doc_year} if doc_year else years


def features(question: Question, hits: Sequence[Hit], keyword_mass: float, cover: Coverage,
             sentence_cosines: SentenceCosines | None = None) -> list[dict[str, float]]:
    """The reranking features of each hit (in the hits' order, see :data:`FEATURES`).

    Args:
        question: The analysed question (topic restricted to bigrams the index has, official terms added).
        hits: The fused candidates, best first (their scores as search returned them).
        keyword_mass: The keyword store's mass of the question's keyword query (0 when unknown).
        cover: IDF-weighted coverage over the index.
        sentence_cosines: The question's cosines with stored sentence vectors by key. A chunk none of whose best
            sentences has a vector gets its own cosine; without the lookup (an index that keeps no sentence
            vectors) ``sentence_cosine`` is 0 for every hit, so that it does not change the order.
    """
    asks_kind = question.asks != "other"
    quoted = [normalize(q).replace(" ", "") for q in question.quoted]
    periods = [(p.first, p.last) for p in question.scope.periods]
    chars = {ch for gram in question.topic for ch in gram if "\u4e00" <= ch <= "\u9fff"}
    rows: list[dict[str, float]] = []
    scored_by_hit = [score_sentences(question, [hit], None, cover) for hit in hits]
    keys = [[sentence_id(hit.chunk.chunk_id, s.sentence.start) for s in scored[:SENTENCES_READ]]
            for hit, scored in zip(hits, scored_by_hit, strict=True)]
    sentence_cos = sentence_cosines([k for ks in keys for k in ks]) if sentence_cosines else {}
    for hit, scored, hit_keys in zip(hits, scored_by_hit, keys, strict=True):
        chunk = hit.chunk
        best = scored[0] if scored else None
        heading = normalize(" ".join((chunk.title, *chunk.section_path)))
        blob = f"{heading} {chunk.text_norm}"
        flat = blob.replace(" ", "")
        place = any(p in flat or p in chunk.region for p in question.scope.places)
        years = _years(chunk, blob) if periods else set()
        period = any(first <= y <= last for first, last in periods for y in years)
        found = any(q in flat for q in quoted)
        present = set(chunk.text_norm)
        own_heading = normalize(chunk.section_path[-1]) if chunk.section_path else ""
        own = f"{own_heading}{chunk.text_norm}".replace(" ", "")
        rows.append({
            "fused": hit.score,
            "cosine": hit.dense_score or 0.0,
            "keyword": (hit.keyword_score or 0.0) / keyword_mass if keyword_mass else 0.0,
            "sentence": best.score if best else 0.0,
            "sentence_topic": best.topic if best else 0.0,
            "fit_any": max((s.fit for s in scored), default=0.0) if asks_kind else 0.0,
            "fit_best": best.fit if best and asks_kind else 0.0,
            "text_cover": cover(question.topic, chunk.text_norm, question.extra),
            "heading_cover": cover(question.topic, heading, question.extra),
            "quote_found": float(found),
            "quote_own": float(any(q in own for q in quoted)),
            "own_heading_cover": cover(question.topic, own_heading, question.extra),
            "char_cover": len(chars & present) / len(chars) if chars else 0.0,
            "place_match": float(place),
            "period_match": float(period),
            "period_other": float(bool(periods) and not period and bool(years)),
            "inverse_rank": 1.0 / hit.rank,
            "sentence_cosine": (max((sentence_cos[k] for k in hit_keys if k in sentence_cos),
                                    default=hit.dense_score or 0.0) if sentence_cosines else 0.0),
        })
    for name in ("fused", "sentence"):  # relative to the list's best: comparable across questions
        top = max((row[name] for row in rows), default=0.0)
        for row in rows:
            row[name] -= top
    return rows


class Reranker:
    """Reorders fused candidates with a linear model over :data:`FEATURES`.

    Args:
        weights: Feature name → weight (``retrieval.rerank_weights``); features without a weight count 0.
        cover: Returns the IDF coverage function of the open index (built once, shared with the answer step).
        terms: Returns the official Chinese terms of a question's words (the retriever's query expansion).
        sentence_cosines: Returns a question's lookup of its cosines with stored sentence vectors by key (``None``:
            the index keeps none).
    """

    def __init__(self, weights: dict[str, float], cover: Callable[[], Coverage],
                 terms: Callable[[str], list[str]],
                 sentence_cosines: Callable[[str], SentenceCosines | None] = lambda query: None) -> None:
        self.weights, self._cover, self._terms = weights, cover, terms
        self._sentence_cosines = sentence_cosines

    def question(self, query: str) -> Question:
        """The question analysed as the answer step analyses it."""
        cover = self._cover()
        return analyze(query).translated(self._terms(query)).known(cover.idf)  # type: ignore[arg-type]

    def features(self, query: str, hits: Sequence[Hit], keyword_mass: float) -> list[dict[str, float]]:
        """The features of each hit for this question (see :func:`features`)."""
        return features(self.question(query), hits, keyword_mass, self._cover(), self._sentence_cosines(query))

    def rerank(self, query: str, hits: list[Hit], keyword_mass: float) -> list[Hit]:
        """The hits in the model's order, ranks renumbered, each with the model's score (ties keep the fused order)."""
        if len(hits) < 2:
            return hits
        rows = self.features(query, hits, keyword_mass)
        values = [sum(self.weights.get(name, 0.0) * value for name, value in row.items()) for row in rows]
        order = sorted(range(len(hits)), key=lambda i: (-values[i], i))
        return [replace(hits[i], score=values[i], rank=rank) for rank, i in enumerate(order, start=1)]
