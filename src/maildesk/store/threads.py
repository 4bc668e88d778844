"""Message-IDs seen on a ticket's mails, in and out: how replies find their ticket."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select

from maildesk.domain import EventKind, TicketRef
from maildesk.pipeline.mails import History
from maildesk.store import tickets, values
from maildesk.store.base import T_EVENTS, T_MSGIDS, Tx, ci, co


def remember_message_id(tx: Tx, message_id: str, ticket_id: int, direction: str) -> None:
    stored = values.message_id(message_id)
    if not stored:
        return
    row = {"message_id": stored, "ticket_id": ticket_id, "direction": direction}
    tx.c.execute(tx.d.message_id, row)


def ticket_by_message_ids(tx: Tx, message_ids: Sequence[str]) -> TicketRef | None:
    if not message_ids:
        return None
    rows = tx.c.execute(
        select(T_MSGIDS.c.message_id, T_MSGIDS.c.ticket_id).where(
            T_MSGIDS.c.message_id.in_(values.lookup_ids(list(message_ids)))
        )
    ).all()
    by_id = {r.message_id: r.ticket_id for r in rows}
    for mid in message_ids:  # first match in the caller's order of preference
        for form in (values.message_id(mid), mid):
            if form in by_id:
                return tickets.ref_by_id(tx, by_id[form])
    return None


ORIGIN = (
    select(ci.message_id)
    .join(T_EVENTS, T_EVENTS.c.inbound_id == ci.id)
    .where(T_EVENTS.c.ticket_id == bindparam("ticket_id"), T_EVENTS.c.kind == EventKind.CREATED)
    .limit(1)
)
OURS_TO = (
    select(co.message_id)
    .where(co.to_address == bindparam("address"), co.ticket_id == bindparam("ticket_id"))
    .order_by(co.id)
)


def history(tx: Tx, ticket_id: int, address: str) -> History:
    """What `address` has seen of the ticket: the requester's first message, then
    our earlier mails to them, oldest first (how the next mail threads)."""
    params = {"ticket_id": ticket_id, "address": address.lower()}
    origin = tx.c.execute(ORIGIN, params).scalar() or ""
    ours = tuple(tx.c.execute(OURS_TO, params).scalars())
    return History(origin, ours)
