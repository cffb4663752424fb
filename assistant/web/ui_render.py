"""UI rendering: answers, citations, verdicts and documents as escaped HTML (pure functions, no gradio).

Document text is data: every piece of it goes through :func:`html.escape` before it reaches the page. The HTML is
kept on one line per block (newlines become ``<br>``) so it survives the chat's Markdown renderer unchanged.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from .. import prompts
from ..types import Answer, Citation, Mismatch, Verdict

CONTEXT_CHARS = 160  # at most this much paragraph text is shown on each side of a quote
# A sentence end, e.g. the "。" in "建成5G基站2.5万个。信息…"; a context cut starts or ends after one.
_SENTENCE_END = re.compile(r"[。！？；!?;]")
# A citation marker in answer text, e.g. "[2]" in "占比达到10%[2]"; captured number → superscript.
_MARKER = re.compile(r"\[(\d{1,3})\]")
VERDICT_COLORS = {"supported": "#1a7f37", "contradicted": "#cf222e", "not_found": "#6e7781"}

CSS = """
.answer p { margin: 0 0 .5em 0; }
.answer sup.cite-n, .cite-head b { color: #0969da; font-weight: 600; }
.sources { margin-top: .6em; border-top: 1px solid #d0d7de; padding-top: .4em; }
.sources-head { font-weight: 600; font-size: .9em; margin-bottom: .3em; }
.citation { margin: .4em 0 .7em 0; }
.cite-head { font-size: .92em; }
.cite-meta { color: #57606a; }
.cite-context { margin: .25em 0; padding: .3em .6em; border-left: 3px solid #d4a72c; background: rgba(212,167,44,.06);
  font-size: .95em; line-height: 1.6; }
mark.quote { background: #fff3b0; color: #1f2328; padding: 0 1px; }
mark.diff { background: #ffb3b8; color: #1f2328; font-weight: 700; padding: 0 1px; }
.cite-ref { font-size: .85em; color: #57606a; }
.cite-page { color: #57606a; white-space: nowrap; }
.cite-upload { font-size: .8em; padding: 0 .4em; border-radius: .6em; background: #fff1e5; color: #953800; }
.low-confidence { font-size: .85em; color: #9a6700; }
.page-mark { display: inline; }
.cite-ref code { user-select: all; white-space: normal; }
.resolved { font-size: .85em; color: #57606a; }
.verdict { display: inline-block; padding: .15em .7em; border-radius: 1em; color: #fff; font-weight: 700; }
.verdict-reason { margin: .5em 0; }
.scope-notice { margin: 0 0 .4em 0; padding: .3em .6em; border-left: 3px solid #bf8700; background: #fff8c5; font-size: .92em; }
.judge { font-size: .85em; color: #57606a; }
.doc-viewer { position: relative; max-height: 480px; overflow-y: auto; white-space: pre-wrap; line-height: 1.7;
  padding: .6em; border: 1px solid #d0d7de; border-radius: 6px; }
.status { padding: .4em .8em; border-radius: 6px; background: #ddf4ff; }
.status-ready { background: #dafbe1; }
.status-failed { background: #ffebe9; }
"""

# Runs after the viewer updates: scrolls the viewer box (not the page) to the first line of the cited page
# (``#doc-page``) when the document has pages, else so the marked passage sits near its top.
SCROLL_TO_MARK_JS = """() => { const p = document.querySelector('#doc-page'); const m = p || document.querySelector('#doc-mark');
  const box = m && m.closest('.doc-viewer');
  if (box) { box.scrollTop = p ? Math.max(0, m.offsetTop - 4) : Math.max(0, m.offsetTop - box.clientHeight / 3); } }"""


def esc(text: str) -> str:
    r"""Escape text for HTML, keeping its line breaks: ``"a<b\nc"`` → ``"a&lt;b<br>c"``."""
    return html.escape(text).replace("\n", "<br>")


def reference(citation: Citation) -> str:
    """The copyable reference string: ``《title》`` then the section path joined with ``›``.

    Example: title 遼寧省…綱要, path (第二篇 …, 第六章 …) → ``《遼寧省…綱要》第二篇 …›第六章 …``.
    """
    return f"《{citation.title}》" + "›".join(citation.section_path)


def context_window(text: str, start: int, end: int, limit: int = CONTEXT_CHARS) -> tuple[int, int]:
    r"""The span of the paragraph around ``text[start:end]``, trimmed to whole sentences within ``limit`` chars a side.

    Example: in ``"甲。\n乙。丙。丁。\n戊。"`` the quote 丙。 (5..7) has the window 3..9 (``乙。丙。丁。``).
    """
    para_start = text.rfind("\n", 0, start) + 1
    para_end = text.find("\n", end)
    para_end = len(text) if para_end < 0 else para_end
    lo, hi = para_start, para_end
    if start - lo > limit:
        cut = [m.end() for m in _SENTENCE_END.finditer(text, start - limit, start)]
        lo = cut[0] if cut else start - limit
    if hi - end > limit:
        cut = [m.end() for m in _SENTENCE_END.finditer(text, end, end + limit)]
        hi = cut[-1] if cut else end + limit
    return lo, hi


def highlight(text: str, lo: int, hi: int, quote: tuple[int, int], diffs: Sequence[tuple[int, int]] = ()) -> str:
    """Escaped ``text[lo:hi]`` with the quote in ``<mark class="quote">`` and differing values in ``<mark class="diff">``.

    Example: text ``"建成5G基站2.5万个。"``, quote (0, 12), diff (6, 11) →
    ``<mark class="quote">建成5G基站</mark><mark class="diff">2.5万个</mark><mark class="quote">。</mark>``.
    """
    flags = []
    for pos in range(lo, hi):
        in_diff = any(s <= pos < e for s, e in diffs)
        flags.append("diff" if in_diff else "quote" if quote[0] <= pos < quote[1] else "")
    parts, run_start = [], lo
    for i in range(1, len(flags) + 1):
        if i == len(flags) or flags[i] != flags[i - 1]:
            piece, cls = esc(text[run_start : lo + i]), flags[i - 1]
            parts.append(f'<mark class="{cls}">{piece}</mark>' if cls else piece)
            run_start = lo + i
    prefix = "…" if lo > 0 and text[lo - 1] != "\n" else ""
    suffix = "…" if hi < len(text) and text[hi] != "\n" else ""
    return prefix + "".join(parts) + suffix


def page_label(citation: Citation) -> str:
    """The page of a citation as shown beside its section path: ``第 12 页``, ``第 12–13 页``; ``""`` without pages."""
    if citation.page_start is None:
        return ""
    if citation.page_end is None or citation.page_end == citation.page_start:
        return prompts.UI_PAGE.format(page=citation.page_start)
    return prompts.UI_PAGES.format(start=citation.page_start, end=citation.page_end)


def citation_html(citation: Citation, text: str, mismatches: tuple[Mismatch, ...] = ()) -> str:
    """One citation: title, date, publisher › section path; the quote marked in its paragraph; the reference.

    Args:
        citation: The citation.
        text: The cleaned text of the cited document (citation offsets point into it); ``""`` if unknown.
        mismatches: Differing values to mark where their document offsets fall inside the shown passage.
    """
    c = citation
    if text[c.start : c.end] == c.quote:
        lo, hi = context_window(text, c.start, c.end)
        diffs = [(m.start, m.end) for m in mismatches if lo <= m.start < m.end <= hi]
        passage = highlight(text, lo, hi, (c.start, c.end), diffs)
    else:  # the document changed since the answer: show the quote alone
        passage = highlight(c.quote, 0, len(c.quote), (0, len(c.quote)))
    meta = " · ".join(x for x in (c.date, " › ".join((c.publisher, *c.section_path)).strip(" ›")) if x)
    page = f' <span class="cite-page">{esc(page_label(c))}</span>' if c.page_start is not None else ""
    low = (f'<div class="low-confidence">{esc(prompts.UI_LOW_CONFIDENCE.format(confidence=c.ocr_confidence))}</div>'
           if c.low_confidence and c.ocr_confidence is not None else "")
    source = (f' <span class="cite-upload">{esc(prompts.SOURCE_LABELS["upload"])}</span>' if c.source == "upload"
              else "")
    return (
        f'<div class="citation" data-doc="{html.escape(c.doc_id)}">'
        f'<div class="cite-head"><b>[{c.n}]</b> 《{esc(c.title)}》{source} <span class="cite-meta">{esc(meta)}</span>'
        f'{page}</div>'
        f'<blockquote class="cite-context">{passage}</blockquote>{low}'
        f'<div class="cite-ref">{prompts.UI_REFERENCE}：<code>{esc(reference(c))}</code></div></div>'
    )


def answer_text_html(text: str) -> str:
    """Escaped answer text with ``[n]`` markers as superscripts: ``"45%[1]"`` → ``45%<sup class="cite-n">[1]</sup>``."""
    return _MARKER.sub(r'<sup class="cite-n">[\1]</sup>', esc(text))


def answer_html(answer: Answer, document_text: Callable[[str], str] | None = None, partial: str | None = None) -> str:
    """A chat message for an answer: its text, then its citations (or, for a refusal, the closest sections).

    Args:
        answer: The answer.
        document_text: ``doc_id`` → cleaned text, for the paragraph around each quote; ``None`` while streaming.
        partial: Show only this much of the answer text and no citations yet (streaming).
    """
    body = f'<p>{answer_text_html(answer.answer if partial is None else partial)}</p>'
    if answer.extra.get("scope_mismatch"):
        body = scope_notice_html(answer.extra["scope_mismatch"]) + body
    resolved = answer.extra.get("resolved_question")
    if resolved and resolved != answer.question.strip():
        body = f'<div class="resolved">{esc(prompts.UI_RESOLVED.format(question=resolved))}</div>' + body
    if partial is None and document_text is not None and answer.citations:
        head = prompts.UI_CLOSEST if answer.refused else prompts.UI_SOURCES
        items = "".join(citation_html(c, document_text(c.doc_id)) for c in answer.citations)
        body += f'<div class="sources"><div class="sources-head">{head}</div>{items}</div>'
    return f'<div class="answer">{body}</div>'


def scope_notice_html(mismatch: Sequence[dict[str, str]]) -> str:
    """The scope notice of an answer: what the question asked and what the documents hold instead, kind by kind.

    Example: ``[{"kind": "year", "asked": "2024", "found": "2021"}]`` → ``范围不符 · 年份：问的是 2024，文件中是 2021``.
    """
    rows = "；".join(
        esc(prompts.UI_SCOPE_ROW.format(kind=prompts.SCOPE_KINDS.get(m.get("kind", ""), m.get("kind", "")),
                                        asked=m.get("asked", ""), found=m.get("found", "")))
        for m in mismatch)
    return f'<div class="scope-notice"><b>{esc(prompts.UI_SCOPE_NOTICE)}</b> · {rows}</div>'


def judge_html(judge: str | None) -> str:
    """Which judge decided, in words: ``rules`` → ``判断方式：规则（数字、年份、地点、否定与方向）``."""
    label = prompts.UI_JUDGE_LABELS.get(judge or "none", judge or "")
    return f'<div class="judge">{esc(prompts.UI_JUDGE)}：{esc(label)}</div>'


def verdict_badge(verdict: str) -> str:
    """The colored badge of a verdict: ``supported`` → a green 文件支持 label."""
    label = prompts.VERDICT_LABELS.get(verdict, verdict)
    color = VERDICT_COLORS.get(verdict, "#6e7781")
    return f'<span class="verdict verdict-{html.escape(verdict)}" style="background:{color}">{esc(label)}</span>'


def verdict_html(verdict: Verdict, document_text: Callable[[str], str]) -> str:
    """A checked claim: the badge, the reason, each differing value, and the evidence with differences marked."""
    parts = [verdict_badge(verdict.verdict), f'<div class="verdict-reason">{esc(verdict.reason)}</div>',
             judge_html(verdict.extra.get("judge"))]
    if verdict.mismatches:
        rows = "".join(
            f"<li>{esc(prompts.UI_MISMATCH_KINDS.get(m.kind, m.kind))}：{prompts.UI_CLAIM_SAYS} {esc(m.claim_value)}，"
            f'{prompts.UI_DOCUMENT_SAYS} <mark class="diff">{esc(m.document_value)}</mark></li>'
            for m in verdict.mismatches
        )
        parts.append(f'<ul class="mismatches">{rows}</ul>')
    if verdict.citations:
        items = "".join(citation_html(c, document_text(c.doc_id), verdict.mismatches) for c in verdict.citations)
        parts.append(f'<div class="sources"><div class="sources-head">{prompts.UI_EVIDENCE}</div>{items}</div>')
    return f'<div class="check">{"".join(parts)}</div>'


def document_html(citation: Citation, text: str) -> str:
    """The whole cleaned document with the cited passage marked as ``#doc-mark``.

    For a paged source the first line of the cited page carries ``#doc-page``: the viewer opens there.
    """
    path = esc(" › ".join(citation.section_path))
    page = f' <span class="cite-page">{esc(page_label(citation))}</span>' if citation.page_start is not None else ""
    head = f'<div class="cite-head">《{esc(citation.title)}》 <span class="cite-meta">{path}</span>{page}</div>'
    if text[citation.start : citation.end] != citation.quote:
        return head + f'<div class="doc-viewer">{html.escape(text)}</div>'
    anchor = citation.page_offset
    if anchor is None or not 0 <= anchor <= citation.start:
        before = html.escape(text[: citation.start])
    else:  # the first line of the page: its paragraph start, or the page break inside a joined sentence
        before = html.escape(text[:anchor]) + '<span class="page-mark" id="doc-page"></span>' + html.escape(
            text[anchor : citation.start])
    quote, after = html.escape(citation.quote), html.escape(text[citation.end :])
    return head + f'<div class="doc-viewer">{before}<mark class="quote" id="doc-mark">{quote}</mark>{after}</div>'


def message_html(text: str, kind: str = "info") -> str:
    """A one-line escaped message box (``info``, ``ready`` or ``failed``)."""
    return f'<div class="status status-{html.escape(kind)}">{esc(text)}</div>'
