"""SLA targets: one row per (ticket, target) with its due time (sla/targets.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from maildesk.domain import EventKind
from maildesk.sla.targets import Target
from maildesk.store.base import (
    T_CALENDAR_DAYS,
    T_CALENDAR_YEARS,
    T_EVENTS,
    T_SLA,
    T_TICKETS,
    T_TIMERS,
    Tx,
    ct,
)

cs = T_SLA.c
FIELDS = ("target", "calendar", "minutes", "started_at", "paused_minutes", "paused_since",
          "due_at", "met_at", "provisional")  # fmt: skip


def _target(row: object) -> Target:
    return Target(*(getattr(row, name) for name in FIELDS))


def of_ticket(tx: Tx, ticket_id: int) -> dict[str, Target]:
    rows = tx.c.execute(select(*(cs[f] for f in FIELDS)).where(cs.ticket_id == ticket_id))
    return {r.target: _target(r) for r in rows}


def of_tickets(tx: Tx, ticket_ids: Iterable[int]) -> dict[int, dict[str, Target]]:
    ids = list(ticket_ids)
    out: dict[int, dict[str, Target]] = {i: {} for i in ids}
    if ids:
        query = select(cs.ticket_id, *(cs[f] for f in FIELDS)).where(cs.ticket_id.in_(ids))
        for r in tx.c.execute(query):
            out[r.ticket_id][r.target] = _target(r)
    return out


INSERT_TARGET = insert(T_SLA)
UPDATE_TARGET = (
    update(T_SLA)
    .where(cs.ticket_id == bindparam("b_ticket_id"), cs.target == bindparam("b_target"))
    .values({f: bindparam(f"v_{f}") for f in FIELDS})
)


def put_many(
    tx: Tx, ticket_id: int, old: Mapping[str, Target | None], new: Mapping[str, Target]
) -> None:
    """Store the ticket's targets `new` (by name) over the `old` ones: unchanged rows are
    not written; the new rows in one statement, the changed ones in another."""
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for name, target in new.items():
        before = old.get(name)
        if before is None:
            inserts.append({"ticket_id": ticket_id, **asdict(target)})
        elif before != target:
            values = {f"v_{k}": v for k, v in asdict(target).items()}
            updates.append({"b_ticket_id": ticket_id, "b_target": name, **values})
    if inserts:
        tx.c.execute(INSERT_TARGET, inserts)
    if updates:
        tx.c.execute(UPDATE_TARGET, updates)


def drop(tx: Tx, ticket_id: int, target: str) -> None:
    tx.c.execute(delete(T_SLA).where(cs.ticket_id == ticket_id, cs.target == target))


def unschedule(tx: Tx, ticket_id: int, kinds: Sequence[str], below_step: int,
               cycle: int) -> None:  # fmt: skip
    """Remove the ticket's pending timers of these kinds with a step below this, a
    recurring target's cycles (multiples of `cycle`) set aside (done ones stay: a step
    happens once); they are scheduled again from the targets."""
    tm = T_TIMERS.c
    tx.c.execute(delete(T_TIMERS).where(tm.ticket_id == ticket_id, tm.kind.in_(list(kinds)),
                                        tm.state == "pending",
                                        tm.step % cycle < below_step))  # fmt: skip


def last_public_reply(tx: Tx, ticket_id: int) -> tuple[int, datetime | None]:
    """How many public replies (an engineer's words to the requester) the ticket had,
    and when the last one went: the update target's cycle and start."""
    te = T_EVENTS.c
    query = select(func.count(), func.max(te.at)).where(
        te.ticket_id == ticket_id, te.kind == EventKind.PUBLIC_REPLY
    )
    count, at = tx.c.execute(query).one()
    return int(count or 0), at


def open_ticket_ids(tx: Tx) -> list[int]:
    """Tickets with a target still running or paused (a calendar change moves them)."""
    query = select(cs.ticket_id).where(cs.met_at.is_(None)).distinct().order_by(cs.ticket_id)
    return list(tx.c.scalars(query))


def due_before(tx: Tx, until: datetime, limit: int = 1000) -> list[tuple[str, Target]]:
    """Running targets due before `until`, soonest first, with their ticket's number."""
    query = (
        select(ct.number, *(cs[f] for f in FIELDS))
        .join(T_TICKETS, ct.id == cs.ticket_id)
        .where(cs.met_at.is_(None), cs.due_at.is_not(None), cs.due_at < until)
        .order_by(cs.due_at, cs.id)
        .limit(limit)
    )
    return [(r.number, _target(r)) for r in tx.c.execute(query)]


def calendar_version(tx: Tx) -> tuple[object, ...]:
    """Changes whenever the stored calendar does (a day or a year written or removed):
    a Calendar built from an equal version is the same."""
    return tuple(tx.c.execute(VERSION).one())


_D, _Y = T_CALENDAR_DAYS.c, T_CALENDAR_YEARS.c
VERSION = select(
    select(func.count()).select_from(T_CALENDAR_DAYS).scalar_subquery(),
    select(func.max(_D.imported_at)).scalar_subquery(),
    select(func.count()).select_from(T_CALENDAR_YEARS).scalar_subquery(),
    select(func.max(_Y.imported_at)).scalar_subquery(),
)
