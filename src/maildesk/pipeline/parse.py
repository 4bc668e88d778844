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
import email.utils

import mailparser

from maildesk.domain import Address, AttachmentInfo, Inbound
from maildesk.pipeline.charsets import decode_bytes, decode_header_value
from maildesk.pipeline.flowed import unflow
from maildesk.pipeline.header_fields import MSGID as MSGID  # service.py reads it here
from maildesk.pipeline.header_fields import RAW_HEADERS as RAW_HEADERS  # so do others
from maildesk.pipeline.header_fields import (
    RawHeaders,
    address_list,
    content_charset,
    date_of,
    fields_by_name,
    first,
    first_id,
    has_filename,
    header_str,
    ids,
    return_path,
    sender_of,
)
from maildesk.pipeline.html_text import html_to_text
from maildesk.pipeline.mime_caps import DEPTH, HTML_CHARS, PARTS, TEXT_CHARS, cut, over_cap

KEPT_HEADERS = (
    "auto-submitted", "precedence", "x-autoreply", "x-autorespond", "x-auto-response-suppress",
    "list-id", "list-unsubscribe", "x-maildesk-loop", "x-loop", "content-type", "return-path",
    "delivered-to", "authentication-results",
)  # fmt: skip
MAX_DEPTH = DEPTH.limit


class ParseError(Exception):
    """The message cannot become a ticket; the text says why (quarantine reason)."""


class _VerbatimHeaders(RawHeaders):
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
    fields = fields_by_name(msg)
    declared = _declared_charsets(msg)
    hint = _hint(declared)
    sender = sender_of(fields, hint)
    texts, htmls, attachments = _walk(msg, 0, declared)
    defects = _defects(msg)
    if defects and msg.is_multipart():
        attachments = _recover_attachments(msg, attachments)
    text = "\n\n".join(t for t in texts if t.strip()) or "\n\n".join(map(_html_text, htmls))
    return Inbound(
        message_id=first_id(ids(fields, "message-id")),
        sender=sender,
        return_path=return_path(fields),
        to=address_list(fields.get("to", []), hint),
        cc=address_list(fields.get("cc", []), hint),
        subject=decode_header_value(first(fields, "subject"), hint),
        date=date_of(first(fields, "date")),
        in_reply_to=first_id(ids(fields, "in-reply-to")),
        references=tuple(r[:900] for r in MSGID.findall(ids(fields, "references"))),
        text=cut(_clean_text(text), TEXT_CHARS),
        attachments=tuple(attachments),
        headers={h: decode_header_value(fields[h][0], hint) for h in KEPT_HEADERS if h in fields},
        defects=tuple(defects),
    )


def _declared_charsets(msg: email.message.Message) -> dict[int, str | None]:
    """Each part's declared charset (content_charset) by id(part), in the order of
    msg.walk(), within the part cap: read once, for the hint and for decoding the part."""
    declared: dict[int, str | None] = {}
    for count, part in enumerate(msg.walk()):
        declared[id(part)] = content_charset(part)
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
    return address_list(msg.get_all(name, []), hint)


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
    if part.get_content_disposition() == "attachment" or has_filename(part):
        return True
    return ctype.split("/")[0] != "text"


def _attachment(part: email.message.Message, ctype: str) -> AttachmentInfo:
    name = _filename(part) or ("forwarded.eml" if ctype == "message/rfc822" else "attachment")
    if ctype == "message/rfc822" or part.is_multipart():
        data = _as_bytes(part)
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
    cid = header_str(part.get("Content-ID")).strip().strip("<>")
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
    charset = declared[id(part)] if id(part) in declared else content_charset(part)
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
