"""Write the int8 calibration set (assistant/search/calibration.jsonl) from the bundled corpus.

Every 4th passage of the bundled corpus (exactly the text the dense model sees) and every 3rd distinct section
heading as a short query. The eval questions are never used. Run once; the output is committed, so the quantized
model is the same on every machine whatever corpus a user configures.

Usage: .venv/bin/python scripts/make_calibration.py
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.ingest.documents import ingest_corpus
from assistant.search.build import passage_for_embedding
from assistant.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assistant" / "search" / "calibration.jsonl"


def main() -> None:
    settings = load_settings(overrides={"embedding": {"model": "hash:256"}})
    chunks = ingest_corpus(ROOT / "corpus", settings).chunks
    passages = [passage_for_embedding(c) for c in chunks][::4]
    headings = list(dict.fromkeys(c.section_path[-1] for c in chunks if c.section_path))[::3]
    with OUT.open("w", encoding="utf-8") as out:
        for kind, texts in (("passage", passages), ("query", headings)):
            for text in texts:
                out.write(json.dumps({"kind": kind, "text": text}, ensure_ascii=False) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(passages)} passages, {len(headings)} queries")


if __name__ == "__main__":
    main()
