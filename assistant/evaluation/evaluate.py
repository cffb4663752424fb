"""Evaluate: run an eval set (or an external passage set) through every search mode and the answerer.

A run folder ``eval/runs/<UTC time>-<settings fingerprint>/`` holds ``records.jsonl`` (one line per question and
mode: retrieved ids, ranks of relevant ones, pass/fail per metric, latency), ``summary.json`` (metrics per mode ×
split × question type, answer metrics, latency percentiles, provenance), ``report.md`` and ``chart.png`` (written by
:mod:`assistant.evaluation.report`). The baselines go through the same code path: every mode is a function from a query to
ranked ids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AssistantError, ConfigError
from ..pipeline import Assistant
from ..settings import Settings
from .bench import BASELINE, BASELINE_DESCRIPTION, BigramBM25, Passage, load_passages, load_questions, write_passage_corpus
from .metrics import SECTION_K, query_scores, section_hit_at_k
from .relevance import match_key, relevant_sets
from .report import build_summary, new_run_dir, repo_path, write_run

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
Search = Callable[[str, int], list[str]]

MODES = ("bm25", "dense", "hybrid", "naive")
PIPELINE_MODES = ("bm25", "dense", "hybrid")
BENCH_MODES = MODES
RETRIEVAL_TYPES = ("fact", "paraphrase", "section", "multi")
ASK_TYPES = ("fact", "paraphrase", "section", "unanswerable")
K = 10


@dataclass(frozen=True)
class EvalItem:
    """One eval-set line; ``doc``, ``section`` and ``evidence`` are tuples (one piece unless ``multi``)."""

    id: str
    type: str
    question: str
    answer: str
    docs: tuple[str, ...]
    sections: tuple[str, ...]
    evidence: tuple[str, ...]
    claim_verdict: str
    split: str

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> EvalItem:
        """Build an item from a ``dev.jsonl`` row (list-valued fields of ``multi`` items become tuples)."""

        def pieces(value: Any) -> tuple[str, ...]:
            return tuple(v for v in (value if isinstance(value, list) else [value]) if v)

        return cls(row["id"], row["type"], row["question"], row.get("answer", ""), pieces(row.get("doc", "")),
                   pieces(row.get("section", "")), pieces(row.get("evidence", "")), row.get("claim_verdict", ""),
                   row.get("split", "test"))


def load_eval_set(path: Path) -> list[EvalItem]:
    """Read an eval set (JSON Lines in the ``eval/dev.jsonl`` format).

    Raises:
        ConfigError: The file is missing or a line is not a valid item.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return [EvalItem.from_dict(json.loads(line)) for line in lines if line.strip()]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"Cannot read eval set {path}: {exc}. Pass --set FILE in the eval/dev.jsonl format.") from exc


def scratch_dir(name: str) -> Path:
    """A reusable folder under the system temp dir for indexes the eval builds (never the main ``index/``)."""
    folder = Path(tempfile.gettempdir()) / "policy-assistant-eval" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def with_paths(settings: Settings, **paths: Path) -> Settings:
    """A copy of ``settings`` with some ``paths`` replaced."""
    return settings.model_copy(update={"paths": settings.paths.model_copy(update=paths)})


def index_settings(settings: Settings, base: Settings | None) -> Settings:
    """Settings whose index folder is a scratch one when ``settings`` shape the index differently from ``base``.

    A ``--config`` that changes chunking, the model or the index type must not overwrite the main index.
    """
    if base is None or settings.index_fingerprint() == base.index_fingerprint() or settings.paths.index != base.paths.index:
        return settings
    return with_paths(settings, index=scratch_dir(f"index-{settings.index_fingerprint()}"))


def timed(call: Callable[[], Any]) -> tuple[Any, float, dict[str, str] | None]:
    """Run ``call``; return its result (``None`` on an assistant error), milliseconds and the error as a dict."""
    started = time.perf_counter()
    try:
        result, error = call(), None
    except AssistantError as exc:
        result, error = None, exc.to_dict()
    return result, (time.perf_counter() - started) * 1000, error


def retrieval_record(item_id: str, item_type: str, split: str, mode: str, retrieved: Sequence[str],
                     pieces: Sequence[set[str]], latency_ms: float, paths: dict[str, tuple[str, ...]] | None = None,
                     sections: Sequence[str] = ()) -> dict[str, Any]:
    """Score one query's ranked ids and describe it as a record.

    Args:
        item_id: The item id; ``item_type``/``split``/``mode`` are copied into the record.
        item_type: The question type.
        split: ``tune`` or ``test``.
        mode: The search mode.
        retrieved: Retrieved ids, best first.
        pieces: Relevant ids of each evidence piece (over the whole corpus).
        latency_ms: Search time.
        paths: Section path of each retrieved id; ``None`` when the corpus has none (section_hit n/a).
        sections: The gold sections.

    Returns:
        The record: ids, ranks of relevant ids, per-piece best ranks, metric values and pass/fail.
    """
    relevant = set().union(*pieces) if pieces else set()
    scores: dict[str, float | None] = dict(query_scores(retrieved, relevant, len(relevant)))
    top_paths = [paths.get(cid, ()) for cid in retrieved] if paths is not None else []
    scores[f"section_hit@{SECTION_K}"] = section_hit_at_k(top_paths, sections, SECTION_K) if paths is not None else None
    piece_ranks = [next((r for r, cid in enumerate(retrieved, 1) if cid in piece), None) for piece in pieces]
    scores[f"piece_recall@{K}"] = sum(r is not None for r in piece_ranks) / len(pieces) if pieces else 0.0
    return {
        "id": item_id, "type": item_type, "split": split, "mode": mode, "retrieved": list(retrieved),
        "relevant_ranks": [r for r, cid in enumerate(retrieved, 1) if cid in relevant],
        "piece_ranks": piece_ranks, "n_relevant": len(relevant),
        "scores": {key: (round(v, 6) if v is not None else None) for key, v in scores.items()},
        "pass": {key: (v > 0 if v is not None else None) for key, v in scores.items()
                 if key.startswith(("hit@", "section_hit@", "piece_recall@"))},
        "latency_ms": round(latency_ms, 3),
    }


def pipeline_search(assistant: Assistant, mode: str) -> Search:
    """A search function over the pipeline's chunks in one mode: ``(query, k)`` → chunk ids."""

    def search(query: str, k: int) -> list[str]:
        return [hit.chunk.chunk_id for hit in assistant.search(query, k=k, mode=mode)]

    return search


def _search_records(items: Sequence[EvalItem], mode: str, search: Search, keys: dict[str, str],
                    paths: dict[str, tuple[str, ...]] | None, progress: Progress | None) -> list[dict[str, Any]]:
    records = []
    search("warm-up query 预热", 1)  # loads the model and caches outside the timed calls
    for done, item in enumerate(items, start=1):
        retrieved, ms, error = timed(lambda item=item: search(item.question, K))
        record = retrieval_record(item.id, item.type, item.split, mode, retrieved or [],
                                  relevant_sets(keys, item.evidence), ms, paths, item.sections)
        records.append({**record, "question": item.question, **({"error": error} if error else {})})
        if progress:
            progress(f"search:{mode}", done, len(items))
    return records


def _answer_records(assistant: Assistant, items: Sequence[EvalItem], progress: Progress | None) -> list[dict[str, Any]]:
    records = []
    asks = [i for i in items if i.type in ASK_TYPES]
    checks = [i for i in items if i.type == "claim"]
    _ = assistant.extractor  # builds the IDF table outside the timed calls
    for done, item in enumerate(asks, start=1):
        answer, ms, error = timed(lambda item=item: assistant.ask(item.question))
        refused = answer.refused if answer is not None else True
        covered = None
        if item.type != "unanswerable" and not refused:
            quotes = [match_key(c.quote) for c in answer.citations]
            covered = all(any(match_key(e) in q for q in quotes) for e in item.evidence)
        records.append({"id": item.id, "type": item.type, "split": item.split, "mode": "ask",
                        "question": item.question, "answer": answer.answer if answer else "", "refused": refused,
                        "should_refuse": item.type == "unanswerable", "citation_covered": covered,
                        "pass": {"refusal": refused == (item.type == "unanswerable"), "citation_coverage": covered},
                        "latency_ms": round(ms, 3), **({"error": error} if error else {})})
        if progress:
            progress("ask", done, len(asks))
    for done, item in enumerate(checks, start=1):
        verdict, ms, error = timed(lambda item=item: assistant.check(item.question))
        predicted = verdict.verdict if verdict is not None else "error"
        records.append({"id": item.id, "type": item.type, "split": item.split, "mode": "check",
                        "question": item.question, "verdict": predicted, "gold_verdict": item.claim_verdict,
                        "pass": {"claim": predicted == item.claim_verdict}, "latency_ms": round(ms, 3),
                        **({"error": error} if error else {})})
        if progress:
            progress("check", done, len(checks))
    return records


def run_eval(settings: Settings, set_path: Path, modes: Sequence[str] = MODES, out: Path = Path("eval/runs"),
             answers: bool = True, progress: Progress | None = None,
             base: Settings | None = None) -> tuple[Path, dict[str, Any]]:
    """Run an eval set and write a run folder.

    Args:
        settings: The effective settings (e.g. with ``--config`` applied).
        set_path: The eval set (``eval/dev.jsonl`` format).
        modes: Search modes among ``bm25``, ``dense``, ``hybrid``, ``naive``.
        out: Parent folder of run folders.
        answers: Also run ``ask`` and ``check`` (answer metrics).
        progress: Called as ``progress(stage, done, total)``.
        base: The settings without ``--config``; when the index shape differs, the index is built in a scratch dir.

    Returns:
        The run folder and the summary written to it.

    Raises:
        ConfigError: Unknown mode or unreadable eval set.
        AssistantError: The index cannot be built or loaded.
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ConfigError(f"Unknown eval mode(s) {unknown or modes}; use some of {', '.join(MODES)}.")
    items = load_eval_set(set_path)
    settings = index_settings(settings, base)
    assistant = Assistant(settings)
    index = assistant.open_index(rebuild=True, progress=progress)
    retrieval_items = [i for i in items if i.type in RETRIEVAL_TYPES]
    keys = {c.chunk_id: match_key(c.text) for c in index.chunks}
    paths = {c.chunk_id: c.section_path for c in index.chunks}
    records: list[dict[str, Any]] = []
    for mode in modes:
        if mode == "naive":
            from .naive import NaiveIndex

            if progress:
                progress("naive index", 0, 1)
            naive = NaiveIndex(settings.paths.corpus, assistant.embedder, settings.embedding.batch_size)
            naive_keys = {nid: match_key(text) for nid, text in naive.texts.items()}
            records += _search_records(retrieval_items, mode, naive.search, naive_keys, {}, progress)
        else:
            records += _search_records(retrieval_items, mode, pipeline_search(assistant, mode), keys, paths, progress)
    if answers:
        records += _answer_records(assistant, items, progress)
    summary = build_summary(settings, assistant.embedder.model_id, index.manifest.get("corpus_hash", ""), records,
                            {"set": repo_path(set_path), "modes": list(modes), "k": K, "questions": len(items)})
    if "naive" in modes:
        from .naive import CHUNK_OVERLAP, CHUNK_SIZE, DESCRIPTION

        summary["naive"] = {"chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP, "unit": "characters",
                            "description": DESCRIPTION, "chunks": len(naive.texts), "section_hit": "0 by construction"}
    summary["pipeline_chunks"] = len(index.chunks)
    folder = new_run_dir(out, settings.fingerprint())
    summary["run"] = repo_path(folder)
    write_run(folder, records, summary)
    return folder, summary


def _best_passages(ids: Sequence[str], k: int) -> list[str]:
    """Passage ids in order of their best chunk, first ``k``."""
    return list(dict.fromkeys(ids))[:k]


def run_bench(settings: Settings, corpus: Path, questions: Path, modes: Sequence[str] = PIPELINE_MODES,
              out: Path = Path("eval/runs"), limit: int | None = None,
              progress: Progress | None = None) -> tuple[Path, dict[str, Any]]:
    """Score an external set: the bigram baseline plus our modes, passage-level retrieval metrics.

    A passage file is written as one document per passage into a scratch folder (kept for later runs) and indexed
    there; a folder of documents is indexed as it is (gold ids may name a document id, its file or its file stem).
    A passage ranks where its best chunk ranks.

    Args:
        settings: The effective settings (the corpus and index paths are replaced by scratch folders).
        corpus: A ``.jsonl`` file of passages or a folder of documents.
        questions: A ``.jsonl`` file of questions with ``gold_passage_ids``.
        modes: Our modes to run beside the baseline (``bm25``, ``dense``, ``hybrid``, ``naive``).
        out: Parent folder of run folders.
        limit: Only the first ``limit`` questions.
        progress: Called as ``progress(stage, done, total)``.

    Returns:
        The run folder and its summary.

    Raises:
        ConfigError: Unknown mode or unreadable files.
    """
    unknown = [m for m in modes if m not in BENCH_MODES]
    if unknown:
        raise ConfigError(f"Unknown mode(s) {unknown} for an external set; use some of {', '.join(BENCH_MODES)}.")
    rows = load_questions(questions, limit)
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
    assistant = Assistant(settings)
    index = assistant.open_index(rebuild=True, progress=progress)
    if not passages:  # a folder: the indexed documents are the passages
        texts = index.document_texts()
        passages = [Passage(doc_id, info.title, texts[doc_id]) for doc_id, info in index.documents.items()]
        file_ids = {info.file: doc_id for doc_id, info in index.documents.items()}
    alias = {**{Path(f).stem: pid for f, pid in file_ids.items()}, **file_ids, **{p.id: p.id for p in passages}}
    searches: dict[str, Search] = {BASELINE: BigramBM25(passages).search}
    wide = max(K * 5, settings.retrieval.candidates)
    for mode in modes:
        if mode == "naive":
            from .naive import NaiveIndex

            naive = NaiveIndex(settings.paths.corpus, assistant.embedder, settings.embedding.batch_size)
            searches[mode] = (lambda q, k, naive=naive: _best_passages(
                [alias.get(naive.files[n], naive.files[n]) for n in naive.search(q, wide)], k))
        else:
            searches[mode] = (lambda q, k, mode=mode: _best_passages(
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
        "baseline": BASELINE_DESCRIPTION,
        "section_hit": "n/a: passages have no gold section",
    })
    run = new_run_dir(out, settings.fingerprint(), suffix=_suffix(corpus, questions))
    summary["run"] = repo_path(run)
    write_run(run, records, summary)
    return run, summary


def _suffix(corpus: Path, questions: Path) -> str:
    """``drcd-sample`` for ``…/drcd/corpus.jsonl`` + ``…/drcd/sample.jsonl``; only safe characters."""
    name = f"{corpus.parent.name if corpus.is_file() else corpus.name}-{questions.stem}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60]
