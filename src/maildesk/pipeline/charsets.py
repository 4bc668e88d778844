"""Decode mail text through a fallback chain instead of errors="replace".

Chinese clients label GBK text as gb2312 and send 8-bit headers; Big5 mail
uses HKSCS characters.  Each declared charset is widened to its superset, and
when it still fails we try UTF-8, GB18030 and Big5-HKSCS before Latin-1
(which never fails, so nothing is ever lost, only possibly mis-shown).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

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


ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
FOLD = re.compile(r"\r?\n(?=[ \t])")


def _unescape_raw(value: str, hint: str | None = None) -> str:
    """Headers with raw 8-bit bytes arrive as surrogate escapes: decode them properly."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return decode_bytes(value.encode("utf-8", "surrogateescape"), hint)


def _word_bytes(match: re.Match[str]) -> bytes | None:
    encoding, text = match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            return base64.b64decode(text + "=" * (-len(text) % 4))
        return binascii.a2b_qp(text.replace("_", " ").encode("ascii"), header=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None  # malformed: kept as written rather than guessed


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words.  White space between adjacent words disappears,
    and adjacent words in one charset are joined as bytes before decoding, so a
    character split across two words survives."""
    out: list[str] = []
    run: list[bytes] = []
    run_charset = ""

    def flush() -> None:
        if run:
            out.append(decode_bytes(b"".join(run), run_charset))
            run.clear()

    position = 0
    after_word = False
    for match in ENCODED_WORD.finditer(text):
        between = text[position : match.start()]
        charset = match.group(1).split("*", 1)[0].lower()  # drop an RFC 2231 language
        data = _word_bytes(match)
        if not (after_word and (between == "" or between.isspace())):
            flush()
            out.append(between)
        elif data is None or charset != run_charset:
            flush()
        if data is None:
            out.append(match.group(0))
        else:
            run.append(data)
            run_charset = charset
        after_word = True
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out)


def decode_header_value(value: object, hint: str | None = None) -> str:
    """RFC 2047 words in any charset, raw 8-bit bytes, folded lines → one clean line.

    `hint` is the message's declared body charset: the best guess for raw 8-bit
    header bytes (undeclared Big5 would otherwise decode, wrongly, as GB18030).
    """
    if value is None:
        return ""
    text = _unescape_raw(FOLD.sub("", str(value)), hint)
    if "=?" in text:
        text = decode_words(text)
    return " ".join(text.split())
