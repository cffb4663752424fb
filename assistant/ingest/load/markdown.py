"""Load, Markdown: headings become their own paragraphs, tables text rows, links their text, images go."""

from __future__ import annotations

import re

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


def markdown_to_text(source: str) -> str:
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

