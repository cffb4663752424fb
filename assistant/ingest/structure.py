"""Structure: find the heading hierarchy (篇/章/节/专栏/（一）/一、, or headlines) and cut the text into sections.

Decisions:

* A section's span starts at its own heading line, so its first chunk carries the heading text; a heading with no
  body of its own (``第一章 …`` directly followed by ``第一節 …``) shares the span of its first child. A heading
  followed by a sibling or a higher heading instead (``新闻速递`` before a headline) is a heading-only section.
* Paths hold heading lines as they appear in the cleaned text; inline headings (``(三)加快動能轉換,…攻堅突破。``)
  end before their ``。``. The document title is not part of a path, except for the text before the first heading
  (title line, dateline, lead), whose path is ``(title,)``; a document without any heading is one such section.
* Numbered documents use only numbered headings: 篇 › 章 › 节 › 专栏 › 一、 › (一) (a new heading closes all
  deeper ones; ``一、`` only as a whole line, ``(一)`` also inline; ``(一)`` items inside a 专栏 box and ``1.``
  items are list entries, not headings). Documents without them use headline lines (short, no final
  punctuation). A newspaper page with bylines (``辽沈晚报记者 胡婷婷``) holds several articles: their headlines
  open top-level sections and the other headlines nest under them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from ..types import Section
from .clean import DATE, HEADING_MAX_CHARS, ends_sentence, is_headline

_NUM = "一二三四五六七八九十百零〇两"
# "第一篇 全面建成小康社會…", "第二節發展基礎", "第十八章 共享振興成果 建設幸福遼寧".
_PART = re.compile(rf"第[{_NUM}\d]+([篇章節节])")
# "專欄38 就業專項工程", "專欄3優化營商環境專項工程", "专栏 5".
_BOX = re.compile(r"(?:專欄|专栏)\s*\d+")
# "三、全面加強政府自身建設".
_ENUM = re.compile(rf"[{_NUM}]+、")
# "(一)建設政策精準推送平臺", "（三）加快動能轉換,…".
_PAREN = re.compile(rf"[(（][{_NUM}]+[)）]")
# The first sentence of a paragraph: "(三)加快動能轉換,在構建現代化産業體系上攻堅突破。".
_FIRST_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]")
# A byline paragraph: "辽沈晚报记者 胡婷婷", "本报记者 闫柳".
_BYLINE = re.compile(r"^\S{0,8}(?:记者|記者)\s*[\u4e00-\u9fff]{2,4}$")
# The lead of a news item: "本报讯 辽沈晚报记者闫柳报道 …".
_NEWS_LEAD = ("本报讯", "本報訊")
_PART_RANK = {"篇": 1, "章": 2, "節": 3, "节": 3}
_BOX_RANK, _ENUM_RANK, _PAREN_RANK = 4, 5, 6
_TOPIC_MAX_CHARS = 15  # a topic sentence opening a paragraph: "持续扩大有效投资。"


class _Heading(NamedTuple):
    rank: int  # smaller is higher: 篇 1 … (一) 6; article headline 1, other headlines 2
    label: str  # the path element
    inline: bool  # the paragraph goes on with body text after the heading


def parse_sections(text: str, title: str, levels: Mapping[int, int] | None = None) -> list[Section]:
    r"""Cut cleaned text into sections, each a span with its heading path.

    Args:
        text: Cleaned document text (paragraphs separated by blank lines).
        title: The document title, used as the path of the text before the first heading.
        levels: What the file itself says about some paragraphs, by their start offset: a heading level 1..9
            (Word styles and outline levels), or 0 for a paragraph that is never a heading (a footnote).

    Returns:
        Sections in document order; spans cover every paragraph. For ``…第一章 編制依據和發展基礎\n\n第一節 編制依據
        \n\n堅持…`` one section has the path ``("第一篇 …", "第一章 編制依據和發展基礎", "第一節 編制依據")``.
    """
    levels = levels or {}
    paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text)]
    paragraphs = [(s, e) for s, e in paragraphs if text[s:e].strip()]
    texts = [text[s:e] for s, e in paragraphs]
    headings = [_numbered_heading(p) for p in texts]
    if any(levels.values()):
        headings = _styled_headings([levels.get(s) for s, _ in paragraphs], texts, headings)
    elif not any(headings):
        headings = _headline_headings(texts)
    headings = [None if levels.get(s) == 0 else h for (s, _), h in zip(paragraphs, headings, strict=True)]
    return _build(paragraphs, headings, (title,) if title else ())


def _styled_headings(levels: list[int | None], texts: list[str], numbered: list[_Heading | None]) -> list[_Heading | None]:
    """Headings of a document whose file marks heading levels (Word): those levels, plus the numbered headings.

    Marked headings rank by their level. A numbered heading that is not marked takes the level of marked headings
    of its kind (第X章 styled ``Heading 1`` elsewhere makes every 第X章 level 1), else it nests just under the
    nearest higher kind that is marked (or under the deepest marked level): ``(一)`` under a styled 第X节.
    """
    learned: dict[int, int] = {}
    for level, heading in zip(levels, numbered, strict=True):
        if heading and level:
            learned.setdefault(heading.rank, level)
    deepest = max(level or 0 for level in levels)
    out: list[_Heading | None] = []
    for level, text, heading in zip(levels, texts, numbered, strict=True):
        if level:
            out.append(_Heading(level * 10, text, False))
        elif heading and level is None:
            above = [lv for rank, lv in learned.items() if rank < heading.rank]
            rank = learned[heading.rank] * 10 if heading.rank in learned else max(above, default=deepest) * 10 + heading.rank
            out.append(_Heading(rank, heading.label, heading.inline))
        else:
            out.append(None)
    return out


def derive_title(text: str) -> str:
    """A title for a document without a manifest entry: its first line, or that line's first clause if it is long.

    Args:
        text: Cleaned document text.

    Returns:
        ``2021年沈阳要重点做好十方面工作`` for a text starting with that line; ``""`` for an empty text.
    """
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    if len(first) <= HEADING_MAX_CHARS or (len(first) <= 2 * HEADING_MAX_CHARS and not ends_sentence(first)):
        return first
    return re.split(r"[。！？!?；;,，:：]", first)[0][:HEADING_MAX_CHARS]


def _numbered_heading(paragraph: str) -> _Heading | None:
    if match := _PART.match(paragraph):
        return _Heading(_PART_RANK[match.group(1)], paragraph, False) if is_headline(paragraph) else None
    if _BOX.match(paragraph) or _ENUM.match(paragraph):
        rank = _BOX_RANK if _BOX.match(paragraph) else _ENUM_RANK
        return _Heading(rank, paragraph, False) if is_headline(paragraph) else None
    if not _PAREN.match(paragraph):
        return None
    if is_headline(paragraph):
        return _Heading(_PAREN_RANK, paragraph, False)
    # Inline: "(一)壯大經濟實力,在保持經濟趕超勢頭上攻堅突破。統籌…"; a one-sentence list item is not a heading.
    first = _FIRST_SENTENCE.match(paragraph)
    if first and first.end() < len(paragraph) and len(first.group(0)) <= HEADING_MAX_CHARS:
        if not re.search(r"[;；]", first.group(0)):
            return _Heading(_PAREN_RANK, first.group(0)[:-1], True)
    return None


def _outside_boxes(headings: list[_Heading | None]) -> list[_Heading | None]:
    """Drop ``(一)``/``一、`` headings inside a 专栏 box: there they title list items (``(一)建設政策精準推送平臺``)."""
    in_box = False
    kept: list[_Heading | None] = []
    for heading in headings:
        if heading and heading.rank <= _BOX_RANK:
            in_box = heading.rank == _BOX_RANK
        kept.append(None if in_box and heading and heading.rank > _BOX_RANK else heading)
    return kept


def _headline_headings(texts: list[str]) -> list[_Heading | None]:
    """Headline lines of documents without numbered headings; article headlines when there are several articles."""
    n = len(texts)
    like = [is_headline(p) and not _BYLINE.match(p) and not DATE.search(p) for p in texts]
    article = [
        like[i] and (i == 0 or bool(_BYLINE.match(texts[i - 1])) or (i + 1 < n and texts[i + 1].startswith(_NEWS_LEAD)))
        for i in range(n)
    ]
    several = sum(article) >= 2
    headings: list[_Heading | None] = [None] * n
    for i, paragraph in enumerate(texts):
        if like[i] and (several or i > 0):  # the first line of a single article is its title
            headings[i] = _Heading(1 if article[i] or not several else 2, paragraph, False)
    if not several:
        _adopt_misplaced_bodies(texts, headings)
    return headings


def _adopt_misplaced_bodies(texts: list[str], headings: list[_Heading | None]) -> None:
    """Give a headline with no body the lead-in paragraph that turns up later inside another section.

    In 003 ``加快沈阳现代化都市圈建设 不断提升对内对外开放水平`` is directly followed by the next headline; its
    lead-in (``对标国家中心城市功能定位,强化区域合作,…``) and topics follow the topics of a later section.
    Sections there open with a lead-in sentence and go on with topic paragraphs (``加强区域交流合作。…``), so a
    lead-in after topic paragraphs starts the misplaced body. The body becomes its own section under the orphan.
    """
    orphans = [
        (i, h)
        for i, h in enumerate(headings)
        if h and i + 1 < len(texts) and (nxt := headings[i + 1]) is not None and nxt.rank <= h.rank
    ]
    seen_topic = False
    for i, paragraph in enumerate(texts):
        if headings[i]:
            seen_topic = False
            continue
        first = _FIRST_SENTENCE.match(paragraph)
        sentence = first.group(0) if first else paragraph
        if len(sentence) <= _TOPIC_MAX_CHARS and not re.search("[,，]", sentence):
            seen_topic = True
        elif seen_topic and re.search("[,，]", sentence) and orphans and orphans[0][0] < i:
            orphan = orphans.pop(0)[1]
            headings[i] = _Heading(orphan.rank, orphan.label, True)
            seen_topic = False


def _build(paragraphs: list[tuple[int, int]], headings: list[_Heading | None], preamble: tuple[str, ...]) -> list[Section]:
    sections: list[Section] = []
    stack: list[_Heading] = []
    path, start, end, has_body = preamble, -1, -1, False
    for (s, e), heading in zip(paragraphs, headings, strict=True):
        if heading is None:
            if start < 0:
                start = s
            end, has_body = e, True
            continue
        opens_child = bool(stack) and heading.rank > stack[-1].rank
        if start >= 0 and (has_body or not opens_child):
            sections.append(Section(path=path, start=start, end=end))
            start = -1
        while stack and stack[-1].rank >= heading.rank:
            stack.pop()
        stack.append(heading)
        path = tuple(h.label for h in stack)
        if start < 0:
            start = s
        end, has_body = e, heading.inline
    if start >= 0:
        sections.append(Section(path=path, start=start, end=end))
    return sections
