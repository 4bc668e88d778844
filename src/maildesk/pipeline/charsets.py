"""Decode mail text through a fallback chain instead of errors="replace".

Chinese clients label GBK text as gb2312 and send 8-bit headers; Big5 mail
uses HKSCS characters.  Each declared charset is widened to its superset, and
when it still fails we try UTF-8, GB18030 and Big5-HKSCS before Latin-1
(which never fails, so nothing is ever lost, only possibly mis-shown).

Headers are held to more than "does not raise": raw 8-bit header bytes and encoded
words whose label is unknown or wrong are decoded as the first *plausible* candidate
(plausible.py), so a GB2312 subject in a message that declares iso-8859-1 is Chinese,
and a Latin-1 `Réunion` stays French.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re

from maildesk.pipeline.plausible import guess_header_bytes, implausible

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
# Python codecs that are no charset: no mail is written in them, and decoding with them
# raises UnicodeError (undefined, punycode) or turns bytes into something else (escapes).
NOT_CHARSETS = frozenset(("undefined", "punycode", "idna", "unicode-escape", "raw-unicode-escape"))
MULTI_BYTE = frozenset(
    codecs.lookup(c).name
    for c in ("utf-8", "utf-16", "utf-16-be", "utf-16-le", "utf-32", "gb18030", "gbk",
              "gb2312", "big5", "big5hkscs", "cp932", "shift_jis", "euc_jp", "iso2022_jp",
              "cp949", "euc_kr", "cp950", "hz", "utf-7")
)  # fmt: skip


def normalize(charset: str | None) -> str | None:
    """The codec to try first for a declared charset, or None if unknown/absent.

    A label that is no charset is unknown too: junk codecs.lookup refuses with ValueError
    rather than LookupError (a NUL, a lone surrogate), codecs that are no text encoding
    (base64, rot13, zlib: bytes.decode refuses them) and NOT_CHARSETS."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = SUPERSETS.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in NOT_CHARSETS:
        return None
    return info.name


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode with the declared charset, then the fallback chain, then Latin-1."""
    first = normalize(declared)
    candidates = [first] if first else []
    candidates += [c for c in FALLBACKS if c != first]
    for codec in candidates:
        try:
            return data.decode(codec)
        except (UnicodeError, LookupError):  # some codecs raise a bare UnicodeError
            continue
    return data.decode("latin-1")


# An encoded word as mail clients accept it: RFC 2047 forbids white space inside one,
# but real mail has it (`=?utf-8?Q?hello world?=`, a folder breaking a word across lines).
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
FOLD = re.compile(r"\r?\n[ \t]+")
FOLDED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\n]*\n[^?]*\?=")  # a fold inside
LINE_BREAK = re.compile(r"[\t\r\n\v\f]")


def unfold(value: str) -> str:
    """One line: a fold inside an encoded word disappears (a broken folder put it there),
    any other fold (line break and the white space after it) becomes one space."""
    if "\n" not in value:
        return value
    value = FOLDED_WORD.sub(lambda m: FOLD.sub("", m.group(0)), value)
    return FOLD.sub(" ", value)


@functools.lru_cache(maxsize=256)
def declared_charsets(hint: str | None) -> tuple[str, ...]:
    """The codecs of a hint: the message's declared charsets, comma-separated, in order
    (a charset name never contains a comma, RFC 2978).  Cached: every header of a
    message asks with the same hint, and mail repeats a few hints."""
    codecs_ = (normalize(name) for name in (hint or "").split(","))
    return tuple(dict.fromkeys(c for c in codecs_ if c))


def _unescape_raw(value: str, declared: tuple[str, ...]) -> str:
    """Headers with raw 8-bit bytes arrive as surrogate escapes: decode them as the first
    plausible candidate (UTF-8, the declared charsets, the usual ones), see plausible.py."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return guess_header_bytes(value.encode("utf-8", "surrogateescape"), declared)


def _word_bytes(match: re.Match[str]) -> bytes | None:
    encoding, text = match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            text = "".join(text.split())  # white space inside a word: not part of the data
            return base64.b64decode(text + "=" * (-len(text) % 4))
        return binascii.a2b_qp(text.replace("_", " ").encode("ascii"), header=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return None  # malformed: kept as written rather than guessed


def _decode_labelled(data: bytes, charset: str, declared: tuple[str, ...]) -> str:
    """An encoded word's bytes in its labelled charset when they decode (a single-byte
    label only if that reads as plausible text: any bytes decode in one); else the first
    plausible candidate (a mislabel, an unknown label); else the label's chain."""
    codec = normalize(charset)
    if codec:
        try:
            text = data.decode(codec)
            if not (_single_byte(codec) and implausible(text)):
                return text
        except UnicodeError:  # some codecs raise a bare UnicodeError, not a Decode one
            pass
    first = (codec,) if codec else ()
    return guess_header_bytes(data, first + declared, otherwise=decode_bytes(data, charset))


def _single_byte(codec: str) -> bool:
    return codecs.lookup(codec).name not in MULTI_BYTE


def decode_words(text: str, declared: tuple[str, ...] = ()) -> str:
    """Decode RFC 2047 encoded words.  White space between adjacent words disappears,
    and adjacent words in one charset are joined as bytes before decoding, so a
    character split across two words survives."""
    out: list[str] = []
    run: list[bytes] = []
    run_charset = ""

    def flush() -> None:
        if run:
            out.append(_decode_labelled(b"".join(run), run_charset, declared))
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
    """RFC 2047 words in any charset, raw 8-bit bytes, folded lines → one line, white
    space inside kept as written (runs of spaces, U+3000), only the ends trimmed.

    `hint` is the message's declared charsets, comma-separated, in order: candidates for
    raw 8-bit header bytes, each accepted only if it reads as plausible text.
    """
    if value is None:
        return ""
    text = unfold(str(value))
    if not text.isascii():  # ASCII is never raw 8-bit bytes
        text = _unescape_raw(text, declared_charsets(hint))
    if "=?" in text:
        text = decode_words(text, declared_charsets(hint))
    return LINE_BREAK.sub(" ", text).strip()
