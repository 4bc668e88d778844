"""Timers: what the clock owes a ticket, one row per key (ticket, kind, step).

pending → done | cancelled.  `claim_due` takes due rows with a lease in one statement
(UPDATE … RETURNING; the rows chosen FOR UPDATE SKIP LOCKED on PostgreSQL, under the
write lock of BEGIN IMMEDIATE on SQLite), so two daemons never take one row.  A row
whose holder died keeps its lease until `lease_until` and is then claimed again; the
work it stood for was never committed (it is done in one transaction with `finish`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
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


def _upsert(dialect: str) -> Any:
    module: Any = postgresql if dialect == "postgresql" else sqlite
    insert = module.insert(T_TIMERS)
    return insert.on_conflict_do_update(
        index_elements=["key"], set_={"due_at": insert.excluded.due_at}, where=cm.state == "pending"
    )


UPSERT = {name: _upsert(name) for name in ("sqlite", "postgresql")}


def schedule_many(
    tx: Tx, ticket_id: int, plans: Sequence[tuple[str, int, datetime]], now: datetime
) -> None:
    """`schedule` for several (kind, step, due_at) of one ticket, in one statement."""
    if not plans:
        return
    rows = [{"key": key_of(ticket_id, kind, step), "ticket_id": ticket_id, "kind": kind,
             "step": step, "due_at": due_at, "state": "pending", "lease_holder": "",
             "lease_until": None, "created_at": now, "done_at": None, "outcome": ""}
            for kind, step, due_at in plans]  # fmt: skip
    tx.c.execute(UPSERT[tx.c.dialect.name], rows)


def next_step(tx: Tx, ticket_id: int, kind: str) -> int:
    """The step after the last one this ticket had of this kind (1 for the first)."""
    last = tx.c.scalar(select(func.max(cm.step)).where(cm.ticket_id == ticket_id, cm.kind == kind))
    return int(last or 0) + 1


CANCEL = (
    update(T_TIMERS)
    .where(
        cm.ticket_id == bindparam("b_ticket"),
        cm.kind.in_(bindparam("kinds", expanding=True)),
        cm.state == "pending",
    )
    .values(state="cancelled", done_at=bindparam("now"), outcome=bindparam("why"), lease_until=None)
)


def cancel(tx: Tx, ticket_id: int, kinds: Iterable[str], now: datetime, why: str) -> int:
    """Cancel the ticket's pending timers of these kinds; returns how many."""
    names = [str(k) for k in kinds]
    if not names:
        return 0
    values = {"b_ticket": ticket_id, "kinds": names, "now": now, "why": why[:2000]}
    return rowcount(tx.c.execute(CANCEL, values))


CANCEL_KIND = (
    update(T_TIMERS)
    .where(cm.ticket_id == bindparam("b_ticket"), cm.kind == bindparam("b_kind"),
           cm.state == "pending")
    .values(state="cancelled", done_at=bindparam("now"), outcome=bindparam("why"), lease_until=None)
)  # fmt: skip


def cancel_many(tx: Tx, cancels: Sequence[tuple[int, Iterable[str], str]], now: datetime) -> None:
    """`cancel` for several (ticket id, kinds, why), in order, in one statement."""
    params = [{"b_ticket": ticket_id, "b_kind": str(kind), "now": now, "why": why[:2000]}
              for ticket_id, kinds, why in cancels for kind in kinds]  # fmt: skip
    if params:
        tx.c.execute(CANCEL_KIND, params)


def _due(dialect: str) -> Select[Any]:
    """Pending, due, and not leased to a live holder: oldest due first, read from
    ix_timers_due (state, due_at, id), never from the tickets."""
    query = (
        select(cm.id)
        .where(cm.state == "pending", cm.due_at <= bindparam("now"))
        .where(or_(cm.lease_until.is_(None), cm.lease_until < bindparam("now")))
        .order_by(cm.due_at, cm.id)
        .limit(bindparam("limit"))
    )
    return query.with_for_update(skip_locked=True) if dialect == "postgresql" else query


def _claim(dialect: str) -> Any:
    return (
        update(T_TIMERS)
        .where(cm.id.in_(_due(dialect).scalar_subquery()))
        .values(lease_holder=bindparam("holder"), lease_until=bindparam("until"))
        .returning(cm.id, cm.key, cm.ticket_id, cm.kind, cm.step, cm.due_at, cm.state)
    )


CLAIM = {name: _claim(name) for name in ("sqlite", "postgresql")}
DUE_QUERY = {name: _due(name) for name in ("sqlite", "postgresql")}  # benchmarks/timers


def claim_due(tx: Tx, now: datetime, limit: int, holder: str, lease: timedelta) -> list[TimerRow]:
    """Lease up to `limit` due timers to `holder` until now + lease, oldest due first."""
    values = {"now": now, "limit": limit, "holder": holder, "until": now + lease}
    rows = tx.c.execute(CLAIM[tx.c.dialect.name], values).all()
    found = [TimerRow(r.id, r.key, r.ticket_id, r.kind, r.step, r.due_at, r.state, holder)
             for r in rows]  # fmt: skip
    return sorted(found, key=lambda t: (t.due_at, t.id))


def lock_batch(tx: Tx, claimed: Sequence[TimerRow], holder: str) -> set[int]:
    """The ids of these timers still pending and leased to `holder`.  On PostgreSQL their
    tickets' rows are locked first, then the timers' (a mail's transaction changes the
    ticket, then cancels its timers: one order, no deadlock), until the transaction
    ends, so a cancel waits for the work done under them."""
    if not claimed:
        return set()
    locking = tx.c.dialect.name == "postgresql"
    if locking:
        ticket_ids = sorted({t.ticket_id for t in claimed})
        tx.c.execute(select(ct.id).where(ct.id.in_(ticket_ids)).order_by(ct.id).with_for_update())
    query = select(cm.id).where(
        cm.id.in_([t.id for t in claimed]), cm.state == "pending", cm.lease_holder == holder
    )
    if locking:
        query = query.order_by(cm.id).with_for_update()
    return set(tx.c.scalars(query))


FINISH = (
    update(T_TIMERS)
    .where(cm.id == bindparam("b_id"))
    .values(state="done", done_at=bindparam("now"), outcome=bindparam("outcome"), lease_until=None)
)


def finish_many(tx: Tx, done: Sequence[tuple[int, str]], now: datetime) -> None:
    """Mark timers done, each with its outcome."""
    if done:
        tx.c.execute(FINISH, [{"b_id": i, "now": now, "outcome": why[:2000]} for i, why in done])


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
