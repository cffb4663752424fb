"""External sets: passage-level retrieval beside the bigram BM25 baseline, and refusal with the gold passage removed.

A passage file (``shared/bench`` format) is written as one document per passage into a scratch folder (kept for
later runs) and indexed there; a folder of documents is indexed as it is (gold ids may name a document id, its file
or its file stem). A passage ranks where its best chunk ranks.

The refusal mode asks every question twice over one index: once with its gold passages excluded from every search
(a query-time ``Filters.exclude_doc_ids``, so the index is built once), where the right outcome is a refusal, and
once over the whole corpus, where it is an answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from ..errors import ConfigError
from ..pipeline import Assistant
from ..search.retrieve import Filters
from ..settings import Settings
from ..types import Answer, Hit, Verdict
from .bench import BASELINE, BASELINE_DESCRIPTION, BigramBM25, Passage, load_passages, load_questions, write_passage_corpus
from .harness import (
    K,
    Progress,
    Search,
    answer_fields,
    best_passages,
    retrieval_record,
    safe_suffix,
    scratch_dir,
    timed,
    with_paths,
)
from .items import read_ids
from .relevance import match_key
from .report import build_summary, new_run_dir, repo_path, write_run

BENCH_MODES = ("bm25", "dense", "hybrid", "naive")
REFUSAL_VARIANTS = ("without_gold", "with_gold")
REFUSAL_DESCRIPTION = (
    "every question is asked twice over one index: 'without_gold' excludes its gold passages from every search "
    "(Filters.exclude_doc_ids at query time) and should be refused; 'with_gold' searches the whole corpus and should "
    "be answered. citation_coverage = share of answered with_gold questions citing a gold passage; excluded_cited "
    "counts without_gold answers that still cite a gold passage (must be 0)"
)


class _ExcludingSearch:
    """A retriever's ``search`` with the owner's excluded documents added to every call's filters."""

    def __init__(self, search: Callable[..., list[Hit]], owner: ExcludingAssistant) -> None:
        self.search, self.owner = search, owner

    def __call__(self, query: str, k: int | None = None, mode: str | None = None,
                 filters: Filters | None = None) -> list[Hit]:
        if self.owner.excluded:
            filters = filters or Filters()
            filters = replace(filters, exclude_doc_ids=(*filters.exclude_doc_ids, *self.owner.excluded))
        return self.search(query, k=k, mode=mode, filters=filters)


class ExcludingAssistant(Assistant):
    """The facade with some documents left out of every search, the ones ``ask`` and ``check`` run included.

    The open index's retriever gets its ``search`` wrapped once, so the index is built once and the excluded
    documents change per question (set :attr:`excluded`).
    """

    excluded: tuple[str, ...] = ()

    def _exclude(self) -> None:
        retriever = self.retriever
        if not isinstance(retriever.search, _ExcludingSearch):
            retriever.search = _ExcludingSearch(retriever.search, self)  # type: ignore[method-assign]

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        """:meth:`Assistant.search` without the :attr:`excluded` documents."""
        self._exclude()
        return super().search(query, k=k, mode=mode, filters=filters)

    def ask(self, question: str, history: list[str] | None = None, backend: str | None = None) -> Answer:
        """:meth:`Assistant.ask` over the corpus without the :attr:`excluded` documents."""
        self._exclude()
        return super().ask(question, history, backend)

    def check(self, claim: str) -> Verdict:
        """:meth:`Assistant.check` over the corpus without the :attr:`excluded` documents."""
        self._exclude()
        return super().check(claim)


def _questions(path: Path, limit: int | None, exclude: Path | None) -> list[dict[str, Any]]:
    dropped = read_ids(exclude) if exclude else set()
    rows = [row for row in load_questions(path) if str(row["id"]) not in dropped]
    return rows[: limit or None]


def _open(settings: Settings, corpus: Path, progress: Progress | None,
          factory: type[Assistant] = Assistant) -> tuple[Assistant, Any, list[Passage], dict[str, str]]:
    """An assistant over a passage file or a folder, its open index, the passages and gold-id aliases.

    Raises:
        ConfigError: ``corpus`` is neither a ``.jsonl`` file nor a folder.
    """
    if corpus.is_file():
        passages = load_passages(corpus)
        digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:12]
        folder = scratch_dir(f"bench-{digest}")
        file_ids = write_passage_corpus(passages, folder / "corpus")
        settings = with_paths(settings, corpus=folder / "corpus", index=folder / f"index-{settings.index_fingerprint()}")
    elif corpus.is_dir():
        digest = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:12]
        settings = with_paths(settings, corpus=corpus,
                              index=scratch_dir(f"bench-dir-{digest}") / f"index-{settings.index_fingerprint()}")
        passages, file_ids = [], {}
    else:
        raise ConfigError(f"--corpus {corpus} is neither a .jsonl file of passages nor a folder of documents.")
    assistant = factory(settings)
    index = assistant.open_index(rebuild=True, progress=progress)
    if not passages:  # a folder: the indexed documents are the passages
        texts = index.document_texts()
        passages = [Passage(doc_id, info.title, texts[doc_id]) for doc_id, info in index.documents.items()]
        file_ids = {info.file: doc_id for doc_id, info in index.documents.items()}
    alias = {**{Path(f).stem: pid for f, pid in file_ids.items()}, **file_ids, **{p.id: p.id for p in passages}}
    return assistant, index, passages, alias


def run_bench(settings: Settings, corpus: Path, questions: Path, modes: Sequence[str] = ("bm25", "dense", "hybrid"),
              out: Path = Path("eval/runs"), limit: int | None = None, progress: Progress | None = None,
              exclude: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """Score an external set: the bigram baseline plus our modes, passage-level retrieval metrics.

    Args:
        settings: The effective settings (the corpus and index paths are replaced by scratch folders).
        corpus: A ``.jsonl`` file of passages or a folder of documents.
        questions: A ``.jsonl`` file of questions with ``gold_passage_ids``.
        modes: Our modes to run beside the baseline (``bm25``, ``dense``, ``hybrid``, ``naive``).
        out: Parent folder of run folders.
        limit: Only the first ``limit`` questions (after ``exclude``).
        progress: Called as ``progress(stage, done, total)``.
        exclude: A file whose question ids are left out (e.g. ``sample.jsonl`` to tune on the rest of
            ``questions_all.jsonl``).

    Returns:
        The run folder and its summary.

    Raises:
        ConfigError: Unknown mode or unreadable files.
    """
    unknown = [m for m in modes if m not in BENCH_MODES]
    if unknown:
        raise ConfigError(f"Unknown mode(s) {unknown} for an external set; use some of {', '.join(BENCH_MODES)}.")
    rows = _questions(questions, limit, exclude)
    assistant, index, passages, alias = _open(settings, corpus, progress)
    settings = assistant.settings
    searches: dict[str, Search] = {BASELINE: BigramBM25(passages).search}
    wide = max(K * 5, settings.retrieval.candidates)
    for mode in modes:
        if mode == "naive":
            from .naive import NaiveIndex

            naive = NaiveIndex(settings.paths.corpus, assistant.embedder, settings.embedding.batch_size)
            searches[mode] = (lambda q, k, naive=naive: best_passages(
                [alias.get(naive.files[n], naive.files[n]) for n in naive.search(q, wide)], k))
        else:
            searches[mode] = (lambda q, k, mode=mode: best_passages(
                [h.chunk.doc_id for h in assistant.search(q, k=wide, mode=mode)], k))
    records: list[dict[str, Any]] = []
    for mode, search in searches.items():
        search("warm-up query 预热", 1)
        for done, row in enumerate(rows, start=1):
            retrieved, ms, error = timed(lambda row=row, search=search: search(row["question"], K))
            gold = {alias.get(str(g), str(g)) for g in row["gold_passage_ids"]}
            record = retrieval_record(str(row["id"]), "external", "all", mode, retrieved or [], [gold], ms)
            records.append({**record, "question": row["question"], **({"error": error} if error else {})})
            if progress:
                progress(f"search:{mode}", done, len(rows))
    summary = build_summary(settings, assistant.embedder.model_id, index.manifest.get("corpus_hash", ""), records, {
        "set": repo_path(questions), "corpus": repo_path(corpus), "modes": list(searches), "k": K,
        "questions": len(rows), "limit": limit, "passages": len(passages), "pipeline_chunks": len(index.chunks),
        "baseline": BASELINE_DESCRIPTION, "section_hit": "n/a: passages have no gold section",
        **({"excluded_ids_from": repo_path(exclude)} if exclude else {}),
    })
    run = new_run_dir(out, settings.fingerprint(), suffix=run_suffix(corpus, questions))
    summary["run"] = repo_path(run)
    write_run(run, records, summary)
    return run, summary


def _refusal_record(assistant: ExcludingAssistant, row: dict[str, Any], gold: set[str], variant: str) -> dict[str, Any]:
    """Ask one question with (``with_gold``) or without (``without_gold``) its gold passages."""
    assistant.excluded = tuple(sorted(gold)) if variant == "without_gold" else ()
    try:
        answer, ms, error = timed(lambda: assistant.ask(row["question"]))
    finally:
        assistant.excluded = ()
    refused = answer.refused if answer is not None else True
    cited = bool(answer) and any(c.doc_id in gold for c in answer.citations)
    gold_answer = match_key(str(row.get("answer", "")))
    quoted = bool(answer) and bool(gold_answer) and any(gold_answer in match_key(c.quote) for c in answer.citations)
    should_refuse = variant == "without_gold"
    return {"id": str(row["id"]), "type": "external", "split": "all", "mode": "ask", "kind": variant,
            "variant": variant, "question": row["question"], "answer": answer.answer if answer else "",
            "refused": refused, "should_refuse": should_refuse,
            "citation_covered": None if should_refuse or refused else cited, "gold_cited": cited,
            "answer_quoted": quoted, **answer_fields(answer), "scope_expected": [], "scope_matched": False,
            "pass": {"refusal": refused == should_refuse}, "latency_ms": round(ms, 3),
            **({"error": error} if error else {})}


def run_refusal(settings: Settings, corpus: Path, questions: Path, out: Path = Path("eval/runs"),
                limit: int | None = None, progress: Progress | None = None,
                exclude: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """Refusal on an external set: each question asked without its gold passages (refuse) and with them (answer).

    The index is built once; the gold passages are excluded per question at query time. The summary's ``answers``
    hold refusal precision/recall/F1 with counts and the false refusal rate (answerable = ``with_gold`` asks);
    ``answer_rows`` split them by variant; ``excluded_cited`` must be 0 (an excluded passage never reaches an answer).

    Args:
        settings: The effective settings (the corpus and index paths are replaced by scratch folders).
        corpus: A ``.jsonl`` file of passages or a folder of documents.
        questions: A ``.jsonl`` file of questions with ``gold_passage_ids`` (and ``answer``).
        out: Parent folder of run folders.
        limit: Only the first ``limit`` questions (after ``exclude``).
        progress: Called as ``progress(stage, done, total)``.
        exclude: A file whose question ids are left out.

    Returns:
        The run folder and its summary.

    Raises:
        ConfigError: Unreadable files.
    """
    rows = _questions(questions, limit, exclude)
    opened, index, passages, alias = _open(settings, corpus, progress, factory=ExcludingAssistant)
    assistant = cast(ExcludingAssistant, opened)
    _ = assistant.extractor  # builds the IDF table outside the timed calls
    records: list[dict[str, Any]] = []
    for done, row in enumerate(rows, start=1):
        gold = {alias.get(str(g), str(g)) for g in row["gold_passage_ids"]}
        records += [_refusal_record(assistant, row, gold, variant) for variant in REFUSAL_VARIANTS]
        if progress:
            progress("ask ×2", done, len(rows))
    summary = build_summary(assistant.settings, assistant.embedder.model_id, index.manifest.get("corpus_hash", ""),
                            records, {
        "set": repo_path(questions), "corpus": repo_path(corpus), "modes": ["ask"], "questions": len(rows),
        "limit": limit, "passages": len(passages), "pipeline_chunks": len(index.chunks),
        "refusal_mode": REFUSAL_DESCRIPTION,
        "excluded_cited": sum(1 for r in records if r["variant"] == "without_gold" and r["gold_cited"]),
        "answer_quoted": sum(1 for r in records if r["variant"] == "with_gold" and r["answer_quoted"]),
        **({"excluded_ids_from": repo_path(exclude)} if exclude else {}),
    })
    run = new_run_dir(out, assistant.settings.fingerprint(), suffix=run_suffix(corpus, questions) + "-refusal")
    summary["run"] = repo_path(run)
    write_run(run, records, summary)
    return run, summary


def run_suffix(corpus: Path, questions: Path) -> str:
    """``drcd-sample`` for ``…/drcd/corpus.jsonl`` + ``…/drcd/sample.jsonl``; only safe characters."""
    return safe_suffix(f"{corpus.parent.name if corpus.is_file() else corpus.name}-{questions.stem}")
