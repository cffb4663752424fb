"""Report: summarize eval records, write a run folder (records, summary, Markdown tables, chart), compare two runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..settings import Settings
from .metrics import KS, MRR_K, NDCG_K, RETRIEVAL_KEYS, SECTION_K
from .relevance import RELEVANCE_RULE
from .summary import (
    answer_rows,
    cross_language,
    retrieval_rows,
    summarize_answers,
    summarize_judges,
    summarize_latency,
    summarize_retrieval,
)
from .tables import (
    ROW_KEYS,
    count,
    fmt,
    render_answer_rows,
    render_cross_language,
    render_judges,
    render_refusal,
    render_retrieval_rows,
    render_scope,
    table,
)

TABLE_KEYS = (*RETRIEVAL_KEYS, "piece_recall@10")
CHART_KEYS = (*(f"hit@{k}" for k in KS), f"mrr@{MRR_K}")
ANSWER_KEYS = ("citation_coverage", "refusal_precision", "refusal_recall", "refusal_f1", "false_refusal_rate",
               "claim_accuracy")


def repo_path(path: Path | str) -> str:
    """A path relative to the working directory (the repository root), POSIX-style, never absolute."""
    return Path(os.path.relpath(Path(path).resolve(), Path.cwd().resolve())).as_posix()


def git_commit() -> tuple[str, bool]:
    """The current git commit and whether the working tree has uncommitted changes (``""`` outside git)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "", False
    return commit, bool(dirty)


def provenance(settings: Settings, model_id: str, corpus_hash: str) -> dict[str, Any]:
    """What a run depends on: settings and index fingerprints, model, corpus hash, git commit."""
    commit, dirty = git_commit()
    return {"settings_fingerprint": settings.fingerprint(), "index_fingerprint": settings.index_fingerprint(),
            "model_id": model_id, "corpus_hash": corpus_hash, "git_commit": commit, "git_dirty": dirty}


def new_run_dir(out: Path, fingerprint: str, suffix: str = "") -> Path:
    """Create ``out/<UTC YYYYMMDDTHHMMSSZ>-<fingerprint[:8]>[-suffix]`` (``-2``, ``-3`` … if it exists)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{fingerprint[:8]}" + (f"-{suffix}" if suffix else "")
    folder, n = out / name, 1
    while folder.exists():
        n += 1
        folder = out / f"{name}-{n}"
    folder.mkdir(parents=True)
    return folder


def write_run(folder: Path, records: Sequence[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Write ``records.jsonl``, ``summary.json``, ``report.md`` and ``chart.png`` into a run folder."""
    stamp = {key: summary[key] for key in ("settings_fingerprint", "model_id", "git_commit") if key in summary}
    with (folder / "records.jsonl").open("w", encoding="utf-8") as handle:
        for rec in records:
            handle.write(json.dumps({**rec, **stamp}, ensure_ascii=False) + "\n")
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "report.md").write_text(render_report(summary), encoding="utf-8")
    draw_chart(summary, folder / "chart.png")


def build_summary(settings: Settings, model_id: str, corpus_hash: str, records: Sequence[dict[str, Any]],
                  about: dict[str, Any]) -> dict[str, Any]:
    """The ``summary.json`` object: provenance, relevance rule, retrieval/answer metrics and latency."""
    retrieval = [r for r in records if r["mode"] not in ("ask", "check")]
    return {
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **about,
        **provenance(settings, model_id, corpus_hash),
        "relevance_rule": RELEVANCE_RULE,
        "metric_notes": {f"ndcg@{NDCG_K}": "binary gains; ideal DCG from all relevant chunks of the corpus",
                         f"section_hit@{SECTION_K}": "a top-5 chunk's section path ends with the gold section "
                                                     "(levels normalized, whitespace removed)"},
        "retrieval": summarize_retrieval(retrieval),
        "retrieval_rows": retrieval_rows(retrieval),
        "cross_language": cross_language(retrieval),
        "answers": summarize_answers(records),
        "answer_rows": answer_rows(records),
        "latency_ms": summarize_latency(records),
        "judges": summarize_judges(records),
    }


def _metric_cells(mode: str, metrics: dict[str, Any]) -> list[str]:
    cells = []
    for key in TABLE_KEYS:
        value = metrics.get(key)
        cells.append("0 (no sections)" if mode == "naive" and key.startswith("section_hit") else fmt(value))
    return cells


def render_report(summary: dict[str, Any]) -> str:
    """``report.md``: provenance, retrieval per split and per type, answers, claim confusion, latency.

    Example: a run over ``eval/dev.jsonl`` gives one retrieval table per split (tune, test, all) with one row
    per mode, then a per-type table for ``all``.
    """
    commit = summary.get("git_commit", "")[:12] + (" (uncommitted changes)" if summary.get("git_dirty") else "")
    lines = [f"# Eval run `{summary.get('run', '')}`", ""]
    about = [("set", summary.get("set")), ("corpus", summary.get("corpus")), ("questions", summary.get("questions")),
             ("created (UTC)", summary.get("created")), ("model", summary.get("model_id")),
             ("settings fingerprint", summary.get("settings_fingerprint")),
             ("index fingerprint", summary.get("index_fingerprint")), ("corpus hash", summary.get("corpus_hash")),
             ("git commit", commit), ("pipeline chunks", summary.get("pipeline_chunks")),
             ("naive baseline", (summary.get("naive") or {}).get("description")), ("baseline", summary.get("baseline"))]
    lines += [f"- {name}: {fmt(value)}" for name, value in about if value not in (None, "")]
    lines += ["", "## Retrieval", "", f"Relevance rule: {summary.get('relevance_rule', '')}", ""]
    retrieval = summary.get("retrieval", {})
    splits = [s for s in ("tune", "test", "all") if any(s in by_split for by_split in retrieval.values())]
    header = ["mode", "n", *TABLE_KEYS, "unreachable"]
    for split in splits:
        lines += [f"### Split `{split}`", ""]
        rows = [[mode, by_split[split]["all"]["n"], *_metric_cells(mode, by_split[split]["all"]),
                 by_split[split]["all"].get("unreachable")] for mode, by_split in retrieval.items() if split in by_split]
        lines += [*table(header, rows), ""]
    types = sorted({g for by_split in retrieval.values() for g in by_split.get("all", {}) if g != "all"})
    if len(types) > 1:
        lines += ["### By question type (split `all`)", ""]
        rows = [[t, mode, by_split["all"][t]["n"], *_metric_cells(mode, by_split["all"][t]),
                 by_split["all"][t].get("unreachable")]
                for t in types for mode, by_split in retrieval.items() if t in by_split.get("all", {})]
        lines += [*table(["type", *header], rows), ""]
    lines += render_retrieval_rows(summary.get("retrieval_rows") or {})
    lines += render_cross_language(summary.get("cross_language") or {})
    answers = summary.get("answers", {})
    if answers:
        lines += ["## Answers (extractive `ask` on fact/paraphrase/section/unanswerable, `check` on claims)", ""]
        rows = [[split, *(a.get(k) for k in ANSWER_KEYS), a.get("answered"), a.get("n_ask"), a.get("n_check")]
                for split, a in answers.items()]
        lines += [*table(["split", *ANSWER_KEYS, "answered", "n_ask", "n_check"], rows), ""]
        confusion = answers.get("all", {}).get("claim_confusion") or {}
        if confusion:
            labels = list(next(iter(confusion.values())))
            lines += ["Claim confusion (split `all`, rows gold, columns predicted):", ""]
            lines += [*table(["gold \\ predicted", *labels], [[g, *row.values()] for g, row in confusion.items()]), ""]
        lines += render_refusal(answers) + render_scope(answers) + render_answer_rows(summary.get("answer_rows") or {})
    latency = summary.get("latency_ms", {})
    if latency:
        lines += ["## Latency (ms per call)", ""]
        lines += [*table(["stage", "p50", "p95", "n"], [[s, v["p50"], v["p95"], v["n"]] for s, v in latency.items()]), ""]
    lines += render_judges(summary.get("judges") or {})
    return "\n".join(lines)


def draw_chart(summary: dict[str, Any], path: Path) -> None:
    """``chart.png``: grouped bars of hit@1/3/5/10 and MRR@10 per mode (split ``all``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    retrieval = summary.get("retrieval", {})
    modes = [m for m in retrieval if "all" in retrieval[m]]
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    width = 0.8 / max(1, len(modes))
    for i, mode in enumerate(modes):
        values = [retrieval[mode]["all"]["all"].get(key) or 0.0 for key in CHART_KEYS]
        positions = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(CHART_KEYS))]
        bars = ax.bar(positions, values, width, label=mode)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(range(len(CHART_KEYS)), CHART_KEYS)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("score")
    n = next((retrieval[m]["all"]["all"]["n"] for m in modes), 0)
    ax.set_title(f"Retrieval by mode ({summary.get('set', '')}, {n} questions, {summary.get('model_id', '')})",
                 fontsize=9)
    if modes:
        ax.legend(fontsize=8, ncols=min(len(modes), 5), loc="upper left")
    else:
        ax.text(0.5, 0.5, "no retrieval metrics in this run (answers only)", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def load_summary(run: Path) -> dict[str, Any]:
    """Read a run's ``summary.json`` (``run`` is the folder or the file).

    Raises:
        ConfigError: The summary is missing or unreadable.
    """
    path = run / "summary.json" if run.is_dir() else run
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read eval summary {path}: {exc}. Pass a run folder under eval/runs/.") from exc


def flatten(summary: dict[str, Any]) -> dict[str, float]:
    """Numeric metrics of a summary by dotted key (per-type tables are left out; rows keep hit@1/hit@5/MRR@10).

    Example keys: ``retrieval.hybrid.test.hit@5``, ``answers.all.refusal_f1``, ``latency_ms.search:dense.p50``,
    ``rows.hybrid.test.lang=en.hit@5``, ``answer_rows.test.kind=colloquial.false_refusal_rate``.
    """
    flat: dict[str, float] = {}
    for mode, by_split in summary.get("retrieval", {}).items():
        for split, groups in by_split.items():
            for key, value in groups.get("all", {}).items():
                if isinstance(value, int | float) and key not in ("n", "unreachable"):
                    flat[f"retrieval.{mode}.{split}.{key}"] = float(value)
    for split, values in summary.get("answers", {}).items():
        for key in ANSWER_KEYS:
            if isinstance(values.get(key), int | float):
                flat[f"answers.{split}.{key}"] = float(values[key])
    for stage, values in summary.get("latency_ms", {}).items():
        for key in ("p50", "p95"):
            if isinstance(values.get(key), int | float):
                flat[f"latency_ms.{stage}.{key}"] = float(values[key])
    for mode, by_split in (summary.get("retrieval_rows") or {}).items():
        for split, dims in by_split.items():
            for dim, rows in dims.items():
                for value, metrics in rows.items():
                    for key in ROW_KEYS:
                        if isinstance(metrics.get(key), int | float):
                            flat[f"rows.{mode}.{split}.{dim}={value}.{key}"] = float(metrics[key])
    for split, dims in (summary.get("answer_rows") or {}).items():
        for dim, rows in dims.items():
            for value, metrics in rows.items():
                for key in ("refusal_f1", "false_refusal_rate", "claim_accuracy"):
                    if isinstance(metrics.get(key), int | float):
                        flat[f"answer_rows.{split}.{dim}={value}.{key}"] = float(metrics[key])
    return flat


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Metric differences ``b − a`` for every key in either run (``None`` where one run lacks it)."""
    fa, fb = flatten(a), flatten(b)
    keys = list(fa) + [k for k in fb if k not in fa]
    return [{"metric": k, "a": fa.get(k), "b": fb.get(k),
             "delta": fb[k] - fa[k] if k in fa and k in fb else None} for k in keys]


def render_compare(rows: list[dict[str, Any]], a_name: str, b_name: str) -> str:
    """A Markdown table of :func:`compare` rows (latency in ms, everything else as a fraction)."""
    body = [[r["metric"], r["a"], r["b"], None if r["delta"] is None else f"{r['delta']:+.3f}"] for r in rows]
    return "\n".join([f"A = {a_name}", f"B = {b_name}", "", *table(["metric", "A", "B", "B − A"], body)])


def render_console(summary: dict[str, Any]) -> str:
    """A short plain-text summary for the terminal: retrieval per mode and split, answer metrics."""
    lines = [f"run {summary.get('run', '')}  model {summary.get('model_id', '')}  set {summary.get('set', '')}"]
    keys = [k for k in TABLE_KEYS if k != "piece_recall@10"]
    if summary.get("retrieval"):
        lines.append(f"{'mode':<12} {'split':<5} {'n':>4} " + " ".join(f"{k:>13}" for k in keys))
    for mode, by_split in summary.get("retrieval", {}).items():
        for split, groups in by_split.items():
            metrics = groups["all"]
            lines.append(f"{mode:<12} {split:<5} {metrics['n']:>4} " + " ".join(f"{fmt(metrics.get(k)):>13}" for k in keys))
    for split, a in summary.get("answers", {}).items():
        lines.append(f"answers {split:<5} " + "  ".join(f"{k} {fmt(a.get(k))}" for k in ANSWER_KEYS)
                     + f"  (answerable refused {count(a.get('answerable_refused'), a.get('answerable'))})")
    latency = summary.get("latency_ms", {})
    calls = [f"{stage} p50 {fmt(latency[stage]['p50'])} ms p95 {fmt(latency[stage]['p95'])} ms"
             for stage in ("ask", "check") if stage in latency]
    if calls:
        lines.append("latency  " + "  ".join(calls))
    return "\n".join(lines)
