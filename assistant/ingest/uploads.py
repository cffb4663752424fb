"""Uploads: accept a user's file into the uploads folder safely (sanitized name, type and size limits)."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from ..errors import DocumentError, UnsupportedFileTypeError
from .load import SUPPORTED_SUFFIXES

UPLOAD_SUFFIXES = SUPPORTED_SUFFIXES  # whatever the loaders read; everything else is refused
# Anything but letters (any script), digits, '-', '_' and '.', e.g. "../报告 (1).txt" → "报告_1_.txt".
_UNSAFE = re.compile(r"[^\w.\-]+")


def sanitize_filename(name: str) -> str:
    """A safe file name for an upload: no folders, no hidden or odd characters, extension kept.

    Example: ``../../etc/政府 工作报告(2024).TXT`` → ``政府_工作报告_2024_.txt``.

    Raises:
        UnsupportedFileTypeError: The extension is not an accepted upload type.
    """
    base = Path(unicodedata.normalize("NFKC", name).replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    suffix = suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        allowed = ", ".join(sorted(UPLOAD_SUFFIXES))
        kind = suffix or "(none)"
        raise UnsupportedFileTypeError(f"{base or name!r}: files of type {kind} are not accepted. Upload {allowed}.")
    stem = _UNSAFE.sub("_", stem).strip("._")[:80] or "document"
    return stem + suffix


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


def add_manifest_entry(folder: Path, entry: dict[str, str]) -> None:
    """Append a ``[[document]]`` entry to ``folder/manifest.toml`` (written atomically)."""
    import json

    manifest = folder / "manifest.toml"
    old = manifest.read_text(encoding="utf-8") if manifest.exists() else "# Uploaded documents (written by the UI).\n"
    # JSON string escapes are valid TOML basic strings.
    lines = ["", "[[document]]", *(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in entry.items())]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(old.rstrip("\n") + "\n" + "\n".join(lines) + "\n")
    Path(tmp).replace(manifest)


def remove_manifest_entry(folder: Path, file: str) -> None:
    """Drop the entry of ``file`` from ``folder/manifest.toml`` (kept otherwise unchanged)."""
    manifest = folder / "manifest.toml"
    if not manifest.exists():
        return
    blocks = manifest.read_text(encoding="utf-8").split("\n[[document]]")
    kept = [blocks[0]] + [b for b in blocks[1:] if f'file = "{file}"' not in b]
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".manifest-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n[[document]]".join(kept))
    Path(tmp).replace(manifest)
