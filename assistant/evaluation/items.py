"""Eval items: the ``eval/dev.jsonl`` schema (also ``eval/trust.jsonl`` and folder corpora's questions), id lists.

An item file is JSON Lines; a row needs ``id``, ``type`` and ``question``. Optional fields: ``lang``
(``zh-Hans``/``zh-Hant``/``en``, default from the question's script), ``kind`` (a finer label such as
``colloquial``, ``english``, ``wrong_year``, ``meaning``; default the type), ``subkind``, ``twin`` (the id of the item
asking the same in the other language), ``batch`` (which annotation round added it; default ``original``) and
``scope`` (the scope notice the answer must carry: ``[{"kind": "year", "asked": "2024", "found": "2021"}]``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..text.script import detect_script

LANGS = {"simplified": "zh-Hans", "traditional": "zh-Hant", "latin": "en"}
ORIGINAL_BATCH = "original"
SCOPE_KINDS = ("year", "period", "place", "indicator")


def lang_of(text: str) -> str:
    """The ``lang`` label of a question from its script.

    Example: ``遼寧有多少家企業？`` → ``zh-Hant``; ``How many?`` → ``en``; ``辽宁`` → ``zh-Hans``.
    """
    return LANGS.get(detect_script(text), "zh-Hans")


@dataclass(frozen=True)
class EvalItem:
    """One eval-set line; ``doc``, ``section`` and ``evidence`` are tuples (one piece unless ``multi``).

    ``scope`` holds the expected scope notice as ``(kind, asked, found)`` triples.
    """

    id: str
    type: str
    question: str
    answer: str
    docs: tuple[str, ...]
    sections: tuple[str, ...]
    evidence: tuple[str, ...]
    claim_verdict: str
    split: str
    lang: str = ""
    kind: str = ""
    subkind: str = ""
    twin: str = ""
    batch: str = ORIGINAL_BATCH
    scope: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> EvalItem:
        """Build an item from a ``dev.jsonl`` row (list-valued fields of ``multi`` items become tuples).

        Raises:
            KeyError: A required field is missing.
            TypeError: ``scope`` is not a list of objects.
        """

        def pieces(value: Any) -> tuple[str, ...]:
            return tuple(v for v in (value if isinstance(value, list) else [value]) if v)

        scope = tuple((str(s["kind"]), str(s.get("asked", "")), str(s.get("found", ""))) for s in row.get("scope") or ())
        return cls(row["id"], row["type"], row["question"], row.get("answer", ""), pieces(row.get("doc", "")),
                   pieces(row.get("section", "")), pieces(row.get("evidence", "")), row.get("claim_verdict", ""),
                   row.get("split", "test"), row.get("lang") or lang_of(row["question"]), row.get("kind") or row["type"],
                   row.get("subkind", ""), row.get("twin", ""), row.get("batch") or ORIGINAL_BATCH, scope)

    def labels(self) -> dict[str, str]:
        """The row labels copied into every record of this item (``lang``, ``kind``, ``subkind``, ``batch``)."""
        return {"lang": self.lang, "kind": self.kind, "subkind": self.subkind, "batch": self.batch}

    def scope_dicts(self) -> list[dict[str, str]]:
        """``scope`` as JSON objects ``{"kind", "asked", "found"}``."""
        return [{"kind": k, "asked": a, "found": f} for k, a, f in self.scope]


def _rows(path: Path, what: str) -> list[dict[str, Any]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read {what} {path}: {exc}.") from exc


def read_ids(path: Path) -> set[str]:
    """Question ids listed in a file: the ``id`` of each row of a ``.jsonl`` file, else one id per line.

    Raises:
        ConfigError: The file cannot be read.
    """
    if Path(path).suffix == ".jsonl":
        return {str(row["id"]) for row in _rows(path, "id list") if "id" in row}
    try:
        return {line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()}
    except OSError as exc:
        raise ConfigError(f"Cannot read id list {path}: {exc}.") from exc


def load_eval_set(path: Path, exclude: set[str] | frozenset[str] = frozenset()) -> list[EvalItem]:
    """Read an eval set (JSON Lines in the ``eval/dev.jsonl`` format), leaving out the ids in ``exclude``.

    Raises:
        ConfigError: The file is missing or a line is not a valid item.
    """
    try:
        return [item for row in _rows(path, "eval set") if (item := EvalItem.from_dict(row)).id not in exclude]
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"Cannot read eval set {path}: {exc}. Pass a file in the eval/dev.jsonl format.") from exc


def question_schema(path: Path) -> str:
    """``passages`` for external questions (rows with ``gold_passage_ids``), ``items`` for the dev-set schema.

    Raises:
        ConfigError: The file is unreadable, empty, or its first row fits neither schema.
    """
    rows = _rows(path, "questions")
    if not rows:
        raise ConfigError(f"{path} holds no questions.")
    if "gold_passage_ids" in rows[0]:
        return "passages"
    if {"id", "type", "question"} <= set(rows[0]):
        return "items"
    raise ConfigError(f"{path}: rows need either gold_passage_ids (an external passage set) or id, type and question "
                      "(the eval/dev.jsonl format).")
