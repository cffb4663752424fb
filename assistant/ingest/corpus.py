"""Corpus: file discovery, manifest metadata and content hashes."""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..types import DocumentInfo

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.toml"
_MANIFEST_KEYS = {"id", "file", "title", "publisher", "date", "region", "doc_type", "script"}
# Characters allowed in a derived document id, e.g. "uploads/政策 1.txt" → "uploads-政策-1".
_ID_UNSAFE = re.compile(r"[^\w\u3400-\u9fff-]+")


@dataclass(frozen=True)
class CorpusFile:
    """A document file found in the corpus, with its metadata and content hash."""

    path: Path
    info: DocumentInfo
    sha256: str


def _read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read {manifest}: {exc}. Fix the TOML or remove the file.") from exc
    entries: dict[str, dict[str, str]] = {}
    for entry in data.get("document", []):
        unknown = set(entry) - _MANIFEST_KEYS
        if unknown or "file" not in entry:
            raise ConfigError(
                f"{manifest}: entry {entry.get('file', '?')} has unknown keys {sorted(unknown)} or no 'file'. "
                f"Allowed keys: {sorted(_MANIFEST_KEYS)}."
            )
        entries[entry["file"]] = {k: str(v) for k, v in entry.items()}
    return entries


def derive_doc_id(relative: Path) -> str:
    """Derive a document id from a corpus-relative path.

    Example: ``uploads/政策 1.txt`` → ``uploads-政策-1``.
    """
    stem = relative.with_suffix("").as_posix().replace("/", "-")
    return _ID_UNSAFE.sub("-", stem).strip("-") or "document"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(root: Path) -> list[CorpusFile]:
    """List the document files under ``root`` (recursively) with manifest metadata.

    Files outside ``root`` (e.g. reached through a symlink) are never read. A file with an unsupported
    extension is still listed so the loader can report it; manifests and READMEs are skipped.

    Args:
        root: The corpus folder.

    Returns:
        Files sorted by relative path.

    Raises:
        ConfigError: The folder does not exist or a manifest is invalid.
    """
    if not root.is_dir():
        raise ConfigError(f"Corpus folder {root} does not exist. Create it or pass --corpus DIR.")
    root_resolved = root.resolve()
    manifests: dict[Path, dict[str, dict[str, str]]] = {}
    found: list[CorpusFile] = []
    seen_ids: set[str] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name == MANIFEST_NAME or path.name.lower().startswith("readme") or path.name.startswith("."):
            continue
        if not path.resolve().is_relative_to(root_resolved):
            log.warning("Skipping %s: it points outside the corpus folder.", path)
            continue
        folder = path.parent
        if folder not in manifests:
            manifests[folder] = _read_manifest(folder)
        entry = manifests[folder].get(path.name, {})
        relative = path.relative_to(root)
        doc_id = entry.get("id") or derive_doc_id(relative)
        if doc_id in seen_ids:
            doc_id = derive_doc_id(relative)
        seen_ids.add(doc_id)
        info = DocumentInfo(
            doc_id=doc_id,
            file=relative.as_posix(),
            title=entry.get("title", ""),
            publisher=entry.get("publisher", ""),
            date=entry.get("date", ""),
            region=entry.get("region", ""),
            doc_type=entry.get("doc_type", ""),
            script=entry.get("script", ""),
        )
        found.append(CorpusFile(path=path, info=info, sha256=file_sha256(path)))
    return found


def corpus_hash(files: list[CorpusFile]) -> str:
    """Hash of the corpus: every file's relative path, content and metadata."""
    digest = hashlib.sha256()
    for item in files:
        digest.update(f"{item.info.file}\0{item.sha256}\0{sorted(item.info.to_dict().items())}\n".encode())
    return digest.hexdigest()[:16]
