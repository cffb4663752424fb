"""Answer service: questions and claims over one open index version, official documents first.

Wires the answer stages for the facade: search (official documents, then uploads when there are any), evidence
and refusal (:mod:`.answer`), optional LLM writing (:mod:`.generate`), claim comparison (:mod:`.claims`) and
provenance (:mod:`.provenance`). Everything derived from the index version (IDF table, normalized corpus) is built
once per version, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..search.index import IndexSnapshot
from ..search.retrieve import Filters, Retriever
from ..search.sentences import cosines
from ..settings import Settings
from ..text.script import normalize
from ..types import Answer, Hit, Verdict
from .answer import Extractor, idf_table
from .claims import check_claim
from .evidence import Evidence
from .followup import clarification, conversation_turns, resolve_followup
from .judge import Judge, make_judge
from .provenance import answer_conflicts, official_first_verdict, upload_answer, usable_upload_hits

OFFICIAL = Filters(sources=("corpus",))
# Where the judge decides: support from threshold + JUDGE_BAND[0] up to threshold + JUDGE_BAND[1] (rules unsure).
JUDGE_BAND = (-0.2, 0.3)
UPLOADS = Filters(sources=("upload",))


def query_terms(retriever: Retriever, question: str) -> list[str]:
    """The Chinese official terms the retriever's query expansion gives a question's words (``[]`` when none).

    Example: ``How many 5G base stations will Shenyang build?`` → ``['5G基站', '基站', '沈阳', …]``;
    ``辽宁的芯片产业到2025年要做到多大规模？`` → ``['集成电路']``.
    """
    norm = normalize(question)
    return [t for t in retriever.keyword_query(norm)[len(norm) :].split() if not t.isascii()]


def sentence_cosines(retriever: Retriever, question: str) -> Callable[[list[str]], dict[str, float]] | None:
    """The question's cosines with the index's sentence vectors, by sentence key (``None``: the index keeps none)."""
    store = retriever.index.sentences
    if store is None:
        return None
    # The vector its search computed (for an English question, averaged with its translation's: the mean of the
    # two cosines).
    vector = retriever.sentence_query(normalize(question))
    return lambda keys: cosines(store, vector, keys)


class AnswerService:
    """Answers and verdicts over one index snapshot.

    Args:
        settings: Answer settings (backend, thresholds, ``exclude_uploads``).
        snapshot: The open index version.
        retriever: Search over that version.
    """

    def __init__(self, settings: Settings, snapshot: IndexSnapshot, retriever: Retriever) -> None:
        self.settings, self.snapshot, self.retriever = settings, snapshot, retriever
        self._extractor: Extractor | None = None
        self._judge: Judge | None = None
        self._corpus_norm: str | None = None
        self._lock = threading.Lock()
        self.has_uploads = any(info.source == "upload" for info in snapshot.documents.values())

    @property
    def extractor(self) -> Extractor:
        """The extractive answerer (its IDF table is built once per index version)."""
        with self._lock:
            if self._extractor is None:
                self._extractor = Extractor(self.settings.answer, idf_table([c.text_norm for c in self.snapshot.chunks]))
            return self._extractor

    @property
    def corpus_norm(self) -> str:
        """Every document's text normalized (a claim about a place no document names is not_found)."""
        with self._lock:
            if self._corpus_norm is None:
                self._corpus_norm = "\n".join(normalize(t) for t in self.snapshot.document_texts().values())
            return self._corpus_norm

    def _uploads_used(self) -> bool:
        return self.has_uploads and not self.settings.answer.exclude_uploads

    def _search(self, text: str, filters: Filters | None) -> list[Hit]:
        return self.retriever.search(text, k=self.settings.answer.top_k, filters=filters)

    def ask(self, question: str, history: Sequence[str | Answer] | None = None, backend: str | None = None) -> Answer:
        """Answer a question with citations, or refuse with the closest sections (see ``Assistant.ask``).

        ``history``: earlier questions as typed, or earlier answers (their resolved questions and cited years), oldest
        first; a follow-up is resolved against them, and one with nothing to attach to asks for clarification.
        """
        turn = resolve_followup(question, conversation_turns(history or []))
        if turn.needs_clarification:
            return clarification(question, backend or self.settings.answer.backend)
        query = turn.text or question
        official_filter = OFFICIAL if self.has_uploads else None
        answer = self._answer(question, query, self._search(query, official_filter), backend)
        if self._uploads_used():
            upload_hits, ignored = usable_upload_hits(self._search(query, UPLOADS))
            extra: dict = {"ignored_uploads": ignored} if ignored else {}
            if answer.refused and upload_hits:
                from_uploads = self._answer(question, query, upload_hits, backend)
                if not from_uploads.refused:
                    answer = upload_answer(from_uploads)
            elif not answer.refused:
                conflicts = answer_conflicts(answer, upload_hits, self.snapshot.document_texts())
                if conflicts:
                    extra["conflicts"] = conflicts
            if extra:
                answer = replace(answer, extra={**answer.extra, **extra})
        followup = {"carried": list(turn.carried)} if turn.is_followup else {}
        return replace(answer, extra={**answer.extra, "resolved_question": query, **followup})

    def _answer(self, question: str, query: str, hits: list[Hit], backend: str | None) -> Answer:
        backend = backend or self.settings.answer.backend
        texts = self.snapshot.document_texts()
        documents = self.snapshot.documents
        extractor = self.extractor
        evidence = extractor.evidence(query, hits, None, texts, documents, query_terms(self.retriever, query),
                                      sentence_cosines(self.retriever, query))
        evidence = self._judged(query, evidence)
        if backend == "extractive":
            return extractor.answer(question, evidence, documents, "extractive", hits, texts)
        from .generate import generate_answer

        return generate_answer(question, evidence, hits, documents, texts, self.settings, backend, extractor,
                               query=query)

    @property
    def judge(self) -> Judge | None:
        """The semantic judge ``answer.judge`` names (``None`` for ``rules``), made once."""
        with self._lock:
            if self._judge is None and self.settings.answer.judge != "rules":
                self._judge = make_judge(self.settings)
            return self._judge

    def _judged(self, question: str, evidence: Evidence) -> Evidence:
        """Let the judge decide where the rules are unsure: support within ``JUDGE_BAND`` of the refusal threshold.

        The judge's score (USE similarity or LLM P(是) of the best answer sentences) replaces the rules' decision
        there: at or above ``answer.judge_threshold`` the question is answered, below it refused. Elsewhere, and for
        noise, the rules decide alone (``judge`` stays ``rules``).
        """
        judge, threshold = self.judge, self.settings.answer.refusal_threshold
        low, high = JUDGE_BAND
        if judge is None or evidence.extra.get("noise") or not threshold + low <= evidence.support < threshold + high:
            return evidence
        passages = [sentence.text for _, sentence in evidence.sentences[:2]]
        score = judge.score(question, passages) if passages else 0.0
        yes = score >= self.settings.answer.judge_threshold
        support = max(evidence.support, threshold) if yes else min(evidence.support, threshold - 1e-6)
        return replace(evidence, support=support, judge=judge.name,
                       extra={**evidence.extra, "judge_score": round(score, 4), "rules_support": round(evidence.support, 4)})

    def check(self, claim: str) -> Verdict:
        """Check a claim: the official documents decide; uploads only where those say nothing (see ``Assistant.check``)."""
        texts = self.snapshot.document_texts()
        documents = self.snapshot.documents

        def verdict(hits: list[Hit]) -> Verdict:
            return check_claim(claim, hits, texts, documents, self.settings.answer, self.corpus_norm)

        official = verdict(self._search(claim, OFFICIAL if self.has_uploads else None))
        if not self._uploads_used():
            return official
        upload_hits, ignored = usable_upload_hits(self._search(claim, UPLOADS))
        result = official_first_verdict(official, verdict(upload_hits) if upload_hits else None)
        return replace(result, extra={**result.extra, "ignored_uploads": ignored}) if ignored else result
