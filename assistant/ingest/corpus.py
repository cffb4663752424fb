"""Corpus: file discovery, manifest metadata, provenance and content hashes."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..types import DocumentInfo

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.toml"
SOURCES = ("corpus", "upload")
_MANIFEST_KEYS = {"id", "file", "title", "publisher", "date", "region", "doc_type", "script", "source"}
# Characters allowed in a derived document id, e.g. "uploads/政策 1.txt" → "uploads-政策-1-txt".
_ID_UNSAFE = re.compile(r"[^\w\u3400-\u9fff-]+")


@dataclass(frozen=True)
class CorpusFile:
    """A document file found in the corpus, with its metadata and content hash."""

    path: Path
    info: DocumentInfo
    sha256: str


@dataclass
class Discovery:
    """What :func:`scan` found: the files, and what it had to leave out (a broken manifest's folder)."""

    files: list[CorpusFile] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)


def clean_field(value: object, limit: int = 300) -> str:
    r"""A metadata value safe to show and to store: control and format characters removed, whitespace collapsed.

    Example: ``"抚顺\x7f标题\u200b"`` → ``"抚顺标题"``.
    """
    text = "".join(ch for ch in str(value) if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"} or ch in "\t\n")
    return " ".join(text.split())[:limit]


def read_manifest(folder: Path) -> dict[str, dict[str, str]]:
    """The ``[[document]]`` entries of ``folder/manifest.toml`` by file name (empty when there is none).

    Raises:
        ConfigError: The manifest is not valid TOML or has an unknown key (the message names the file).
    """
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read {manifest.name} in {folder.name}/: {exc}. Fix the TOML or remove the file.") from exc
    entries: dict[str, dict[str, str]] = {}
    for entry in data.get("document", []):
        unknown = set(entry) - _MANIFEST_KEYS
        if unknown or "file" not in entry:
            raise ConfigError(
                f"{folder.name}/{MANIFEST_NAME}: entry {entry.get('file', '?')} has unknown keys {sorted(unknown)} or "
                f"no 'file'. Allowed keys: {sorted(_MANIFEST_KEYS)}."
            )
        if entry.get("source", "corpus") not in SOURCES:
            raise ConfigError(f"{folder.name}/{MANIFEST_NAME}: source must be one of {SOURCES}, not {entry['source']!r}.")
        entries[entry["file"]] = {k: clean_field(v) for k, v in entry.items()}
    return entries


def derive_doc_id(relative: Path) -> str:
    """Derive a document id from a corpus-relative path; the extension takes part, so ``x.txt`` ≠ ``x.html``.

    Example: ``uploads/政策 1.txt`` → ``uploads-政策-1-txt``.
    """
    stem = relative.as_posix().replace("/", "-")
    return _ID_UNSAFE.sub("-", stem).strip("-") or "document"


# Hashes this process computed, by path, with the file's size and modification time then (a build hashes the corpus
# to compare it with the index; an unchanged file is not read again).
_HASHED: dict[str, tuple[int, int, str]] = {}


def corpus_file_sha256(path: Path) -> str:
    """:func:`file_sha256` of a corpus file, reused while the file's size and modification time are unchanged."""
    stat = path.stat()
    key = os.path.abspath(path)  # not resolve(): a realpath per file was a third of a 5,000-document scan
    cached = _HASHED.get(key)
    if cached and cached[:2] == (stat.st_size, stat.st_mtime_ns):
        return cached[2]
    digest = file_sha256(path)
    _HASHED[key] = (stat.st_size, stat.st_mtime_ns, digest)
    return digest


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan(root: Path, uploads: Path | None = None) -> Discovery:
    """List the document files under ``root`` (recursively) with manifest metadata and provenance.

    Files outside ``root`` (e.g. reached through a symlink) are never read. A file with an unsupported extension is
    still listed so the loader can report it; manifests and READMEs are skipped. Every file gets a unique document
    id: its manifest ``id``, else one derived from its path (extension included), with a short hash of the path
    when two would collide. Files under ``uploads`` have source ``upload``, others ``corpus`` unless their manifest
    says otherwise. A broken manifest in a sub-folder (the uploads' one, say) is reported and that folder's files
    are left out; the rest of the corpus is still indexed.

    Args:
        root: The corpus folder.
        uploads: The uploads folder (inside ``root`` to be indexed at all).

    Raises:
        ConfigError: The folder does not exist or its top-level manifest is invalid.
    """
    if not root.is_dir():
        raise ConfigError(f"Corpus folder {root} does not exist. Create it or pass --corpus DIR.")
    root_resolved = root.resolve()
    uploads_resolved = uploads.resolve() if uploads is not None else None
    manifests: dict[Path, dict[str, dict[str, str]] | None] = {}
    found = Discovery()
    seen_ids: set[str] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.name == MANIFEST_NAME or path.name.lower().startswith("readme") or path.name.startswith("."):
            continue
        resolved = path.resolve()
        if not resolved.is_relative_to(root_resolved):
            log.warning("Skipping %s: it points outside the corpus folder.", path.name)
            continue
        folder = path.parent
        if folder not in manifests:
            manifests[folder] = _folder_manifest(root, folder, found)
        entries = manifests[folder]
        relative = path.relative_to(root)
        if entries is None:
            found.problems.append({"file": relative.as_posix(), "type": "ConfigError",
                                   "reason": f"skipped: {folder.relative_to(root).as_posix()}/{MANIFEST_NAME} is broken"})
            continue
        entry = entries.get(path.name, {})
        doc_id = _unique_id(entry.get("id") or derive_doc_id(relative), relative, seen_ids)
        in_uploads = uploads_resolved is not None and resolved.is_relative_to(uploads_resolved)
        info = DocumentInfo(
            doc_id=doc_id,
            file=relative.as_posix(),
            title=entry.get("title", ""),
            publisher=entry.get("publisher", ""),
            date=entry.get("date", ""),
            region=entry.get("region", ""),
            doc_type=entry.get("doc_type", ""),
            script=entry.get("script", ""),
            source="upload" if in_uploads else entry.get("source", "corpus"),
        )
        found.files.append(CorpusFile(path=path, info=info, sha256=corpus_file_sha256(path)))
    return found


def _folder_manifest(root: Path, folder: Path, found: Discovery) -> dict[str, dict[str, str]] | None:
    """A folder's manifest entries; ``None`` (folder left out) when a sub-folder's manifest is broken."""
    try:
        return read_manifest(folder)
    except ConfigError as exc:
        if folder == root:
            raise
        log.error("%s", exc)
        found.problems.append({"file": f"{folder.relative_to(root).as_posix()}/{MANIFEST_NAME}", "reason": str(exc),
                               "type": "ConfigError"})
        return None


def _unique_id(doc_id: str, relative: Path, seen: set[str]) -> str:
    """``doc_id``, or when taken one derived from the path plus a short hash of it (stable across runs)."""
    if doc_id in seen:
        doc_id = derive_doc_id(relative)
    if doc_id in seen:
        doc_id = f"{doc_id}-{hashlib.sha1(relative.as_posix().encode()).hexdigest()[:6]}"
    seen.add(doc_id)
    return doc_id


def discover(root: Path, uploads: Path | None = None) -> list[CorpusFile]:
    """The document files of :func:`scan` (its problems are logged)."""
    return scan(root, uploads).files


def corpus_hash(files: list[CorpusFile]) -> str:
    """Hash of the corpus: every file's relative path, content and metadata."""
    digest = hashlib.sha256()
    for item in files:
        digest.update(f"{item.info.file}\0{item.sha256}\0{sorted(item.info.to_dict().items())}\n".encode())
    return digest.hexdigest()[:16]
