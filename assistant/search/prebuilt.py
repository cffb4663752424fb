"""Prebuilt index: the bundled corpus's index, shipped in the repository, installed into an empty index folder.

A fresh clone would otherwise embed every passage of the bundled corpus before its first answer. The prebuilt index
(``assistant/data/prebuilt/``, an index folder of one version, made by ``scripts/prebuild_index.py``) is installed
only into an index folder that has no index at all, and only when everything that shaped it is what this machine
would build:

1. its manifest's settings fingerprint, model id and corpus hash equal those of the settings, the embedder and the
   corpus (a hash embedder, other chunking or a changed document: not used);
2. every file of every segment matches its checksum (:func:`~.index.open_snapshot`);
3. the local model gives the same vectors: a few stored passages, embedded again, have cosine ≥ 0.999 to their stored
   vectors (another OpenVINO/NNCF version may quantize the same model id to slightly different int8 weights, which no
   fingerprint shows).

Its segments are then copied in and published as a new version with the usual atomic pointer replacement, and the
index is opened with the usual checks. When any check fails, the reason is logged and the normal build runs.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexStateError
from ..ingest.chunk import search_text
from ..ingest.corpus import CorpusFile, corpus_hash
from ..settings import Settings
from .embed import Embedder
from .index import POINTER, commit_version, open_snapshot, read_manifest, staleness
from .segments import SEGMENTS_DIR, verify_segment

log = logging.getLogger(__name__)

PREBUILT = Path(__file__).resolve().parents[1] / "data" / "prebuilt"
CHECK_PASSAGES = 3  # passages embedded again to compare with their stored vectors
MIN_COSINE = 0.999  # below this, the local model is not the one that built the prebuilt index
_RUN_FIELDS = ("version", "format_version", "created")  # set again when the version is committed here


def prebuilt_problem(settings: Settings, embedder: Embedder, files: Sequence[CorpusFile],
                     source: Path | None = None) -> str | None:
    """Why the prebuilt index in ``source`` cannot serve this corpus with these settings, or ``None`` when it can.

    Args:
        settings: The settings that shape the index.
        embedder: The embedder questions will use (it embeds :data:`CHECK_PASSAGES` stored passages).
        files: The corpus files (their hash must be the prebuilt index's).
        source: The prebuilt index folder (default :data:`PREBUILT`).

    Returns:
        A reason, e.g. ``"the documents in the corpus changed since it was built"``, or ``None``.
    """
    source = PREBUILT if source is None else source
    if not (source / POINTER).is_file():
        return "there is none"
    try:
        manifest = read_manifest(source)
        reason = staleness(manifest, settings, corpus_hash(list(files)), embedder.model_id)
        if reason:
            return reason
        snapshot = open_snapshot(source, settings)  # checks every file against its checksum
        ids = sorted(c for segment in snapshot.catalog.segments for c in segment.rows.chunk_ids)
        picked = [ids[round(i * (len(ids) - 1) / max(1, CHECK_PASSAGES - 1))] for i in range(CHECK_PASSAGES)]
        chunks = snapshot.get_chunks(picked)
        stored = snapshot.vectors.get(picked)
    except IndexStateError as exc:
        return f"it is damaged ({exc})"
    if not ids or set(chunks) != set(picked) or set(stored) != set(picked):
        return "it lacks the passages it lists"
    fresh = embedder.embed_passages([search_text(chunks[c]) for c in picked])
    old = np.stack([np.asarray(stored[c].vector, dtype=np.float32) for c in picked])
    cosines = np.sum(fresh * old, axis=1) / (np.linalg.norm(fresh, axis=1) * np.linalg.norm(old, axis=1) + 1e-12)
    if float(cosines.min()) < MIN_COSINE:
        return (f"the local model embeds its passages differently (cosine {float(cosines.min()):.4f} < {MIN_COSINE}; "
                "another runtime or quantization under the same model id)")
    return None


def install_prebuilt(settings: Settings, embedder: Embedder, files: Sequence[CorpusFile],
                     source: Path | None = None) -> dict[str, Any] | None:
    """Install the prebuilt index into ``paths.index/store`` when that folder has no index and every check passes.

    The caller holds the build lock. Segments are copied under temporary names, renamed into place and checked; the
    version becomes current with one atomic pointer replacement (:func:`~.index.commit_version`), so a crash leaves no
    index, never half of one.

    Args:
        settings: Paths and the settings that shape the index.
        embedder: The embedder questions will use.
        files: The corpus files.
        source: The prebuilt index folder (default :data:`PREBUILT`).

    Returns:
        The committed manifest, or ``None`` when the folder already has an index or the prebuilt one is not usable.

    Raises:
        CorruptIndexError: A copied file differs from its checksum (nothing is published).
    """
    folder, source = settings.paths.index / "store", PREBUILT if source is None else source
    if (folder / POINTER).exists():
        return None  # an existing index, stale or not, is the normal build's business
    problem = prebuilt_problem(settings, embedder, files, source)
    if problem:  # other settings, model or corpus are ordinary; damage or other vectors under the same id are not
        unexpected = problem.startswith(("it is damaged", "it lacks", "the local model"))
        log.log(logging.WARNING if unexpected else logging.INFO, "Prebuilt index not used: %s; building the index.",
                problem)
        return None
    manifest = read_manifest(source)
    (folder / SEGMENTS_DIR).mkdir(parents=True, exist_ok=True)
    for state in manifest["stores"].values():
        for record in state.get("segments", []):
            target = folder / SEGMENTS_DIR / record["name"]
            temporary = folder / SEGMENTS_DIR / f".prebuilt-{record['name']}"
            shutil.rmtree(temporary, ignore_errors=True)
            shutil.copytree(source / SEGMENTS_DIR / record["name"], temporary)
            shutil.rmtree(target, ignore_errors=True)  # left by a crashed install: unpublished
            os.replace(temporary, target)
            verify_segment(folder, record)  # the copy, checked before it is published
    published = {key: value for key, value in manifest.items() if key not in _RUN_FIELDS}
    committed = commit_version(folder, {**published, "prebuilt": True})
    log.info("Installed the verified prebuilt index (%d passages, model %s).", committed["n_chunks"],
             committed["model_id"])
    return committed
