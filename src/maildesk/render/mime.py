"""Rendered parts → RFC 5322 bytes: headers folded and encoded, MIME assembled.

Every header value is made one line of printable characters before it is encoded,
so a subject or a name can never add a header; non-ASCII text becomes RFC 2047
encoded-words of at most 75 characters, folded at 76 (so no encoded-word exceeds 75).
No header line exceeds 998 octets (RFC 5322 2.1.1): a value whose folding would write
one (a word of ASCII too long for a line, a Cc name as one long encoded-word) is
encoded as non-ASCII text is, in encoded-words that can be split, and a message-id too
long for a line is left out of References / In-Reply-To.  The body is
multipart/alternative (text, HTML) — inside multipart/related when inline images
are carried by Content-ID.
"""

from __future__ import annotations

import binascii
import email.encoders
import email.policy
import email.utils
import random
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any
from zoneinfo import ZoneInfo

from maildesk.pipeline.loops import LOOP_HEADER
from maildesk.render.fold import ASCII, UTF8, Words, fold, words

CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
LINE_LIMIT = 998  # octets in a header line, CRLF not counted (RFC 5322 2.1.1)


class Wire(email.policy.Compat32):
    """compat32 folding, CRLF: a str value is folded by `fold.fold` (the same bytes,
    without the Header machinery); a Header by the email package."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if isinstance(value, str):
            return fold(name, value)
        folded: bytes = super().fold_binary(name, value)
        return folded


WIRE = Wire(linesep="\r\n", max_line_length=76)


@dataclass(frozen=True)
class InlineImage:
    cid: str  # referred to as cid:<cid> from the HTML part
    content_type: str  # image/png, …
    data: bytes


@dataclass(frozen=True)
class Envelope:
    """The headers of one mail."""

    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    message_id: str
    date: datetime
    timezone: str
    loop_domain: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    cc: tuple[tuple[str, str], ...] = ()  # (name, address)
    auto_submitted: str = ""  # RFC 3834; "" for words a person wrote
    reply_to: bool = False  # Reply-To: the From address (notifications)


def assemble(
    envelope: Envelope, text: str, html: str, inline: tuple[InlineImage, ...] = ()
) -> bytes:
    token = random.randrange(sys.maxsize - 1)
    if not inline:
        return _alternative(envelope, text, html, boundary(token))
    body = MIMEMultipart("alternative", boundary=boundary(token))
    body.attach(MIMEText(text, "plain", "utf-8"))
    body.attach(MIMEText(html, "html", "utf-8"))
    msg = _related(body, inline, boundary(token + 1))
    for name, value in headers(envelope):
        msg[name] = value
    return msg.as_bytes(policy=WIRE)


def _alternative(envelope: Envelope, text: str, html: str, mark: str) -> bytes:
    """multipart/alternative (text, HTML), written directly: the bytes the email
    package writes for that tree (its header folding, its base64), without building
    the tree and walking it again (tests/test_render_parts.py compares the two)."""
    head = b"".join((_content_type(mark), b"MIME-Version: 1.0\r\n",
                     *(fold(name, value) for name, value in fields(envelope))))  # fmt: skip
    delimiter = f"\r\n--{mark}\r\n".encode("ascii")
    return b"".join((
        head, b"\r\n", delimiter[2:], _base64_part("plain", text), delimiter,
        _base64_part("html", html), f"\r\n--{mark}--\r\n".encode("ascii"),
    ))  # fmt: skip


def _base64_part(subtype: str, content: str) -> bytes:
    head = (f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n")  # fmt: skip
    return head.encode("ascii") + base64_lines(content.encode("utf-8"))


def base64_lines(data: bytes) -> bytes:
    """`email.base64mime.body_encode` with CRLF (lines of 76 digits, each ended): one
    binascii call, the lines cut by C-level slicing instead of one call per line."""
    encoded = binascii.b2a_base64(data, newline=False)
    size = len(encoded)
    if not size:
        return b""
    cuts = map(slice, range(0, size, 76), range(76, size + 76, 76))
    return b"\r\n".join(map(encoded.__getitem__, cuts)) + b"\r\n"


def boundary(token: int) -> str:
    """A multipart boundary as the email generator makes them, chosen here so the
    generator does not scan every part for it (a regex compiled per mail).  It cannot
    occur in a part: every part made here is base64, whose lines never hold "-"
    (tests/test_render_parts.py); the two boundaries of one message differ.  Random
    per message, like the generator's own."""
    return f"{'=' * 15}{token:019d}=="


def _content_type(mark: str) -> bytes:
    """The multipart/alternative field, folded: every boundary has the same length and
    no split character, so it folds as the one folded once here."""
    return CONTENT_TYPE[0] + mark.encode("ascii") + CONTENT_TYPE[1]


_SAMPLE = boundary(0)
_head, _tail = fold("Content-Type", f'multipart/alternative; boundary="{_SAMPLE}"').split(
    _SAMPLE.encode("ascii")
)
CONTENT_TYPE = (_head, _tail)


def _related(body: MIMEMultipart, inline: tuple[InlineImage, ...], mark: str) -> MIMEMultipart:
    related = MIMEMultipart("related", boundary=mark)
    related.attach(body)
    for image in inline:
        maintype, _, subtype = image.content_type.partition("/")
        part = MIMEBase(maintype, subtype or "octet-stream")
        part.set_payload(image.data)
        email.encoders.encode_base64(part)
        part["Content-ID"] = f"<{_one_line(image.cid)}>"
        part["Content-Disposition"] = "inline"
        related.attach(part)
    return related


def headers(env: Envelope) -> list[tuple[str, Any]]:
    """The fields as the email package takes them (str or Header)."""
    return [(name, v.header(name) if isinstance(v, Words) else v) for name, v in fields(env)]


def fields(env: Envelope) -> list[tuple[str, str | Words]]:
    """Every value is one line of printable text: mail content cannot add a header."""
    local = env.date.astimezone(ZoneInfo(env.timezone))
    out: list[tuple[str, str | Words]] = [
        ("From", address(env.from_name, env.from_address)),
        ("To", address(env.to_name, env.to_address)),
        *([("Cc", _address_list(env.cc))] if env.cc else []),
        ("Subject", subject(env.subject)),
        ("Date", email.utils.format_datetime(local)),
        ("Message-ID", f"<{env.message_id}>"),
    ]
    in_reply_to = msgid(env.in_reply_to) if env.in_reply_to else ""
    if in_reply_to and fits("In-Reply-To", in_reply_to):
        out.append(("In-Reply-To", in_reply_to))
    references = [r for r in map(msgid, env.references) if fits("References", r)]
    if references:  # RFC 5322 3.6.4 lets References be shortened: long ids are left out
        out.append(("References", words((" ".join(references), ASCII))))
    if env.reply_to:
        out.append(("Reply-To", address(env.from_name, env.from_address)))
    if env.auto_submitted:
        out.append(("Auto-Submitted", env.auto_submitted))
    out += [("X-Auto-Response-Suppress", "All"), (LOOP_HEADER, env.loop_domain)]
    return out


def fits(name: str, value: str | Words) -> bool:
    """Whether the field folds into lines of at most 998 octets.  Folding splits encoded
    words and breaks at white space, so a line that long holds one long word: a value
    shorter than the limit, name included, always fits (and is not folded to know)."""
    if isinstance(value, str):
        size = len(value) if value.isascii() else LINE_LIMIT
    else:
        size = sum(len(text) + 1 for text, _ in value.chunks)
    if len(name) + 2 + size <= LINE_LIMIT:
        return True
    return max(map(len, fold(name, value).split(b"\r\n"))) <= LINE_LIMIT


def subject(text: str) -> Words:
    """`[IT-…] ` stays readable ASCII; the rest is encoded only when it needs to be: when
    it is not ASCII, or holds a word too long for a line (then the prefix too, if the
    word is in it)."""
    prefix, sep, rest = _one_line(text).partition("] ")
    if not sep:
        prefix, rest = "", prefix
    head = (prefix + sep.rstrip(), ASCII)
    value = words(head, (rest, ASCII), named=True) if rest else words(head, named=True)
    if fits("Subject", value):
        return value
    ascii_head = words(head, named=True)
    if rest and fits("Subject", ascii_head):
        return words(head, (rest, UTF8), named=True)
    return words((head[0], UTF8), *([(rest, UTF8)] if rest else []), named=True)


def address(name: str, addr: str) -> str | Words:
    """`name <addr>`; a non-ASCII name, or one with a word too long for a line, becomes
    encoded-words that fold like any other."""
    name, addr = _one_line(name), _one_line(addr)
    if name.isascii():
        plain = email.utils.formataddr((name, addr))
        if fits("Reply-To", plain):  # the longest of the names it is written under
            return plain
    return words((name, UTF8), (f"<{addr}>", ASCII))


def _address_list(people: tuple[tuple[str, str], ...]) -> str | Words:
    """Several addresses; folded between them when written.  formataddr makes a
    non-ASCII name one encoded-word however long: when that (or an ASCII name's word)
    makes a line over 998 octets, each such name is written as `address` writes it."""
    people = tuple((_one_line(name), _one_line(addr)) for name, addr in people)
    plain = ", ".join(email.utils.formataddr(person, charset="utf-8") for person in people)
    if fits("Cc", plain):
        return plain
    chunks: list[tuple[str, str]] = []
    for i, (name, addr) in enumerate(people):
        comma = "," if i < len(people) - 1 else ""
        one = email.utils.formataddr((name, addr))
        if name.isascii() and fits("Cc", one):
            chunks.append((one + comma, ASCII))
        else:
            chunks += [(name, UTF8), (f"<{addr}>{comma}", ASCII)]
    return words(*chunks)


def msgid(value: str) -> str:
    return "<" + _one_line(value).translate(_NOT_IN_MSGID) + ">"


_NOT_IN_MSGID = str.maketrans("", "", "<> ")


def _one_line(value: str) -> str:
    return " ".join(CONTROL.sub(" ", value).split())
