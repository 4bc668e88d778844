"""A ticket's history: one row per thing that happened to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select

from maildesk.domain import EventKind, LastReply
from maildesk.store import values
from maildesk.store.base import T_EVENTS, T_TICKETS, Tx

INSERT_EVENT = insert(T_EVENTS)


def add(
    tx: Tx,
    ticket_id: int,
    now: datetime,
    actor: str,
    kind: str,
    inbound_id: int | None,
    text: str = "",
    field: str = "",
    old: str = "",
    new: str = "",
) -> None:
    tx.c.execute(INSERT_EVENT, row(ticket_id, now, actor, kind, inbound_id, text, field, old, new))


def row(
    ticket_id: int,
    now: datetime,
    actor: str,
    kind: str,
    inbound_id: int | None,
    text: str = "",
    field: str = "",
    old: str = "",
    new: str = "",
) -> dict[str, Any]:
    """One event as stored (for `add_many`)."""
    return values.row({
        "ticket_id": ticket_id, "at": now, "actor": actor, "kind": kind, "field": field,
        "old_value": old, "new_value": new, "text": text, "inbound_id": inbound_id,
    })  # fmt: skip


def add_many(tx: Tx, rows: Sequence[Mapping[str, Any]]) -> None:
    """Several events (from `row`) in one statement, in this order."""
    if rows:
        tx.c.execute(INSERT_EVENT, list(rows))


def listing(tx: Tx, ticket_id: int) -> list[dict[str, Any]]:
    e = T_EVENTS.c
    query = select(T_EVENTS).where(e.ticket_id == ticket_id).order_by(e.id)
    return [
        {
            "at": r["at"].isoformat(),
            "actor": r["actor"],
            "kind": r["kind"],
            "field": r["field"],
            "old": r["old_value"],
            "new": r["new_value"],
            "text": r["text"],
            "inbound_id": r["inbound_id"],
        }
        for r in tx.c.execute(query).mappings()
    ]


LAST_REPLY = (
    select(T_EVENTS.c.actor, T_EVENTS.c.at, T_EVENTS.c.text)
    .where(T_EVENTS.c.ticket_id == bindparam("ticket_id"), T_EVENTS.c.kind == "reply")
    .order_by(T_EVENTS.c.id.desc())
    .limit(1)
)


def last_reply(tx: Tx, ticket_id: int) -> LastReply | None:
    """The latest reply of a requester or watcher on the ticket (for held/policy)."""
    row = tx.c.execute(LAST_REPLY, {"ticket_id": ticket_id}).first()
    return LastReply(row.actor, row.at, row.text) if row else None


EARLIER_REPLIES = (
    select(T_EVENTS.c.text)
    .where(
        T_EVENTS.c.ticket_id == bindparam("ticket_id"),
        func.lower(T_EVENTS.c.actor) == bindparam("sender"),
        T_EVENTS.c.kind == EventKind.REPLY,
    )
    .order_by(T_EVENTS.c.id.desc())
    .limit(bindparam("limit"))
)
FIRST_MAIL = select(T_TICKETS.c.description).where(
    T_TICKETS.c.id == bindparam("ticket_id"),
    func.lower(T_TICKETS.c.requester_email) == bindparam("sender"),
)
EARLIER_CHARS = 20_000  # of each text: a signature ends what the person wrote, near the top


def earlier_texts(tx: Tx, ticket_id: int, sender: str, limit: int = 3) -> list[str]:
    """What the sender wrote on the ticket before: their latest replies (as shown), newest
    first, then the first mail whole when they opened the ticket.  Read from the database
    as stored: nothing is parsed again."""
    values = {"ticket_id": ticket_id, "sender": sender.lower(), "limit": limit}
    texts = [row.text for row in tx.c.execute(EARLIER_REPLIES, values)]
    texts.extend(row.description for row in tx.c.execute(FIRST_MAIL, values))
    return [text[:EARLIER_CHARS] for text in texts if text]


def any_of(tx: Tx, ticket_id: int, kind: str) -> bool:
    """Has the ticket an event of this kind?"""
    query = select(T_EVENTS.c.id).where(T_EVENTS.c.ticket_id == ticket_id, T_EVENTS.c.kind == kind)
    return tx.c.execute(query.limit(1)).first() is not None
