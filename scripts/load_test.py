"""Bounded load test of a running UI server: N concurrent gradio_client clients, each asking M questions via /ask.

Usage (server already running, e.g. `.venv/bin/python app.py`):
    .venv/bin/python scripts/load_test.py [--url http://127.0.0.1:7860/] [--clients 20] [--questions 10]
    .venv/bin/python scripts/load_test.py --clients 4 --questions 40 --upload big.txt [--token T]

Prints p50/p95/max latency, throughput and the error count as Markdown. With ``--upload`` it runs twice in the same
invocation: once without an upload, then again while ``/upload`` sends the file (the server indexes it in the
background), and reports the upload's own time. Not a CI step.
"""

from __future__ import annotations

import argparse
import base64
import math
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant.prompts import UI_EXAMPLE_QUESTIONS

QUESTIONS = [
    *UI_EXAMPLE_QUESTIONS,
    "那沈阳呢？",
    "辽宁2024年要新增多少高新技术企业？",
    "沈阳2021年地区生产总值增长目标是多少？",
    "遼寧要建設多少個國家級海洋牧場示範區？",
    "辽宁“十四五”期间常住人口城镇化率要达到多少？",
    "How many 5G base stations will Shenyang build in 2021?",
]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (``q`` in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def wait_ready(url: str, timeout: float) -> float:
    """Wait until ``/ask`` answers without an index error; returns the seconds waited."""
    from gradio_client import Client

    started = time.perf_counter()
    while True:
        try:
            result = Client(url, verbose=False).predict(QUESTIONS[0], api_name="/ask")
            if "error" not in result:
                return time.perf_counter() - started
        except Exception as exc:  # server not up yet
            result = {"error": str(exc)}
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"server at {url} not ready after {timeout:.0f}s: {result['error']}")
        time.sleep(2)


def run_client(url: str, worker: int, n: int) -> list[tuple[float, str | None]]:
    """One client asking ``n`` questions in turn; returns (seconds, error or None) per question."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    results = []
    for i in range(n):
        question = QUESTIONS[(worker + i) % len(QUESTIONS)]
        started = time.perf_counter()
        try:
            answer = client.predict(question, api_name="/ask")
            error = answer["error"]["type"] if "error" in answer else None
        except Exception as exc:
            error = type(exc).__name__
        results.append((time.perf_counter() - started, error))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--ready-timeout", type=float, default=600)
    parser.add_argument("--upload", help="A document to upload through /upload during a second run.")
    parser.add_argument("--token", default="", help="The server's admin token (ui.admin_token), if it has one.")
    args = parser.parse_args()
    waited = wait_ready(args.url, args.ready_timeout)
    print(f"## Load test: {args.clients} clients × {args.questions} questions via /ask\n")
    print(f"server ready after {waited:.1f} s; url {args.url}\n")
    print("| run | requests | errors | p50 (s) | p95 (s) | max (s) | mean (s) | throughput (req/s) | wall (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    row("no upload", *load(args))
    if args.upload:
        upload: dict = {}
        thread = threading.Thread(target=send_upload, args=(args.url, Path(args.upload), args.token, upload))
        thread.start()
        results, wall = load(args)
        thread.join()
        row(f"during upload of {Path(args.upload).name}", results, wall)
        print(f"\nupload: {upload}")


def load(args: argparse.Namespace) -> tuple[list[tuple[float, str | None]], float]:
    """One run of all clients; returns every (seconds, error) and the wall time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        futures = [pool.submit(run_client, args.url, w, args.questions) for w in range(args.clients)]
        results = [r for f in futures for r in f.result()]
    return results, time.perf_counter() - started


def row(label: str, results: list[tuple[float, str | None]], wall: float) -> None:
    """Print one Markdown table row (and the error types, if any)."""
    latencies = [seconds for seconds, _ in results]
    errors = [e for _, e in results if e]
    print(f"| {label} | {len(results)} | {len(errors)} | {percentile(latencies, 50):.2f} | "
          f"{percentile(latencies, 95):.2f} | {max(latencies):.2f} | {statistics.mean(latencies):.2f} | "
          f"{len(results) / wall:.1f} | {wall:.1f} |")
    if errors:
        print("\nerrors by type: " + ", ".join(f"{e} × {errors.count(e)}" for e in sorted(set(errors))))


def send_upload(url: str, path: Path, token: str, out: dict) -> None:
    """Upload ``path`` through ``/upload`` and record the answer and the seconds it took."""
    from gradio_client import Client

    time.sleep(1.0)  # the clients are busy by then
    started = time.perf_counter()
    content = base64.b64encode(path.read_bytes()).decode()
    out.update(Client(url, verbose=False).predict(path.name, content, token, api_name="/upload"))
    out["client_seconds"] = round(time.perf_counter() - started, 1)


if __name__ == "__main__":
    main()
