"""Decide: whether the evidence answers the question (calibrated support, refusal) and which sentences answer it.

Support is a logistic model over a few features of the evidence (topic coverage of the best sentences, whether they
hold the kind of answer asked for, dense similarity, unknown words), with weights chosen by
``scripts/calibrate.py`` on the tune splits of several corpora and stored in ``answer.refusal_weights``.
The question's scope (place, year) is not part of support: evidence on the topic for another year or place is
answered with a scope notice (:mod:`.scope`), never presented as the answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from ..search.sentences import sentence_id
from ..settings import REFUSAL_FEATURES, AnswerSettings
from ..text.script import normalize
from ..types import DocumentInfo, Hit
from .evidence import Coverage, IdfTable, Question, Scored, spans_of
from .scope import EvidenceScope, evidence_scope, indicator_elsewhere, indicator_mismatch, scope_mismatches, stock_flow_mismatch

FEATURES = REFUSAL_FEATURES  # the support model's features, in the order of ``answer.refusal_weights``
# How much a scope-matching sentence may trail the best one and still answer instead of it.
SCOPE_MARGIN = 0.3
RAREST = 2  # topic bigrams the ``rarest`` feature looks for


def features(question: Question, scored: Sequence[Scored], hits: Sequence[Hit], cover: Coverage,
             idf: IdfTable, sentence_cosines: Callable[[list[str]], dict[str, float]] | None = None) -> dict[str, float]:
    """The support model's features for a question and its scored evidence.

    ``topic``: best topic coverage of a sentence of the top 3 chunks (with its headings); ``fit_topic``: the same
    for sentences that hold the kind of answer asked (times the fit); ``lexical``: best chunk coverage of the whole
    question; ``dense``: best cosine of the top 3; ``dense_gap``: first minus last cosine of the hits;
    ``sentence_dense``: best cosine of the question with the three best sentences (``sentence_cosines`` looks them
    up in the index's sentence vectors; ``dense`` when there are none); ``oov``: IDF
    share of the topic no chunk has; ``quote``: how much of the phrases the question quotes (a section name) the
    hits hold; ``short``: under 3 topic bigrams, or under 3 words in Latin script (noise, greetings); ``rarest``: the
    share of the topic's :data:`RAREST` rarest bigrams (highest IDF) in the best answering sentence or its headings.
    """
    # An English question's words reach the passages through translations, which rank them loosely: all hits count.
    top = [s for s in scored if s.rank < (3 if question.script != "latin" else len(hits))]
    topic = max((s.topic for s in top), default=0.0)

    def answering(s: Scored) -> float:  # how well a sentence answers: its topic, times its fit when a kind is asked
        return s.topic * s.fit if question.asks != "other" else s.topic

    best = max(top, key=answering, default=None)  # the best answering sentence
    fit_topic = answering(best) if best is not None else 0.0
    lexical = 0.0
    for hit in hits[:3]:
        heading = " ".join(hit.chunk.section_path)
        lexical = max(lexical, cover(question.wanted, heading + " " + hit.chunk.text_norm, question.extra))
    cosines = [h.dense_score or 0.0 for h in hits]
    dense = max(cosines[:3], default=0.0)
    keys = [sentence_id(s.sentence.hit.chunk.chunk_id, s.sentence.start) for s in top[:3]]
    sentence_dense = max((sentence_cosines(keys) if sentence_cosines and keys else {}).values(), default=dense)
    latin = float(question.script == "latin")
    mass = sum(idf(t) for t in question.asked_topic)
    oov = sum(idf(t) for t in question.asked_topic if not idf.known(t)) / mass if mass else 1.0
    quote = 0.0
    for phrase in question.quoted:  # a quoted section name or slogan: found in a heading or the text of the hits
        grams = {phrase[i : i + 2] for i in range(len(phrase) - 1)}
        found = max((sum(1 for g in grams if g in normalize(" ".join(h.chunk.section_path)) + h.chunk.text_norm)
                     for h in hits[:3]), default=0)
        quote += found / len(grams) / len(question.quoted)
    # A near miss (one rate asked, a sentence on another rate found) shares the topic's common words, not its rarest.
    rare_terms = sorted(question.topic, key=lambda t: (-idf(t), t))[:RAREST]
    rarest = 0.0
    if best is not None and rare_terms:
        where = best.sentence.norm + " " + normalize(" ".join(best.sentence.hit.chunk.section_path))
        rarest = sum(1 for t in rare_terms if t in where) / len(rare_terms)
    words = re.findall(r"[A-Za-z]{2,}", question.norm)
    short = len(words) < 3 if latin else len(question.topic) < 3
    return {
        "topic": topic,
        "fit_topic": fit_topic,
        "unfit": max(0.0, topic - fit_topic),
        "lexical": lexical,
        "dense": dense,
        "dense_gap": (cosines[0] - cosines[-1]) if len(cosines) > 1 else 0.0,
        "sentence_dense": sentence_dense,
        "latin": latin,
        "latin_dense": latin * dense,
        "oov": oov,
        "quote": quote,
        "short": float(short),
        "specific": float(question.asks != "other"),
        "rarest": rarest,
    }


def support(values: dict[str, float], settings: AnswerSettings) -> float:
    """The calibrated probability that the evidence answers the question: a logistic model over :data:`FEATURES`.

    Example: with weights ``{"bias": -4, "fit_topic": 6}``, ``fit_topic`` 0.9 → ``1 / (1 + e^-1.4)`` ≈ 0.80.
    """
    weights = settings.refusal_weights
    z = weights.get("bias", 0.0) + sum(weights.get(name, 0.0) * values.get(name, 0.0) for name in FEATURES)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def choose(question: Question, scored: Sequence[Scored], texts: dict[str, str],
           documents: dict[str, DocumentInfo]) -> tuple[list[Scored], list[dict[str, str]]]:
    """Order the sentences for the answer, those that fit the question's scope first; the scope mismatches left.

    When the best sentence fits, sentences of another scope are dropped from the answer.

    A sentence whose time and place fit the question answers when its score is within :data:`SCOPE_MARGIN` of the
    best; otherwise the best sentence is kept and its mismatches are returned for the notice. Figure questions
    also check the indicator (``共有产权住房`` asked, ``保障性租赁住房`` found).
    """
    if not scored:
        return [], []
    scope = question.scope
    scopes: dict[int, EvidenceScope] = {}

    def mismatches(item: Scored) -> list[dict[str, str]]:
        key = id(item)
        if key not in scopes:
            sentence = item.sentence
            scopes[key] = evidence_scope(sentence, texts.get(sentence.hit.chunk.doc_id, ""),
                                         documents.get(sentence.hit.chunk.doc_id))
        # A figure belongs to exactly its year and place; so does anything an English question asks (what it asks
        # for cannot be told from its words here).
        strict = question.asks == "figure" or question.script == "latin"
        found = scope_mismatches(scope, scopes[key], strict) if not scope.empty else []
        if question.asks == "figure" and question.scope.indicator:
            heading = " ".join(item.sentence.hit.chunk.section_path)
            spans = spans_of(question, item.sentence.text, False)
            other = (indicator_mismatch(question.scope.indicator, item.sentence.norm, heading)
                     or indicator_elsewhere(question.scope.indicator, item.sentence.text, spans)
                     or stock_flow_mismatch(question.norm, item.sentence.text, spans))
            if other:
                found.append(other)
        return found

    if question.asks != "other" and any(s.fit > 0 for s in scored):
        # A sentence that holds the kind of answer asked comes before one that only shares words.
        scored = sorted(scored, key=lambda s: (s.fit == 0, -s.score))
    best = scored[0]
    best_mismatch = mismatches(best)
    if not best_mismatch:
        # Sentences after the answer that speak of another year or place (Liaoning's 2020 figure under a question
        # about Shenyang in 2021) would read as part of the answer: they are left out.
        return [best, *(s for s in scored[1:] if scope.empty or not mismatches(s))], []
    # English questions share no words with the passages, so their sentences are barely ranked: any sentence of
    # the top chunks that fits the scope answers.
    margin = SCOPE_MARGIN if question.script != "latin" else math.inf
    for item in scored[1:]:
        if item.score < best.score - margin or (question.asks != "other" and item.fit == 0):
            break
        if item.rank < 3 and not mismatches(item):
            return [item, *[s for s in scored if s is not item]], []
    return list(scored), best_mismatch
