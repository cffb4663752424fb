"""Load: read .txt/.md/.html/.docx/.pdf files into plain text in their original script."""

from __future__ import annotations

import codecs
import contextlib
import io
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import EmptyDocumentError, UnreadableDocumentError, UnsupportedFileTypeError

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf"})

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Legacy Chinese codecs tried when a file is not UTF-8; gb18030 is a superset of GB2312 and GBK.
_CHINESE_CODECS = ("gb18030", "big5")
# Labels that WHATWG decodes with a superset codec, e.g. <meta charset="gb2312"> pages routinely hold GBK bytes.
_CODEC_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "big5": "big5hkscs"}
# Control bytes that never occur in text: everything below 0x20 except \t \n \v \f \r and ESC, plus DEL.
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B} | {0x7F}
# Matches the charset of <meta charset="gbk"> or <meta http-equiv=... content="text/html; charset=gb2312">.
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_PDF_MIN_CHARS_PER_PAGE = 5


def load_text(path: Path, max_bytes: int = 20 * 1024 * 1024) -> str:
    r"""Read a document file into plain text (paragraphs separated by blank lines), original script kept.

    Only line endings, trailing spaces and runs of blank lines are normalized; every other character is kept,
    so ``"第一章　總則\r\n\r\n\r\n第一條 "`` becomes ``"第一章　總則\n\n第一條"``.

    Args:
        path: The file; its extension (one of :data:`SUPPORTED_SUFFIXES`) picks the reader.
        max_bytes: Files larger than this are refused.

    Returns:
        The text with ``\n`` line endings, paragraphs separated by one blank line.

    Raises:
        UnsupportedFileTypeError: The extension is not supported.
        UnreadableDocumentError: The file is missing, too large, binary, corrupt, not decodable, encrypted,
            or a PDF with no text layer.
        EmptyDocumentError: No text is left after loading.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileTypeError(
            f"{path}: file type '{suffix or '(none)'}' is not supported. "
            f"Convert it to one of {', '.join(sorted(SUPPORTED_SUFFIXES))}."
        )
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableDocumentError(
                f"{path} is {size:,} bytes, over the limit of {max_bytes:,} bytes. Split the file or raise loading.max_file_mb."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(f"Cannot read {path}: {exc.strerror or exc}. Check the path.") from exc
    if suffix == ".docx":
        text = _read_docx(data, path)
    elif suffix == ".pdf":
        text = _read_pdf(data, path)
    elif suffix in {".html", ".htm"}:
        text = _html_to_text(_decode(data, path, _declared_charset(data)))
    elif suffix in {".md", ".markdown"}:
        text = _markdown_to_text(_decode(data, path))
    else:
        text = _decode(data, path)
    text = _normalize(text)
    if not text.strip():
        raise EmptyDocumentError(f"{path} holds no text after loading. Add text to it or remove it from the corpus.")
    return text


def _normalize(text: str) -> str:
    r"""Unify line endings, drop trailing spaces and collapse blank-line runs: ``"甲 \r\n\r\n\r\n乙"`` → ``"甲\n\n乙"``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


# --- encodings -------------------------------------------------------------------------------------------------


def _decode(data: bytes, path: Path, declared: str | None = None) -> str:
    """Decode text bytes: BOM, then strict UTF-8, then a declared charset, then legacy Chinese codecs, then a guess."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UnreadableDocumentError(
                    f"{path} starts with a {codec} byte-order mark but is not valid {codec}. Re-save it as UTF-8."
                ) from exc
    sample = data[:65536]
    if b"\x00" in sample or sum(b in _CONTROL_BYTES for b in sample) > 0.05 * len(sample):
        raise UnreadableDocumentError(
            f"{path} looks like a binary file (it holds NUL or control bytes), not text. "
            "Save it as UTF-8 text or use a supported document format."
        )
    # Valid UTF-8 beats a <meta> label: migrated pages often keep a stale "gb2312" label, and GB18030 would
    # decode their UTF-8 bytes without error into nonsense. A label that does not fit the bytes is ignored.
    for codec in ("utf-8", declared) if declared else ("utf-8",):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(codec)
    return _detect(data, path)


def _detect(data: bytes, path: Path) -> str:
    """Pick the codec of non-UTF-8 text: GB18030 or Big5 for Chinese, else charset-normalizer's guess."""
    # charset-normalizer is unreliable for short Chinese text: it reads an 8-character Big5 heading as cp932
    # and a 17-character GBK one as utf_16_be, and GB and Big5 bytes often decode without error in both codecs.
    # So decode strictly with both Chinese codecs and keep the one whose characters are common Chinese ones;
    # the library only decides for text that is not Chinese.
    scored = []
    for codec in _CHINESE_CODECS:
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode(codec)
            scored.append((_chinese_score(text[:20000]), text))
    best = max(scored, key=lambda item: item[0], default=None)
    if best is not None and best[0] >= 0.5:
        return best[1]
    from charset_normalizer import from_bytes

    guess = from_bytes(data).best()
    if guess is not None and not guess.encoding.startswith(("gb", "big5", "cp936", "cp950", "hz")):
        return str(guess)
    if best is not None:
        return best[1]
    raise UnreadableDocumentError(f"Cannot detect the text encoding of {path}. Re-save it as UTF-8.")


def _chinese_score(text: str) -> float:
    """Share of non-ASCII characters that are common Chinese ones: Big5 "第一節 編制依據" scores 1.0, read as GB18030 0.43."""
    wide = [ch for ch in text if ord(ch) > 0x7F and not ch.isspace()]
    if not wide:
        return 0.0
    return sum(_is_common(ch) for ch in wide) / len(wide)


@lru_cache(maxsize=8192)
def _is_common(ch: str) -> bool:
    """Whether ``ch`` is CJK/full-width punctuation or a level-1 character of GB2312 or Big5.

    Both standards put their most used characters first and in level 1: GB2312 rows 16-55 (lead bytes
    0xB0-0xD7, 3,755 simplified characters) and Big5 0xA440-0xC67E (5,401 traditional characters).
    """
    if "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef" or "\u2010" <= ch <= "\u2027":
        return True
    gb, big5 = ch.encode("gb2312", "ignore"), ch.encode("big5", "ignore")
    return (len(gb) == 2 and 0xB0 <= gb[0] <= 0xD7) or (len(big5) == 2 and b"\xa4\x40" <= big5 <= b"\xc6\x7e")


def _declared_charset(data: bytes) -> str | None:
    """The codec named by an HTML ``<meta charset>`` in the first 4 KiB, if Python knows it."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    label = match.group(1).decode("ascii").lower()
    label = _CODEC_ALIASES.get(label, label)
    try:
        codec = codecs.lookup(label).name
    except LookupError:
        return None
    if codec.startswith(("utf-16", "utf-32")):
        return "utf-8"  # WHATWG: a page that can be read for its <meta> is ASCII-compatible, so not UTF-16
    # Old Chinese pages are often labelled Latin-1 while holding GBK bytes, and Latin-1 decodes any bytes
    # without error; detection below still picks cp1252 for real Latin text.
    return None if codec in {"iso8859-1", "cp1252"} else codec


# --- markdown --------------------------------------------------------------------------------------------------

# "## 第一章 总则 ##" → "第一章 总则"
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
# "===" or "---" under a line (setext heading), or a thematic break such as "***" / "- - -"
_MD_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_MD_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# "```python" / "~~~" code fence
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")
# "[1]: https://www.gov.cn" link reference definition
_MD_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+.*$")
# "> 引文" block quote marker and "- 项目" / "* 项目" / "+ 项目" bullets (ordered "1." numbers are kept)
_MD_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_MD_BULLET = re.compile(r"^[ \t]*[-*+][ \t]+")
# Inline rules, applied in order: "![图](a.png)" → "", "[政策](https://x)" → "政策", "[政策][1]" → "政策",
# "<https://x>" → "https://x", "<br/>" → "", "`代码`" → "代码", "**重点**"/"__重点__" → "重点",
# "~~删除~~" → "删除", "*强调*" → "强调", "_强调_" → "强调" (not inside words such as snake_case), "\*" → "*".
_MD_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^>]*>"), ""),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"(?<!\\)(\*\*|__)(?=\S)(.+?)(?<=\S)(?<!\\)\1"), r"\2"),
    (re.compile(r"(?<!\\)~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"(?<![\\*])\*(?=[^\s*])(.+?)(?<=[^\s\\])\*"), r"\1"),
    (re.compile(r"(?<![\w\\])_(?=\S)(.+?)(?<=[^\s\\])_(?!\w)"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])"), r"\1"),
)


def _md_inline(text: str) -> str:
    """Strip inline markup: ``"**第一条** 见[通知](https://x)"`` → ``"第一条 见通知"``."""
    for pattern, replacement in _MD_INLINE:
        text = pattern.sub(replacement, text)
    return text


def _md_row(line: str) -> str:
    r"""A table row as text: ``"| 指标 | 2020年 |"`` → ``"指标 | 2020年"`` (``\|`` stays a literal pipe)."""
    line = line.strip().removeprefix("|")
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return " | ".join(_md_inline(cell.strip()) for cell in re.split(r"(?<!\\)\|", line))


def _is_md_table_rule(line: str) -> bool:
    """Whether ``line`` is a table's header rule such as ``"|---|:---:|"``."""
    return "|" in line and "-" in line and not set(line.strip()) - set("|:- \t")


def _markdown_to_text(source: str) -> str:
    """Markdown to text: headings become their own paragraphs, tables text rows, links their text, images go."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    in_code = in_table = False
    for line, next_line in zip(lines, [*lines[1:], ""], strict=True):
        if _MD_FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            out.append(line)
            continue
        line = _MD_QUOTE.sub("", line)
        in_table = "|" in line and (in_table or line.lstrip().startswith("|") or _is_md_table_rule(next_line))
        heading = _MD_HEADING.match(line)
        if in_table:
            if not _is_md_table_rule(line):
                out.append(_md_row(line))
        elif heading:
            out += ["", _md_inline(heading.group(1)), ""]
        elif _MD_RULE.match(line) or _MD_UNDERLINE.match(line):
            if _MD_UNDERLINE.match(line) and out and out[-1].strip():
                out[-1:] = ["", out[-1], ""]  # setext heading: the line above is the heading
            else:
                out.append("")
        elif not _MD_REF_DEF.match(line):
            out.append(_md_inline(_MD_BULLET.sub("", line)))
    return "\n".join(out)


# --- html ------------------------------------------------------------------------------------------------------

_HTML_DROP = frozenset("script style nav header footer aside form noscript head template iframe svg".split())
_HTML_BLOCKS = frozenset(
    "p div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr table tbody thead tfoot caption blockquote section article main "
    "figure figcaption address center hr body html".split()
)
# Runs of HTML whitespace collapse to one space; NBSP (\xa0) and the ideographic space (\u3000) are text.
_HTML_SPACE = re.compile(r"[ \t\n\r\f\v]+")


def _html_to_text(markup: str) -> str:
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


# --- docx and pdf ----------------------------------------------------------------------------------------------


def _read_docx(data: bytes, path: Path) -> str:
    """Paragraphs and tables of a .docx in document order; table rows become ``a | b`` lines."""
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_docx_blocks(document.element.body, document))
    except Exception as exc:  # python-docx raises zipfile, KeyError, lxml and its own errors on corrupt files
        raise UnreadableDocumentError(
            f"{path} is not a readable .docx file ({type(exc).__name__}: {exc}). Re-save it as .docx from Word or WPS."
        ) from exc
    return "\n\n".join(blocks)


def _docx_blocks(container: Any, document: Any) -> Iterator[str]:
    """Texts of the paragraphs and tables directly in ``container`` (XML order, so tables stay in place)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for element in container.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(element, document).text
        elif tag == "tbl":
            yield _docx_table(Table(element, document))
        elif tag == "sdt":  # a content control (e.g. a table of contents): read what it wraps, in place
            for content in element.iterchildren("{*}sdtContent"):
                yield from _docx_blocks(content, document)


def _docx_table(table: Any) -> str:
    """Rows of a python-docx table as ``a | b`` lines; a merged cell appears once per row."""
    rows = []
    for row in table.rows:
        cells: list[Any] = []
        for cell in row.cells:
            if not cells or cell._tc is not cells[-1]._tc:  # horizontally merged cells repeat the same cell
                cells.append(cell)
        texts = [" ".join(cell.text.split()) for cell in cells]
        if any(texts):
            rows.append(" | ".join(texts))
    return "\n".join(rows)


def _read_pdf(data: bytes, path: Path) -> str:
    """Text of a PDF, page by page, pages separated by blank lines."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")  # an empty user password opens many "protected" PDFs
        pages = [] if locked else [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises PdfReadError, ValueError, KeyError, ... on damaged files
        raise UnreadableDocumentError(
            f"{path} is not a readable PDF ({type(exc).__name__}: {exc}). Re-save or re-export it as PDF."
        ) from exc
    if locked:
        raise UnreadableDocumentError(
            f"{path} is an encrypted PDF that needs a password. Save an unprotected copy and load that."
        )
    visible = sum(len("".join(text.split())) for text in pages)
    if pages and visible < _PDF_MIN_CHARS_PER_PAGE * len(pages):
        raise UnreadableDocumentError(
            f"{path} has no text layer ({len(pages)} page(s), {visible} characters of text): it looks like a "
            "scanned image. Run OCR on it (e.g. `ocrmypdf -l chi_sim+chi_tra in.pdf out.pdf`) and load the result."
        )
    return "\n\n".join(text.strip("\n") for text in pages)
