"""Answer: extractive answers from retrieved chunks, with exact quotes, and a calibrated refusal."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..prompts import ENGLISH_LEAD, refusal_for
from ..search.keyword import STOPWORDS, bigrams
from ..settings import AnswerSettings
from ..text.places import extract_places
from ..text.quantities import extract
from ..text.script import detect_script, normalize, to_simplified, to_traditional
from ..types import Answer, Citation, DocumentInfo, Hit

# A sentence end in either width, with closing quotes: "。", "；", "!”". Newlines also end a sentence.
_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』)）\"']*|\n+")
# Words that ask for a figure: "多少", "几个", "比重", "占比" (but not "哪几方面", which asks for a list).
_ASKS_FIGURE = re.compile(r"多少|(?<!哪)几[个条家项所亩年]|比重|占比|比例|多大|率|how (?:many|much)|what (?:share|percent)", re.I)
# What kind of figure a question asks for: "比例/占比/率" → percent, "投资/多少钱" → amount, "多少个/家" → count.
_EXPECTED_KIND = (
    (re.compile(r"比例|比重|占比|占多|百分之|%|增长率|增速|涨幅|覆盖率|率[是要达为]|what (?:share|percent)", re.I),
     {"percent", "points"}),
    (re.compile(r"投资|资金|投入|多少钱|多少元|金额|收入|产值|营业额|how much money", re.I), {"amount"}),
    (re.compile(r"多少[个家所项座条名户人亩台辆套万亿]|几[个条家项所]|how many", re.I), {"count", "number"}),
)
# Question words, cut out before taking bigrams so none spans into them: "是多少", "有哪些", "要占多少".
_QUESTION_WORDS = re.compile(
    r"多少|什么|哪些|哪个|哪里|怎么样?|怎样|如何|是否|为什么|请问|有没有|几[个项家条年]?|吗|呢|要|是|有|的|了|到|将|把|在|和|与|及"
)


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved chunk, located in the cleaned document."""

    hit: Hit
    start: int
    end: int
    text: str
    norm: str


@dataclass(frozen=True)
class Evidence:
    """Scored sentences for a question and the overall support for answering it."""

    sentences: list[tuple[float, Sentence]]
    support: float
    features: dict[str, float]


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    r"""Sentence spans of ``text`` shifted by ``offset``, surrounding whitespace trimmed.

    Example: ``"第三節 建設教育強省\\n\\n推進…。加快…。"`` → three spans (heading line, two sentences).
    """
    spans, position = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end() if match.group()[0] != "\n" else match.start()
        piece = text[position:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((offset + position + lead, offset + position + len(piece.rstrip())))
        position = match.end()
    if text[position:].strip():
        piece = text[position:]
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + position + lead, offset + position + len(piece.rstrip())))
    return spans


def content_bigrams(text_norm: str) -> set[str]:
    """Bigrams that carry the content of a question (question words and stopwords dropped).

    Example: ``辽宁到2025年数字经济要占多少`` → ``{'辽宁', '数字', '字经', '经济', '2025', …}``.
    """
    return {t for t in bigrams(_QUESTION_WORDS.sub(" ", text_norm)) if t not in STOPWORDS and len(t) > 1}


class Extractor:
    """Selects, scores and cites the sentences that answer a question.

    Args:
        settings: Answer settings (sentences per answer, refusal threshold).
        idf: Inverse document frequency of a bigram over the indexed chunks.
    """

    def __init__(self, settings: AnswerSettings, idf: Callable[[str], float]) -> None:
        self.settings, self.idf = settings, idf

    def _coverage(self, wanted: set[str], text_norm: str) -> float:
        if not wanted:
            return 0.0
        have = set(bigrams(text_norm))
        total = sum(self.idf(t) for t in wanted)
        return sum(self.idf(t) for t in wanted if t in have) / total if total else 0.0

    def evidence(self, question: str, hits: list[Hit], dense_cosines: list[float], texts: dict[str, str],
                 regions: dict[str, str] | None = None) -> Evidence:
        """Score every sentence of the top hits and estimate how well they support an answer.

        Args:
            question: The question as asked.
            hits: Retrieved chunks, best first.
            dense_cosines: Cosine similarity of the question with each hit (same order).
            texts: Cleaned document texts by doc id (quotes are cut from them).
            regions: Each document's region (from the manifest): a province's own report says "我省", not its name.
        """
        regions = regions or {}
        q_norm = normalize(question)
        wanted = content_bigrams(q_norm)
        asks_figure = bool(_ASKS_FIGURE.search(q_norm))
        # The places and years the question names, parsed once: the evidence for them is checked per sentence.
        q_places = {p.name_norm for p in extract_places(q_norm)}
        q_years = {q.value for q in extract(q_norm) if q.kind == "year"}
        scored: list[tuple[float, Sentence]] = []
        chunk_cover, figure_cover, figure_missing = [], [0.0], 0
        expected = next((kinds for pattern, kinds in _EXPECTED_KIND if pattern.search(q_norm)), set())
        for rank, hit in enumerate(hits):
            chunk = hit.chunk
            heading = normalize(" ".join(chunk.section_path))
            chunk_cover.append(self._coverage(wanted, heading + " " + chunk.text_norm))
            for start, end in sentence_spans(chunk.text, chunk.start):
                raw = texts[chunk.doc_id][start:end]
                norm = normalize(raw)
                if len(norm) < 6 or raw.strip() in chunk.section_path:
                    continue  # too short to answer anything, or the section's own heading line
                own = self._coverage(wanted, norm)
                kinds = set() if _in_table_note(texts[chunk.doc_id], start) else _figure_kinds(raw)
                if rank < 3 and kinds:
                    # A figure of another kind than asked (a count for "总投资") supports the answer only half; the
                    # places and years the question names must be where the figure is stated.
                    fit = 1.0 if not expected or kinds & expected else 0.5
                    scope = " ".join((regions.get(chunk.doc_id, ""), chunk.title, heading, norm))
                    missing = self._missing_entities(q_places, q_years, scope)
                    cover = fit * self._coverage(wanted, heading + " " + norm) * self.settings.missing_penalty**missing
                    if cover > figure_cover[0]:
                        figure_missing = missing
                    figure_cover.append(cover)
                    figure_cover.sort(reverse=True)
                if rank and own < 0.2:
                    continue  # a sentence of a lower-ranked chunk that shares almost nothing with the question
                score = own + 0.3 * self._coverage(wanted, heading) + 0.35 / (1 + rank)
                if asks_figure and kinds:
                    score += 0.15
                scored.append((score, Sentence(hit, start, end, raw, norm)))
        scored.sort(key=lambda item: -item[0])
        context = [regions.get(h.chunk.doc_id, "") + " " + h.chunk.title + " " + " ".join(h.chunk.section_path) + " "
                   + h.chunk.text for h in hits[:3]]
        features = {
            "lexical": max(chunk_cover[:3], default=0.0),
            "figure": figure_cover[0],
            "asks_figure": float(asks_figure),
            "dense": max(dense_cosines[:3], default=0.0),
            # A figure question's entities were checked per sentence (the penalty is inside "figure").
            "missing": float(0 if asks_figure else self._missing_entities(q_places, q_years, " ".join(context))),
            "figure_missing": float(figure_missing),
            "latin": float(detect_script(question) == "latin"),
        }
        return Evidence(scored, self.support(features), features)

    @staticmethod
    def _missing_entities(places: set[str], years: set[float], evidence: str) -> int:
        """How many of the question's places and years the evidence text does not mention."""
        context = normalize(evidence)
        context_years = {q.value for q in extract(context) if q.kind == "year"} if years else set()
        return sum(1 for name in places if name not in context) + sum(1 for y in years if y not in context_years)

    def support(self, features: dict[str, float]) -> float:
        """Combine the features into one support value in [0, 1], compared with ``refusal_threshold``.

        Lexical coverage of the question's content by the best chunks, helped by dense similarity (for paraphrases);
        a question asking for a figure is judged by the sentences that state one (a lost table's ``注:`` note does
        not count); every place or year the question names that the evidence lacks divides support. English
        questions share no characters with the text, so dense similarity alone judges them.
        """
        s = self.settings
        dense = min(1.0, max(0.0, (features["dense"] - s.dense_floor) / (s.dense_ceiling - s.dense_floor)))
        if features.get("latin"):
            return dense
        figure = bool(features.get("asks_figure"))
        lexical = features["figure"] if figure else features["lexical"]
        share = s.figure_dense_share if figure else s.dense_share
        base = max(lexical, (1 - share) * lexical + share * dense)
        return base * (s.missing_penalty ** features["missing"])

    def answer(self, question: str, evidence: Evidence, documents: dict[str, DocumentInfo], backend: str = "extractive",
               closest: list[Hit] | None = None, texts: dict[str, str] | None = None) -> Answer:
        """Compose the extractive answer (or a refusal) from scored evidence.

        Args:
            question: The question as asked (its script decides the answer's script).
            evidence: Output of :meth:`evidence`.
            documents: Document metadata for citations.
            backend: Name recorded in the answer.
            closest: Hits to show as closest sections on refusal.
            texts: Cleaned document texts (needed for refusals' closest-section quotes).
        """
        script = detect_script(question)
        extra = {"support": round(evidence.support, 4), "features": {k: round(v, 4) for k, v in evidence.features.items()}}
        if evidence.support < self.settings.refusal_threshold or not evidence.sentences:
            citations = self._closest(closest or [], documents, texts or {})
            return Answer(question, refusal_for(script), True, backend, tuple(citations), extra)
        chosen: list[Sentence] = []
        best = evidence.sentences[0][0]
        for score, sentence in evidence.sentences:
            if len(chosen) >= self.settings.max_sentences or score < 0.6 * best:
                break
            if any(_similar(sentence.norm, other.norm) for other in chosen):
                continue  # a near-duplicate of a chosen sentence (the same fact in another article)
            chosen.append(sentence)
        citations = [make_citation(n, s.hit, s.start, s.end, s.text, documents) for n, s in enumerate(chosen, start=1)]
        parts = [f"{_in_script(s.text, script)}[{n}]" for n, s in enumerate(chosen, start=1)]
        text = "".join(parts) if script != "latin" else ENGLISH_LEAD + " " + " ".join(parts)
        return Answer(question, text, False, backend, tuple(citations), extra)

    def _closest(self, hits: list[Hit], documents: dict[str, DocumentInfo], texts: dict[str, str]) -> list[Citation]:
        out = []
        for n, hit in enumerate(hits[:3], start=1):
            spans = [(s, e) for s, e in sentence_spans(hit.chunk.text, hit.chunk.start)
                     if hit.chunk.text[s - hit.chunk.start : e - hit.chunk.start] not in hit.chunk.section_path]
            start, end = spans[0] if spans else (hit.chunk.start, hit.chunk.end)
            quote = texts.get(hit.chunk.doc_id, "")[start:end] or hit.chunk.text
            out.append(make_citation(n, hit, start, end, quote, documents))
        return out


def _in_table_note(text: str, start: int) -> bool:
    """Whether position ``start`` lies in a table note paragraph (``注:①…②…⑤2019年…``) whose table was lost.

    Such notes qualify figures the document no longer shows; they answer no question about a figure.
    """
    paragraph = text.rfind("\n", 0, start) + 1
    return text.startswith(("注:", "注："), paragraph)


def _figure_kinds(sentence: str) -> set[str]:
    """Kinds of the figures a sentence states, years aside (a lost table's ``注:①…`` note states none).

    Example: ``到2025年,集成電路產業營業收入超800億元。`` → ``{'amount'}``; ``注:①2020年情況均為預計數。`` → ``set()``.
    """
    if sentence.lstrip().startswith(("注:", "注：")):
        return set()
    return {q.kind for q in extract(sentence) if q.kind != "year"}


def _similar(a: str, b: str, threshold: float = 0.6) -> bool:
    """Near-duplicate test: Jaccard similarity of character bigrams."""
    x, y = set(bigrams(a)), set(bigrams(b))
    return bool(x and y) and len(x & y) / len(x | y) >= threshold


def _in_script(text: str, script: str) -> str:
    if script == "traditional":
        return to_traditional(to_simplified(text))
    if script == "simplified":
        return to_simplified(text)
    return text


def make_citation(n: int, hit: Hit, start: int, end: int, quote: str, documents: dict[str, DocumentInfo]) -> Citation:
    """A citation of ``quote`` (``text[start:end]`` of the hit's document) with the document's metadata."""
    info = documents.get(hit.chunk.doc_id)
    return Citation(
        n=n,
        chunk_id=hit.chunk.chunk_id,
        doc_id=hit.chunk.doc_id,
        title=hit.chunk.title,
        date=info.date if info else "",
        publisher=info.publisher if info else "",
        section_path=hit.chunk.section_path,
        quote=quote,
        start=start,
        end=end,
        page_start=hit.chunk.page_start,
        page_end=hit.chunk.page_end,
        ocr_confidence=hit.chunk.ocr_confidence,
        source=hit.chunk.source,
    )


def idf_table(texts_norm: list[str]) -> Callable[[str], float]:
    """An IDF function over chunk texts (bigram document frequencies), smoothed; unknown bigrams get the maximum."""
    df: dict[str, int] = {}
    for text in texts_norm:
        for token in set(bigrams(text)):
            df[token] = df.get(token, 0) + 1
    n = max(1, len(texts_norm))
    top = math.log(1 + n)

    def idf(token: str) -> float:
        count = df.get(token, 0)
        return math.log(1 + (n - count + 0.5) / (count + 0.5)) if count else top

    return idf
