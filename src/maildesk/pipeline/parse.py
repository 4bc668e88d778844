"""Raw RFC 5322 bytes → Inbound.  Pure: no IO.

The standard library's compat32 parser does the MIME split (it is the fastest
and the most forgiving); text is decoded through our charset fallback chain so
GBK labelled as gb2312, 8-bit headers and Big5 survive.  When the MIME tree is
broken (defects), mail-parser's recovery finds attachments hidden in epilogues.
"""

from __future__ import annotations

import base64
import email
import email.message
import email.parser
import email.utils
import re
from datetime import datetime
from email.policy import Compat32

import mailparser

from maildesk.domain import Address, AttachmentInfo, Inbound
from maildesk.pipeline.charsets import decode_bytes, decode_header_value, unfold
from maildesk.pipeline.flowed import unflow
from maildesk.pipeline.html_text import html_to_text
from maildesk.pipeline.mime_caps import DEPTH, HTML_CHARS, PARTS, TEXT_CHARS, cut, over_cap

KEPT_HEADERS = (
    "auto-submitted", "precedence", "x-autoreply", "x-autorespond", "x-auto-response-suppress",
    "list-id", "list-unsubscribe", "x-maildesk-loop", "x-loop", "content-type", "return-path",
    "delivered-to", "authentication-results",
)  # fmt: skip
MAX_DEPTH = DEPTH.limit
NAME_WINDOW = 300  # how far after the previous address a display name is looked for
MSGID = re.compile(r"<([^<>\s]+)>")
SURROGATE = re.compile("[\ud800-\udfff]")


class ParseError(Exception):
    """The message cannot become a ticket; the text says why (quarantine reason)."""


class _RawHeaders(Compat32):
    """compat32, but header values come back as written (8-bit bytes as surrogate
    escapes) instead of Header objects whose str() already replaced them with U+FFFD."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


RAW_HEADERS = _RawHeaders()


class _VerbatimHeaders(_RawHeaders):
    """For writing a forwarded message back out: each header as it was read, not
    re-folded (compat32's folding was most of the time spent on nested enclosures)
    and not re-encoded (raw 8-bit bytes stay the bytes they were)."""

    def fold_binary(self, name: str, value: str) -> bytes:
        text = f"{name}: {value}"
        try:
            data = text.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            data = text.encode("utf-8", "surrogateescape")
        return data + self.linesep.encode("ascii")


VERBATIM_HEADERS = _VerbatimHeaders(linesep="\r\n")


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


def parse(raw: bytes) -> Inbound:
    if not raw.strip():
        raise ParseError("empty message")
    too_much = over_cap(raw)
    if too_much:
        raise ParseError(too_much)
    try:
        msg = email.message_from_bytes(raw, policy=RAW_HEADERS)
    except RecursionError as exc:
        raise ParseError(f"{DEPTH.beyond()} (too deep to parse)") from exc
    if not msg.keys():
        raise ParseError("no headers: this is not an email message")
    if _deepest(msg) > MAX_DEPTH:
        raise ParseError(DEPTH.beyond())
    fields = _fields(msg)
    declared = _declared_charsets(msg)
    hint = _hint(declared)
    sender = _sender(fields, hint)
    texts, htmls, attachments = _walk(msg, 0, declared)
    defects = _defects(msg)
    if defects and msg.is_multipart():
        attachments = _recover_attachments(msg, attachments)
    text = "\n\n".join(t for t in texts if t.strip()) or "\n\n".join(map(_html_text, htmls))
    return Inbound(
        message_id=_first_id(_ids(fields, "message-id")),
        sender=sender,
        return_path=_return_path(fields),
        to=_address_list(fields.get("to", []), hint),
        cc=_address_list(fields.get("cc", []), hint),
        subject=decode_header_value(_first(fields, "subject"), hint),
        date=_date(_first(fields, "date")),
        in_reply_to=_first_id(_ids(fields, "in-reply-to")),
        references=tuple(r[:900] for r in MSGID.findall(_ids(fields, "references"))),
        text=cut(_clean_text(text), TEXT_CHARS),
        attachments=tuple(attachments),
        headers={h: decode_header_value(fields[h][0], hint) for h in KEPT_HEADERS if h in fields},
        defects=tuple(defects),
    )


def _fields(msg: email.message.Message) -> dict[str, list[str]]:
    """The top-level header fields by lower-cased name, each name's values in order, in
    one pass (Message.get and `in` go through every field, lower-casing each name)."""
    fields: dict[str, list[str]] = {}
    for name, value in msg.items():
        fields.setdefault(name.lower(), []).append(value)
    return fields


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    """The first field called `name` (lower case), as Message.get gives it."""
    values = fields.get(name)
    return values[0] if values else None


def _header_str(value: object) -> str:
    return "" if value is None else str(value)


def _ids(fields: dict[str, list[str]], name: str) -> str:
    """A Message-ID header's text; some generators (Python's email package among them)
    wrap a long id in RFC 2047 encoded words, so those are decoded first."""
    value = _header_str(_first(fields, name))
    return _no_surrogates(decode_header_value(value) if "=?" in value else value)


def _no_surrogates(text: str) -> str:
    """Raw 8-bit bytes in an id (surrogate escapes) read as UTF-8, else as `\\xe9`:
    the same bytes always give the same id, different bytes different ids, and
    nothing downstream meets a lone surrogate."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return SURROGATE.sub("\ufffd", text)


def _first_id(value: object) -> str:
    """The first <id> in a header, at most 900 characters (the database keeps 1,000)."""
    text = _header_str(value)
    found = MSGID.search(text)
    return (found.group(1) if found else text.strip().strip("<>"))[:900]


def _declared_charsets(msg: email.message.Message) -> dict[int, str | None]:
    """Each part's declared charset (get_content_charset) by id(part), in the order of
    msg.walk(), within the part cap: read once, for the hint and for decoding the part."""
    declared: dict[int, str | None] = {}
    for count, part in enumerate(msg.walk()):
        declared[id(part)] = part.get_content_charset()
        if count >= PARTS.limit:
            break
    return declared


def _hint(declared: dict[int, str | None]) -> str | None:
    """Every charset the message declares (Content-Type of each part, in order, at most
    one per part within the part cap), comma-separated: the candidates for raw 8-bit
    headers, each taken only if it reads as plausible text (charsets.decode_header_value)."""
    found = dict.fromkeys(c for c in declared.values() if c and "," not in c)
    return ",".join(found) or None


def _charset_hint(msg: email.message.Message) -> str | None:
    """The hint of a parsed message (benchmarks/header_mojibake.py decodes as parse does)."""
    return _hint(_declared_charsets(msg))


def _addresses(msg: email.message.Message, name: str, hint: str | None) -> tuple[Address, ...]:
    """The addresses of a parsed message's `name` fields (benchmarks/header_mojibake.py)."""
    return _address_list(msg.get_all(name, []), hint)


def _address_list(fields: list[str], hint: str | None) -> tuple[Address, ...]:
    """The addresses of the fields of one name (To, Cc…), as written in them."""
    values = [decode_header_value(v, hint) if "=?" not in str(v) else unfold(_header_str(v))
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


def _sender(fields: dict[str, list[str]], hint: str | None) -> Address:
    """The first address of From, Sender or Reply-To.  Without one (a delivery report
    from `<>` or a bare `MAILER-DAEMON`, or no From at all) an Address with no email
    whose name is what From said: the automatic-mail rules read reports from it, and
    what is no report is quarantined (Inbound.sender_missing)."""
    for header in ("from", "sender", "reply-to"):
        found = _address_list(fields.get(header, []), hint)
        if found:
            return found[0]
    said = decode_header_value(_first(fields, "from"), hint) if "from" in fields else ""
    return Address(" ".join(said.split())[:200], "")


def _return_path(fields: dict[str, list[str]]) -> str | None:
    if "return-path" not in fields:
        return None
    value = _header_str(_first(fields, "return-path")).strip()
    return value.strip("<>").strip().lower()


def _date(value: object) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(_header_str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _deepest(msg: email.message.Message) -> int:
    """How deep the parsed tree goes, enclosed messages (message/rfc822) included,
    counted without recursion and only up to one past the cap (the raw-byte check saw
    only multipart boundaries; flattening an enclosed message recurses per level)."""
    deepest = 0
    stack = [(msg, 0)]
    while stack and deepest <= MAX_DEPTH:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        children = part.get_payload() if part.is_multipart() else None
        if isinstance(children, list):
            stack += [(c, depth + 1) for c in children if isinstance(c, email.message.Message)]
    return deepest


def _walk(
    part: email.message.Message, depth: int, declared: dict[int, str | None]
) -> tuple[list[str], list[str], list[AttachmentInfo]]:
    """Collect inline text, inline HTML and attachments; message/rfc822 is an attachment.
    `declared`: the parts' charsets as _declared_charsets read them."""
    if depth > MAX_DEPTH:
        raise ParseError(DEPTH.beyond())
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[AttachmentInfo] = []
    ctype = part.get_content_type()
    if part.is_multipart() and ctype != "message/rfc822":
        children = part.get_payload()
        if ctype == "multipart/alternative":
            children = _preferred_alternative(children)
        for child in children if isinstance(children, list) else []:
            if not isinstance(child, email.message.Message):
                continue
            t, h, a = _walk(child, depth + 1, declared)
            texts += t
            htmls += h
            attachments += a
    elif _is_attachment(part, ctype):
        attachments.append(_attachment(part, ctype))
    elif ctype == "text/html":
        htmls.append(_part_text(part, ctype, declared))
    else:
        texts.append(_part_text(part, ctype, declared))
    return texts, htmls, attachments


def _preferred_alternative(children: object) -> list[email.message.Message]:
    """Keep the plain part when there is one, else everything (HTML becomes text)."""
    if not isinstance(children, list):
        return []
    plain = [c for c in children if c.get_content_type() == "text/plain"]
    return plain[:1] if plain else children


def _is_attachment(part: email.message.Message, ctype: str) -> bool:
    """`ctype` is the part's get_content_type() (read once per part)."""
    if ctype == "message/rfc822":
        return True
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return True
    return ctype.split("/")[0] != "text"


def _attachment(part: email.message.Message, ctype: str) -> AttachmentInfo:
    name = _filename(part) or ("forwarded.eml" if ctype == "message/rfc822" else "attachment")
    if ctype == "message/rfc822" or part.is_multipart():
        data = _as_bytes(part)
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
    cid = _header_str(part.get("Content-ID")).strip().strip("<>")
    return AttachmentInfo(name, ctype, len(data), data=data, content_id=cid)


def _as_bytes(part: email.message.Message) -> bytes:
    """A forwarded message as its bytes (nested one level down in message/rfc822)."""
    inner = part.get_payload()
    target = inner[0] if isinstance(inner, list) and inner else part
    try:
        if not isinstance(target, email.message.Message):
            return b""
        return target.as_bytes(policy=VERBATIM_HEADERS)
    except (UnicodeEncodeError, LookupError, ValueError):
        return str(target).encode("utf-8", "surrogateescape")


def _filename(part: email.message.Message) -> str:
    """RFC 2231 (charset-tagged, decoded through our chain) or RFC 2047 or raw 8-bit."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = part.get_param(param, header=header)
        if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded text)
            charset, _lang, text = value
            return decode_bytes(text.encode("latin-1", "surrogateescape"), charset or "utf-8")
        if value:
            return decode_header_value(email.utils.collapse_rfc2231_value(value))
    return ""


def _html_text(html: str) -> str:
    """HTML as text; HTML over its cap is cut first (html.parser is pure Python)."""
    if len(html) <= HTML_CHARS.limit:
        return html_to_text(html)
    return html_to_text(html[: HTML_CHARS.limit]) + "\n\n" + HTML_CHARS.note(len(html))


def _part_text(part: email.message.Message, ctype: str, declared: dict[int, str | None]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = declared[id(part)] if id(part) in declared else part.get_content_charset()
    text = decode_bytes(payload, charset)
    if ctype == "text/plain" and _param(part, "format") == "flowed":
        flowed = text[: TEXT_CHARS.limit * 2]  # joined lines are cut to the cap afterwards
        return unflow(flowed, delsp=_param(part, "delsp") == "yes")
    return text


def _param(part: email.message.Message, name: str) -> str:
    value = part.get_param(name)
    return value.strip().lower() if isinstance(value, str) else ""


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return text.strip("\n")


def _defects(msg: email.message.Message) -> list[str]:
    found = []
    for part in msg.walk():
        found += [type(d).__name__ for d in getattr(part, "defects", [])]
    return found


def _recover_attachments(
    msg: email.message.Message, ours: list[AttachmentInfo]
) -> list[AttachmentInfo]:
    """Broken MIME: ask mail-parser, which also looks into epilogues and stray parts."""
    try:
        recovered = mailparser.MailParser(msg).attachments
    except Exception:  # recovery is best effort; the raw message is journaled anyway
        return ours
    if len(recovered) <= len(ours):
        return ours
    return [_from_mailparser(a) for a in recovered]


def _from_mailparser(item: dict[str, object]) -> AttachmentInfo:
    payload = str(item.get("payload") or "")
    try:
        data = base64.b64decode(payload) if item.get("binary") else payload.encode()
    except ValueError:
        data = payload.encode("utf-8", "surrogateescape")
    return AttachmentInfo(
        filename=str(item.get("filename") or "attachment"),
        content_type=str(item.get("mail_content_type") or "application/octet-stream"),
        size=len(data),
        data=data,
        content_id=str(item.get("content-id") or "").strip("<>"),
    )
