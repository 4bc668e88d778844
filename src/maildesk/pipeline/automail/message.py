"""The message as the automatic-mail rules read it (lazily), and the tables they share."""

from __future__ import annotations

import email
import email.message
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property

from maildesk.domain import Inbound
from maildesk.pipeline.charsets import LINE_BREAK, decode_bytes, decode_header_value, unfold
from maildesk.pipeline.header_fields import RAW_HEADERS, content_charset, top_headers

# Prefixes people put before a subject when they answer or forward (en, de, nordic, fr,
# es, it, zh-CN, zh-TW).  One of these before an automatic marker means a person wrote.
HUMAN_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|sv|vs|antw|tr|rv|r|回复|回覆|答复|答覆|转发|轉發|转寄|轉寄)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HeaderRule:
    """A header whose value matches `pattern`; `reason` may use `{}` for the first group.
    `machine_only`: counts only when the envelope sender is null (<>)."""

    header: str
    pattern: re.Pattern[str]
    reason: str
    machine_only: bool = False


def rule(header: str, test: str, reason: str, machine_only: bool = False) -> HeaderRule:
    return HeaderRule(header, re.compile(test, re.IGNORECASE), reason, machine_only)


# Headers only bounces carry: like a null sender, they say a machine wrote, so plain
# words (退信) suffice.  Auto-Submitted is not one: monitoring alerts carry it and may well
# say "delivery failed"; bounces that carry it come from MAILER-DAEMON anyway.
MACHINE_HEADERS = (
    rule("x-failed-recipients", r"(@)", "X-Failed-Recipients"),  # Exim, Gmail
    rule("x-ms-exchange-message-is-ndr", r"^()", "X-MS-Exchange-Message-Is-Ndr"),
)
NULL_PATH = re.compile(r"^\s*<\s*>\s*$")
# Senders that say nobody reads answers.  Alone they prove nothing (web forms send people's
# requests from noreply@); the rules want a machine sentence too.
NO_REPLY_LOCALPART = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|no[-_.]?response|"
    r"notifications?|notify|alerts?|system|automated|auto[-_.]?(?:mail|notify|sender))"
    r"(?:[-_.+][\w.-]*)?$",
    re.I,
)
DAEMON_LOCALPART = re.compile(
    r"^(?:mailer[-_ ]?daemon|mail[-_]?daemon|m?daemon|postmaster|microsoftexchange[0-9a-f]*|"
    r"ndr|mail[-_.]?delivery[-_.]?(?:system|subsystem)?)$",
    re.I,
)
# A From whose address is empty: `"Mail Delivery System" <>`, as null as a null path.
NULL_FROM = re.compile(r"<\s*>\s*$")

BODY_WINDOW = 6000

# An address as bounces write it.
_ADDR = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
ANY_ADDRESS = re.compile(rf"<?(?P<a>{_ADDR})>?")
# Where the notification ends and the returned message begins.
RETURNED_MESSAGE_START = re.compile(
    r"(?im)^[ \t>]*(?:[-=*_]{2,}[ \t]*)?(?:(?:this\s+is\s+a\s+|below\s+is\s+a\s+)?copy\s+of\s+"
    r"the\s+(?:original\s+)?message|"
    r"original\s+message|returned\s+message|undelivered\s+message|message\s+follows|"
    r"以下(?:为|是)?原(?:始)?邮件|原(?:始)?邮件|原(?:始)?郵件)[^\n]{0,60}$"
)

# RFC 3464 / RFC 6533 part types.
DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
RETURNED_TYPES = (
    "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers",
)  # fmt: skip
MAX_PARTS = 200
MAX_DEPTH = 8


class Mail:
    def __init__(self, raw: bytes, inbound: Inbound) -> None:
        self.raw = raw if isinstance(raw, bytes) else b""
        self.inbound = inbound
        self.subject = inbound.subject or ""
        self.human_prefixed = HUMAN_PREFIX.match(self.subject) is not None
        self._decoded_headers: dict[str, str] = {}

    @cached_property
    def raw_headers(self) -> dict[str, str]:
        """Every top-level header (first occurrence) as written; Inbound keeps only some.
        From the header block alone, and each decoded only when a rule reads it (header)."""
        try:
            return {name.lower(): value for name, value in reversed(top_headers(self.raw))}
        except Exception:  # odd bytes: header rules fall back on Inbound's headers
            return {}

    def header(self, name: str) -> str:
        return self.inbound.header(name) or self._decoded(name)

    def _decoded(self, name: str) -> str:
        if name not in self._decoded_headers:
            value = self.raw_headers.get(name)
            self._decoded_headers[name] = "" if value is None else _decode_or_as_written(value)
        return self._decoded_headers[name]

    @cached_property
    def message(self) -> email.message.Message | None:
        try:
            return email.message_from_bytes(self.raw, policy=RAW_HEADERS)
        except Exception:  # RecursionError on absurd nesting, or worse: no MIME facts then
            return None

    @cached_property
    def content_type(self) -> str:
        value = self.header("content-type").split(";", 1)[0].strip().lower()
        return value or "text/plain"

    @cached_property
    def text(self) -> str:
        return self.inbound.text[:BODY_WINDOW]

    @cached_property
    def notification(self) -> str:
        """The bounce's own words: the text before the returned message starts."""
        found = RETURNED_MESSAGE_START.search(self.text)
        return self.text[: found.start()] if found else self.text

    @cached_property
    def null_sender(self) -> bool:
        if self.inbound.return_path == "":
            return True
        if NULL_FROM.search(self.header("from")):
            return True
        return any(NULL_PATH.match(self.header(h)) for h in ("return-path", "x-envelope-from"))

    @cached_property
    def machine_origin(self) -> str:
        """Why the sender is surely a machine ("" if it may be a person)."""
        return "null sender" if self.null_sender else first_header_match(self, MACHINE_HEADERS)

    @cached_property
    def daemon_sender(self) -> str:
        """A sender named like a mail system (MAILER-DAEMON@, postmaster@, a bare
        `MAILER-DAEMON`), or none at all: bounce wording then makes a bounce."""
        sender = self.inbound.sender.email.lower() or address(self.header("from"))
        if not sender and self.inbound.sender_missing:
            bare = self.inbound.sender.name.strip(' "<>').lower()
            return f"sender {bare}" if DAEMON_LOCALPART.match(bare) else "no sender address"
        local = sender.split("@", 1)[0]
        return f"sender {local}" if DAEMON_LOCALPART.match(local) else ""

    @cached_property
    def no_reply_sender(self) -> str:
        """The local part of a no-reply sender (`noreply`, `do-not-reply`…), else ""."""
        sender = self.inbound.sender.email.lower() or address(self.header("from"))
        local = sender.split("@", 1)[0]
        return local if NO_REPLY_LOCALPART.match(local) else ""


# --- helpers ------------------------------------------------------------------------------


def first_header_match(mail: Mail, table: tuple[HeaderRule, ...]) -> str:
    for rule in table:
        value = mail.header(rule.header)
        if not value and rule.header not in mail.raw_headers:
            continue
        if rule.machine_only and not mail.null_sender:
            continue
        found = rule.pattern.search(value)
        if found:
            return rule.reason.format(found.group(1).strip())
    return ""


def parts(msg: email.message.Message) -> Iterator[email.message.Message]:
    """The MIME parts, depth first, not looking inside returned messages."""
    stack: list[tuple[email.message.Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part
        ctype = part.get_content_type()
        if not part.is_multipart() or ctype in RETURNED_TYPES or ctype in DSN_TYPES:
            continue
        if depth >= MAX_DEPTH:
            continue
        children = part.get_payload()
        if isinstance(children, list):
            stack += [(c, depth + 1) for c in reversed(children)
                      if isinstance(c, email.message.Message)]  # fmt: skip


def _decode_or_as_written(value: str) -> str:
    """The decoded header; if decoding raises on some junk nobody foresaw, the value as
    written (one line, raw bytes as U+FFFD), kept like a decoded one: a rule that raised
    here would be skipped by classify, and a bounce skipped by its rules is a ticket."""
    try:
        return decode_header_value(value)
    except Exception:  # last line of defence, as in classify: never lose the header
        text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return LINE_BREAK.sub(" ", unfold(text)).strip()


def payload_of(part: email.message.Message) -> object:
    """get_payload(): a non-multipart part's raw 8-bit text is decoded in its declared
    charset, which raises when that label is junk (a NUL: ValueError); the text is then
    decoded through our chain instead."""
    try:
        return part.get_payload()
    except (LookupError, ValueError):
        data = part.get_payload(decode=True)
        return decode_bytes(data, content_charset(part)) if isinstance(data, bytes) else ""


def address(value: str) -> str:
    found = ANY_ADDRESS.search(value)
    return found["a"].lower() if found else ""


def unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def quote(text: str) -> str:
    return " ".join(text.split())[:60]
