"""Timers: what the clock owes a ticket, one row per key (ticket, kind, step).

pending → done | cancelled.  `claim_due` takes due rows with a lease in one statement
(UPDATE … RETURNING; the rows chosen FOR UPDATE SKIP LOCKED on PostgreSQL, under the
write lock of BEGIN IMMEDIATE on SQLite), so two daemons never take one row.  A row
whose holder died keeps its lease until `lease_until` and is then claimed again; the
work it stood for was never committed (it is done in one transaction with `finish`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from maildesk.store.base import T_TICKETS, T_TIMERS, Tx, ct, rowcount

cm = T_TIMERS.c


@dataclass(frozen=True)
class TimerRow:
    id: int
    key: str
    ticket_id: int
    kind: str
    step: int
    due_at: datetime
    state: str
    lease_holder: str = ""
    ticket_number: str = ""


def key_of(ticket_id: int, kind: str, step: int) -> str:
    return f"{ticket_id}:{kind}:{step}"


def schedule(tx: Tx, ticket_id: int, kind: str, step: int, due_at: datetime, now: datetime) -> None:
    """Add the timer; one with this key already pending moves to `due_at`; a key done
    or cancelled stays as it is (a step happens once)."""
    module: Any = postgresql if tx.c.dialect.name == "postgresql" else sqlite
    row = {"key": key_of(ticket_id, kind, step), "ticket_id": ticket_id, "kind": kind,
           "step": step, "due_at": due_at, "state": "pending", "lease_holder": "",
           "lease_until": None, "created_at": now, "done_at": None, "outcome": ""}  # fmt: skip
    insert = module.insert(T_TIMERS).values(**row)
    tx.c.execute(
        insert.on_conflict_do_update(
            index_elements=["key"],
            set_={"due_at": insert.excluded.due_at},
            where=cm.state == "pending",
        )
    )


def next_step(tx: Tx, ticket_id: int, kind: str) -> int:
    """The step after the last one this ticket had of this kind (1 for the first)."""
    last = tx.c.scalar(select(func.max(cm.step)).where(cm.ticket_id == ticket_id, cm.kind == kind))
    return int(last or 0) + 1


def cancel(tx: Tx, ticket_id: int, kinds: Iterable[str], now: datetime, why: str) -> int:
    """Cancel the ticket's pending timers of these kinds; returns how many."""
    names = list(kinds)
    if not names:
        return 0
    result = tx.c.execute(
        update(T_TIMERS)
        .where(cm.ticket_id == ticket_id, cm.kind.in_(names), cm.state == "pending")
        .values(state="cancelled", done_at=now, outcome=why[:2000], lease_until=None)
    )
    return rowcount(result)


def _due_ids(dialect: str) -> Any:
    """Pending, due, and not leased to a live holder: oldest due first, from the index."""
    query = (
        select(cm.id)
        .where(cm.state == "pending", cm.due_at <= bindparam("now"))
        .where(or_(cm.lease_until.is_(None), cm.lease_until < bindparam("now")))
        .order_by(cm.due_at, cm.id)
        .limit(bindparam("limit"))
    )
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query.scalar_subquery()


def _claim(dialect: str) -> Any:
    return (
        update(T_TIMERS)
        .where(cm.id.in_(_due_ids(dialect)))
        .values(lease_holder=bindparam("holder"), lease_until=bindparam("until"))
        .returning(cm.id, cm.key, cm.ticket_id, cm.kind, cm.step, cm.due_at, cm.state)
    )


CLAIM = {name: _claim(name) for name in ("sqlite", "postgresql")}
DUE_QUERY = {name: _due_ids(name) for name in ("sqlite", "postgresql")}  # for EXPLAIN


def claim_due(tx: Tx, now: datetime, limit: int, holder: str, lease: timedelta) -> list[TimerRow]:
    """Lease up to `limit` due timers to `holder` until now + lease, oldest due first."""
    values = {"now": now, "limit": limit, "holder": holder, "until": now + lease}
    rows = tx.c.execute(CLAIM[tx.c.dialect.name], values).all()
    found = [TimerRow(r.id, r.key, r.ticket_id, r.kind, r.step, r.due_at, r.state, holder)
             for r in rows]  # fmt: skip
    return sorted(found, key=lambda t: (t.due_at, t.id))


LOCK_HELD = (
    select(cm.id)
    .where(cm.id == bindparam("id"), cm.state == "pending", cm.lease_holder == bindparam("holder"))
    .with_for_update()
)


def still_ours(tx: Tx, timer_id: int, holder: str) -> bool:
    """Is the timer still pending and leased to us?  Locks it until the transaction
    ends (PostgreSQL), so a cancel waits for the work done under it."""
    return tx.c.execute(LOCK_HELD, {"id": timer_id, "holder": holder}).first() is not None


def lock_ticket(tx: Tx, ticket_id: int) -> None:
    """Take the ticket's row lock first, as a mail's transaction does when it changes
    the ticket and then cancels its timers: one order, no deadlock."""
    if tx.c.dialect.name == "postgresql":
        tx.c.execute(select(ct.id).where(ct.id == ticket_id).with_for_update())


FINISH = (
    update(T_TIMERS)
    .where(cm.id == bindparam("b_id"))
    .values(state="done", done_at=bindparam("now"), outcome=bindparam("outcome"), lease_until=None)
)


def finish(tx: Tx, timer_id: int, now: datetime, outcome: str) -> None:
    tx.c.execute(FINISH, {"b_id": timer_id, "now": now, "outcome": outcome[:2000]})


def release(tx: Tx, timer_id: int) -> None:
    """Give back one leased timer untouched (deferred to working time)."""
    tx.c.execute(
        update(T_TIMERS).where(cm.id == timer_id).values(lease_holder="", lease_until=None)
    )


def release_own(tx: Tx, holder_prefix: str) -> int:
    """Give back leases an earlier run of this node held (it died): due again at once."""
    result = tx.c.execute(
        update(T_TIMERS)
        .where(cm.state == "pending", cm.lease_holder.startswith(holder_prefix, autoescape=True))
        .values(lease_holder="", lease_until=None)
    )
    return rowcount(result)


def pending(tx: Tx, limit: int = 1000) -> list[TimerRow]:
    """Pending timers, soonest first, with their ticket's number."""
    query = (
        select(
            cm.id,
            cm.key,
            cm.ticket_id,
            cm.kind,
            cm.step,
            cm.due_at,
            cm.state,
            cm.lease_holder,
            ct.number,
        )
        .join(T_TICKETS, and_(ct.id == cm.ticket_id))
        .where(cm.state == "pending")
        .order_by(cm.due_at, cm.id)
        .limit(limit)
    )
    return [TimerRow(*row) for row in tx.c.execute(query).all()]


def of_ticket(tx: Tx, ticket_id: int) -> list[TimerRow]:
    query = select(cm.id, cm.key, cm.ticket_id, cm.kind, cm.step, cm.due_at, cm.state,
                   cm.lease_holder).where(cm.ticket_id == ticket_id).order_by(cm.id)  # fmt: skip
    return [TimerRow(*row) for row in tx.c.execute(query).all()]
