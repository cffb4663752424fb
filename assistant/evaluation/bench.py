"""Bench: external retrieval sets (passages + questions, ``shared/bench`` format) and their bigram BM25 baseline.

A passage set (``corpus.jsonl`` rows ``{"id", "title", "text"}``) is written as one document per passage
(``title``, a blank line, ``text``) so the normal pipeline indexes and chunks it; questions are ``{"id", "question",
"gold_passage_ids"}`` rows. :func:`assistant.evaluation.evaluate.run_bench` runs them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError

BASELINE = "bigram_bm25"
BASELINE_DESCRIPTION = (
    "bm25s BM25 (Lucene variant, k1=1.2, b=0.75) over title+text of each passage, tokens = every character and every "
    "pair of adjacent characters after removing whitespace, no script or width normalization; this reproduces the "
    "published cmrc2018 baseline exactly and drcd within one question (pure bigrams score lower)"
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Passage:
    """One passage of an external corpus."""

    id: str
    title: str
    text: str


def _read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read {what} {path}: {exc}. See shared/bench/README.md for the format.") from exc


def load_passages(path: Path) -> list[Passage]:
    """Read ``{"id", "title", "text"}`` rows.

    Raises:
        ConfigError: The file is unreadable or a row lacks ``id``/``text``.
    """
    try:
        return [Passage(str(r["id"]), str(r.get("title", "")), str(r["text"])) for r in _read_jsonl(path, "passages")]
    except KeyError as exc:
        raise ConfigError(f"{path}: a passage row has no {exc}. Rows need id, title, text.") from exc


def load_questions(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Read ``{"id", "question", "gold_passage_ids"}`` rows, the first ``limit`` of them.

    Raises:
        ConfigError: The file is unreadable or a row lacks a field.
    """
    rows = _read_jsonl(path, "questions")[: limit or None]
    for row in rows:
        if not {"id", "question", "gold_passage_ids"} <= set(row):
            raise ConfigError(f"{path}: question row {row.get('id', '?')} needs id, question and gold_passage_ids.")
    return rows


def baseline_tokens(text: str) -> list[str]:
    """Characters and character bigrams of raw text, whitespace removed (no normalization).

    Example: ``遼寧 省`` → ``['遼', '寧', '省', '遼寧', '寧省']``.
    """
    text = _SPACE.sub("", text)
    return list(text) + [text[i : i + 2] for i in range(len(text) - 1)]


class BigramBM25:
    """The published baseline of ``shared/bench``: bm25s over character uni- and bigrams of title + text."""

    def __init__(self, passages: Sequence[Passage], k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s

        self.ids = [p.id for p in passages]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._bm25.index([baseline_tokens(p.title + p.text) or [""] for p in passages], show_progress=False)

    def search(self, query: str, k: int = 10) -> list[str]:
        """Passage ids of the ``k`` best BM25 scores (ties in corpus order; none when no token is known)."""
        vocab = self._bm25.vocab_dict
        tokens = [t for t in baseline_tokens(query) if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens))
        return [self.ids[i] for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0]


def write_passage_corpus(passages: Sequence[Passage], folder: Path) -> dict[str, str]:
    """Write one document per passage plus a ``manifest.toml`` (passage id and title) unless already written.

    Returns:
        File name → passage id.
    """
    files = {f"p{i:06d}.txt": p.id for i, p in enumerate(passages)}
    manifest = folder / "manifest.toml"
    if manifest.exists():
        return files
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for (name, _), passage in zip(files.items(), passages, strict=True):
        (folder / name).write_text(f"{passage.title}\n\n{passage.text}\n", encoding="utf-8")
        entries.append(f"[[document]]\nfile = {json.dumps(name)}\nid = {json.dumps(passage.id, ensure_ascii=False)}\n"
                       f"title = {json.dumps(passage.title, ensure_ascii=False)}\n")
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text("\n".join(entries), encoding="utf-8")
    tmp.replace(manifest)  # written last: its presence means the folder is complete
    return files
