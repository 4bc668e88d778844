"""Automatic mail: auto-replies, bounces, delay notices and list traffic.  Pure: no IO.

`classify(raw, inbound)` says what kind of message this is and why.  Header rules
(RFC 3834 and friends) are precise but miss about one automatic mail in seven:
Chinese providers' vacation replies (QQ, Exmail, 126/163) and Outlook client rules
carry no header, only a subject such as `自动回复:` / `Automatic reply:` and their
wording.  Bounces come as RFC 3464 reports (multipart/report; delivery-status), which
are read field by field, or as plain text from MAILER-DAEMON/postmaster (Chinese
providers' `系统退信`, Gmail, qmail, old Exchange), which are read with regexes.

People trip naive rules, so the text rules stand back when:
- the subject starts with a human prefix before the marker (`回复: 自动答复: …`,
  `Re: Automatic reply: …`, `Fwd: Undelivered Mail …`);
- a person writes *about* an auto-reply or a bounce in the body (body rules only use
  self-describing machine sentences, never a bare word such as 退信);
- a person writes from postmaster@ (a bounce needs bounce wording as well).

Every rule is a row of a table below; the reason of a result names the row that
matched.  When unsure the answer is HUMAN with reason "".  classify never raises.
"""

from __future__ import annotations

import email
import email.message
import email.parser
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from maildesk.domain import Inbound
from maildesk.pipeline.charsets import decode_bytes, decode_header_value
from maildesk.pipeline.parse import RAW_HEADERS


class Kind(StrEnum):
    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    DELAY = "delay"
    LIST = "list"


@dataclass(frozen=True)
class AutoMail:
    """What a message is.  For BOUNCE (and DELAY) the report's details, best effort:
    the recipients it is about, the Message-ID of the returned message, the first
    status code (`5.1.1`) and the diagnostic text of the remote server."""

    kind: Kind
    reason: str
    failed_recipients: tuple[str, ...] = ()
    original_message_id: str = ""
    status: str = ""
    diagnostic: str = ""


HUMAN = AutoMail(Kind.HUMAN, "")

# --- tables -------------------------------------------------------------------------------

# Prefixes people put before a subject when they answer or forward (en, de, nordic, fr,
# es, it, zh-CN, zh-TW).  One of these before an automatic marker means a person wrote.
HUMAN_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|sv|vs|antw|tr|rv|r|回复|回覆|答复|答覆|转发|轉發|转寄|轉寄)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]",
    re.IGNORECASE,
)

# Subject markers of automatic replies (Exchange localises "Automatic reply:").
AUTO_REPLY_MARKERS = (
    r"automatic\s+reply", r"automatic\s+response", r"auto[-\s]?reply", r"auto[-\s]?response",
    r"auto[-\s]?responder", r"out\s+of\s+(?:the\s+)?office(?:\s+auto[-\s]?reply|\s+reply)?",
    r"vacation\s+(?:auto[-\s]?)?reply",
    r"假期自动回复", r"假期自動回覆", r"休假自动回复", r"自动回复", r"自动答复", r"自动应答",
    r"自動回覆", r"自動回复", r"自動答覆", r"自動回應", r"自動應答",
    r"自動応答", r"自動返信",  # ja
    r"automatische\s+antwort", r"abwesenheitsnotiz", r"réponse\s+automatique",
    r"respuesta\s+automática", r"resposta\s+automática", r"risposta\s+automatica",
    r"automatisch\s+antwoord", r"autosvar",
)  # fmt: skip
_MARKER = "(?:" + "|".join(AUTO_REPLY_MARKERS) + ")"
AUTO_REPLY_SUBJECTS = (
    # marker then a colon: "Automatic reply: …", "自动回复：…"
    re.compile(rf"^\s*(?P<m>{_MARKER})\s*[:：]", re.IGNORECASE),
    # bracketed marker: "[Auto-Reply] …", "【自动回复】…"
    re.compile(rf"^\s*[\[【(（〔]\s*(?P<m>{_MARKER})\s*[\]】)）〕]", re.IGNORECASE),
    # the marker is the whole subject: "Out of Office", "假期自动回复"
    re.compile(rf"^\s*(?P<m>{_MARKER})\s*[.!。！]?\s*$", re.IGNORECASE),
)

# Self-describing sentences that open automatic replies; looked for in the first lines.
AUTO_REPLY_BODIES = (
    re.compile(r"这是来自\S{1,12}?邮箱的(?:假期)?自动回复邮件"),  # QQ Mail
    re.compile(r"这是一封(?:系统)?自动(?:回复|答复)(?:的)?邮件(?![吗嗎么麼?？])"),
    re.compile(
        r"(?:本|此)(?:封)?(?:邮件|信)(?:为|是)(?:系统)?自动(?:回复|答复)(?!(?:邮件)?[吗嗎么麼?？])"
    ),
    re.compile(r"這是一封自動回覆(?:的)?(?:郵件|信)(?![嗎吗?？])"),
    # "This is an automatic reply." but not "this is an auto reply issue"
    re.compile(
        r"\bthis\s+is\s+an?\s+auto(?:matic|mated)?[-\s]?(?:reply|response)"
        r"(?:\s*[.,;:!]|\s+(?:from|to\s+(?:your|let)|message|e-?mail)\b)",
        re.IGNORECASE,
    ),
)
AUTO_REPLY_BODY_WINDOW = 400


@dataclass(frozen=True)
class HeaderRule:
    """A header whose value matches `pattern`; `reason` may use `{}` for the first group.
    `machine_only`: counts only when the envelope sender is null (<>)."""

    header: str
    pattern: re.Pattern[str]
    reason: str
    machine_only: bool = False


def _rule(header: str, test: str, reason: str, machine_only: bool = False) -> HeaderRule:
    return HeaderRule(header, re.compile(test, re.IGNORECASE), reason, machine_only)


AUTO_REPLY_HEADERS = (
    _rule("auto-submitted", r"^\s*(?!no\b)([a-z][\w-]*)", "Auto-Submitted: {}"),  # RFC 3834
    _rule("x-autoreply", r"^\s*(?!no\b|false\b)(\S+)", "X-Autoreply: {}"),
    _rule("x-autorespond", r"^\s*(\S+)", "X-Autorespond"),
    _rule("precedence", r"^\s*(auto[_-]reply)\b", "Precedence: {}"),
    _rule("x-autogenerated", r"^\s*(reply)\b", "X-Autogenerated: {}"),  # Yahoo
    # Asks *others* not to answer automatically; people's Outlook and many senders set it
    # too (Discourse, osTicket, Redmine and Jitbit dropped it as an auto-reply sign after
    # losing real mail).  With a null sender it is Exchange's out-of-office.
    _rule("x-auto-response-suppress", r"^\s*(?!none\b)(\w[^\r\n]*)",
               "X-Auto-Response-Suppress: {} + null sender", machine_only=True),
)  # fmt: skip
LIST_HEADERS = (
    _rule("list-id", r"(\S)", "List-Id"),
    _rule("list-unsubscribe", r"(\S)", "List-Unsubscribe"),
    _rule("precedence", r"^\s*(bulk|list|junk)\b", "Precedence: {}"),
)
# Headers only bounces carry: like a null sender, they say a machine wrote, so plain
# words (退信) suffice.  Auto-Submitted is not one: monitoring alerts carry it and may well
# say "delivery failed"; bounces that carry it come from MAILER-DAEMON anyway.
MACHINE_HEADERS = (
    _rule("x-failed-recipients", r"(@)", "X-Failed-Recipients"),  # Exim, Gmail
    _rule("x-ms-exchange-message-is-ndr", r"^()", "X-MS-Exchange-Message-Is-Ndr"),
)
NULL_PATH = re.compile(r"^\s*<\s*>\s*$")
DAEMON_LOCALPART = re.compile(
    r"^(?:mailer[-_]?daemon|mail[-_]?daemon|postmaster|microsoftexchange[0-9a-f]*)$", re.I
)

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
    r"^\s*(?P<m>message\s+not\s+delivered)\b",
    r"^\s*(?P<m>mail\s+system\s+error)\b",
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
    r"(?P<m>your\s+message\s+(?:to\s+\S+\s+)?(?:couldn't|could\s+not|wasn't|was\s+not)\s+be\s+"
    r"delivered)",
    r"(?P<m>created\s+automatically\s+by\s+mail\s+delivery\s+software)",
    r"(?P<m>wasn't\s+able\s+to\s+deliver\s+your\s+message)",
    r"(?P<m>this\s+is\s+the\s+qmail-send\s+program)",
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
BODY_WINDOW = 6000

# Where bounces name the recipient that failed, most specific first.
_ADDR = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
FAILED_RECIPIENT_TEXTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    rf"(?:failed\s+permanently|has\s+been\s+delayed):\s*<?(?P<a>{_ADDR})",  # Gmail
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
ANY_ADDRESS = re.compile(rf"<?(?P<a>{_ADDR})>?")
# Where the notification ends and the returned message begins.
RETURNED_MESSAGE_START = re.compile(
    r"(?im)^[ \t>]*(?:[-=*_]{2,}[ \t]*)?(?:(?:this\s+is\s+a\s+)?copy\s+of\s+the\s+message|"
    r"original\s+message|returned\s+message|undelivered\s+message|message\s+follows|"
    r"以下(?:为|是)?原(?:始)?邮件|原(?:始)?邮件|原(?:始)?郵件)[^\n]{0,60}$"
)
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
DSN_TYPES = ("message/delivery-status", "message/global-delivery-status")
RETURNED_TYPES = (
    "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers",
)  # fmt: skip
OTHER_REPORTS = (
    ("message/disposition-notification", "multipart/report disposition-notification"),
    ("message/feedback-report", "multipart/report feedback-report"),
)
FAILED_ACTIONS = ("failed",)
DELAYED_ACTIONS = ("delayed",)
MAX_PARTS = 200
MAX_DEPTH = 8


# --- public API ---------------------------------------------------------------------------


def classify(raw: bytes, inbound: Inbound) -> AutoMail:
    """HUMAN, AUTO_REPLY, BOUNCE, DELAY or LIST, with the rule that decided."""
    mail = _Mail(raw, inbound)
    for rule in RULES:
        try:
            found = rule(mail)
        except Exception:  # last line of defence against odd input: try the next rule
            continue
        if found is not None:
            return found
    return HUMAN


def is_auto_reply_subject(subject: str) -> bool:
    """True for `Automatic reply: …`, `自动回复：…`, `【自动回复】…`; False for
    `回复: 自动答复: …` and `Re: Automatic reply: …` (a person answering one)."""
    return _auto_reply_subject(subject) is not None


# --- the message, read lazily -------------------------------------------------------------


class _Mail:
    def __init__(self, raw: bytes, inbound: Inbound) -> None:
        self.raw = raw if isinstance(raw, bytes) else b""
        self.inbound = inbound
        self.subject = inbound.subject or ""
        self.human_prefixed = HUMAN_PREFIX.match(self.subject) is not None

    @cached_property
    def raw_headers(self) -> dict[str, str]:
        """Every top-level header (first occurrence), decoded; Inbound keeps only some."""
        try:
            msg = email.parser.BytesHeaderParser(policy=RAW_HEADERS).parsebytes(self.raw)
            return {k.lower(): decode_header_value(v) for k, v in reversed(msg.items())}
        except Exception:  # odd bytes: header rules fall back on Inbound's headers
            return {}

    def header(self, name: str) -> str:
        return self.inbound.header(name) or self.raw_headers.get(name, "")

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
        return any(NULL_PATH.match(self.header(h)) for h in ("return-path", "x-envelope-from"))

    @cached_property
    def machine_origin(self) -> str:
        """Why the sender is surely a machine ("" if it may be a person)."""
        return "null sender" if self.null_sender else _first_header_match(self, MACHINE_HEADERS)

    @cached_property
    def daemon_sender(self) -> str:
        address = self.inbound.sender.email.lower() or _address(self.header("from"))
        local = address.split("@", 1)[0]
        return f"sender {local}" if DAEMON_LOCALPART.match(local) else ""


# --- rules --------------------------------------------------------------------------------


def _report(mail: _Mail) -> AutoMail | None:
    """RFC 3464 delivery status (and RFC 3798 / 5965 reports): read the fields."""
    ctype = mail.content_type
    carries_dsn = ctype == "multipart/report" or ctype in DSN_TYPES
    if not carries_dsn:
        # a report nested in multipart/mixed (some gateways wrap it) counts only when the
        # sender is a machine: a person may forward a bounce's parts inline
        nested = any(a.content_type in DSN_TYPES for a in mail.inbound.attachments)
        if not (nested and (mail.machine_origin or mail.daemon_sender)):
            return None
    msg = mail.message
    if msg is None:
        return None
    parts = list(_parts(msg))
    dsn_parts = [p for p in parts if p.get_content_type() in DSN_TYPES]
    if dsn_parts:
        found = _from_dsn(mail, dsn_parts, parts)
        if found is not None:
            return found
    if ctype != "multipart/report":
        return None
    for part_type, reason in OTHER_REPORTS:
        if any(p.get_content_type() == part_type for p in parts):
            return AutoMail(Kind.AUTO_REPLY, reason)
    text_bounce = _text_bounce(mail)
    return text_bounce or AutoMail(Kind.AUTO_REPLY, "multipart/report")


def _from_dsn(
    mail: _Mail, dsn_parts: list[email.message.Message], parts: list[email.message.Message]
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
    message_id = _returned_message_id(parts) or _msgid(_field(per_message, "x-original-message-id"))
    return AutoMail(
        kind=kind,
        reason=f"{where} ({detail or _action(first)})",
        failed_recipients=_unique(_dsn_recipient(b) for b in chosen),
        original_message_id=message_id or _embedded_message_id(mail),
        status=status,
        diagnostic=_field(first, "diagnostic-code"),
    )


def _text_bounce(mail: _Mail) -> AutoMail | None:
    """A bounce written as prose by MAILER-DAEMON/postmaster or a null sender."""
    origin = mail.machine_origin or mail.daemon_sender
    if not origin or mail.human_prefixed or _auto_reply_subject(mail.subject) is not None:
        return None
    checks = (
        (Kind.BOUNCE, "subject", BOUNCE_SUBJECTS, mail.subject),
        (Kind.DELAY, "subject", DELAY_SUBJECTS, mail.subject),
        (Kind.DELAY, "body", DELAY_BODIES, mail.notification),
        (Kind.BOUNCE, "body", BOUNCE_BODIES, mail.notification),
    )
    for kind, where, patterns, text in checks:
        for pattern in patterns:
            found = pattern.search(text)
            if found:
                return _text_details(mail, kind, f"{origin} + {where} {_quote(found['m'])}")
    if mail.machine_origin:  # a sure machine may use plain words
        found = BOUNCE_WORDS.search(mail.subject) or BOUNCE_WORDS.search(mail.notification)
        if found:
            return _text_details(mail, Kind.BOUNCE, f"{mail.machine_origin} + {_quote(found['m'])}")
    return None


def _auto_reply_header(mail: _Mail) -> AutoMail | None:
    reason = _first_header_match(mail, AUTO_REPLY_HEADERS)
    return AutoMail(Kind.AUTO_REPLY, reason) if reason else None


def _auto_reply_text(mail: _Mail) -> AutoMail | None:
    marker = _auto_reply_subject(mail.subject)
    if marker is not None:
        return AutoMail(Kind.AUTO_REPLY, f"subject {marker}")
    if mail.human_prefixed:
        return None
    opening = mail.inbound.text[:AUTO_REPLY_BODY_WINDOW]
    for pattern in AUTO_REPLY_BODIES:
        found = pattern.search(opening)
        if found:
            return AutoMail(Kind.AUTO_REPLY, f"body {_quote(found.group(0))}")
    return None


def _list(mail: _Mail) -> AutoMail | None:
    reason = _first_header_match(mail, LIST_HEADERS)
    return AutoMail(Kind.LIST, reason) if reason else None


# In order: the first rule with an answer decides.
RULES: tuple[Callable[[_Mail], AutoMail | None], ...] = (
    _report,  # multipart/report: bounce, delay, read receipt, complaint
    _text_bounce,  # MAILER-DAEMON/postmaster or null sender + bounce wording
    _auto_reply_header,  # Auto-Submitted, X-Autoreply, …
    _auto_reply_text,  # 自动回复: / Automatic reply: subjects, self-describing bodies
    _list,  # List-Id, List-Unsubscribe, Precedence: bulk
)


# --- helpers ------------------------------------------------------------------------------


def _auto_reply_subject(subject: str) -> str | None:
    """The automatic marker that opens the subject, or None."""
    if HUMAN_PREFIX.match(subject):
        return None
    for pattern in AUTO_REPLY_SUBJECTS:
        found = pattern.match(subject)
        if found:
            return " ".join(found["m"].split())
    return None


def _first_header_match(mail: _Mail, table: tuple[HeaderRule, ...]) -> str:
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


def _parts(msg: email.message.Message) -> Iterator[email.message.Message]:
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
    action = _field(block, "action").lower().split(" ")[0]
    if action:
        return action
    status = _field(block, "status")  # no Action: the status class says it
    return {"5": "failed", "4": "delayed", "2": "delivered"}.get(status[:1], "")


def _dsn_recipient(block: dict[str, str]) -> str:
    for name in ("original-recipient", "final-recipient"):
        address = _address(_field(block, name).split(";", 1)[-1])
        if address:
            return address
    return ""


def _address(value: str) -> str:
    found = ANY_ADDRESS.search(value)
    return found["a"].lower() if found else ""


def _msgid(value: str) -> str:
    found = re.search(r"<([^<>\s]+)>", value)
    return (found.group(1) if found else value.strip().strip("<>"))[:900]


def _returned_message_id(parts: list[email.message.Message]) -> str:
    for part in parts:
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


def _embedded_message_id(mail: _Mail) -> str:
    found = EMBEDDED_MESSAGE_ID.search(mail.inbound.text[:20000])
    return found["id"] if found else mail.inbound.in_reply_to


def _text_details(mail: _Mail, kind: Kind, reason: str) -> AutoMail:
    recipients = _text_recipients(mail)
    status_found = STATUS_CODE.search(mail.notification)
    diagnostic = ""
    for pattern in DIAGNOSTIC_TEXTS:
        found = pattern.search(mail.notification)
        if found:
            diagnostic = found["d"].strip()[:500]
            break
    message_id = ""
    if mail.content_type.startswith("multipart/") and mail.message is not None:
        message_id = _returned_message_id(list(_parts(mail.message)))
    return AutoMail(
        kind=kind,
        reason=reason,
        failed_recipients=recipients,
        original_message_id=message_id or _embedded_message_id(mail),
        status=status_found["s"] if status_found else "",
        diagnostic=diagnostic,
    )


def _text_recipients(mail: _Mail) -> tuple[str, ...]:
    listed = mail.header("x-failed-recipients")
    if listed:
        found = _unique(m["a"].lower() for m in ANY_ADDRESS.finditer(listed))
        if found:
            return found
    for text in (mail.notification, mail.text):  # the notification first, then all of it
        for pattern in FAILED_RECIPIENT_TEXTS:
            found = _unique(m["a"].lower() for m in pattern.finditer(text))
            if found:
                return found
    # last resort: the addresses the notification names, less the people and daemons
    # around the bounce itself
    exclude = {a.email for a in (mail.inbound.sender, *mail.inbound.to, *mail.inbound.cc)}
    candidates = (m["a"].lower() for m in ANY_ADDRESS.finditer(mail.notification))
    return _unique(
        a for a in candidates
        if a not in exclude and not DAEMON_LOCALPART.match(a.split("@", 1)[0])
    )  # fmt: skip


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _quote(text: str) -> str:
    return " ".join(text.split())[:60]
