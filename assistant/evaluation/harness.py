"""Harness: the pieces every eval run shares (scratch folders, timing, scoring one ranked list into a record)."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import AssistantError
from ..settings import Settings
from .metrics import SECTION_K, query_scores, section_hit_at_k

Progress = Callable[[str, int, int], None]
Search = Callable[[str, int], list[str]]
K = 10


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


def safe_suffix(name: str) -> str:
    """A run-folder suffix made of safe characters only, at most 60.

    Example: ``policy_synth`` → ``policy_synth``; ``政策 corpus/v2`` → ``corpus-v2``.
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60]


def best_passages(ids: Sequence[str], k: int) -> list[str]:
    """Passage ids in order of their best chunk, first ``k``.

    Example: ``best_passages(["p2", "p2", "p7", "p1"], 2)`` → ``["p2", "p7"]``.
    """
    return list(dict.fromkeys(ids))[:k]


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


def answer_fields(result: Any) -> dict[str, Any]:
    """What every answer/verdict record keeps besides the verdict: the judge that ran and the scope notice.

    ``result`` is an :class:`~assistant.types.Answer` or :class:`~assistant.types.Verdict` (or ``None`` after an
    error). ``judge`` is ``None`` when the result does not say; ``scope_mismatch`` is ``[]`` when absent.
    """
    data = result.to_dict() if result is not None else {}
    return {"judge": data.get("judge"), "scope_mismatch": list(data.get("scope_mismatch") or [])}
