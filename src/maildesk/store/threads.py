"""Message-IDs seen on a ticket's mails, in and out: how replies find their ticket.

A Message-ID can name several tickets: some clients, monitoring systems and list
software reuse IDs, and a different message with a reused ID makes a ticket of its
own (store/journal.py).  A reply naming such an ID goes to the newest of those
tickets its sender is the requester or a watcher of, else to the first of them: a
later mail that reuses an ID never takes replies away from the ticket that had it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal, or_, select, union_all

from maildesk.domain import EventKind, TicketRef
from maildesk.pipeline.mails import History
from maildesk.store import tickets, values
from maildesk.store.base import T_EVENTS, T_MSGIDS, T_WATCHERS, Tx, ci, co, ct


def remember_message_id(tx: Tx, message_id: str, ticket_id: int, direction: str) -> None:
    stored = values.message_id(message_id)
    if not stored:
        return
    row = {"message_id": stored, "ticket_id": ticket_id, "direction": direction}
    tx.c.execute(tx.d.message_id, row)


def remember_many(tx: Tx, rows: Sequence[tuple[str, int]], direction: str) -> None:
    """`remember_message_id` for several (Message-ID, ticket id) in one statement."""
    stored = [{"message_id": values.message_id(m), "ticket_id": t, "direction": direction}
              for m, t in rows]  # fmt: skip
    stored = [row for row in stored if row["message_id"]]
    if stored:
        tx.c.execute(tx.d.message_id, stored)


def ticket_by_message_ids(tx: Tx, message_ids: Sequence[str], sender: str = "") -> TicketRef | None:
    if not message_ids:
        return None
    rows = tx.c.execute(
        select(T_MSGIDS.c.message_id, T_MSGIDS.c.ticket_id).where(
            T_MSGIDS.c.message_id.in_(values.lookup_ids(list(message_ids)))
        )
    ).all()
    by_id: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_id[row.message_id].append(row.ticket_id)
    for mid in message_ids:  # first match in the caller's order of preference
        for form in (values.message_id(mid), mid):
            if form in by_id:
                return tickets.ref_by_id(tx, _one_of(tx, sorted(by_id[form]), sender))
    return None


def _one_of(tx: Tx, ticket_ids: list[int], sender: str) -> int:
    """Of the tickets sharing a Message-ID (oldest first), the one a reply from
    `sender` goes to: the newest the sender takes part in, else the first."""
    if len(ticket_ids) == 1:
        return ticket_ids[0]
    watching = select(T_WATCHERS.c.ticket_id).where(T_WATCHERS.c.email == sender.lower())
    theirs = tx.c.scalars(
        select(ct.id).where(
            ct.id.in_(ticket_ids),
            or_(func.lower(ct.requester_email) == sender.lower(), ct.id.in_(watching)),
        )
    ).all()
    return max(theirs) if theirs else ticket_ids[0]


ORIGIN = (
    select(ci.message_id)
    .join(T_EVENTS, T_EVENTS.c.inbound_id == ci.id)
    .where(T_EVENTS.c.ticket_id == bindparam("ticket_id"), T_EVENTS.c.kind == EventKind.CREATED)
    .limit(1)
)


_origin = ORIGIN.subquery("origin")
HISTORY = union_all(
    select(literal(0).label("part"), literal(0).label("id"), _origin.c.message_id),
    select(literal(1), co.id, co.message_id).where(
        co.to_address == bindparam("address"), co.ticket_id == bindparam("ticket_id")
    ),
).order_by("part", "id")


def history(tx: Tx, ticket_id: int, address: str) -> History:
    """What `address` has seen of the ticket: the requester's first message, then
    our earlier mails to them, oldest first (how the next mail threads).  One
    statement: the first message, then our mails."""
    params = {"ticket_id": ticket_id, "address": address.lower()}
    origin, ours = "", []
    for part, _, message_id in tx.c.execute(HISTORY, params):
        if part == 0:
            origin = message_id or ""
        else:
            ours.append(message_id)
    return History(origin, tuple(ours))


def histories(tx: Tx, ticket_ids: Iterable[int]) -> Histories:
    """`history` of every recipient of several tickets, in two queries."""
    ids = sorted(set(ticket_ids))
    e = T_EVENTS.c
    origins: dict[int, str] = {}
    ours: dict[tuple[int, str], list[str]] = defaultdict(list)
    if ids:
        query = (
            select(e.ticket_id, ci.message_id)
            .join(T_EVENTS, e.inbound_id == ci.id)
            .where(e.ticket_id.in_(ids), e.kind == EventKind.CREATED)
            .order_by(e.id)
        )
        for ticket_id, message_id in tx.c.execute(query):
            origins.setdefault(ticket_id, message_id or "")
        mine = select(co.ticket_id, co.to_address, co.message_id).where(co.ticket_id.in_(ids))
        for ticket_id, address, message_id in tx.c.execute(mine.order_by(co.id)):
            ours[(ticket_id, address)].append(message_id)
    return Histories(origins, ours)


@dataclass
class Histories:
    """What each recipient has seen of some tickets, read at once; `saw` adds a mail
    queued since (a later mail of the same batch threads on it)."""

    origins: dict[int, str]
    ours: dict[tuple[int, str], list[str]]

    def of(self, ticket_id: int, address: str) -> History:
        ours = self.ours.get((ticket_id, address.lower()), [])
        return History(self.origins.get(ticket_id, ""), tuple(ours))

    def saw(self, ticket_id: int, address: str, message_id: str) -> None:
        self.ours.setdefault((ticket_id, address.lower()), []).append(message_id)
