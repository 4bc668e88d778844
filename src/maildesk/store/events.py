"""A ticket's history: one row per thing that happened to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, desc, func, insert, literal, select, union_all

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


@dataclass(frozen=True)
class Told:
    """What a reply's decision reads of its ticket's events (`told`)."""

    last_reply: LastReply | None  # the latest reply of a requester or watcher
    watchers_refused: bool  # the requester was told once of watchers refused
    earlier_texts: tuple[str, ...]  # as `earlier_texts` gives them


def _part(n: int, query: Select[Any], name: str) -> Select[Any]:
    """One part of TOLD: its rows (actor, at, text) numbered `n`, in its own order."""
    sub = query.subquery(name)
    return select(literal(n).label("part"), sub.c.ord, sub.c.actor, sub.c.at, sub.c.text)


_E = T_EVENTS.c
_BY_TICKET = select(_E.id.label("ord"), _E.actor, _E.at, _E.text).where(
    _E.ticket_id == bindparam("ticket_id")
)
TOLD = union_all(
    _part(0, _BY_TICKET.where(_E.kind == "reply").order_by(_E.id.desc()).limit(1), "last"),
    _part(1, _BY_TICKET.where(_E.kind == EventKind.WATCHER_REFUSED).limit(1), "refused"),
    _part(2, EARLIER_REPLIES.with_only_columns(_E.id.label("ord"), _E.actor, _E.at, _E.text),
          "earlier"),
    _part(3, FIRST_MAIL.with_only_columns(
        T_TICKETS.c.id.label("ord"), T_TICKETS.c.requester_email.label("actor"),
        T_TICKETS.c.created_at.label("at"), T_TICKETS.c.description.label("text")), "first"),
).order_by("part", desc("ord"))  # fmt: skip


def told(tx: Tx, ticket_id: int, sender: str, limit: int = 3) -> Told:
    """`last_reply`, `any_of` WATCHER_REFUSED and `earlier_texts` of a ticket, in one
    statement: each part an index lookup of its own."""
    params = {"ticket_id": ticket_id, "sender": sender.lower(), "limit": limit}
    last, refused, texts = None, False, []
    for part, _, actor, at, text in tx.c.execute(TOLD, params):
        if part == 0:
            last = LastReply(actor, at, text)
        elif part == 1:
            refused = True
        elif text:
            texts.append(text[:EARLIER_CHARS])
    return Told(last, refused, tuple(texts))
