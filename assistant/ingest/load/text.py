"""Load, plain text: decode .txt/.md/.html bytes (BOM, UTF-8, declared charset, GB18030/Big5 detection)."""

from __future__ import annotations

import codecs
import contextlib
import re
from functools import lru_cache
from pathlib import Path

from ...errors import UnreadableDocumentError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Legacy Chinese codecs tried when a file is not UTF-8; gb18030 is a superset of GB2312 and GBK.
_CHINESE_CODECS = ("gb18030", "big5")
# Labels that WHATWG decodes with a superset codec, e.g. <meta charset="gb2312"> pages routinely hold GBK bytes.
_CODEC_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "big5": "big5hkscs"}
# Control bytes that never occur in text: everything below 0x20 except \t \n \v \f \r and ESC, plus DEL.
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B} | {0x7F}
# Matches the charset of <meta charset="gbk"> or <meta http-equiv=... content="text/html; charset=gb2312">.
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def normalize(text: str) -> str:
    r"""Unify line endings, drop trailing spaces and collapse blank-line runs: ``"甲 \r\n\r\n\r\n乙"`` → ``"甲\n\n乙"``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")



def decode(data: bytes, path: Path, declared: str | None = None) -> str:
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


def declared_charset(data: bytes) -> str | None:
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

