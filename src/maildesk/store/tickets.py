"""Tickets: numbering, creating, changing, reading them back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from maildesk.domain import Change, EventKind, NewTicket, Status, TicketRef, TicketView
from maildesk.store import events, participants
from maildesk.store import values as stored
from maildesk.store.base import T_TICKETS, T_WATCHERS, Tx, ct
from maildesk.vocab import say

INSERT_TICKET = insert(T_TICKETS).returning(ct.id)
TOUCH_TICKET = (
    update(T_TICKETS).where(ct.id == bindparam("b_id")).values(updated_at=bindparam("now"))
)
TICKET_BY_NUMBER = select(T_TICKETS).where(ct.number == bindparam("number"))
TICKET_BY_ID = select(T_TICKETS).where(ct.id == bindparam("id"))

COLUMN = {"group": "group_name"}
FIELD = {column: field for field, column in COLUMN.items()}
CLOSED_STATES = (Status.RESOLVED.value, Status.CLOSED.value, Status.REJECTED.value)


def next_sequence(tx: Tx, key: str) -> int:
    """Per-key counter; the row lock makes it unique and gap-free across daemons."""
    value = tx.c.execute(tx.d.next_sequence, {"key": key}).scalar()
    assert value is not None
    return int(value)


def create(
    tx: Tx, number: str, new: NewTicket, now: datetime, inbound_id: int | None
) -> TicketView:
    values = {
        "number": number, "subject": new.subject, "description": new.description,
        "requester_name": new.requester.name, "requester_email": new.requester.email,
        "department": new.department, "employee_id": new.employee_id,
        "status": new.status,
        "priority": new.priority, "category": new.category, "type": new.type,
        "assignee": new.assignee, "group_name": new.group, "created_at": now,
        "updated_at": now, "first_response_at": None, "resolved_at": None,
        "closed_at": None, "linked_ticket_id": new.linked_to.id if new.linked_to else None,
    }  # fmt: skip
    values = stored.row(values)
    ticket_id = tx.c.execute(INSERT_TICKET, values).scalar_one()
    _record_creation(tx, ticket_id, new, now, inbound_id)
    linked = new.linked_to.number if new.linked_to else ""
    return _view({**values, "id": ticket_id}, linked)


def _record_creation(
    tx: Tx, ticket_id: int, new: NewTicket, now: datetime, inbound_id: int | None
) -> None:
    """The events of a new ticket (created, routed, linked) and its first watchers: the
    events in one statement before the watchers, and one after."""
    requester = new.requester.email
    first = [events.row(ticket_id, now, requester, EventKind.CREATED, inbound_id)]
    if new.assignee or new.group:
        field = "assignee" if new.assignee else ""
        first.append(events.row(ticket_id, now, "maildesk", EventKind.ROUTED, inbound_id,
                                field=field, new=new.assignee,
                                text=f"group {new.group or '-'}"))  # fmt: skip
    if new.linked_to:
        link = new.linked_to.number
        first.append(events.row(ticket_id, now, requester, EventKind.LINKED, inbound_id,
                                field="linked_ticket", new=link, text=new.link_reason))  # fmt: skip
    events.add_many(tx, first)
    for watcher in new.watchers:
        participants.add_watcher(tx, ticket_id, watcher, now, requester, inbound_id)
    refused = [events.row(ticket_id, now, requester, EventKind.WATCHER_REFUSED, inbound_id,
                          field="watchers", new=who.email, text=say(why, "en"))
               for who, why in new.refused_watchers]  # fmt: skip
    events.add_many(tx, refused)


def change(
    tx: Tx, ticket_id: int, changes: Sequence[Change], now: datetime, actor: str,
    inbound_id: int | None, status: str | None = None,
) -> None:  # fmt: skip
    """Apply field changes, each an event; resolving and closing stamp their time."""
    for one in changes:
        events.add(tx, ticket_id, now, actor, EventKind.CHANGED, inbound_id,
                   field=one.field, old=one.old, new=one.new)  # fmt: skip
    values = changed_columns(changes, now, status)
    tx.c.execute(update(T_TICKETS).where(ct.id == ticket_id).values(**values))


def changed_columns(
    changes: Sequence[Change], now: datetime, status: str | None = None
) -> dict[str, Any]:
    """The columns `change` sets (its events aside): the fields, updated_at, and the
    time of resolving or closing."""
    values: dict[str, Any] = {"updated_at": now}
    if status is not None:
        values["status"] = status
    for one in changes:
        values[COLUMN.get(one.field, one.field)] = one.new
    status = values.get("status")
    if status == Status.RESOLVED:
        values["resolved_at"] = now
    elif status == Status.CLOSED:
        values["closed_at"] = now
    elif status is not None:
        values.update(resolved_at=None, closed_at=None)
    return stored.row(values)


def update_many(tx: Tx, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Several tickets' `changed_columns`, in order: one statement per run of updates
    setting the same columns."""
    runs: list[tuple[tuple[str, ...], list[dict[str, Any]]]] = []
    for ticket_id, values in updates:
        if not runs or runs[-1][0] != tuple(values):
            runs.append((tuple(values), []))
        runs[-1][1].append({"b_id": ticket_id, **{f"v_{k}": v for k, v in values.items()}})
    for columns, params in runs:
        query = update(T_TICKETS).where(ct.id == bindparam("b_id"))
        tx.c.execute(query.values({k: bindparam(f"v_{k}") for k in columns}), params)


def with_columns(ticket: TicketView, values: dict[str, Any]) -> TicketView:
    """The view of a ticket after `update_many` set these columns (no read back)."""
    fields = {FIELD.get(k, k): v for k, v in values.items()}
    return dataclasses.replace(ticket, **fields)


def record_reopened(
    tx: Tx, ticket_id: int, move: Change, now: datetime, actor: str, inbound_id: int | None
) -> None:
    """A user's reply took the ticket back to work (the lifecycle decided where)."""
    change(tx, ticket_id, (), now, actor, inbound_id, status=move.new)
    events.add(tx, ticket_id, now, actor, EventKind.REOPENED, inbound_id,
               field="status", old=move.old, new=move.new)  # fmt: skip


def first_response(tx: Tx, ticket_id: int, now: datetime) -> None:
    tx.c.execute(
        update(T_TICKETS)
        .where(ct.id == ticket_id, ct.first_response_at.is_(None))
        .values(first_response_at=now)
    )


def touch(tx: Tx, ticket_id: int, now: datetime) -> None:
    tx.c.execute(TOUCH_TICKET, {"b_id": ticket_id, "now": now})


_WITH_WATCHERS = select(T_TICKETS, T_WATCHERS.c.email.label("watcher")).join(
    T_WATCHERS, T_WATCHERS.c.ticket_id == ct.id, isouter=True
)
REF_BY_NUMBER = _WITH_WATCHERS.where(ct.number == bindparam("number"))
REF_BY_ID = _WITH_WATCHERS.where(ct.id == bindparam("id"))


def by_number(tx: Tx, number: str) -> TicketRef | None:
    """The ticket with this number and its watchers, in one statement."""
    return _ref(list(tx.c.execute(REF_BY_NUMBER, {"number": number}).mappings()))


def ref_by_id(tx: Tx, ticket_id: int) -> TicketRef | None:
    """The ticket with this id and its watchers, in one statement."""
    return _ref(list(tx.c.execute(REF_BY_ID, {"id": ticket_id}).mappings()))


def by_id(tx: Tx, ticket_id: int) -> TicketView:
    row = tx.c.execute(TICKET_BY_ID, {"id": ticket_id}).mappings().one()
    linked = row["linked_ticket_id"]
    number = tx.c.scalar(select(ct.number).where(ct.id == linked)) if linked else ""
    return _view(row, number or "")


LINKED = T_TICKETS.alias("linked")


def by_ids(tx: Tx, ticket_ids: Iterable[int]) -> dict[int, TicketView]:
    """Several tickets in one query, by id."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    query = (
        select(T_TICKETS, LINKED.c.number.label("linked_number"))
        .join(LINKED, LINKED.c.id == ct.linked_ticket_id, isouter=True)
        .where(ct.id.in_(ids))
    )
    rows = tx.c.execute(query).mappings()
    return {row["id"]: _view(row, row["linked_number"] or "") for row in rows}


def view(tx: Tx, number: str) -> TicketView | None:
    row = tx.c.execute(TICKET_BY_NUMBER, {"number": number}).mappings().first()
    return _view(row) if row else None


def listing(tx: Tx, status: str | None = None, limit: int = 100) -> list[TicketView]:
    query = select(T_TICKETS).order_by(ct.id.desc()).limit(limit)
    if status:
        query = query.where(ct.status == status)
    return [_view(row) for row in tx.c.execute(query).mappings()]


def count(tx: Tx) -> int:
    return int(tx.c.scalar(select(func.count()).select_from(T_TICKETS)) or 0)


OPEN_STATES = tuple(s.value for s in Status if s.value not in CLOSED_STATES)
OPEN_COUNTS = (
    select(ct.assignee, func.count())
    .where(ct.status.in_(OPEN_STATES), ct.assignee.in_(bindparam("people", expanding=True)))
    .group_by(ct.assignee)
)


def open_counts(tx: Tx, people: Sequence[str]) -> dict[str, int]:
    """Open tickets of each of these assignees: reads the open tickets only (status
    index), so the cost follows the backlog, never the years of closed tickets."""
    if not people:
        return {}
    rows = tx.c.execute(OPEN_COUNTS, {"people": list(people)}).all()
    return {a: int(n) for a, n in rows}


def _ref(rows: Sequence[Any]) -> TicketRef | None:
    """A ticket from its rows joined with its watchers (one row per watcher, or one
    with none)."""
    if not rows:
        return None
    row = rows[0]
    watchers = frozenset(r["watcher"] for r in rows if r["watcher"] is not None)
    return TicketRef(
        row["id"], row["number"], row["status"], row["subject"], row["requester_email"],
        watchers=watchers, closed_at=row["closed_at"],
        priority=row["priority"], category=row["category"], assignee=row["assignee"],
        group=row["group_name"], requester_name=row["requester_name"],
        created_at=row["created_at"], first_response_at=row["first_response_at"],
    )  # fmt: skip


def _view(row: Any, linked_number: str = "") -> TicketView:
    return TicketView(
        id=row["id"],
        number=row["number"],
        subject=row["subject"],
        description=row["description"],
        requester_name=row["requester_name"],
        requester_email=row["requester_email"],
        department=row["department"],
        employee_id=row["employee_id"],
        status=row["status"],
        priority=row["priority"],
        category=row["category"],
        type=row["type"],
        assignee=row["assignee"],
        group=row["group_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        first_response_at=row["first_response_at"],
        resolved_at=row["resolved_at"],
        closed_at=row["closed_at"],
        linked_number=linked_number,
    )
