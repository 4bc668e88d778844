"""A ticket's history: one row per thing that happened to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select

from maildesk.domain import LastReply
from maildesk.store import values
from maildesk.store.base import T_EVENTS, Tx

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
    row = {
        "ticket_id": ticket_id, "at": now, "actor": actor, "kind": kind, "field": field,
        "old_value": old, "new_value": new, "text": text, "inbound_id": inbound_id,
    }  # fmt: skip
    tx.c.execute(INSERT_EVENT, values.row(row))


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


def any_of(tx: Tx, ticket_id: int, kind: str) -> bool:
    """Has the ticket an event of this kind?"""
    query = select(T_EVENTS.c.id).where(T_EVENTS.c.ticket_id == ticket_id, T_EVENTS.c.kind == kind)
    return tx.c.execute(query.limit(1)).first() is not None
