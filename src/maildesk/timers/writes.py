"""One batch of fired timers: what it reads at once, and what it writes at its end.

A tick fires up to `tick.BATCH` timers in one transaction.  Read one by one, their
watchers and thread history, and written one by one, their events, ticket updates,
cancellations and mails, cost ~11 statements a timer (on PostgreSQL, 11 round trips).
Here the reads are one query each for the whole batch, and the writes are kept in
order and sent at the end, one statement per table (executemany).  The order within
each table is the order the timers fired in; statements on different tables commute
within the transaction.  The one table also written at once (timers: `schedule`,
`next_step`, `release`) gets the cancellations kept so far first (`timers_now`),
so a cancel and a schedule of the same key stay in the order they were decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maildesk.domain import Address, EventKind, OutgoingMail, TicketView
from maildesk.outgoing import participants_of
from maildesk.store import Tx, events, outbox, participants, threads, tickets
from maildesk.store import timers as rows


@dataclass
class Reads:
    """The batch's tickets' watchers and thread history, read at once."""

    watchers: dict[int, list[str]]
    histories: threads.Histories

    @classmethod
    def of(cls, tx: Tx, ticket_ids: Iterable[int]) -> Reads:
        ids = sorted(set(ticket_ids))
        return cls(participants.watchers_of(tx, ids), threads.histories(tx, ids))

    def people(self, ticket: TicketView) -> list[Address]:
        return participants_of(ticket, self.watchers.get(ticket.id, []))


@dataclass
class Writes:
    """The batch's writes, kept in order until `flush`."""

    tx: Tx
    now: datetime
    events: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    cancels: list[tuple[int, tuple[str, ...], str]] = field(default_factory=list)
    mails: list[tuple[OutgoingMail, int]] = field(default_factory=list)

    def event(self, ticket_id: int, actor: str, kind: str, **what: str) -> None:
        self.events.append(events.row(ticket_id, self.now, actor, kind, None, **what))

    def status(self, ticket: TicketView, new: str, actor: str) -> TicketView:
        """`tickets.change` of the status; returns the ticket as it will be."""
        self.event(ticket.id, actor, EventKind.CHANGED, field="status", old=ticket.status, new=new)
        columns = tickets.changed_columns((), self.now, status=new)
        self.tickets.append((ticket.id, columns))
        return tickets.with_columns(ticket, columns)

    def cancel(self, ticket_id: int, kinds: Iterable[str], why: str) -> None:
        names = tuple(str(k) for k in kinds)
        if names:
            self.cancels.append((ticket_id, names, why))

    def mail(self, mail: OutgoingMail, ticket_id: int) -> None:
        self.mails.append((mail, ticket_id))

    def timers_now(self) -> Tx:
        """The transaction, for a statement on timers run at once: cancels sent first."""
        rows.cancel_many(self.tx, self.cancels, self.now)
        self.cancels.clear()
        return self.tx

    def flush(self) -> int:
        """Everything kept, sent; returns how many mails were queued: a mail whose
        Message-ID is queued already (or twice in the batch) is queued once."""
        tickets.update_many(self.tx, self.tickets)
        events.add_many(self.tx, self.events)
        self.timers_now()
        seen = outbox.queued(self.tx, (m.message_id for m, _ in self.mails))
        fresh = []
        for mail, ticket_id in self.mails:
            if mail.message_id not in seen:
                seen.add(mail.message_id)
                fresh.append((mail, ticket_id))
        outbox.enqueue_many(self.tx, fresh, self.now)
        self.tickets, self.events, self.mails = [], [], []
        return len(fresh)
