"""Question answering with checkable citations over Chinese government policy documents.

The front door: the :class:`Assistant` facade, its settings, the records it returns and the errors it raises.
Names load on first use (PEP 562), so ``import assistant`` stays light for the CLI's ``--help``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Assistant": "pipeline",
    "Settings": "settings",
    "load_settings": "settings",
    **{name: "types" for name in (
        "Answer", "Chunk", "Citation", "Document", "DocumentInfo", "Hit", "Mismatch", "Section", "Verdict",
    )},
    **{name: "errors" for name in (
        "AssistantError", "ConfigError", "CorruptIndexError", "DocumentError", "EmptyDocumentError", "IndexBusyError",
        "IndexMissingError", "IndexStateError", "InputError", "ModelUnavailableError", "QueryError", "StaleIndexError",
        "UnreadableDocumentError", "UnsupportedFileTypeError",
    )},
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
