"""Bounces and delay notices: RFC 3464 reports read field by field, prose bounces from
MAILER-DAEMON/postmaster or a null sender read with the tables below."""

from __future__ import annotations

import email
import email.message
import re

from maildesk.pipeline.automail.library import failures, machine_hint
from maildesk.pipeline.automail.message import (
    _ADDR,
    ANY_ADDRESS,
    DAEMON_LOCALPART,
    DSN_TYPES,
    RETURNED_TYPES,
    Mail,
    address,
    parts,
    quote,
    unique,
)
from maildesk.pipeline.automail.replies import auto_reply_subject
from maildesk.pipeline.automail.verdict import AutoMail, Kind
from maildesk.pipeline.charsets import decode_bytes, decode_header_value

# Bounce wording.  Subjects are matched at the start (after no human prefix); bodies by
# the sentences MTAs write, so a person mentioning 退信 in passing is not a bounce.
BOUNCE_SUBJECTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"^\s*(?P<m>undelivered\s+mail\s+returned\s+to\s+sender)",
    r"^\s*(?P<m>delivery\s+status\s+notification\s*\(\s*failure\s*\))",
    r"^\s*(?P<m>mail\s+delivery\s+failed)",
    r"^\s*(?P<m>undeliverable)\b",
    r"^\s*(?P<m>undelivered\s+mail)\b",
    r"^\s*(?P<m>returned\s+mail)\s*:",
    r"^\s*(?P<m>failure\s+notice)\b",
    r"^\s*(?P<m>delivery\s+(?:failure|failed|has\s+failed))\b",
    r"^\s*(?P<m>non[-\s]?delivery\s+(?:report|notification))",
    r"^\s*(?P<m>(?:mail|message|e-?mail)\s+(?:could\s+not|couldn't|cannot|can't|was\s+not|"
    r"wasn't|not)\s+(?:be\s+)?delivered)\b",
    r"^\s*(?P<m>mail\s+system\s+error)\b",
    r"^\s*(?P<m>message\s+status\s*-\s*undeliverable)",  # GroupWise
    r"^\s*[\[【(（]?\s*(?P<m>系统退信|退信|無法投遞|无法投递|投递失败|投遞失敗|邮件发送失败|郵件傳送失敗)",
    r"^\s*(?P<m>无法送达|無法送達|無法傳遞)\s*[:：]",  # Exchange zh "Undeliverable:"
))  # fmt: skip
DELAY_SUBJECTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"^\s*(?P<m>delivery\s+status\s+notification\s*\(\s*delay\s*\))",
    r"^\s*(?P<m>delayed\s+mail)\b",
    r"^\s*(?P<m>delivery\s+delayed)\b",
    r"^\s*(?P<m>warning:\s+could\s+not\s+send\s+message)",
    r"^\s*(?P<m>message\s+delivery\s+delayed)\b",
    r"^\s*[\[【(（]?\s*(?P<m>延迟投递|延遲投遞|投递延迟|投遞延遲|传递延迟|傳遞延遲)",
))  # fmt: skip
BOUNCE_BODIES = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"(?P<m>delivery\s+to\s+the\s+following\s+recipients?\s+failed\s+permanently)",
    r"(?P<m>could\s+not\s+be\s+delivered\s+to\s+one\s+or\s+more\s+recipients)",
    r"(?P<m>this\s+is\s+the\s+mail\s+system\s+at\s+host)",
    r"(?P<m>following\s+addresses\s+had\s+permanent\s+fatal\s+errors)",
    r"(?P<m>delivery\s+has\s+failed\s+to\s+these\s+recipients)",
    r"(?P<m>(?:your|the\s+following)\s+(?:message|mail|e-?mail)\s+(?:to\s+\S+\s+)?"
    r"(?:couldn't|could\s+not|can't|cannot|wasn't|was\s+not)\s+(?:be\s+)?delivered)",
    r"(?P<m>created\s+automatically\s+by\s+mail\s+delivery\s+software)",
    r"(?P<m>wasn't\s+able\s+to\s+deliver\s+your\s+message)",
    r"(?P<m>this\s+is\s+the\s+qmail-send\s+program)",
    r"(?P<m>the\s+message\s+that\s+you\s+sent\s+was\s+undeliverable)",  # GroupWise
    r"(?P<m>did\s+not\s+reach\s+the\s+following\s+recipient)",  # Exchange
    r"(?P<m>unable\s+to\s+deliver\s+(?:your\s+)?message\s+to\s+the\s+following)",  # Yahoo
    r"(?P<m>(?:很抱歉)?您(?:发送|投递)?的邮件(?:已)?被退回)",
    r"(?P<m>您(?:发送|发给|寄给).{0,80}?的邮件(?:无法(?:送达|投递|发送)|投递失败|发送失败))",
    r"(?P<m>很抱歉您的郵件被退回|您寄送的郵件無法投遞)",
    r"(?m)^\s*(?P<m>退信原因)\s*[:：]",
))  # fmt: skip
DELAY_BODIES = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"(?P<m>this\s+is\s+a\s+warning(?:\s+message)?\s+only)",
    r"(?P<m>(?:will\s+(?:continue\s+to\s+)?(?:be\s+)?retr(?:y|ied)|still\s+being\s+retried))",
    r"(?P<m>delivery\s+to\s+the\s+following\s+recipients?\s+has\s+been\s+delayed)",
    r"(?P<m>delivery\s+(?:is|has\s+been)\s+delayed)",
    r"(?P<m>系统将继续尝试投递|将继续尝试发送|延迟投递)",
))  # fmt: skip
# Words that make a bounce only when the sender is surely a machine (null sender…): a
# person may write them, from postmaster@ too.
BOUNCE_WORDS = re.compile(
    r"(?P<m>退信|无法投递|無法投遞|投递失败|投遞失敗|发送失败|undeliverable|undelivered|"
    r"delivery\s+(?:has\s+)?failed|returned\s+mail|permanent\s+(?:error|failure))",
    re.IGNORECASE,
)

# Where bounces name the recipient that failed, most specific first.
FAILED_RECIPIENT_TEXTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    rf"(?:failed\s+permanently|has\s+been\s+delayed):\s*<?(?P<a>{_ADDR})",  # Gmail
    rf"\bSMTP=(?P<a>{_ADDR})",  # Exchange 5.5 X.400 recipient: c=US;…;dda:SMTP=x@y
    rf"delivery\s+to\s+the\s+following\s+recipients?\s+failed\.?\s+<?(?P<a>{_ADDR})",  # Exchange
    rf"was\s+not\s+delivered\s+to:\s*<?(?P<a>{_ADDR})",  # Lotus Domino
    rf"undeliverable\s+to\s+the\s+following:\s*<?(?P<a>{_ADDR})",  # GroupWise
    rf"(?m)^\s*<(?P<a>{_ADDR})>\s*:",  # Postfix, qmail
    rf"(?m)^\s*(?P<a>{_ADDR})\s*\r?\n\s+(?:SMTP\s+error|unrouteable|all\s+relevant|retry)",  # Exim
    rf"permanent\s+fatal\s+errors\s*-+\s*<?(?P<a>{_ADDR})",  # Sendmail
    rf"delivery\s+failed[^:\n]*:\s*<?(?P<a>{_ADDR})",
    rf"(?m)^\s*收\s*件\s*人\s*[:：]\s*[^<\n]*?<?(?P<a>{_ADDR})",
    rf"(?:发送|投递|发|寄)(?:到|给|至)\s*[<“\"]?(?P<a>{_ADDR})",
    rf"(?P<a>{_ADDR})>?\s*[:：]?\s*(?:该用户不存在|用户不存在|收件人不存在|邮箱不存在|地址不存在)",
    rf"(?:recipient|address)(?:\s+address)?\s*(?:rejected|not\s+found|unknown)?\s*[:：]\s*<?"
    rf"(?P<a>{_ADDR})",
))  # fmt: skip
EMBEDDED_MESSAGE_ID = re.compile(r"(?im)^[ \t>]*message-?id\s*[:：]\s*<(?P<id>[^<>\s]{1,900})>")
STATUS_CODE = re.compile(r"(?<![\d.])(?P<s>[245]\.\d{1,3}\.\d{1,3})(?![\d.])")
DIAGNOSTIC_TEXTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"(?m)^\s*(?:退信原因|错误原因|失败原因|錯誤原因)\s*[:：]\s*(?P<d>\S.*)$",
    r"(?m)^\s*(?P<d>[45]\d\d[-\s][245]\.\d{1,3}\.\d{1,3}\b.*)$",
    r"(?m)^\s*(?:diagnostic-code|reason|remote\s+server\s+returned)\s*:\s*(?P<d>\S.*)$",
    r"technical\s+details\s+of\s+(?:permanent|temporary)\s+failure:\s*\n\s*(?P<d>\S.*)",
    r"(?m)^.*?(?P<d>[45]\d\d[-\s][245]\.\d{1,3}\.\d{1,3}\b.*)$",
))  # fmt: skip

# RFC 3464 / RFC 6533 part types.

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
        failed_recipients=unique(_dsn_recipient(b) for b in chosen),
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
    returned = any(a.content_type in RETURNED_TYPES for a in mail.inbound.attachments)
    subject = _first_search(BOUNCE_SUBJECTS, mail.subject)
    body = _first_search(BOUNCE_BODIES, mail.notification)
    if not (returned and subject and body):
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


def _dsn_blocks(part: email.message.Message) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part: per-message first, then per-recipient."""
    payload = part.get_payload()
    if isinstance(payload, list):  # compat32 splits message/delivery-status into blocks
        blocks: list[dict[str, str]] = []
        for block in payload:
            if not isinstance(block, email.message.Message):
                continue
            blocks.append({k.lower(): _unfold(v) for k, v in reversed(block.items())})
            rest = block.get_payload()
            if isinstance(rest, str) and rest.strip():  # global-delivery-status: 1 message
                blocks += _parse_blocks(rest)
        return [b for b in blocks if b]
    data = part.get_payload(decode=True)
    text = decode_bytes(data, part.get_content_charset()) if isinstance(data, bytes) else ""
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
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], email.message.Message):
            value = payload[0].get("message-id")
            if value:
                return _msgid(decode_header_value(value))
            body = payload[0].get_payload()
            text = body if isinstance(body, str) else ""  # message/global-headers
        else:
            data = part.get_payload(decode=True)
            text = decode_bytes(data, part.get_content_charset()) if isinstance(data, bytes) else ""
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
    recipients = recipients or _text_recipients(mail)
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
            if found:
                return found
    # last resort: the addresses the notification names, less the people and daemons
    # around the bounce itself
    exclude = {a.email for a in (mail.inbound.sender, *mail.inbound.to, *mail.inbound.cc)}
    candidates = (m["a"].lower() for m in ANY_ADDRESS.finditer(mail.notification))
    return unique(
        a for a in candidates
        if a not in exclude and not DAEMON_LOCALPART.match(a.split("@", 1)[0])
    )  # fmt: skip
