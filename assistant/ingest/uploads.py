"""Uploads: accept a user's file into the uploads folder safely (sanitized name, type, size and count limits).

The uploads folder has its own ``manifest.toml``, written with a TOML library (never by string formatting) and
atomically; every value that comes from a user's file is cleaned of control characters first.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import tomli_w

from ..errors import ConfigError, DocumentError, UnsupportedFileTypeError
from .corpus import MANIFEST_NAME, clean_field, read_manifest
from .load import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)
UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES  # whatever the loaders read; everything else is refused
# Anything but letters (any script), digits, '-', '_' and '.', e.g. "../报告 (1).txt" → "报告_1_.txt".
_UNSAFE = re.compile(r"[^\w.\-]+")
_HEADER = "# Uploaded documents (written by the assistant; one [[document]] table per file).\n"


def sanitize_filename(name: str) -> str:
    """A safe file name for an upload: no folders, no hidden or odd characters, extension kept.

    Example: ``../../etc/政府 工作报告(2024).TXT`` → ``政府_工作报告_2024_.txt``.

    Raises:
        UnsupportedFileTypeError: The extension is not an accepted upload type.
    """
    base = Path(unicodedata.normalize("NFKC", clean_field(name, 400)).replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    suffix = suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        allowed = ", ".join(sorted(UPLOAD_SUFFIXES))
        kind = suffix or "(none)"
        raise UnsupportedFileTypeError(f"{base or name!r}: files of type {kind} are not accepted. Upload {allowed}.")
    stem = _UNSAFE.sub("_", stem).strip("._")[:80] or "document"
    return stem + suffix


def check_quota(folder: Path, size: int, max_files: int, max_total_bytes: int) -> None:
    """Refuse an upload of ``size`` bytes that would exceed the uploads folder's count or total size.

    Raises:
        DocumentError: Too many uploads, or too many bytes, already.
    """
    files = [p for p in folder.iterdir() if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith(".")] \
        if folder.is_dir() else []
    if len(files) >= max_files:
        raise DocumentError(f"There are already {len(files)} uploaded documents (the limit, ui.max_uploads). "
                            "Remove one before uploading another.")
    used = sum(p.stat().st_size for p in files)
    if used + size > max_total_bytes:
        raise DocumentError(f"Uploads would take {(used + size) / 1e6:.1f} MB, over the limit of "
                            f"{max_total_bytes / 1e6:.0f} MB (ui.max_upload_total_mb). Remove an upload first.")


def store_upload(folder: Path, name: str, data: bytes, max_bytes: int) -> Path:
    """Write an upload atomically into ``folder`` under a sanitized, unused name.

    Raises:
        UnsupportedFileTypeError: The extension is not accepted.
        DocumentError: The file is empty or larger than ``max_bytes``.
    """
    safe = sanitize_filename(name)
    if not data:
        raise DocumentError(f"{safe}: the file is empty.")
    if len(data) > max_bytes:
        raise DocumentError(f"{safe}: {len(data) / 1e6:.1f} MB is over the upload limit of {max_bytes / 1e6:.1f} MB.")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe
    stem, suffix = os.path.splitext(safe)
    counter = 2
    while target.exists():
        target = folder / f"{stem}-{counter}{suffix}"
        counter += 1
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    Path(tmp).replace(target)
    return target


def _write_manifest(folder: Path, entries: list[dict[str, Any]]) -> None:
    """Write ``folder/manifest.toml`` atomically with a TOML library, and check it reads back."""
    text = _HEADER + tomli_w.dumps({"document": entries}) if entries else _HEADER
    tomllib.loads(text)  # never leave a manifest the reader would reject
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    Path(tmp).replace(folder / MANIFEST_NAME)


def _entries(folder: Path) -> list[dict[str, Any]]:
    """The entries of the uploads manifest; a broken one is replaced (the files it named stay on disk)."""
    try:
        return list(read_manifest(folder).values())
    except ConfigError as exc:  # a broken uploads manifest must not block every later upload
        log.error("Replacing the broken uploads manifest: %s", exc)
        return []


def add_manifest_entry(folder: Path, entry: dict[str, str]) -> None:
    """Add (or replace) the ``[[document]]`` entry of a file in ``folder/manifest.toml``; values are cleaned."""
    clean = {key: clean_field(value) for key, value in entry.items() if value is not None}
    entries = [e for e in _entries(folder) if e.get("file") != clean["file"]] + [clean]
    _write_manifest(folder, entries)


def remove_manifest_entry(folder: Path, file: str) -> None:
    """Drop the entry of ``file`` from ``folder/manifest.toml`` (the others are kept)."""
    if (folder / MANIFEST_NAME).exists():
        _write_manifest(folder, [e for e in _entries(folder) if e.get("file") != file])
