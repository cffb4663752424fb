"""Corpus: file discovery, manifest metadata, provenance and content hashes."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from stat import S_ISREG
from typing import Any

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

    @cached_property
    def entry_digest(self) -> str:
        """Digest of this file's content hash and metadata, its part of :func:`corpus_hash` (computed once)."""
        return hashlib.sha256(f"{self.sha256}\0{sorted(self.info.to_dict().items())}".encode()).hexdigest()[:24]


@dataclass
class Discovery:
    """What :func:`scan` found: the files, and what it had to leave out (a broken manifest's folder)."""

    files: list[CorpusFile] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)  # files whose natural id another file held: they got another


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


def corpus_file_sha256(path: Path, absolute: str | None = None) -> str:
    """:func:`file_sha256` of a corpus file, reused while the file's size and modification time are unchanged."""
    key = absolute or os.path.abspath(path)  # not resolve(): a realpath per file was a third of a 5,000-document scan
    stat = os.stat(key)
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
    scanner = _Scanner(root, uploads)
    for relative_text, absolute, is_link, stamp in list_files(root):
        scanner.add(relative_text, absolute, is_link, stamp)
    return scanner.found


def scan_files(root: Path, paths: Sequence[Path], uploads: Path | None, taken_ids: set[str]) -> Discovery:
    """:func:`scan` of only some files of the corpus (missing ones are left out), given the ids other files hold.

    What an incremental update lists instead of the whole corpus. A file whose natural id (its manifest ``id`` or
    the one derived from its path) is taken by another file gets another one, as in :func:`scan`, and is listed in
    ``renamed`` (a full listing decides which file keeps the id).

    Raises:
        ConfigError: The corpus folder does not exist, a path lies outside it, or its folder's manifest is invalid.
    """
    scanner = _Scanner(root, uploads)
    scanner.seen_ids |= taken_ids
    for path in paths:
        absolute = os.path.abspath(path)
        relative = os.path.relpath(absolute, os.path.abspath(root))
        if relative.startswith(".."):
            raise ConfigError(f"{path.name} is not inside the corpus folder.")
        try:
            stat = os.stat(absolute)
        except OSError:
            continue  # removed: the caller drops its document
        if S_ISREG(stat.st_mode):
            scanner.add(Path(relative).as_posix(), absolute, os.path.islink(absolute), (stat.st_size, stat.st_mtime_ns))
    return scanner.found


class _Scanner:
    """Describes corpus files one at a time (ids kept unique in the order they are added)."""

    def __init__(self, root: Path, uploads: Path | None) -> None:
        if not root.is_dir():
            raise ConfigError(f"Corpus folder {root} does not exist. Create it or pass --corpus DIR.")
        self.root, self.root_resolved = root, root.resolve()
        self.uploads_resolved = uploads.resolve() if uploads is not None else None
        # The uploads folder as a corpus-relative prefix ("uploads/"), to place files without a path object each.
        self.uploads_prefix = (self.uploads_resolved.relative_to(self.root_resolved).as_posix() + "/"
                               if self.uploads_resolved is not None
                               and self.uploads_resolved.is_relative_to(self.root_resolved) else None)
        self.manifests: dict[Path, dict[str, dict[str, str]] | None] = {}
        self.found = Discovery()
        self.seen_ids: set[str] = set()

    def add(self, relative_text: str, absolute: str, is_link: bool, stamp: tuple[int, int]) -> None:
        """Describe one file (``relative_text``: its corpus-relative POSIX path) unless it is left out."""
        root, found = self.root, self.found
        name = relative_text.rsplit("/", 1)[-1]
        if name == MANIFEST_NAME or name.lower().startswith("readme") or name.startswith("."):
            return
        path = root / relative_text
        # Only a symlink can lead outside: a file reached without following links lies under the root.
        resolved = path.resolve() if is_link else None
        if resolved is not None and not resolved.is_relative_to(self.root_resolved):
            log.warning("Skipping %s: it points outside the corpus folder.", name)
            return
        folder = path.parent
        if folder not in self.manifests:
            self.manifests[folder] = _folder_manifest(root, folder, found)
        entries = self.manifests[folder]
        relative = Path(relative_text)
        if entries is None:
            found.problems.append({"file": relative_text, "type": "ConfigError",
                                   "reason": f"skipped: {folder.relative_to(root).as_posix()}/{MANIFEST_NAME} is broken"})
            return
        entry = entries.get(name, {})
        natural = entry.get("id") or derive_doc_id(relative)
        doc_id = _unique_id(natural, relative, self.seen_ids)
        if doc_id != natural:
            found.renamed.append(relative_text)
        if resolved is not None:
            in_uploads = self.uploads_resolved is not None and resolved.is_relative_to(self.uploads_resolved)
        else:
            in_uploads = self.uploads_prefix is not None and relative_text.startswith(self.uploads_prefix)
        fields = (doc_id, relative_text, *(entry.get(key, "") for key in _INFO_KEYS),
                  "upload" if in_uploads else entry.get("source", "corpus"))
        cached = _SCANNED.get(absolute)
        if cached is not None and cached[0] == (stamp, fields):
            found.files.append(cached[1])  # unchanged since this process last listed it: same object, hash kept
            return
        item = CorpusFile(path=path, info=DocumentInfo(*fields), sha256=corpus_file_sha256(path, absolute))
        _SCANNED[absolute] = ((stamp, fields), item)
        found.files.append(item)


# What :func:`scan` built per file, by absolute path, with the file's size, modification time and metadata then.
_SCANNED: dict[str, tuple[tuple[Any, ...], CorpusFile]] = {}
_INFO_KEYS = ("title", "publisher", "date", "region", "doc_type", "script")


def list_files(root: Path) -> list[tuple[str, str, bool, tuple[int, int]]]:
    """``(relative POSIX path, absolute path, is a symlink, (size, mtime))`` of every file under ``root``, sorted.

    The order is that of ``sorted(Path)``. ``os.scandir`` rather than ``Path.rglob``: a corpus of thousands of files
    is listed on every build (and an index segment's files on every open), and pathlib's per-file objects cost more
    than the listing itself. Like ``rglob``, symlinked folders are not entered.
    """
    found: list[tuple[tuple[str, ...], str, str, bool, tuple[int, int]]] = []
    pending = [((), str(root))]
    while pending:
        parts, directory = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(((*parts, entry.name), entry.path))
                elif entry.is_file():
                    stat = entry.stat()
                    found.append(((*parts, entry.name), "/".join((*parts, entry.name)), entry.path,
                                  entry.is_symlink(), (stat.st_size, stat.st_mtime_ns)))
    found.sort(key=lambda item: item[0])
    return [item[1:] for item in found]


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
    return entries_hash({item.info.file: item.entry_digest for item in files})


def entries_hash(entries: dict[str, str]) -> str:
    """:func:`corpus_hash` from each file's :attr:`CorpusFile.entry_digest` by relative path.

    The index records these digests, so an update of a few files computes the new hash without listing the corpus.
    """
    lines = sorted(f"{file}\0{digest}\n" for file, digest in entries.items())
    return hashlib.sha256("".join(lines).encode()).hexdigest()[:16]
