"""Header fields folded and RFC 2047-encoded directly: the bytes compat32 writes.

`email.header.Header.encode` (what `compat32.fold_binary` runs for every field that is
not a short line of plain ASCII) costs ~0.1 ms a field: it measures each encoded word
by encoding every prefix again, recounts its line for every word it adds and builds
`Charset` objects per value.  `fold` writes the same bytes (CRLF, lines of 76) for the
values the mails here have — one line each, ASCII and UTF-8 chunks — with the same
algorithm done once: a UTF-8 chunk becomes base64 or Q encoded-words (whichever is
shorter for the chunk, as `Charset("utf-8")` chooses), split on character boundaries;
ASCII chunks are split at "; , space tab" as `_ValueFormatter` splits them.  Anything
else (empty chunks, line breaks, lone surrogates, a result the email package would
refuse) is handed to the email package itself, so its bytes, or its error, are the
ones written.  tests/test_render_fold.py compares the two over hostile values.
"""

from __future__ import annotations

import base64
import email.policy
import functools
import re
from dataclasses import dataclass
from email.header import Header
from typing import Any

ASCII, UTF8 = "us-ascii", "utf-8"
MAXLEN = 76
LINESEP = "\r\n"
SPLITCHARS = ";, \t"
CHROME = len(UTF8) + 7  # =?utf-8?b??=
FWS = re.compile("([ \t]+)")
PLAIN = re.compile(r"[!-~](?:[ -~]*[!-~])?")  # printable ASCII, no space at either end
EMBEDDED_HEADER = re.compile(r"\n[^ \t]+:")  # what Header.encode refuses to write
Q_SAFE = frozenset(b"-!*+/ abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
Q_MAP = {c: ("_" if c == 32 else chr(c)) if c in Q_SAFE else f"={c:02X}" for c in range(256)}
Q_COST = tuple(len(Q_MAP[c]) for c in range(256))
Q_TABLE = str.maketrans({chr(c): v for c, v in Q_MAP.items()})
STOCK = email.policy.compat32.clone(linesep=LINESEP, max_line_length=MAXLEN)


@dataclass(frozen=True)
class Words:
    """A header value as `email.header.Header` chunks: (text, "us-ascii" | "utf-8").
    `named`: the first line leaves room for "Name: " (Header's `header_name`)."""

    chunks: tuple[tuple[str, str], ...]
    named: bool = False

    def header(self, name: str) -> Header:
        """The same value as the email package's Header (for messages it writes)."""
        out = Header(header_name=name if self.named else None)
        for text, charset in self.chunks:
            out.append(text, charset)
        return out


def words(*chunks: tuple[str, str], named: bool = False) -> Words:
    """Chunks as `Header.append` stores them: text declared us-ascii that is not ASCII
    is UTF-8."""
    return Words(
        tuple((t, UTF8 if c == ASCII and not t.isascii() else c) for t, c in chunks), named
    )


def fold(name: str, value: str | Words) -> bytes:
    """`compat32.clone(linesep="\\r\\n", max_line_length=76).fold_binary(name, value)`
    (a Words value as its Header)."""
    if isinstance(value, str):
        if len(name) + 2 + len(value) <= MAXLEN and PLAIN.fullmatch(value):
            return f"{name}: {value}{LINESEP}".encode("ascii")
        return _folded(name, words((value, ASCII), named=True), value)
    return _folded(name, value, None)


# The support desk's name (From, Reply-To) and a ticket's subject (its acknowledgment and
# notification) come again and again: a value is folded once while it does.
@functools.lru_cache(maxsize=1024)
def _folded(name: str, value: Words, given: str | None) -> bytes:
    """`given`: the str the value was made from (compat32 takes a str its own way)."""
    headerlen = len(name) + 2 if value.named else 0
    written = encode(_normalized(value.chunks), headerlen)
    if written is None:  # the email package's own bytes, or its error
        header: Any = value.header(name) if given is None else given
        folded: bytes = STOCK.fold_binary(name, header)
        return folded
    return f"{name}: {written}{LINESEP}".encode("ascii")


def _normalized(chunks: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """Runs of one charset joined by a space (`Header._normalize`)."""
    out: list[tuple[str, str]] = []
    for text, charset in chunks:
        if out and out[-1][1] == charset:
            out[-1] = (out[-1][0] + " " + text, charset)
        else:
            out.append((text, charset))
    return out


def _nonctext(ch: str) -> bool:
    return ch.isspace() or ch in "()\\"


def encode(chunks: list[tuple[str, str]], headerlen: int) -> str | None:
    """`Header.encode(linesep="\\r\\n", maxlinelen=76)`; None when the email package
    must write it."""
    if not chunks:
        return None
    formatter = _Formatter(headerlen)
    last_cs, last_space, first = "", False, True
    for text, charset in chunks:
        if text.splitlines() != [text]:  # empty, or a line break
            return None
        if not first:
            has_space = _nonctext(text[0])
            if last_cs != ASCII:
                if not has_space or charset != ASCII:
                    formatter.transition()
            elif charset != ASCII and not last_space:
                formatter.transition()
        first, last_space, last_cs = False, _nonctext(text[-1]), charset
        if charset == ASCII:
            formatter.ascii_split(text)
        elif not formatter.encoded(text):
            return None
    formatter.transition()
    out = formatter.text()
    return None if EMBEDDED_HEADER.search(out) else out


class _Formatter:
    """email.header._ValueFormatter and its _Accumulator, with the line's length kept
    instead of recounted."""

    def __init__(self, headerlen: int) -> None:
        self.lines: list[str] = []
        self.parts: list[tuple[str, str]] = []
        self.initial = headerlen
        self.size = headerlen

    def text(self) -> str:
        self.newline()
        return LINESEP.join(self.lines)

    def push(self, fws: str, part: str) -> None:
        self.parts.append((fws, part))
        self.size += len(fws) + len(part)

    def pop(self) -> tuple[str, str]:
        fws, part = self.parts.pop()
        self.size -= len(fws) + len(part)
        return fws, part

    def joined(self) -> str:
        return "".join(fws + part for fws, part in self.parts)

    def reset(self, parts: list[tuple[str, str]]) -> None:
        self.parts, self.initial = parts, 0
        self.size = sum(len(fws) + len(part) for fws, part in parts)

    def newline(self) -> None:
        if self.parts and self.parts[-1] == (" ", ""):
            self.pop()
        if self.size > 0:
            line = self.joined()
            if self.initial == 0 and line.isspace() and self.lines:
                self.lines[-1] += line
            else:
                self.lines.append(line)
        self.reset([])

    def transition(self) -> None:
        self.push(" ", "")

    def ascii_split(self, text: str) -> None:
        parts = FWS.split(text)
        if parts[0]:
            parts[:0] = [""]
        else:
            parts.pop(0)
        for i in range(0, len(parts), 2):
            self.append_chunk(parts[i], parts[i + 1])

    def append_chunk(self, fws: str, part: str) -> None:
        self.push(fws, part)
        if self.size <= MAXLEN:
            return
        at = self._split_point()
        if at:
            remainder = self.parts[at:]
            del self.parts[at:]
            self.lines.append(self.joined())
            self.reset(remainder)
            return
        fws, part = self.pop()
        if self.initial > 0:  # the field's name stays on a line by itself
            self.newline()
            fws = fws or " "
        self.push(fws, part)

    def _split_point(self) -> int:
        """The last point after a splitchar, the first splitchar that has one; 0: none."""
        parts = self.parts
        for ch in SPLITCHARS:
            space = ch.isspace()
            for i in range(len(parts) - 1, 0, -1):
                if space and parts[i][0][:1] == ch:
                    return i
                before = parts[i - 1][1]
                if before and before[-1] == ch:
                    return i
        return 0

    def encoded(self, text: str) -> bool:
        """A UTF-8 chunk as encoded-words: the first continues the line, the last starts
        the line that follows, those between are lines of their own."""
        try:
            data = text.encode(UTF8)
        except UnicodeEncodeError:
            return False
        first = MAXLEN - self.size - CHROME
        then = MAXLEN - 1 - CHROME
        if _b64_length(len(data)) < sum(Q_COST[b] for b in data):
            found = _b64_words(data, first, then)
        else:
            found = _q_words(text, first, then)
        head, found = found[0], found[1:]
        if head is not None:
            self.append_chunk("", head)
        if not found:
            return True
        self.newline()
        self.push(" ", str(found[-1]))
        self.lines.extend(f" {word}" for word in found[:-1])
        return True


def _b64_length(octets: int) -> int:
    return 4 * -(-octets // 3)


def _b64_words(data: bytes, first: int, then: int) -> list[str | None]:
    """Greedy: as many characters as fit each line's budget (None: not one fits the
    first line).  `then` always holds a character (4 octets, 8 base64 digits)."""
    out: list[str | None] = []
    pos, budget = 0, first
    while True:
        end = min(len(data), pos + 3 * (budget // 4)) if budget >= 0 else pos
        while end < len(data) and data[end] & 0xC0 == 0x80:  # inside a character
            end -= 1
        if end <= pos and not out and pos < len(data):
            out.append(None)
        else:
            out.append(f"=?utf-8?b?{base64.b64encode(data[pos:end]).decode('ascii')}?=")
            pos = end
            if pos >= len(data):
                return out
        budget = then


def _q_words(text: str, first: int, then: int) -> list[str | None]:
    out: list[str | None] = []
    current: list[str] = []
    used, budget = 0, first
    for ch in text:
        cost = sum(Q_COST[b] for b in ch.encode(UTF8))
        if used + cost > budget:
            if not out and not current:
                out.append(None)
            else:
                out.append(_q_word("".join(current)))
            current, used, budget = [], 0, then
        current.append(ch)
        used += cost
    out.append(_q_word("".join(current)))
    return out


def _q_word(text: str) -> str:
    encoded = text.encode(UTF8).decode("latin-1").translate(Q_TABLE)
    return f"=?utf-8?q?{encoded}?="
