"""Keyword index: Chinese tokens (character bigrams and/or jieba words) scored with bm25s."""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import CorruptIndexError

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s logs every index build at DEBUG

# A run of CJK ideographs, e.g. "数字经济" in "数字经济占比50%".
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
# A Latin word or a number, e.g. "5G", "2025", "3.5", "gdp".
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
# Function words of questions that would otherwise match everywhere ("是多少", "哪些", "什么").
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 等 要 会 吗 呢 啊 吧 么 什么 多少 哪些 哪个 怎么 怎样 如何 是否 有没有 有 没有 "
    "这 那 其 之 个 我 你 他 到 为 对 将 把 被 从 也 都 就 还 又 请问 哪里 几 a an the of to in and or is are what "
    "how which does do".split()
)


@lru_cache(maxsize=1)
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def bigrams(text_norm: str) -> list[str]:
    """Character bigrams of CJK runs plus Latin words and numbers.

    Example: ``数字经济2025年`` → ``['数字', '字经', '经济', '2025', '年']``.
    Single CJK characters between non-CJK text are kept as unigrams.
    """
    text = text_norm.lower()
    tokens: list[str] = []
    for match in re.finditer(r"[\u3400-\u9fff]+|[a-z0-9]+(?:\.[0-9]+)?", text):
        run = match.group()
        if _CJK_RUN.fullmatch(run):
            tokens.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
        else:
            tokens.append(run)
    return tokens


def unigrams_bigrams(text_norm: str) -> list[str]:
    """Single CJK characters and character bigrams of CJK runs, plus Latin words and numbers.

    Example: ``数字经济2025年`` → ``['数', '字', '经', '济', '数字', '字经', '经济', '2025', '年']``.
    A question's single characters then count too (盘 in 网球比赛最多有几盘), as in the bigram BM25 baseline.
    """
    tokens: list[str] = []
    for match in re.finditer(r"[\u3400-\u9fff]+|[a-z0-9]+(?:\.[0-9]+)?", text_norm.lower()):
        run = match.group()
        if _CJK_RUN.fullmatch(run):
            tokens.extend([*run, *(run[i : i + 2] for i in range(len(run) - 1))])
        else:
            tokens.append(run)
    return tokens


def words(text_norm: str) -> list[str]:
    """Jieba search-mode words (plus Latin words and numbers), stopwords removed.

    Example: ``辽宁数字经济规模`` → ``['辽宁', '数字', '经济', '规模']``.
    """
    jieba = _jieba()
    out = []
    for token in jieba.lcut_for_search(text_norm.lower()):  # type: ignore[attr-defined]
        token = token.strip()
        if token and token not in STOPWORDS and (_CJK_RUN.fullmatch(token) or _WORD.fullmatch(token)):
            out.append(token)
    return out


def tokenize(text_norm: str, mode: str) -> list[str]:
    """Tokens of normalized text for the keyword index.

    Args:
        text_norm: Text after :func:`assistant.text.script.normalize`.
        mode: ``bigram``, ``unigram+bigram``, ``jieba`` or ``both`` (jieba words prefixed ``w:`` so they never
            collide with bigrams).

    Returns:
        The token list (may be empty).
    """
    if mode == "bigram":
        return [t for t in bigrams(text_norm) if t not in STOPWORDS]
    if mode == "unigram+bigram":
        return [t for t in unigrams_bigrams(text_norm) if t not in STOPWORDS]
    if mode == "jieba":
        return words(text_norm)
    return [t for t in bigrams(text_norm) if t not in STOPWORDS] + ["w:" + w for w in words(text_norm)]


class KeywordIndex:
    """BM25 over tokenized chunk texts (bm25s, Lucene variant)."""

    def __init__(self, mode: str, k1: float = 1.2, b: float = 0.75) -> None:
        self.mode = mode
        self.k1, self.b = k1, b
        self._bm25: object | None = None
        self.size = 0

    def build(self, texts_norm: list[str]) -> None:
        """Index normalized texts (one per chunk, in chunk order)."""
        import bm25s

        bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        bm25.index([tokenize(t, self.mode) or [""] for t in texts_norm], show_progress=False)
        self._bm25, self.size = bm25, len(texts_norm)

    def scores(self, query_norm: str) -> np.ndarray:
        """BM25 score of every indexed chunk for a normalized query (zeros when no token is known)."""
        if self._bm25 is None:
            raise CorruptIndexError("Keyword index is not built or loaded. Run `assistant build`.")
        vocab = self._bm25.vocab_dict  # type: ignore[attr-defined]
        tokens = [t for t in tokenize(query_norm, self.mode) if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]

    def save(self, folder: Path) -> None:
        """Write the index files into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(folder), show_progress=False)  # type: ignore[union-attr]
        (folder / "keyword.json").write_text(json.dumps({"mode": self.mode, "size": self.size, "k1": self.k1, "b": self.b}))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        """Read an index written by :meth:`save`.

        Raises:
            CorruptIndexError: A file is missing or unreadable.
        """
        import bm25s

        try:
            meta = json.loads((folder / "keyword.json").read_text())
            index = cls(meta["mode"], meta["k1"], meta["b"])
            index._bm25 = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
            index.size = int(meta["size"])
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise CorruptIndexError(f"Keyword index in {folder} is unreadable ({exc}). Rebuild with `assistant build`.") from exc
        return index
