"""Every kind of mail maildesk writes, as one table, and how a decision's mails
are addressed and threaded.  Pure.

A decision names mails by kind (`MailPlan`); `address` turns them into one mail per
recipient, and `thread` gives each its In-Reply-To/References so every party sees
one conversation per ticket: the requester's and watchers' mails hang under the
requester's first message and our earlier mails to them; an engineer's under their
earlier notifications on the ticket; an answer to a mail under that mail.  Mail to
anyone carries no tag but the one bound to them (pipeline/tags.py): a requester never
sees an engineer's command tag, an engineer never another engineer's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from maildesk.domain import Address, Inbound, Lane, MailKind, MailPlan
from maildesk.pipeline import tags


class Audience(StrEnum):
    SENDER = "sender"  # whoever wrote the message being answered
    PARTICIPANTS = "participants"  # the requester and every watcher
    ENGINEERS = "engineers"  # the people the plan names


class Thread(StrEnum):
    ANSWER = "answer"  # under the message it answers
    REQUESTER = "requester"  # under the requester's first message and our mails to them
    ENGINEER = "engineer"  # under our earlier notifications to this engineer
    NONE = "none"  # about several tickets: a thread of its own


@dataclass(frozen=True)
class MailSpec:
    template: str
    audience: Audience
    thread: Thread
    auto_submitted: str  # RFC 3834: "" for words a person wrote (relayed replies)
    reaches_requester: bool  # may go to a requester or watcher: no engineer address, no tag
    reply_to: bool = False  # Reply-To: the support address (notifications)
    lane: Lane = Lane.INTERACTIVE  # bulk: claimed after the interactive mail a round takes


MAIL_KINDS: dict[MailKind, MailSpec] = {
    MailKind.ACK: MailSpec("ack", Audience.SENDER, Thread.ANSWER, "auto-replied", True),
    MailKind.NOTIFICATION: MailSpec(
        "notification", Audience.ENGINEERS, Thread.ENGINEER, "auto-generated", False, reply_to=True
    ),
    MailKind.RELAY: MailSpec("relay", Audience.PARTICIPANTS, Thread.REQUESTER, "", True),
    MailKind.STATUS: MailSpec("status", Audience.SENDER, Thread.ANSWER, "auto-replied", True),
    MailKind.COMMAND_ERROR: MailSpec(
        "command_error", Audience.SENDER, Thread.ANSWER, "auto-replied", False
    ),
    MailKind.COMMAND_REFUSED: MailSpec(
        "command_refused", Audience.SENDER, Thread.ANSWER, "auto-replied", True
    ),
    MailKind.ATTACHMENT_REFUSED: MailSpec(
        "attachment_refused", Audience.SENDER, Thread.ANSWER, "auto-replied", True
    ),
    # to the address a claimed mail used: under the ticket's own thread, which the real
    # owner of the address has, not under the mail they may never have written
    MailKind.CLAIM_NOTICE: MailSpec(
        "claim_notice", Audience.SENDER, Thread.REQUESTER, "auto-replied", True
    ),
    MailKind.WATCHERS_REFUSED: MailSpec(
        "watchers_refused", Audience.SENDER, Thread.ANSWER, "auto-replied", True
    ),
    # summaries of held mail (held/): about several tickets, so threaded under none
    MailKind.FLOOD_SUMMARY: MailSpec(
        "flood_summary", Audience.ENGINEERS, Thread.NONE, "auto-generated", False, lane=Lane.BULK
    ),
    MailKind.FLOOD_ACK: MailSpec(
        "flood_ack", Audience.SENDER, Thread.NONE, "auto-replied", True, lane=Lane.BULK
    ),
    MailKind.HELD_SUMMARY: MailSpec(
        "held_summary", Audience.ENGINEERS, Thread.NONE, "auto-generated", False, lane=Lane.BULK
    ),
    # timers/: the clock closed a resolved ticket; the requester (watchers in Cc) hears how
    # to reopen it, in the ticket's conversation.  Bulk: a tick closing thousands waits
    # behind the acknowledgments and replies
    MailKind.CLOSING_NOTICE: MailSpec(
        "closing_notice",
        Audience.PARTICIPANTS,
        Thread.REQUESTER,
        "auto-generated",
        True,
        lane=Lane.BULK,
    ),
    # timers/inform.py: the clock keeps the requester informed (watchers in Cc), in the
    # ticket's conversation; interactive: each is about one ticket someone is waiting on
    MailKind.PROGRESS_NOTE: MailSpec(
        "progress_note", Audience.PARTICIPANTS, Thread.REQUESTER, "auto-generated", True
    ),
    MailKind.WAITING_REMINDER: MailSpec(
        "waiting_reminder", Audience.PARTICIPANTS, Thread.REQUESTER, "auto-generated", True
    ),
    MailKind.AUTO_RESOLVED: MailSpec(
        "auto_resolved", Audience.PARTICIPANTS, Thread.REQUESTER, "auto-generated", True
    ),
    # timers/survey: to the requester alone (the answer is theirs), in their conversation;
    # bulk, like every mail the clock sends in numbers
    MailKind.SURVEY: MailSpec(
        "survey", Audience.SENDER, Thread.REQUESTER, "auto-generated", True, lane=Lane.BULK
    ),
    # a low score's review, its reminder and escalation: to the lead and managers, who
    # close it by replying `#review done` (hence Reply-To and their signed Message-IDs)
    MailKind.REVIEW: MailSpec(
        "review", Audience.ENGINEERS, Thread.ENGINEER, "auto-generated", False, reply_to=True
    ),
    # digest/: a period's figures for managers and leads; about many tickets, no thread;
    # bulk, like every mail the clock sends on a schedule
    MailKind.DIGEST: MailSpec(
        "digest", Audience.ENGINEERS, Thread.NONE, "auto-generated", False, lane=Lane.BULK
    ),
    # kb/: a `KB:` question answered with articles, under the question; about no ticket
    MailKind.KB_ANSWER: MailSpec("kb_answer", Audience.SENDER, Thread.ANSWER, "auto-replied", True),
}


@dataclass(frozen=True)
class Addressed:
    """One mail for one recipient."""

    plan: MailPlan
    spec: MailSpec
    to: Address
    engineer: bool  # the recipient is one of the desk's people
    cc: tuple[Address, ...] = ()  # the watchers, on mail to the requester


def address(
    plans: Iterable[MailPlan],
    sender: Address,
    participants: Sequence[Address],
    staff: frozenset[str],
) -> list[Addressed]:
    """Each planned mail, once per recipient its kind reaches."""
    out: list[Addressed] = []
    for plan in plans:
        spec = MAIL_KINDS[plan.kind]
        if spec.audience is Audience.PARTICIPANTS:  # one mail: the requester, watchers in Cc
            requester, *others = participants
            out.append(Addressed(plan, spec, requester, False, cc=tuple(others)))
            continue
        for to in (sender,) if spec.audience is Audience.SENDER else plan.to:
            out.append(Addressed(plan, spec, to, to.email.lower() in staff))
    return out


@dataclass(frozen=True)
class History:
    """What one recipient has already seen of a ticket, oldest first."""

    origin: str  # the Message-ID of the requester's first message ("" if it had none)
    ours: tuple[str, ...]  # Message-IDs of our earlier mails to this recipient


@dataclass(frozen=True)
class Threading:
    in_reply_to: str
    references: tuple[str, ...]


MAX_REFERENCES = 20


def thread(mail: Addressed, history: History, answering: Inbound | None) -> Threading:
    """In-Reply-To and References for one mail (RFC 5322 §3.6.4)."""
    chain = _chain(mail, history, answering)
    chain = [mid for mid in chain if _may_see(mid, mail)]
    last = chain[-1:]  # the mail answered stays last, where In-Reply-To is taken
    chain = [*_unique(mid for mid in chain if mid not in last), *last]
    if len(chain) > MAX_REFERENCES:  # keep the root and the most recent
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return Threading(chain[-1] if chain else "", tuple(chain))


def _may_see(message_id: str, mail: Addressed) -> bool:
    """Untagged ids, and tags bound to the one recipient; none on mail with watchers in
    Cc, who must not hold the requester's proof: a leaked tag helps nobody."""
    if not tags.TAGGED.match(message_id):
        return True
    return not mail.cc and tags.bound_to(message_id, mail.to.email)


def _chain(mail: Addressed, history: History, answering: Inbound | None) -> list[str]:
    spec = mail.spec
    if spec.thread is Thread.ANSWER and answering is not None:
        own = [*answering.references, answering.message_id]
        if not mail.engineer:  # the requester's thread: keep it whole
            own = [history.origin, *history.ours, *own]
        return [mid for mid in own if mid]
    if spec.thread is Thread.ENGINEER or mail.engineer:
        return list(history.ours)
    return [mid for mid in (history.origin, *history.ours) if mid]


def _unique(ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for mid in ids:
        seen.setdefault(mid, None)
    return list(seen)
