"""Bounces and delay notices: RFC 3464 reports read field by field, prose bounces from
MAILER-DAEMON/postmaster or a null sender read with the tables of bounce_words.py, and
flufl.bounce as a second opinion (library.py)."""

from __future__ import annotations

import email
import email.message
import re

from maildesk.pipeline.automail.bounce_words import (
    BOUNCE_BODIES,
    BOUNCE_SUBJECTS,
    BOUNCE_WORDS,
    DELAY_BODIES,
    DELAY_SUBJECTS,
    DIAGNOSTIC_TEXTS,
    EMBEDDED_MESSAGE_ID,
    EXPANDED,
    FAILED_RECIPIENT_TEXTS,
    STATUS_CODE,
)
from maildesk.pipeline.automail.library import failures, machine_hint
from maildesk.pipeline.automail.message import (
    ANY_ADDRESS,
    DAEMON_LOCALPART,
    DSN_TYPES,
    RETURNED_TYPES,
    Mail,
    address,
    parts,
    payload_of,
    quote,
    unique,
)
from maildesk.pipeline.automail.replies import auto_reply_subject
from maildesk.pipeline.automail.verdict import AutoMail, Kind
from maildesk.pipeline.charsets import decode_bytes, decode_header_value
from maildesk.pipeline.header_fields import content_charset

OTHER_REPORTS = (
    ("message/disposition-notification", "multipart/report disposition-notification"),
    ("message/feedback-report", "multipart/report feedback-report"),
)
FAILED_ACTIONS = ("failed",)
RFC_ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")
ACTION_ALIASES = {"failure": "failed", "error": "failed", "expired": "failed"}
DELAYED_ACTIONS = ("delayed",)


def report(mail: Mail) -> AutoMail | None:
    """RFC 3464 delivery status (and RFC 3798 / 5965 reports): read the fields."""
    ctype = mail.content_type
    carries_dsn = ctype == "multipart/report" or ctype in DSN_TYPES
    # a report nested in multipart/mixed (some gateways wrap it) counts only when the
    # sender is a machine: a person may forward a bounce's parts inline
    machine = mail.machine_origin or mail.daemon_sender
    if not carries_dsn and not (machine and _nested_dsn(mail)):
        return None
    msg = mail.message
    if msg is None:
        return None
    found_parts = list(parts(msg))
    dsn_parts = [p for p in found_parts if p.get_content_type() in DSN_TYPES]
    if dsn_parts:
        found = _from_dsn(mail, dsn_parts, found_parts)
        if found is not None:
            return found
    if ctype != "multipart/report":
        return None
    for part_type, reason in OTHER_REPORTS:
        if any(p.get_content_type() == part_type for p in found_parts):
            return AutoMail(Kind.AUTO_REPLY, reason)
    prose = text_bounce(mail) or second_opinion(mail)
    return prose or AutoMail(Kind.AUTO_REPLY, "multipart/report")


def _nested_dsn(mail: Mail) -> bool:
    """A delivery-status part below the top (parse reads its field blocks as text)."""
    if any(a.content_type in DSN_TYPES for a in mail.inbound.attachments):
        return True
    msg = mail.message
    return msg is not None and any(p.get_content_type() in DSN_TYPES for p in parts(msg))


def _from_dsn(
    mail: Mail, dsn_parts: list[email.message.Message], all_parts: list[email.message.Message]
) -> AutoMail | None:
    blocks = [b for p in dsn_parts for b in _dsn_blocks(p)]
    per_message = blocks[0] if blocks else {}
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    recipients = recipients or [b for b in blocks if "action" in b or "status" in b]
    failed = [b for b in recipients if _action(b) in FAILED_ACTIONS]
    delayed = [b for b in recipients if _action(b) in DELAYED_ACTIONS]
    chosen, kind = (failed, Kind.BOUNCE) if failed else (delayed, Kind.DELAY)
    where = "message/delivery-status"
    if mail.content_type == "multipart/report":
        where = "multipart/report delivery-status"
    if not chosen:
        actions = sorted({_action(b) for b in recipients} - {""})
        if not actions:
            return None  # unreadable report: let the text rules look
        return AutoMail(Kind.AUTO_REPLY, f"{where} ({', '.join(actions)})")
    first = chosen[0]
    status = _field(first, "status").split()[0] if _field(first, "status") else ""
    detail = status if kind is Kind.BOUNCE else f"{_action(first)} {status}".strip()
    original = _msgid(_field(per_message, "x-original-message-id"))
    message_id = _returned_message_id(all_parts) or original
    return AutoMail(
        kind=kind,
        reason=f"{where} ({detail or _action(first)})",
        failed_recipients=unique(_dsn_recipient(b) for b in chosen) or _library_recipients(mail),
        original_message_id=message_id or _embedded_message_id(mail),
        status=status,
        diagnostic=_field(first, "diagnostic-code"),
    )


def text_bounce(mail: Mail) -> AutoMail | None:
    """A bounce written as prose by MAILER-DAEMON/postmaster or a null sender."""
    origin = mail.machine_origin or mail.daemon_sender
    if mail.human_prefixed or auto_reply_subject(mail.subject) is not None:
        return None
    if not origin:
        return _returned_with_wording(mail)
    checks = (
        (Kind.BOUNCE, "subject", BOUNCE_SUBJECTS, mail.subject),
        (Kind.DELAY, "subject", DELAY_SUBJECTS, mail.subject),
        (Kind.DELAY, "body", DELAY_BODIES, mail.notification),
        (Kind.BOUNCE, "body", BOUNCE_BODIES, mail.notification),
    )
    for kind, where, patterns, text in checks:
        found = _first_search(patterns, text)
        if found:
            return _text_details(mail, kind, f"{origin} + {where} {quote(found['m'])}")
    if mail.machine_origin:  # a sure machine may use plain words
        found = BOUNCE_WORDS.search(mail.subject) or BOUNCE_WORDS.search(mail.notification)
        if found:
            return _text_details(mail, Kind.BOUNCE, f"{mail.machine_origin} + {quote(found['m'])}")
    return None


def _returned_with_wording(mail: Mail) -> AutoMail | None:
    """No machine sender, but a bounce's subject, a bounce's sentence and the returned
    message attached (InterScan and other gateways sending from a plain address)."""
    if not any(a.content_type in RETURNED_TYPES for a in mail.inbound.attachments):
        return None
    subject = _first_search(BOUNCE_SUBJECTS, mail.subject)
    body = _first_search(BOUNCE_BODIES, mail.notification) if subject else None
    if not (subject and body):
        return None
    reason = f"subject {quote(subject['m'])} + body {quote(body['m'])} + returned message"
    return _text_details(mail, Kind.BOUNCE, reason)


def _first_search(patterns: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    for pattern in patterns:
        found = pattern.search(text)
        if found:
            return found
    return None


def second_opinion(mail: Mail) -> AutoMail | None:
    """flufl.bounce's detectors, asked when the message looks like machine mail: a bounce
    only when they name the failed address (library.py)."""
    hint = machine_hint(mail)
    if not hint or mail.human_prefixed or auto_reply_subject(mail.subject) is not None:
        return None
    temporary, permanent = failures(mail)
    if permanent:
        reason = f"{hint} + flufl.bounce permanent failure"
        return _text_details(mail, Kind.BOUNCE, reason, permanent)
    if temporary:
        reason = f"{hint} + flufl.bounce temporary failure"
        return _text_details(mail, Kind.DELAY, reason, temporary)
    return None


def _library_recipients(mail: Mail) -> tuple[str, ...]:
    """flufl.bounce's failed addresses, for a bounce our tables found no address in."""
    temporary, permanent = failures(mail)
    return permanent or temporary


def _dsn_blocks(part: email.message.Message) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part: per-message first, then per-recipient."""
    payload = payload_of(part)
    if isinstance(payload, list):  # compat32 splits message/delivery-status into blocks
        blocks: list[dict[str, str]] = []
        for block in payload:
            if not isinstance(block, email.message.Message):
                continue
            blocks.append({k.lower(): _unfold(v) for k, v in reversed(block.items())})
            rest = payload_of(block)
            if isinstance(rest, str) and rest.strip():  # global-delivery-status: 1 message
                blocks += _parse_blocks(rest)
        return [b for b in blocks if b]
    data = part.get_payload(decode=True)
    text = decode_bytes(data, content_charset(part)) if isinstance(data, bytes) else ""
    return _parse_blocks(text)


FIELD_LINE = re.compile(r"^(?P<k>[A-Za-z][\w-]*)\s*:\s*(?P<v>.*)$")


def _parse_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text):
        block: dict[str, str] = {}
        key = ""
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and key:
                block[key] += line
                continue
            found = FIELD_LINE.match(line)
            if found:
                key = found["k"].lower()
                block.setdefault(key, found["v"])
        if block:
            blocks.append({k: v.strip() for k, v in block.items()})
    return blocks


def _unfold(value: object) -> str:
    return re.sub(r"\r?\n", "", str(value)).strip()


def _field(block: dict[str, str], name: str) -> str:
    return block.get(name, "").strip()


def _action(block: dict[str, str]) -> str:
    """The RFC 3464 action; a missing or home-made one (`failure`, `error`, `expired`)
    is read from the status class, else from the word."""
    action = _field(block, "action").lower().split(" ")[0]
    if action in RFC_ACTIONS:
        return action
    status = _field(block, "status")
    by_status = {"5": "failed", "4": "delayed", "2": "delivered"}.get(status[:1], "")
    return by_status or ACTION_ALIASES.get(action, action)


def _dsn_recipient(block: dict[str, str]) -> str:
    for name in ("original-recipient", "final-recipient"):
        found = address(_field(block, name).split(";", 1)[-1])
        if found:
            return found
    return ""


def _msgid(value: str) -> str:
    found = re.search(r"<([^<>\s]+)>", value)
    return (found.group(1) if found else value.strip().strip("<>"))[:900]


def _returned_message_id(all_parts: list[email.message.Message]) -> str:
    for part in all_parts:
        ctype = part.get_content_type()
        if ctype not in RETURNED_TYPES:
            continue
        payload = payload_of(part)
        if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
            value = payload[0].get("message-id")
            if value:
                return _msgid(decode_header_value(value))
            body = payload_of(payload[0])
            text = body if isinstance(body, str) else ""  # message/global-headers
        else:
            data = part.get_payload(decode=True)
            text = decode_bytes(data, content_charset(part)) if isinstance(data, bytes) else ""
        found = EMBEDDED_MESSAGE_ID.search(text[:20000])
        if found:
            return found["id"]
    return ""


def _embedded_message_id(mail: Mail) -> str:
    found = EMBEDDED_MESSAGE_ID.search(mail.inbound.text[:20000])
    return found["id"] if found else mail.inbound.in_reply_to


def _text_details(
    mail: Mail, kind: Kind, reason: str, recipients: tuple[str, ...] = ()
) -> AutoMail:
    recipients = recipients or _text_recipients(mail) or _library_recipients(mail)
    status_found = STATUS_CODE.search(mail.notification)
    diagnostic = ""
    for pattern in DIAGNOSTIC_TEXTS:
        found = pattern.search(mail.notification)
        if found:
            diagnostic = found["d"].strip()[:500]
            break
    message_id = ""
    if mail.content_type.startswith("multipart/") and mail.message is not None:
        message_id = _returned_message_id(list(parts(mail.message)))
    return AutoMail(
        kind=kind,
        reason=reason,
        failed_recipients=recipients,
        original_message_id=message_id or _embedded_message_id(mail),
        status=status_found["s"] if status_found else "",
        diagnostic=diagnostic,
    )


def _text_recipients(mail: Mail) -> tuple[str, ...]:
    listed = mail.header("x-failed-recipients")
    if listed:
        found = unique(m["a"].lower() for m in ANY_ADDRESS.finditer(listed))
        if found:
            return found
    for text in (mail.notification, mail.text):  # the notification first, then all of it
        for pattern in FAILED_RECIPIENT_TEXTS:
            found = unique(m["a"].lower() for m in pattern.finditer(text))
            if found:  # an alias names the address we wrote to: "(expanded from: x@y)"
                return unique((*found, *(m["a"].lower() for m in EXPANDED.finditer(text))))
    # last resort: the addresses the notification names, less the people and daemons
    # around the bounce itself
    exclude = {a.email for a in (mail.inbound.sender, *mail.inbound.to, *mail.inbound.cc)}
    candidates = (m["a"].lower() for m in ANY_ADDRESS.finditer(mail.notification))
    return unique(
        a for a in candidates
        if a not in exclude and not DAEMON_LOCALPART.match(a.split("@", 1)[0])
    )  # fmt: skip
