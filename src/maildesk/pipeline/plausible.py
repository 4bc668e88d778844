"""Which charset a short run of undeclared bytes (a raw 8-bit header) is really in.

Any byte string "decodes" as Latin-1, and most decode as GB18030 or Big5 too, so a
decoding that merely does not raise proves nothing: a GB2312 subject read as Latin-1
is `×ª·¢£º`, a Latin-1 `Réunion` read as GB18030 is `R閡nion`.  A decoding is kept
only when it is *plausible* text, judged by `implausible` (a reason, or "" when
plausible) from the characters alone:

* no U+FFFD, no control, private-use or unassigned characters;
* its non-ASCII letters are of one script family (Han with kana for Japanese, Hangul
  with a little Han for Korean, Latin, Cyrillic, Greek, …);
* Han text is mostly *common* characters (GB2312, Big5 or JIS level 1), and no single
  Han character sits inside an ASCII word (`L黷kebohle`);
* Latin text has no runs of three non-ASCII characters and few symbols (`·þÎñÆ÷`);
* charset-normalizer's mess ratio (a maintained detector's measure of how garbled a
  text looks) stays low.

Candidates, in order: UTF-8, the charsets the message declares, the CJK charsets with
GB18030 first (zh-CN mail matters most; EUC-KR and GB2312 share their byte ranges, so an
undeclared Korean header reads as Chinese, but Korean mail declares its charset in the
body), Windows-1252 and Windows-1251, then charset-normalizer's ranking of the bytes (a maintained
detector; weak on a few bytes, so only a suggestion, and held to the same test).
The first plausible decoding wins.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

COMMON_MAIL_CODECS = ("gb18030", "big5hkscs", "cp932", "cp949", "cp1252", "cp1251")
DETECTOR_MAX_BYTES = 4096  # enough to judge; the detector's time grows with the input
# Level-1 ("frequently used") Han of each CJK standard, as the lead-byte range of the
# codec: a decoding in the wrong CJK charset lands mostly on rare characters.
COMMON_HAN = (("gb2312", 0xB0, 0xD7), ("big5", 0xA4, 0xC6), ("shift_jis", 0x88, 0x98))
JUDGED_CHARS = 512
MIN_COMMON_HAN = 0.5
MAX_MESS = 0.2
MAX_LATIN_SYMBOLS = 0.3
# One or two letters of another script inside a Latin word: `L黷kebohle`, `H閘鑞e`.
LETTERS_IN_ASCII_WORD = re.compile(r"[A-Za-z]([^\x00-\x7f]{1,2})[a-z]")
RUSSIAN = re.compile(r"[\u0410-\u044f\u0401\u0451\u0406\u0456\u0407\u0457\u0404\u0454\u0490\u0491]")
MIN_RUSSIAN = 0.8
LATIN_RUN = re.compile(r"[^\x00-\x7f\s]{3,}")
# Script families: each value is the scripts one language mixes in ordinary text.
FAMILIES = {
    "HAN": "cjk", "KANA": "cjk", "HANGUL": "hangul", "LATIN": "latin",
    "CYRILLIC": "cyrillic", "GREEK": "greek", "HALFWIDTH": "halfwidth",
}  # fmt: skip


def guess_header_bytes(
    data: bytes, declared: Sequence[str] = (), otherwise: str | None = None
) -> str:
    """The first plausible decoding of `data`; else `otherwise`, else UTF-8 with U+FFFD
    (an honest replacement character rather than a confident wrong script)."""
    for codec in _candidates(data, declared):
        text = _decode(data, codec)
        if text is not None and not implausible(text):
            return text
    return data.decode("utf-8", "replace") if otherwise is None else otherwise


def _candidates(data: bytes, declared: Sequence[str]) -> Iterable[str]:
    yield "utf-8"
    yield from declared
    yield from COMMON_MAIL_CODECS
    yield from _detected(data)


def _detected(data: bytes) -> list[str]:
    try:
        matches = from_bytes(data[:DETECTOR_MAX_BYTES])
    except Exception:  # a detector failure is no reason to lose the header
        return []
    return [m.encoding for m in matches]


def _decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def implausible(text: str) -> str:
    """Why `text` is not plausible as what someone wrote ("" when it is).  A long text
    is judged by its start: the verdict is the same, the time bounded."""
    text = text[:JUDGED_CHARS]
    if "\ufffd" in text:
        return "replacement character"
    other = [c for c in text if ord(c) > 0x7F]
    if not other:
        return ""
    if any(unicodedata.category(c) in ("Cc", "Co", "Cn", "Cs") for c in other):
        return "control, private-use or unassigned character"
    letters = [c for c in other if unicodedata.category(c).startswith("L")]
    if not letters:
        return "symbols without letters" if len(other) > 3 else ""
    family, share = _dominant_family(letters)
    if share < 0.9:
        return "letters of mixed scripts"
    if family != "latin" and _foreign_letter_in_ascii_word(text):
        return "a non-Latin letter inside an ASCII word"
    return _FAMILY_CHECKS.get(family, _no_check)(text, other, letters) or _messy(text)


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    if first in ("CJK", "IDEOGRAPHIC"):
        return "HAN"
    if first.startswith(("HIRAGANA", "KATAKANA")):  # also KATAKANA-HIRAGANA (ー)
        return "KANA"
    return first


def _dominant_family(letters: list[str]) -> tuple[str, float]:
    counts = Counter(FAMILIES.get(_script(c), _script(c)) for c in letters)
    family, count = counts.most_common(1)[0]
    return family, count / len(letters)


def _foreign_letter_in_ascii_word(text: str) -> bool:
    """`L黷kebohle`, `Rйunion`: letters of another script inside a Latin word."""
    return any(
        m.group(1).isalpha() and all(_script(c) != "LATIN" for c in m.group(1))
        for m in LETTERS_IN_ASCII_WORD.finditer(text)
    )


def _check_cjk(text: str, other: list[str], letters: list[str]) -> str:
    han = [c for c in letters if _script(c) == "HAN"]
    if han and max(_common_han(han, *standard) for standard in COMMON_HAN) < MIN_COMMON_HAN:
        return "mostly rare Han characters"
    return ""


def _check_cyrillic(text: str, other: list[str], letters: list[str]) -> str:
    """Windows-1251 reads any high bytes as Cyrillic; Russian/Ukrainian letters dominate
    real text, the rest of the block (Ђ, Ѓ, Љ, …) is rare."""
    if sum(1 for c in letters if RUSSIAN.match(c)) < MIN_RUSSIAN * len(letters):
        return "mostly rare Cyrillic letters"
    return ""


def _check_hangul(text: str, other: list[str], letters: list[str]) -> str:
    return ""  # Hangul dominates (checked by the family share): Korean as written


def _check_latin(text: str, other: list[str], letters: list[str]) -> str:
    if LATIN_RUN.search(text):
        return "three or more accented letters or symbols in a row"
    symbols = len(other) - len(letters)
    if symbols > 1 and symbols > MAX_LATIN_SYMBOLS * len(other):
        return "mostly symbols among the accented letters"
    return ""


def _no_check(text: str, other: list[str], letters: list[str]) -> str:
    return ""


_FAMILY_CHECKS = {
    "cjk": _check_cjk, "hangul": _check_hangul, "latin": _check_latin, "cyrillic": _check_cyrillic,
}  # fmt: skip


def _common_han(han: list[str], codec: str, low: int, high: int) -> float:
    """The share of `han` among the level-1 characters of one standard."""
    return sum(1 for c in han if low <= _lead_byte(c, codec) <= high) / len(han)


@functools.lru_cache(maxsize=8192)
def _lead_byte(char: str, codec: str) -> int:
    try:
        return char.encode(codec)[0]
    except UnicodeEncodeError:
        return -1


def _messy(text: str) -> str:
    return (
        "garbled by charset-normalizer's measure" if mess_ratio(text, MAX_MESS) >= MAX_MESS else ""
    )
