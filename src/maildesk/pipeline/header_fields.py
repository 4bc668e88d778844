"""The top-level header fields of a parsed message as Inbound holds them: addresses with
their display names as written, ids, the date; and the header block alone
(top_headers) for automail's look at the fields Inbound does not keep.  Pure: no IO.

Values are read as written (compat32 with RawHeaders: raw 8-bit bytes as surrogate
escapes) and decoded through charsets.decode_header_value with the message's declared
charsets as the hint.
"""

from __future__ import annotations

import email.message
import email.parser
import email.utils
import re
from datetime import datetime
from email.policy import Compat32

from maildesk.domain import Address
from maildesk.pipeline.charsets import decode_header_value, unfold

NAME_WINDOW = 300  # how far after the previous address a display name is looked for
MSGID = re.compile(r"<([^<>\s]+)>")
SURROGATE = re.compile("[\ud800-\udfff]")


class RawHeaders(Compat32):
    """compat32, but header values come back as written (8-bit bytes as surrogate
    escapes) instead of Header objects whose str() already replaced them with U+FFFD."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_HEADERS = RawHeaders()


def top_headers(raw: bytes) -> list[tuple[str, str]]:
    """The top-level header fields as parse() reads them (name and value as written), from
    the header block alone: the body is never split into lines.  The block is cut just
    after the first line break that an empty line follows; the parser ends the headers
    at their first empty (or non-header) line, which is there or before."""
    crlf = raw.find(b"\n\r\n")
    lf = raw.find(b"\n\n", 0, crlf + 1 if crlf >= 0 else len(raw))
    end = lf if lf >= 0 else crlf
    block = raw[: end + 1] if end >= 0 else raw
    msg = email.parser.BytesHeaderParser(policy=RAW_HEADERS).parsebytes(block)
    return [(name, str(value)) for name, value in msg.items()]


def fields_by_name(msg: email.message.Message) -> dict[str, list[str]]:
    """The top-level header fields by lower-cased name, each name's values in order, in
    one pass (Message.get and `in` go through every field, lower-casing each name)."""
    fields: dict[str, list[str]] = {}
    for name, value in msg.items():
        fields.setdefault(name.lower(), []).append(value)
    return fields


def first(fields: dict[str, list[str]], name: str) -> str | None:
    """The first field called `name` (lower case), as Message.get gives it."""
    values = fields.get(name)
    return values[0] if values else None


def content_charset(part: email.message.Message) -> str | None:
    """The part's declared charset as get_content_charset gives it; that raises on an
    RFC 2231 `charset*=LABEL''…` whose own LABEL is junk (a NUL: ValueError), and the
    value is then taken as written (charsets.normalize judges it)."""
    try:
        return part.get_content_charset()
    except (LookupError, ValueError):
        value = part.get_param("charset")
        text = value[2] if isinstance(value, tuple) else value
        return str(text).lower() if text else None


def has_filename(part: email.message.Message) -> bool:
    """Whether the part names a file (Content-Disposition filename, Content-Type name).
    get_filename decodes an RFC 2231 name in its declared charset and raises when that
    label is junk (a NUL: ValueError, `undefined`: UnicodeError): the name is there."""
    try:
        return bool(part.get_filename())
    except (LookupError, ValueError):
        return True


def header_str(value: object) -> str:
    return "" if value is None else str(value)


def ids(fields: dict[str, list[str]], name: str) -> str:
    """A Message-ID header's text; some generators (Python's email package among them)
    wrap a long id in RFC 2047 encoded words, so those are decoded first."""
    value = header_str(first(fields, name))
    return _no_surrogates(decode_header_value(value) if "=?" in value else value)


def _no_surrogates(text: str) -> str:
    """Raw 8-bit bytes in an id (surrogate escapes) read as UTF-8, else as `\\xe9`:
    the same bytes always give the same id, different bytes different ids, and
    nothing downstream meets a lone surrogate."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return SURROGATE.sub("\ufffd", text)


def first_id(value: object) -> str:
    """The first <id> in a header, at most 900 characters (the database keeps 1,000)."""
    text = header_str(value)
    found = MSGID.search(text)
    return (found.group(1) if found else text.strip().strip("<>"))[:900]


def address_list(fields: list[str], hint: str | None) -> tuple[Address, ...]:
    """The addresses of the fields of one name (To, Cc…), as written in them."""
    values = [decode_header_value(v, hint) if "=?" not in str(v) else unfold(header_str(v))
              for v in fields]  # fmt: skip
    pairs = email.utils.getaddresses(values)
    names = _as_written(pairs, "\n".join(values))
    return tuple(
        Address(decode_header_value(n, hint), decode_header_value(a, hint).lower())
        for n, (_, a) in zip(names, pairs, strict=True)
        if "@" in a
    )


def _as_written(pairs: list[tuple[str, str]], header: str) -> list[str]:
    """Display names with the white space they were written with: getaddresses joins
    the words of an unquoted name with one space (`Zhang  Wei <…>` → `Zhang Wei`).
    Each name is looked for just after the address before it (bounded work)."""
    written, position = [], 0
    for name, address in pairs:
        collapsed = " " in name and "  " not in name  # a quoted name kept its spaces
        span = _spaced(header, name.split(), position) if collapsed else None
        written.append(header[span[0] : span[1]] if span else name)
        position = span[1] if span else position
        found = header.find(address, position, position + NAME_WINDOW) if address else -1
        position = found + len(address) if found >= 0 else position
    return written


def _spaced(header: str, words: list[str], position: int) -> tuple[int, int] | None:
    """Where `words` occur in `header` soon after `position`, separated by runs of
    spaces and tabs (no regex: one compile per name cost more than the parse)."""
    limit = position + NAME_WINDOW + len(words[0])
    start = header.find(words[0], position, limit)
    while start >= 0:
        end = start + len(words[0])
        for word in words[1:]:
            gap = end
            while gap < len(header) and header[gap] in " \t":
                gap += 1
            if gap == end or not header.startswith(word, gap):
                break
            end = gap + len(word)
        else:
            return start, end
        start = header.find(words[0], start + 1, limit)
    return None


def sender_of(fields: dict[str, list[str]], hint: str | None) -> Address:
    """The first address of From, Sender or Reply-To.  Without one (a delivery report
    from `<>` or a bare `MAILER-DAEMON`, or no From at all) an Address with no email
    whose name is what From said: the automatic-mail rules read reports from it, and
    what is no report is quarantined (Inbound.sender_missing)."""
    for header in ("from", "sender", "reply-to"):
        found = address_list(fields.get(header, []), hint)
        if found:
            return found[0]
    said = decode_header_value(first(fields, "from"), hint) if "from" in fields else ""
    return Address(" ".join(said.split())[:200], "")


def return_path(fields: dict[str, list[str]]) -> str | None:
    if "return-path" not in fields:
        return None
    value = header_str(first(fields, "return-path")).strip()
    return value.strip("<>").strip().lower()


def date_of(value: object) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(header_str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None
