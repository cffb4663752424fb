"""Answer backends side by side on one split of the dev set: the extractive answerer and an LLM backend.

Usage: nice -n 10 .venv/bin/python scripts/bench_llm_eval.py [--split test] [--backends extractive,local] [--limit N]

Asks every question of the split whose type is answered by ``ask`` (fact, paraphrase, section, unanswerable) with
each backend over the built default index, in one process, and prints one JSON line per backend: refusal
precision/recall/F1 and false refusal rate (a model refusal, ``refusal_reason: model_refused``, counts as a
refusal), how many answers the model refused, answer coverage (the share of answered questions whose shown text
is the model's, verified, not the extractive fallback), citation coverage (the gold evidence is among the cited
quotes), the fallback reasons and latency p50/p95 (the model is loaded before the timed calls). Per-question
records and the summary go to ``--out`` (default ``eval/runs/llm-<UTC time>/``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.evaluation.evaluate import ASK_TYPES, load_eval_set, timed  # noqa: E402
from assistant.evaluation.metrics import percentiles, refusal_scores  # noqa: E402
from assistant.evaluation.relevance import match_key  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import load_settings  # noqa: E402


def record(assistant: Assistant, item: Any, backend: str) -> dict[str, Any]:
    """Ask one question with one backend; keep what the summary needs."""
    answer, ms, error = timed(lambda: assistant.ask(item.question, backend=backend))
    data = answer.to_dict() if answer is not None else {}
    refused = bool(data.get("refused", True))
    covered = None
    if item.type != "unanswerable" and not refused and item.evidence:
        quotes = [match_key(c["quote"]) for c in data.get("citations", [])]
        covered = all(any(match_key(e) in q for q in quotes) for e in item.evidence)
    llm = data.get("llm") or {}
    return {"id": item.id, "type": item.type, "question": item.question, "backend": backend,
            "should_refuse": item.type == "unanswerable", "refused": refused,
            "refusal_reason": data.get("refusal_reason"), "scope_mismatch": bool(data.get("scope_mismatch")),
            "model_text_shown": llm.get("outcome") == "answered", "llm_outcome": llm.get("outcome"),
            "llm_sentences": llm.get("sentences"), "llm_fallback": data.get("llm_fallback"),
            "llm_text": llm.get("text"), "answer": data.get("answer", ""), "citation_covered": covered,
            "latency_ms": round(ms, 1), **({"error": error} if error else {})}


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Refusal, coverage and latency numbers of one backend's records."""
    should = [r["should_refuse"] for r in records]
    refused = [r["refused"] for r in records]
    scores = refusal_scores(should, refused)
    answerable = [r for r in records if not r["should_refuse"]]
    answered = [r for r in records if not r["refused"]]
    covered = [r["citation_covered"] for r in answered if r["citation_covered"] is not None]
    model_refused = [r for r in records if r["refusal_reason"] == "model_refused"]
    sentences: Counter[str] = Counter()
    for r in records:
        sentences.update(r["llm_sentences"] or {})
    return {
        "n": len(records), "answered": len(answered), "refused": sum(refused),
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in scores.items()},
        "false_refusal_rate": round(sum(1 for r in answerable if r["refused"]) / max(len(answerable), 1), 3),
        "model_refused": len(model_refused),
        "model_refused_correct": sum(1 for r in model_refused if r["should_refuse"]),
        "answer_coverage": round(sum(r["model_text_shown"] for r in answered) / max(len(answered), 1), 3),
        "model_text_shown": sum(r["model_text_shown"] for r in answered),
        "citation_coverage": round(sum(covered) / max(len(covered), 1), 3), "n_citation_checked": len(covered),
        "fallback_reasons": dict(Counter(r["llm_fallback"] for r in records if r["llm_fallback"])),
        "sentences": dict(sentences), "errors": sum(1 for r in records if "error" in r),
        "latency_ms": percentiles([r["latency_ms"] for r in records]),
    }


def replay(records: Path) -> None:
    """Answer the ``local`` backend's model calls with the texts an earlier run recorded (by question)."""
    from assistant.answers import generate

    texts = {}
    for line in records.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["backend"] == "local" and row.get("llm_text") is not None:
            texts[row["question"]] = row["llm_text"]

    def recorded(messages: list[dict[str, str]], settings: object) -> str:
        question = messages[-1]["content"].rsplit("问题：", 1)[1]
        return texts.get(question, "")

    generate._local_chat = recorded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="test")
    parser.add_argument("--backends", default="extractive,local")
    parser.add_argument("--limit", type=int, default=0, help="Ask only the first N questions (0: all).")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--replay", type=Path, default=None,
                        help="records.jsonl of an earlier run: check its model texts again with the current rules "
                             "instead of calling the model (no model needed; latency then measures the checks only).")
    args = parser.parse_args()
    if args.replay:
        replay(args.replay)
    items = [i for i in load_eval_set(ROOT / "eval" / "dev.jsonl") if i.split == args.split and i.type in ASK_TYPES]
    items = items[: args.limit] if args.limit else items
    out = args.out or ROOT / "eval" / "runs" / f"llm-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    out.mkdir(parents=True, exist_ok=True)
    assistant = Assistant(load_settings())
    assistant.open_index()
    summary: dict[str, Any] = {"split": args.split, "questions": len(items), "load_start": os.getloadavg()}
    with (out / "records.jsonl").open("w", encoding="utf-8") as sink:
        for backend in args.backends.split(","):
            assistant.ask("沈阳2021年要新建多少个5G基站？", backend=backend)  # loads models outside the timed calls
            started = time.perf_counter()
            records = []
            for item in items:
                records.append(record(assistant, item, backend))
                sink.write(json.dumps(records[-1], ensure_ascii=False) + "\n")
                sink.flush()
            summary[backend] = {**summarize(records), "seconds": round(time.perf_counter() - started)}
            print(json.dumps({"backend": backend, **summary[backend]}, ensure_ascii=False), flush=True)
    summary["load_end"] = os.getloadavg()
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({"out": str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out),
                      "load_start": summary["load_start"], "load_end": summary["load_end"]}), flush=True)


if __name__ == "__main__":
    main()
