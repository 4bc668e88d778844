"""Automatic mail that RFC 3834 headers often miss: out-of-office notices written by
hand (`外出通知`), other ticket systems' acknowledgments (Zendesk, RT, OTRS, 工单系统…),
system mail from no-reply senders, and how a monitoring alert differs from all three.

People trip naive rules, so each rule here wants two signs, never one:
- out of office: an absence subject (`外出通知`, `I am out of the office`) AND absence
  wording in the opening lines with a return date or a stand-in, and no request in them
  (`请帮我把自动回复打开`, `could someone call me?` are people);
- acknowledgment: an acknowledgment sentence or subject AND a ticket number, a link to
  the ticket or a ticket system's own header (a person at a vendor writes
  "我们已收到您的邮件" too, without one);
- system mail: a no-reply sender (or postmaster@, a system mailer) AND a sentence in
  which the mail says it was sent by a machine (`本邮件由系统自动发送，请勿回复`); a
  no-reply address alone stays a person's (web forms send people's requests from
  noreply@ with Reply-To the person).
An alert is auto-generated mail (Auto-Submitted: auto-generated, or system mail with
alarm words) that answers nothing: no acknowledgment or absence wording, no reply prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maildesk.pipeline.automail.message import Mail, first_header_match, rule
from maildesk.pipeline.automail.replies import LIST_HEADERS, auto_reply_subject
from maildesk.pipeline.automail.verdict import AutoMail, Kind


@dataclass(frozen=True)
class Row:
    """A pattern and the name it gives in a reason."""

    name: str
    pattern: re.Pattern[str]


def row(name: str, test: str) -> Row:
    return Row(name, re.compile(test, re.IGNORECASE))


def first(rows: tuple[Row, ...], text: str) -> str:
    for r in rows:
        if r.pattern.search(text):
            return r.name
    return ""


OPENING = 600  # absence and acknowledgment wording is looked for in the opening lines

# --- out of office -------------------------------------------------------------------------

ABSENCE_SUBJECTS = (
    row("外出通知", r"^\s*[\[【]?\s*外出(?:通知|提醒|中)"),
    row("休假通知", r"^\s*[\[【]?\s*(?:休假|请假|出差|年假)(?:通知|提醒|中)"),
    row("不在办公室", r"^\s*[\[【]?\s*(?:我?(?:目前|现在)?不在办公室|離開辦公室|不在辦公室)"),
    row("out of the office", r"^\s*(?:i\s+am|i'm)\s+(?:currently\s+)?out\s+of\s+(?:the\s+)?office"),
    row(
        "out of office until", r"^\s*out[-\s]of[-\s](?:the[-\s])?office\s+(?:until|till|from|on)\b"
    ),
    row("away from the office", r"^\s*(?:away|absent)\s+from\s+(?:the\s+)?office"),
    row("on vacation until", r"^\s*(?:on\s+(?:vacation|holiday|leave)|away)\s+until\b"),
    row("abwesend", r"^\s*abwesend\b"),
)
ABSENCE_WORDS = re.compile(
    r"不在办公室|不在辦公室|外出|出差|休假|请假|年假|不在公司|"
    r"out\s+of\s+(?:the\s+)?office|on\s+(?:annual\s+)?(?:leave|vacation|holiday)|\baway\b",
    re.IGNORECASE,
)
# A return date, a stand-in, or late answers: what an absence notice tells the reader.
ABSENCE_FOLLOW_UP = re.compile(
    r"(?:将于|于|会在|預計|预计|\d+\s*[月号日]).{0,16}(?:返回|回来|回到|上班|返岗|回公司)|"
    r"回来后|返回后|期间.{0,20}(?:回复|处理|查看|联系)|无法及时(?:回复|处理)|延迟回复|"
    r"如有(?:急事|紧急|要事|问题)|(?:紧急|急事).{0,16}(?:联系|致电|打)|"
    r"\b(?:return|be\s+back)\b.{0,40}\b(?:on|by|until|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|\d)|limited\s+access\s+to\s+e-?mail|for\s+urgent\s+"
    r"(?:matters|issues|requests)|in\s+my\s+absence|upon\s+my\s+return|when\s+i\s+return",
    re.IGNORECASE,
)
# What a person asks for; an absence notice asks for nothing (its 请联系 is a pointer).
REQUEST_WORDS = re.compile(
    r"请(?:帮|协助|安排|开通|处理|问)|麻烦|帮忙|帮我|能否|可否|能不能|是否可以|怎么|如何|"
    r"报错|故障|坏了|打不开|连不上|无法(?!及时)|不能(?!及时)|[?？]|"
    r"\b(?:please\s+(?:help|fix|reset|check)|could\s+(?:you|someone)|can\s+(?:you|someone)|"
    r"won'?t|will\s+not|not\s+working|error)\b",
    re.IGNORECASE,
)


def out_of_office(mail: Mail) -> AutoMail | None:
    if mail.human_prefixed:
        return None
    subject = first(ABSENCE_SUBJECTS, mail.subject)
    opening = mail.inbound.text[:OPENING]
    if not subject or not _absence_notice(opening):
        return None
    return AutoMail(Kind.AUTO_REPLY, f"out of office: subject {subject}")


def _absence_notice(opening: str) -> bool:
    return (
        ABSENCE_WORDS.search(opening) is not None
        and ABSENCE_FOLLOW_UP.search(opening) is not None
        and REQUEST_WORDS.search(opening) is None
    )


# --- other systems' acknowledgments ----------------------------------------------------------

# Headers only ticket systems write: with acknowledgment wording, the system is named.
TICKET_SYSTEM_HEADERS = (
    rule("x-mailer", r"(zendesk|osticket|spiceworks|kayako|happyfox|freshdesk)", "{}"),
    rule("x-zendesk-from-account-id", r"(\S)", "Zendesk"),
    rule("x-fd-email-type", r"(\S)", "Freshdesk"),
    rule("x-jira-fingerprint", r"(\S)", "Jira"),
    rule("x-servicenow-source", r"(\S)", "ServiceNow"),
    rule("rt-ticket", r"(\S)", "RT"),
    rule("managed-by", r"^\s*(rt)\b", "RT"),
    rule("x-powered-by", r"(otrs|znuny)", "{}"),
    rule("x-otrs-loop", r"(\S)", "OTRS"),
    rule("x-zammad-ticket-id", r"(\S)", "Zammad"),
    rule("x-helpdesk", r"(\S)", "helpdesk"),
)
# A ticket number as other systems write it.
TICKET_NUMBER = re.compile(
    r"\[[\w.-]+\s+#\d+\]|Ticket\s*#\s*\d{3,}|\[#[A-Z0-9-]{4,}\]|\bINC\d{6,}\b|\bREQ\d{6,}\b|"
    r"\bRITM\d{6,}\b|##\d+##|\b[A-Z][A-Z0-9]{1,9}-\d{1,7}\b|(?:ticket|request)\s+(?:id|no\.?|"
    r"number)\s*(?:is\s*)?[:#]?\s*#?\w*\d{3,}|\(\d{3,}\)|工单(?:编号|号)[:：\s]*\S*\d{3,}|"
    r"(?:受理|服务|请求)(?:编号|单号)[:：\s]*\S*\d{3,}",
    re.IGNORECASE,
)
# A link to the ticket, as ticket systems write it (Freshdesk's default acknowledgment
# names its ticket by link only).
TICKET_LINK = re.compile(
    r"https?://\S+?(?:/tickets?/\d{2,}\b|/hc/\S*requests/\d+|tickets?\.php\?(?:id|t)=\w|"
    r"Ticket/Display\.html\?id=\d|Action=(?:Customer|Agent)TicketZoom|#ticket/zoom/\d|"
    r"(?:incident|sc_req_item|sc_request)\.do\?sys_id=|WorkOrder\.do\?)",
    re.IGNORECASE,
)
ACK_SUBJECTS = (
    row("AutoReply", r"^\s*\[[^\]]{1,80}#\d+\]\s*auto[-\s]?reply\s*:"),  # RT
    row("Request received", r"\brequest\s+received\s*:"),  # Zendesk
    row("Ticket Received", r"\bticket\s+(?:#\s*\d+\s+)?received\b"),  # Freshdesk, Spiceworks
    row("Support Ticket Opened", r"\bsupport\s+ticket\s+opened\b"),  # osTicket
    row("opened on your behalf", r"\bopened\s+on\s+your\s+behalf\b"),  # ServiceNow
    row("Thanks for your email", r"^\s*thanks?\s+(?:you\s+)?for\s+(?:your\s+)?e-?mail\b"),
    row("Request ID", r"^\s*\[\s*request\s+id\s*:\s*##\d+##\s*\]"),  # ManageEngine
    row("已收到您的请求", r"已收到您的(?:请求|邮件|来信|反馈|问题)"),
    row("工单已创建", r"工单(?:已|已经)(?:创建|生成|受理|提交)"),
    row("已受理", r"(?:请求|问题|申请)已受理"),
)
ACK_BODIES = (
    row("request has been received", r"\byour\s+(?:request|ticket|e-?mail|message)\s*(?:\(\d+\)"
        r"\s*|#?\d+\s+)?(?:has\s+been|was)\s+(?:received|created|logged|opened)"),
    row("we have received your request", r"\bwe\s*(?:'ve|\s+have)\s+received\s+your\s+"
        r"(?:request|e-?mail|message|ticket)"),
    row("acknowledge", r"\b(?:acknowledge|acknowledgement\s+of)\b.{0,40}\b(?:request|e-?mail)"),
    row("opened on your behalf", r"\bopened\s+on\s+your\s+behalf\b"),
    row("assigned ticket", r"\b(?:assigned|created)\s+(?:a\s+)?ticket\s*(?:id|number)?\s*#?\s*\d"),
    row("automatically generated", r"\bautomatically\s+generated\s+in\s+response\s+to\b"),
    row("我们已收到您的邮件", r"(?:我们|我司|系统)?已(?:经)?收到您的(?:邮件|来信|请求|反馈|问题)"),
    row("您的邮件已收到", r"您的(?:邮件|来信|请求|问题)已(?:经)?收到"),
    row("工单已创建", r"(?:工单|服务单|服务请求)(?:已|已经)(?:创建|生成|受理|提交)|"
        r"已为您创建(?:工单|服务单)"),
)  # fmt: skip


def acknowledgment(mail: Mail) -> AutoMail | None:
    system = first_header_match(mail, TICKET_SYSTEM_HEADERS)
    if mail.human_prefixed and not system:
        return None
    opening = mail.inbound.text[:OPENING]
    said = first(ACK_SUBJECTS, mail.subject) or first(ACK_BODIES, opening)
    if not said:  # the usual case: no ticket number to look for
        return None
    numbered = TICKET_NUMBER.search(f"{mail.subject}\n{opening}") or TICKET_LINK.search(opening)
    if not (system or numbered is not None or mail.no_reply_sender):
        return None
    return AutoMail(Kind.AUTO_REPLY, f"acknowledgment: {system or said}")


# --- system mail and alerts --------------------------------------------------------------------

# Sentences in which a mail says a machine sent it and nobody reads answers.
MACHINE_SENTENCES = (
    row("本邮件由系统自动发送", r"(?:本|此|该)(?:封)?(?:邮件|郵件|信|消息)(?:为|是|由)?(?:系统)?"
        r"自动(?:发送|發送|生成|发出)(?:的)?(?:邮件)?[,，。.;；\s]*(?:请勿|請勿|无需|不要)"
        r"(?:直接)?(?:回复|回覆|答复)"),
    row("系统邮件，请勿回复", r"系统(?:自动)?(?:邮件|发送|通知)[,，。\s]*(?:请勿|无需|不要)"
        r"(?:直接)?回复"),
    row("automatically generated, do not reply", r"\b(?:this\s+(?:is\s+an?|e-?mail|message)\s+"
        r"(?:was\s+|is\s+|has\s+been\s+)?)?(?:an?\s+)?(?:automatically[-\s]generated|auto[-\s]?"
        r"generated|automated|sent\s+automatically)\b.{0,40}?\b(?:please\s+)?do\s+not\s+reply"),
    row("do not reply to this email", r"\bplease\s+do\s+not\s+reply\s+(?:directly\s+)?to\s+"
        r"this\s+(?:e-?mail|message)"),
    row("mailbox is not monitored", r"\bthis\s+(?:e-?mail\s+address|mailbox|inbox)\s+is\s+not\s+"
        r"monitored\b"),
)  # fmt: skip
SYSTEM_TEXT_WINDOW = 3000  # the sentence is usually a footer
# Words of a monitoring alarm: such system mail is a request in its own right.
ALARM_WORDS = re.compile(
    r"告警|报警|警报|預警|预警|故障|宕机|异常|阈值|监控|恢复通知|"
    r"\b(?:problem|alert|alarm|firing|critical|warning|down|unreachable|threshold|incident\s+"
    r"detected|resolved)\b",
    re.IGNORECASE,
)


# Mail systems' own notices (password expiry, quota) come from postmaster@ or carry a
# system mailer: Coremail writes `X-Mailer: Coremail System Message`.
SYSTEM_MAILERS = re.compile(r"\bsystem\s+(?:message|notice|notification)\b|系统(?:消息|通知)", re.I)


def system_mail(mail: Mail) -> AutoMail | None:
    sender = _system_sender(mail)
    if not sender or mail.human_prefixed:
        return None
    said = first(MACHINE_SENTENCES, mail.inbound.text[:SYSTEM_TEXT_WINDOW])
    if not said:
        return None
    if ALARM_WORDS.search(mail.subject) and not mail.daemon_sender:
        return AutoMail(Kind.ALERT, f"system mail: {sender} + {said} + alarm subject")
    return AutoMail(Kind.AUTO_REPLY, f"system mail: {sender} + {said}")


def _system_sender(mail: Mail) -> str:
    """`noreply@`, `postmaster@`, or a system mailer header: a sender that is a machine
    when the mail also says so (postmaster@ is often a person, who never writes that).
    A mail system's own notice (postmaster@, MAILER-DAEMON@) is never an alarm: its
    "warning" is a delivery delay, its "problem" a quota."""
    if mail.no_reply_sender:
        return f"{mail.no_reply_sender}@"
    if mail.daemon_sender.startswith("sender "):
        return f"{mail.daemon_sender.removeprefix('sender ')}@"
    mailer = mail.header("x-mailer")
    return "X-Mailer: system" if SYSTEM_MAILERS.search(mailer) else ""


def alert(mail: Mail) -> AutoMail | None:
    """Auto-generated mail that answers nothing (monitoring, scanners): a ticket without an
    answer; with list headers it is list mail, and goes by the list policy."""
    generated = mail.header("auto-submitted").strip().lower().startswith("auto-generated")
    if not generated or mail.human_prefixed or auto_reply_subject(mail.subject) is not None:
        return None
    listed = first_header_match(mail, LIST_HEADERS)
    if listed:
        return AutoMail(Kind.LIST, f"{listed} + Auto-Submitted: auto-generated")
    return AutoMail(Kind.ALERT, "Auto-Submitted: auto-generated")
