"""Answer: extractive answers from retrieved chunks — evidence, the refusal decision, the scope notice, the text.

The stages live in their own modules: :mod:`.evidence` (question analysis, sentence scoring), :mod:`.scope`
(time and place of a figure), :mod:`.decide` (support, which sentences answer), :mod:`.compose` (the text);
:class:`Extractor` runs them in order. A scope-notice answer ("文件中没有沈阳2024年的数字；…") is ``refused``: the
question as asked is not answered; it carries ``scope_mismatch`` and cites the figure the documents do give.
"""

from __future__ import annotations

from collections.abc import Callable

from ..prompts import refusal_for
from ..settings import AnswerSettings
from ..types import Answer, DocumentInfo, Hit
from . import compose
from .compose import make_citation
from .decide import choose, features, support
from .evidence import Coverage, Evidence, IdfTable, Sentence, analyze, content_bigrams, idf_table, score_sentences, sentence_spans

__all__ = [
    "Evidence", "Extractor", "Sentence", "content_bigrams", "idf_table", "make_citation", "sentence_spans",
]


class Extractor:
    """Selects, scores and cites the sentences that answer a question.

    Args:
        settings: Answer settings (sentences per answer, support model, refusal threshold).
        idf: Inverse document frequency of a bigram over the indexed chunks.
    """

    def __init__(self, settings: AnswerSettings, idf: IdfTable) -> None:
        self.settings, self.idf = settings, idf
        self.cover = Coverage(idf)

    def evidence(self, question: str, hits: list[Hit], dense_cosines: list[float] | None, texts: dict[str, str],
                 documents: dict[str, DocumentInfo] | None = None, terms: list[str] | None = None,
                 sentence_cosines: Callable[[list[str]], dict[str, float]] | None = None) -> Evidence:
        """Score the sentences of the hits, estimate support and find scope mismatches.

        Args:
            question: The question as asked.
            hits: Retrieved chunks, best first (their ``dense_score`` is the question's cosine).
            dense_cosines: Unused (kept for callers; the hits carry their cosines).
            texts: Cleaned document texts by doc id (quotes are cut from them).
            documents: Document metadata (date, region, title: the scope of each figure).
            terms: Official Chinese terms of the question's words (the retriever's query expansion): an English
                question's topic, a Chinese question's alternative wording (芯片 → 集成电路).
            sentence_cosines: The question's cosines with the index's sentence vectors by key (``None``: the index
                keeps none; support then reads the chunks' cosines).

        Returns:
            The ranked sentences (the answer's first, scope-fitting ones before others), support, features, the
            analysed question and the scope mismatches of the chosen evidence.
        """
        del dense_cosines
        documents = documents or {}
        asked = analyze(question).translated(terms or [])
        q = asked.known(self.idf)
        scored = score_sentences(q, hits, texts, self.cover)
        values = features(q, scored, hits, self.cover, self.idf, sentence_cosines)
        ordered, mismatch = choose(q, scored, texts, documents)
        noise = not any(self.idf.known(t) for t in asked.topic) if q.script != "latin" else values["short"] > 0
        value = 0.0 if noise else support(values, self.settings)
        ranked = [(s.score, s.sentence) for s in ordered]
        return Evidence(ranked, value, values, q, tuple(mismatch), "rules", {"noise": noise})

    def support(self, values: dict[str, float]) -> float:
        """The calibrated support for a feature dict (see :func:`.decide.support`)."""
        return support(values, self.settings)

    def answer(self, question: str, evidence: Evidence, documents: dict[str, DocumentInfo], backend: str = "extractive",
               closest: list[Hit] | None = None, texts: dict[str, str] | None = None) -> Answer:
        """Compose the extractive answer, a scope-notice answer or a refusal from scored evidence.

        Args:
            question: The question as asked (its script decides the answer's script).
            evidence: Output of :meth:`evidence`.
            documents: Document metadata for citations.
            backend: Name recorded in the answer.
            closest: Hits to show as closest sections on refusal.
            texts: Cleaned document texts (needed for refusals' closest-section quotes).
        """
        q = evidence.question or analyze(question)
        script = q.script
        extra: dict = {
            "support": round(evidence.support, 4),
            "features": {k: round(v, 4) for k, v in evidence.features.items()},
            "judge": evidence.judge,
        }
        if "judge_score" in evidence.extra:
            extra["judge_score"] = evidence.extra["judge_score"]
        if evidence.support < self.settings.refusal_threshold or not evidence.sentences:
            citations = compose.closest(closest or [], documents, texts or {})
            return Answer(question, refusal_for(script), True, backend, tuple(citations), extra)
        if evidence.scope_mismatch:
            chosen = compose.pick(evidence.sentences[:1], 1)
            text = compose.notice_text(q.scope, evidence.scope_mismatch, chosen, documents, script, q.asks == "figure")
            extra["scope_mismatch"] = [dict(m) for m in evidence.scope_mismatch]
            return Answer(question, text, True, backend, tuple(compose.cite(chosen, documents)), extra)
        chosen = compose.pick(evidence.sentences, self.settings.max_sentences)
        if script == "latin":
            text = compose.english_text(chosen, documents)
        else:
            text = compose.plain_text(chosen, script)
        return Answer(question, text, False, backend, tuple(compose.cite(chosen, documents)), extra)
