"""Decode mail text through a fallback chain instead of errors="replace".

Chinese clients label GBK text as gb2312 and send 8-bit headers; Big5 mail
uses HKSCS characters.  Each declared charset is widened to its superset, and
when it still fails we try UTF-8, GB18030 and Big5-HKSCS before Latin-1
(which never fails, so nothing is ever lost, only possibly mis-shown).
"""

from __future__ import annotations

import codecs
from email.header import decode_header

SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}

FALLBACKS = ("utf-8", "gb18030", "big5hkscs")


def normalize(charset: str | None) -> str | None:
    """The codec to try first for a declared charset, or None if unknown/absent."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode with the declared charset, then the fallback chain, then Latin-1."""
    first = normalize(declared)
    candidates = [first] if first else []
    candidates += [c for c in FALLBACKS if c != first]
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


def _unescape_raw(value: str) -> str:
    """Headers with raw 8-bit bytes arrive as surrogate escapes: decode them properly."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return decode_bytes(value.encode("utf-8", "surrogateescape"))


def decode_header_value(value: str | None) -> str:
    """RFC 2047 words in any charset, raw 8-bit bytes, folded lines → one clean line."""
    if not value:
        return ""
    value = str(value)
    if "=?" not in value:
        return " ".join(_unescape_raw(value).split())
    try:
        parts = decode_header(value)
    except Exception:  # malformed encoded words: keep the raw text rather than fail
        return " ".join(_unescape_raw(value).split())
    pieces = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            pieces.append(decode_bytes(chunk, charset))
        else:
            pieces.append(_unescape_raw(chunk))
    return " ".join("".join(pieces).split())
