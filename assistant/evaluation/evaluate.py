"""Evaluate: run an eval set through every search mode and the answerer, over the bundled corpus or a folder.

A run folder ``eval/runs/<UTC time>-<settings fingerprint>/`` holds ``records.jsonl`` (one line per question and
mode: retrieved ids, ranks of relevant ones, pass/fail per metric, latency, the item's row labels), ``summary.json``
(metrics per mode × split × question type and × row, cross-language pairs, answer metrics per split and row, judges,
latency percentiles, provenance), ``report.md`` and ``chart.png`` (written by :mod:`assistant.evaluation.report`).
The baselines go through the same code path: every mode is a function from a query to ranked ids. External passage
sets (``shared/bench`` format) are run by :mod:`assistant.evaluation.external`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..pipeline import Assistant
from ..settings import Settings
from .external import BENCH_MODES, run_bench, run_refusal
from .harness import (
    K,
    Progress,
    Search,
    answer_fields,
    best_passages,
    index_settings,
    retrieval_record,
    safe_suffix,
    scratch_dir,
    timed,
    with_paths,
)
from .items import EvalItem, load_eval_set, question_schema, read_ids
from .metrics import scope_matched
from .relevance import match_key, relevant_sets
from .report import build_summary, new_run_dir, repo_path, write_run

__all__ = [
    "ASK_TYPES", "BENCH_MODES", "MODES", "PIPELINE_MODES", "RETRIEVAL_TYPES", "EvalItem", "K", "best_passages",
    "index_settings", "load_eval_set", "pipeline_search", "question_schema", "read_ids", "retrieval_record",
    "run_bench", "run_eval", "run_refusal", "scratch_dir", "timed", "with_paths",
]

log = logging.getLogger(__name__)

MODES = ("bm25", "dense", "hybrid", "naive")
PIPELINE_MODES = ("bm25", "dense", "hybrid")
RETRIEVAL_TYPES = ("fact", "paraphrase", "section", "multi")
ASK_TYPES = ("fact", "paraphrase", "section", "unanswerable")


def pipeline_search(assistant: Assistant, mode: str) -> Search:
    """A search function over the pipeline's chunks in one mode: ``(query, k)`` → chunk ids."""

    def search(query: str, k: int) -> list[str]:
        return [hit.chunk.chunk_id for hit in assistant.search(query, k=k, mode=mode)]

    return search


def _labels(item: EvalItem) -> dict[str, Any]:
    return {**item.labels(), **({"twin": item.twin} if item.twin else {})}


def _search_records(items: Sequence[EvalItem], mode: str, search: Search, keys: dict[str, str],
                    paths: dict[str, tuple[str, ...]] | None, progress: Progress | None) -> list[dict[str, Any]]:
    records = []
    search("warm-up query 预热", 1)  # loads the model and caches outside the timed calls
    for done, item in enumerate(items, start=1):
        retrieved, ms, error = timed(lambda item=item: search(item.question, K))
        record = retrieval_record(item.id, item.type, item.split, mode, retrieved or [],
                                  relevant_sets(keys, item.evidence), ms, paths, item.sections)
        records.append({**record, **_labels(item), "question": item.question, **({"error": error} if error else {})})
        if progress:
            progress(f"search:{mode}", done, len(items))
    return records


def _ask_record(assistant: Assistant, item: EvalItem) -> dict[str, Any]:
    answer, ms, error = timed(lambda: assistant.ask(item.question))
    refused = answer.refused if answer is not None else True
    fields = answer_fields(answer)
    covered = None
    if item.type != "unanswerable" and not refused and item.evidence:
        quotes = [match_key(c.quote) for c in answer.citations]
        covered = all(any(match_key(e) in q for q in quotes) for e in item.evidence)
    expected = item.scope_dicts()
    return {"id": item.id, "type": item.type, "split": item.split, "mode": "ask", **_labels(item),
            "question": item.question, "answer": answer.answer if answer else "", "refused": refused,
            "should_refuse": item.type == "unanswerable", "citation_covered": covered, **fields,
            "scope_expected": expected, "scope_matched": scope_matched(expected, fields["scope_mismatch"]),
            "pass": {"refusal": refused == (item.type == "unanswerable"), "citation_coverage": covered,
                     **({"scope": scope_matched(expected, fields["scope_mismatch"])} if expected else {})},
            "latency_ms": round(ms, 3), **({"error": error} if error else {})}


def _check_record(assistant: Assistant, item: EvalItem) -> dict[str, Any]:
    verdict, ms, error = timed(lambda: assistant.check(item.question))
    predicted = verdict.verdict if verdict is not None else "error"
    return {"id": item.id, "type": item.type, "split": item.split, "mode": "check", **_labels(item),
            "question": item.question, "verdict": predicted, "gold_verdict": item.claim_verdict,
            "reason": verdict.reason if verdict is not None else "", "judge": answer_fields(verdict)["judge"],
            "pass": {"claim": predicted == item.claim_verdict}, "latency_ms": round(ms, 3),
            **({"error": error} if error else {})}


def _answer_records(assistant: Assistant, items: Sequence[EvalItem], progress: Progress | None) -> list[dict[str, Any]]:
    asks = [i for i in items if i.type in ASK_TYPES]
    checks = [i for i in items if i.type == "claim"]
    _ = assistant.extractor  # builds the IDF table outside the timed calls
    records = []
    for done, item in enumerate(asks, start=1):
        records.append(_ask_record(assistant, item))
        if progress:
            progress("ask", done, len(asks))
    for done, item in enumerate(checks, start=1):
        records.append(_check_record(assistant, item))
        if progress:
            progress("check", done, len(checks))
    return records


def corpus_settings(settings: Settings, corpus: Path) -> Settings:
    """Settings over another folder of documents, indexed in a scratch folder kept for later runs.

    Raises:
        ConfigError: ``corpus`` is not a folder.
    """
    if not corpus.is_dir():
        raise ConfigError(f"--corpus {corpus} is not a folder of documents (an eval set needs a folder corpus).")
    digest = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:12]
    return with_paths(settings, corpus=corpus, index=scratch_dir(f"corpus-{digest}") / f"index-{settings.index_fingerprint()}")


def run_eval(settings: Settings, set_path: Path, modes: Sequence[str] = MODES, out: Path = Path("eval/runs"),
             answers: bool = True, progress: Progress | None = None, base: Settings | None = None,
             corpus: Path | None = None, exclude: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """Run an eval set and write a run folder.

    Args:
        settings: The effective settings (e.g. with ``--config`` applied).
        set_path: The eval set (``eval/dev.jsonl`` format; ``eval/trust.jsonl`` and a folder corpus's
            ``questions.jsonl`` too).
        modes: Search modes among ``bm25``, ``dense``, ``hybrid``, ``naive``.
        out: Parent folder of run folders.
        answers: Also run ``ask`` and ``check`` (answer metrics).
        progress: Called as ``progress(stage, done, total)``.
        base: The settings without ``--config``; when the index shape differs, the index is built in a scratch dir.
        corpus: A folder of documents to evaluate over instead of ``paths.corpus`` (indexed in a scratch folder).
        exclude: A file of ids (``.jsonl`` rows or one per line) whose items are left out.

    Returns:
        The run folder and the summary written to it.

    Raises:
        ConfigError: Unknown mode, unreadable eval set or a corpus that is not a folder.
        AssistantError: The index cannot be built or loaded.
    """
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise ConfigError(f"Unknown eval mode(s) {unknown or modes}; use some of {', '.join(MODES)}.")
    items = load_eval_set(set_path, read_ids(exclude) if exclude else frozenset())
    settings = corpus_settings(settings, corpus) if corpus is not None else index_settings(settings, base)
    assistant = Assistant(settings)
    index = assistant.open_index(rebuild=True, progress=progress)
    retrieval_items = [i for i in items if i.type in RETRIEVAL_TYPES and i.evidence]
    keys = {c.chunk_id: match_key(c.text) for c in index.chunks}
    paths = {c.chunk_id: c.section_path for c in index.chunks}
    records: list[dict[str, Any]] = []
    naive = None
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
    about = {"set": repo_path(set_path), "modes": list(modes), "k": K, "questions": len(items)}
    if corpus is not None:
        about["corpus"] = repo_path(corpus)
    if exclude is not None:
        about["excluded_ids_from"] = repo_path(exclude)
    summary = build_summary(settings, assistant.embedder.model_id, index.manifest.get("corpus_hash", ""), records, about)
    if naive is not None:
        from .naive import CHUNK_OVERLAP, CHUNK_SIZE, DESCRIPTION

        summary["naive"] = {"chunk_size": CHUNK_SIZE, "chunk_overlap": CHUNK_OVERLAP, "unit": "characters",
                            "description": DESCRIPTION, "chunks": len(naive.texts), "section_hit": "0 by construction"}
    summary["pipeline_chunks"] = len(index.chunks)
    suffix = safe_suffix(f"{corpus.parent.name}-{corpus.name}") if corpus is not None else ""  # policy_synth-corpus
    folder = new_run_dir(out, settings.fingerprint(), suffix=suffix)
    summary["run"] = repo_path(folder)
    write_run(folder, records, summary)
    return folder, summary
