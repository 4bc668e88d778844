"""Use case step: a decision's mails → outbox rows, in the transaction of the change.

The one place a decision becomes mail: `mails.address` says who receives each kind,
the store says what each recipient has already seen of the ticket (`threads.history`),
`mails.thread` gives In-Reply-To/References, the renderer writes the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from maildesk.config import Config
from maildesk.domain import (
    Address,
    Decision,
    EventKind,
    Inbound,
    MailPlan,
    OutgoingMail,
    TicketView,
)
from maildesk.pipeline import mails
from maildesk.render import Renderer
from maildesk.store import Tx, events, participants, threads
from maildesk.store import outbox as outbox_rows


def write(
    tx: Tx,
    renderer: Renderer,
    decision: Decision,
    inbound: Inbound,
    ticket: TicketView,
    inbound_id: int | None,
    now: datetime,
) -> int:
    """Queue every mail of the decision; returns how many."""
    cfg = renderer.cfg
    people = _participants(tx, ticket)
    addressed = mails.address(decision.mails, inbound.sender, people, _staff(cfg))
    for mail in addressed:
        history = threads.history(tx, ticket.id, mail.to.email)
        threading = mails.thread(mail, history, inbound)
        outgoing = renderer.ticket_mail(mail, ticket, threading, now)
        if mail.plan.hold:
            _hold(tx, outgoing, mail, ticket, inbound_id, now)
        else:
            outbox_rows.enqueue(tx, outgoing, ticket.id, inbound_id, now)
    return len(addressed)


def timer_mails(
    renderer: Renderer,
    plans: Sequence[MailPlan],
    ticket: TicketView,
    people: Sequence[Address],
    histories: threads.Histories,
    key: str,
    now: datetime,
) -> list[OutgoingMail]:
    """The mails of a fired timer, rendered, without the database: `people` are the
    requester then the watchers (`participants`), `histories` what each has seen (each
    mail rendered here is added to it).  Message-IDs derive from the timer's key."""
    out = []
    for mail in mails.address(plans, people[0], people, _staff(renderer.cfg)):
        threading = mails.thread(mail, histories.of(ticket.id, mail.to.email), None)
        outgoing = renderer.ticket_mail(mail, ticket, threading, now, key=f"{key}:{mail.plan.kind}")
        histories.saw(ticket.id, mail.to.email, outgoing.message_id)
        out.append(outgoing)
    return out


def participants_of(ticket: TicketView, watchers: Sequence[str]) -> list[Address]:
    """The requester, then the watchers in order of address."""
    requester = Address(ticket.requester_name, ticket.requester_email)
    return [requester, *(Address("", w) for w in sorted(watchers))]


def _hold(
    tx: Tx,
    outgoing: OutgoingMail,
    mail: mails.Addressed,
    ticket: TicketView,
    inbound_id: int | None,
    now: datetime,
) -> None:
    """Never silently: the mail is kept as held, and the ticket says so and why."""
    reason = mail.plan.hold
    outbox_rows.hold(tx, outgoing, ticket.id, inbound_id, now, reason)
    text = f"{mail.plan.kind} to {mail.to.email} held: {reason}"
    events.add(tx, ticket.id, now, "maildesk", EventKind.HELD, inbound_id, text=text)


def _participants(tx: Tx, ticket: TicketView) -> list[Address]:
    return participants_of(ticket, participants.watchers(tx, ticket.id))


def _staff(cfg: Config) -> frozenset[str]:
    return frozenset(p.email for p in cfg.people)
