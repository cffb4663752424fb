"""Errors: one exception tree whose messages tell a user what went wrong and how to fix it."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant raises on purpose.

    Messages name what failed, which file or setting, and the fix.
    """

    def to_dict(self) -> dict[str, str]:
        """Return ``{"type", "message"}`` for JSON output."""
        return {"type": type(self).__name__, "message": str(self)}


class ConfigError(AssistantError):
    """A setting, flag or configuration file is invalid."""


class DocumentError(AssistantError):
    """A document could not be turned into text."""


class UnreadableDocumentError(DocumentError):
    """The file is corrupt, binary, too large, or has no text layer."""


class EmptyDocumentError(DocumentError):
    """The file holds no usable text."""


class UnsupportedFileTypeError(DocumentError):
    """The file's extension is not one the loaders accept."""


class IndexStateError(AssistantError):
    """The built index cannot be used as it is."""


class IndexMissingError(IndexStateError):
    """No index has been built yet."""


class StaleIndexError(IndexStateError):
    """The index was built from other documents or other settings."""


class CorruptIndexError(IndexStateError):
    """An index file is truncated, unreadable or inconsistent."""


class IndexBusyError(IndexStateError):
    """Another process is building the index and did not finish in time."""


class ModelUnavailableError(AssistantError):
    """A model or an optional dependency is not installed or cannot be loaded."""


class QueryError(AssistantError):
    """A query or claim is empty or otherwise unusable."""


class InputError(AssistantError):
    """A line of input cannot be read (e.g. it is not UTF-8)."""
