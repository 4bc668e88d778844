"""Plain value types that flow through the pipeline.  No IO, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from maildesk.kb.model import Suggestion
from maildesk.vocab import Reason

if TYPE_CHECKING:
    from maildesk.sla.targets import Target


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_ON_USER = "waiting_on_user"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"


class Lane(StrEnum):
    """Which queue of the outbox a mail waits in: interactive mail is sent before bulk."""

    INTERACTIVE = "interactive"  # acknowledgments, notifications, relayed replies, answers
    BULK = "bulk"  # digests, surveys, summaries: wait behind the interactive mail


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class EventKind(StrEnum):
    """What a row of a ticket's history records."""

    CREATED = "created"
    ROUTED = "routed"
    LINKED = "linked"
    WATCHER_ADDED = "watcher_added"
    REPLY = "reply"  # the requester or a watcher wrote
    AUTO_REPLY = "auto_reply"  # an automatic answer, noted
    PUBLIC_REPLY = "public_reply"  # an engineer's text relayed to the user
    NOTE = "note"  # internal, never sent
    CHANGED = "changed"  # a field changed (status, priority, assignee, …)
    REOPENED = "reopened"
    ATTACHMENT_REFUSED = "attachment_refused"
    COMMAND_REFUSED = "command_refused"
    BOUNCE = "bounce"
    WATCHER_REFUSED = "watcher_refused"
    HELD = "held"  # a limit held a mail back (outbox status held)
    MESSAGE_ID_REUSED = "message_id_reused"  # a different message had this Message-ID first
    TIMER = "timer"  # a timer fired (timers/): what it did
    SURVEY_ANSWER = "survey_answer"  # the requester scored the resolution (survey/)
    SURVEY_REFUSED = "survey_refused"  # a survey answer that proved nothing: changed nothing
    REVIEW = "review"  # a low score's review opened, or closed by `#review done`
    SELF_SERVED = "self_served"  # the requester solved it with an article: resolved
    KB_DRAFT = "kb_draft"  # `#kb`: a draft article written from the ticket


class MailKind(StrEnum):
    """Every kind of mail maildesk writes; pipeline/mails.py says how each is sent."""

    ACK = "ack"
    NOTIFICATION = "notification"
    RELAY = "relay"
    STATUS = "status"
    COMMAND_ERROR = "command_error"
    COMMAND_REFUSED = "command_refused"
    ATTACHMENT_REFUSED = "attachment_refused"
    CLAIM_NOTICE = "claim_notice"  # a mail using your address asked for something
    FLOOD_SUMMARY = "flood_summary"  # to engineers: the tickets one sender opened at once
    FLOOD_ACK = "flood_ack"  # to that sender: one acknowledgment listing the numbers
    HELD_SUMMARY = "held_summary"  # to a group's lead: mail held back on their tickets
    WATCHERS_REFUSED = "watchers_refused"  # to a requester, once: whom their Cc did not add
    CLOSING_NOTICE = "closing_notice"  # to the requester: closed by the clock, how to reopen
    PROGRESS_NOTE = "progress_note"  # to the requester: still being worked on ([inform])
    WAITING_REMINDER = "waiting_reminder"  # to the requester: we still wait for your reply
    AUTO_RESOLVED = "auto_resolved"  # to the requester: resolved unanswered, how to reopen
    SURVEY = "survey"  # to the requester after resolution: five one-click scores
    REVIEW = "review"  # to the lead and managers: a low score, the ticket's history
    DIGEST = "digest"  # to managers and leads: a period's figures and charts (digest/)
    KB_ANSWER = "kb_answer"  # to a `KB:` question's sender: the best articles, no ticket


class TicketType(StrEnum):
    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"
    CHANGE = "change"
    CONSULTATION = "consultation"


@dataclass(frozen=True)
class Address:
    name: str
    email: str


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    data: bytes = field(default=b"", repr=False, compare=False)
    content_id: str = ""  # set for inline parts an HTML body refers to (cid:)


@dataclass(frozen=True)
class AttachmentVerdict:
    attachment: AttachmentInfo
    safe_name: str
    refused: str  # "" when kept, else the reason (English, for the ticket's history)
    why: Reason | None = None  # the same reason, to write for the sender in their language

    def line(self) -> str:
        return f"{self.safe_name}: {self.refused}"


@dataclass(frozen=True)
class Inbound:
    """One parsed email, reduced to what the decisions need."""

    message_id: str
    sender: Address
    return_path: str | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    date: datetime | None
    in_reply_to: str
    references: tuple[str, ...]
    text: str
    attachments: tuple[AttachmentInfo, ...]
    headers: dict[str, str] = field(default_factory=dict)
    defects: tuple[str, ...] = ()

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def sender_missing(self) -> bool:
        """No usable sender address (From empty, `<>`, a bare `MAILER-DAEMON`, none)."""
        return not self.sender.email


@dataclass(frozen=True)
class Person:
    """An entry of the optional staff directory CSV."""

    email: str
    name: str
    department: str
    employee_id: str


@dataclass(frozen=True)
class TicketRef:
    id: int
    number: str
    status: str
    subject: str
    requester_email: str
    watchers: frozenset[str] = frozenset()
    closed_at: datetime | None = None
    priority: str = "medium"
    category: str = ""
    assignee: str = ""
    group: str = ""
    requester_name: str = ""
    created_at: datetime | None = None
    first_response_at: datetime | None = None

    def is_participant(self, email: str) -> bool:
        email = email.lower()
        return email == self.requester_email.lower() or email in self.watchers


@dataclass(frozen=True)
class LastReply:
    """The latest reply of a requester or watcher on a ticket."""

    actor: str
    at: datetime
    text: str


@dataclass(frozen=True)
class Facts:
    """What the database and directory know about one inbound message."""

    ticket_by_number: TicketRef | None = None
    ticket_by_reference: TicketRef | None = None
    ticket_by_plus: TicketRef | None = None
    requester: Person | None = None
    open_counts: dict[str, int] = field(default_factory=dict)  # open tickets per assignee
    last_assigned: dict[str, str] = field(default_factory=dict)  # group → last assignee
    auto_mails_last_hour: int = 0
    auto_mails_last_day: int = 0
    sender_bounced: bool = False
    recent_new_tickets: int = 0  # tickets this sender opened within [limits] window
    last_reply: LastReply | None = None  # on the ticket the mail threads onto
    watchers_refused_before: bool = False  # that ticket's requester was told once already
    earlier_texts: tuple[str, ...] = ()  # what the sender wrote on that ticket before
    survey: SurveySent | None = None  # the latest survey sent on that ticket, if any
    kb_suggested: tuple[str, ...] = ()  # articles that ticket's acknowledgment suggested
    kb_suggested_on: int | None = None  # that ticket's id: credited only on that ticket


@dataclass(frozen=True)
class SurveySent:
    """The latest satisfaction survey sent on a ticket (survey/)."""

    ticket_id: int
    sent_at: datetime
    nonces: tuple[str, ...]  # of every survey mail's Message-ID: a reply to one answers


@dataclass(frozen=True)
class SurveyAnswer:
    """A requester's score for a resolved ticket; `refused` non-empty: it proved nothing
    (a forged or misdirected token) and changes nothing but a line in the history."""

    ticket: TicketRef
    score: int = 0
    comment: str = ""
    via: str = ""  # "link" (a signed mailto subject) or "reply" (a plain reply)
    refused: str = ""


@dataclass(frozen=True)
class NewTicket:
    subject: str
    description: str
    requester: Address
    department: str
    employee_id: str
    priority: str
    category: str
    type: str
    watchers: tuple[Address, ...] = ()
    refused_watchers: tuple[tuple[Address, Reason], ...] = ()
    group: str = ""
    assignee: str = ""
    subcategory: str = ""
    linked_to: TicketRef | None = None
    link_reason: str = ""
    status: str = "new"  # decided by the lifecycle: assigned when routed to a person


@dataclass(frozen=True)
class FollowUp:
    ticket: TicketRef
    text: str
    matched_by: str
    status: Change | None = None  # the lifecycle's move for a user's reply, if any
    reopened: bool = False  # that move took a finished ticket back to work
    note_only: bool = False  # an auto-reply: recorded on the ticket, changes nothing
    add_watchers: tuple[Address, ...] = ()
    refused_watchers: tuple[tuple[Address, Reason], ...] = ()
    proven: bool = False  # only a proven mail's Message-ID may thread later mail (trust.py)


@dataclass(frozen=True)
class Change:
    field: str  # status, priority, category, assignee, group
    old: str
    new: str


@dataclass(frozen=True)
class Work:
    """An engineer's (or requester's) reply: changes to apply, text to relay, a note."""

    ticket: TicketRef
    actor: str
    changes: tuple[Change, ...] = ()
    text: str = ""  # relayed to the requester and watchers
    note: str = ""  # internal, never sent
    said: str = ""  # a requester's own words with their command: a reply on the ticket
    refused: str = ""  # why nothing was applied
    review: str | None = None  # `#review done <note>`: the low score's review is closed
    served: SelfServed | None = None  # the requester solved it themselves (kb/)
    draft: str | None = None  # `#kb [title]`: a draft article from the ticket ("": subject)


@dataclass(frozen=True)
class SelfServed:
    """The requester says an article solved their problem: `#solved`/`#已解决` or a
    signed one-click link.  The ticket is resolved, the article credited."""

    article: str  # the article's name; "" when none was suggested
    via: str  # "link" | "reply"


@dataclass(frozen=True)
class KbQuestion:
    """A `KB:` question the knowledge base answers: a mail back, no ticket."""

    articles: tuple[str, ...]  # the names of the articles sent


@dataclass(frozen=True)
class RecordBounce:
    """Our own mail came back: mark it bounced and rest the address."""

    original_message_id: str
    recipients: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Ignore:
    reason: str


@dataclass(frozen=True)
class Quarantine:
    """Kept aside for an operator (`maildesk quarantine list`), the reason in their terms."""

    reason: str


@dataclass(frozen=True)
class MailPlan:
    """A mail a decision asks for, by kind.  Who receives it and how it threads
    follow from its kind (pipeline/mails.py); `to` names engineers to notify."""

    kind: MailKind
    to: tuple[Address, ...] = ()  # engineers, for notifications; else the kind's audience
    notice: str = ""  # a variant of the template: "closed_ticket_replaced", "assigned", …
    refused: tuple[AttachmentVerdict, ...] = ()  # attachments not kept
    text: str = ""  # a message body to include (relayed reply, new text for engineers)
    signature: str = ""  # the engineer's name under a relayed reply
    lines: tuple[str, ...] = ()  # extra lines: attachments listed
    reasons: tuple[Reason, ...] = ()  # why commands were refused, written per reader
    author: str = ""  # who wrote what a notification is about (a name, or the requester)
    reopened: bool = False  # the mail it is about reopened the ticket
    unverified: bool = False  # the mail it is about only claims its sender (pipeline/trust)
    asked: tuple[str, ...] = ()  # what a claimed mail asked for and did not get
    not_watching: tuple[Reason, ...] = ()  # people in Cc who were not added, and why
    hold: str = ""  # a limit holds it back: kept as held mail with this reason (held/)
    due: datetime | None = None  # a deadline the mail states (a review's target)
    articles: tuple[Suggestion, ...] = ()  # knowledge-base articles offered (kb/)


@dataclass(frozen=True)
class Decision:
    action: (
        NewTicket | FollowUp | Work | RecordBounce | Ignore | Quarantine | SurveyAnswer | KbQuestion
    )
    mails: tuple[MailPlan, ...]
    no_reply_reason: str | None = None
    attachments: tuple[AttachmentVerdict, ...] = ()


@dataclass(frozen=True)
class TicketView:
    """A stored ticket as templates and the CLI see it."""

    id: int
    number: str
    subject: str
    description: str
    requester_name: str
    requester_email: str
    department: str
    employee_id: str
    status: str
    priority: str
    category: str
    type: str
    assignee: str
    group: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    linked_number: str = ""
    targets: tuple[Target, ...] = ()  # its SLA targets, when a mail states due times


@dataclass(frozen=True)
class OutgoingMail:
    """A rendered mail, ready for the outbox."""

    kind: str
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    raw: bytes
    lane: Lane = Lane.INTERACTIVE
