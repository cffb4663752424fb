"""Prebuild the index of the bundled corpus into ``assistant/data/prebuilt/`` (see ``assistant/search/prebuilt.py``).

Run it after changing the bundled corpus, the chunking or anything else that shapes the index (the test
``tests/test_prebuilt.py::test_committed_prebuilt_index_is_current`` fails until then):

  .venv/bin/python scripts/prebuild_index.py

It builds the corpus from scratch with the effective settings (``assistant.toml`` and ``ASSISTANT_*`` variables
apply; the model cache is the usual one), in a temporary folder, and replaces ``assistant/data/prebuilt/`` with that
index's current version: the pointer, its manifest and its segments.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.pipeline import Assistant  # noqa: E402
from assistant.search.index import POINTER, read_manifest, read_pointer  # noqa: E402
from assistant.search.prebuilt import PREBUILT  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402

NOTE = """# Prebuilt index of the bundled corpus

Made by `scripts/prebuild_index.py` from `corpus/` with the default settings; installed into an empty index folder
only when its settings fingerprint, model id and corpus hash match, every file matches its checksum, and the local
model re-embeds a few of its passages to the same vectors (`assistant/search/prebuilt.py`). Do not edit by hand.
"""


def main() -> None:
    """Build the bundled corpus's index in a temporary folder and copy its current version into place."""
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # Uploads outside the corpus folder: never part of the bundled corpus.
        settings = load_settings(overrides={"paths": {"corpus": str(ROOT / "corpus"), "index": str(work / "index"),
                                                      "uploads": str(work / "uploads")}})
        defaults = Settings(paths=settings.paths)
        if settings.index_fingerprint() != defaults.index_fingerprint():
            sys.exit("The effective settings shape the index differently from the defaults (assistant.toml or an "
                     "ASSISTANT_* variable): the prebuilt index must be made with the defaults.")
        report = Assistant(settings).build(force=True)
        if report.skipped:
            sys.exit(f"Files were skipped: {report.skipped}")
        store = settings.paths.index / "store"
        pointer, manifest = read_pointer(store), read_manifest(store)
        staged = work / "prebuilt"
        (staged / "manifests").mkdir(parents=True)
        shutil.copy2(store / pointer["manifest"], staged / pointer["manifest"])
        (staged / POINTER).write_text(json.dumps(pointer), encoding="utf-8")
        for state in manifest["stores"].values():
            for record in state["segments"]:
                shutil.copytree(store / "segments" / record["name"], staged / "segments" / record["name"])
        (staged / "README.md").write_text(NOTE, encoding="utf-8")
        shutil.rmtree(PREBUILT, ignore_errors=True)
        PREBUILT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, PREBUILT)
    size = sum(p.stat().st_size for p in PREBUILT.rglob("*") if p.is_file())
    print(f"{PREBUILT.relative_to(ROOT)}: {manifest['n_chunks']} passages of {manifest['n_documents']} documents, "
          f"model {manifest['model_id']}, settings {manifest['settings_fingerprint']}, corpus "
          f"{manifest['corpus_hash']}, {size / 1e6:.1f} MB; embedded {report.embedded} in {report.seconds:.1f} s")


if __name__ == "__main__":
    main()
