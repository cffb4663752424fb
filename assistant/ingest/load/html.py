"""Load, HTML: page chrome dropped, blocks become paragraphs, data tables become ``a | b`` rows."""

from __future__ import annotations

import re
from typing import Any

_HTML_DROP = frozenset("script style nav header footer aside form noscript head template iframe svg".split())
_HTML_BLOCKS = frozenset(
    "p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr table tbody thead tfoot caption blockquote section article main "
    "figure figcaption address center hr body html".split()
)
# Runs of HTML whitespace collapse to one space; NBSP (\xa0) and the ideographic space (\u3000) are text.
_HTML_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def html_to_text(markup: str) -> str:
    """HTML to text: page chrome dropped, blocks become paragraphs, data tables become ``a | b`` rows."""
    from bs4 import BeautifulSoup

    parts: list[str] = []
    _html_walk(BeautifulSoup(markup, "lxml"), parts)
    return "".join(parts)


def _html_walk(node: Any, parts: list[str]) -> None:
    """Append the text of ``node``'s children to ``parts``, with blank lines around blocks and tables."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    for child in node.children:
        if isinstance(child, PreformattedString) or not isinstance(child, NavigableString | Tag):
            continue  # comments, doctype, CDATA, processing instructions
        if isinstance(child, NavigableString):
            parts.append(_HTML_SPACE.sub(" ", str(child)))
        elif child.name in _HTML_DROP:
            continue
        elif child.name == "br":
            parts.append("\n")
        elif child.name == "pre":
            parts += ["\n\n", child.get_text(), "\n\n"]
        elif child.name == "table" and _is_data_table(child):
            parts += ["\n\n", _html_table(child), "\n\n"]
        else:
            block = child.name in _HTML_BLOCKS
            parts.append("\n\n" if block else "")
            _html_walk(child, parts)
            parts.append("\n\n" if block else "")


def _is_data_table(table: Any) -> bool:
    """Whether a ``<table>`` holds data rather than page layout.

    Old government sites lay whole pages out with nested or one-column tables; those are read as ordinary
    blocks, because joining their cells with " | " would glue the article body into one row.
    """
    if table.find("table") is not None:
        return False
    return any(len(row.find_all(["td", "th"], recursive=False)) > 1 for row in table.find_all("tr"))


def _html_table(table: Any) -> str:
    """A data table as one line per row: ``<tr><td>指标</td><td>2020年</td></tr>`` → ``"指标 | 2020年"``."""
    rows = []
    for row in table.find_all("tr"):
        cells = []
        for cell in row.find_all(["td", "th"], recursive=False):
            parts: list[str] = []
            _html_walk(cell, parts)
            cells.append(" ".join("".join(parts).split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)

