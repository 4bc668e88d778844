"""digest_runs: one row per digest period sent.  The row's unique key (kind, group,
first day) makes a period's digest go out once across daemons: the insert that wins
queues the mails in the same transaction, a losing insert changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from maildesk.db import DigestRun
from maildesk.digest.model import Period
from maildesk.store.base import T_INBOUND, T_TICKETS, Tx

T_DIGEST_RUNS = DigestRun
cd = T_DIGEST_RUNS.c
KEY = ["kind", "group_name", "first_day"]
_INSERTS: dict[str, Any] = {}


@dataclass(frozen=True)
class DigestRunRow:
    kind: str
    group: str
    first_day: date
    last_day: date
    state: str
    created_at: datetime
    recipients: int


def _insert(tx: Tx) -> Any:
    """INSERT … ON CONFLICT (kind, group_name, first_day) DO NOTHING, per dialect: on
    PostgreSQL a second inserter waits for the first to commit, then inserts nothing."""
    name = tx.c.dialect.name
    if name not in _INSERTS:
        module: Any = postgresql if name == "postgresql" else sqlite
        statement = module.insert(T_DIGEST_RUNS).on_conflict_do_nothing(index_elements=KEY)
        _INSERTS[name] = statement.returning(cd.id)  # psycopg's rowcount says -1 here
    return _INSERTS[name]


def record(tx: Tx, period: Period, group: str, recipients: int, now: datetime) -> bool:
    """Record the period's digest as queued; False when a row was there already (another
    daemon, or an earlier tick, sent it)."""
    values = {"kind": period.kind.value, "group_name": group, "first_day": period.first_day,
              "last_day": period.last_day, "state": "queued", "created_at": now,
              "recipients": recipients}  # fmt: skip
    return tx.c.execute(_insert(tx), values).scalar() is not None


Key = tuple[str, str, date]  # (kind, group, first day)


def key(period: Period, group: str) -> Key:
    return (period.kind.value, group, period.first_day)


def recorded(tx: Tx, keys: Sequence[Key]) -> set[Key]:
    """Which of these periods have a row, in one query (by the unique key's index)."""
    if not keys:
        return set()
    days = sorted({day for _, _, day in keys})
    query = select(cd.kind, cd.group_name, cd.first_day).where(cd.first_day.in_(days))
    return {(k, g, d) for k, g, d in tx.c.execute(query)} & set(keys)


def listing(tx: Tx, limit: int = 100) -> list[DigestRunRow]:
    query = select(T_DIGEST_RUNS).order_by(cd.first_day.desc(), cd.id.desc()).limit(limit)
    return [
        DigestRunRow(
            r.kind, r.group_name, r.first_day, r.last_day, r.state, r.created_at, r.recipients
        )
        for r in tx.c.execute(query)
    ]


def desk_started(tx: Tx) -> datetime | None:
    """When the desk first received mail or opened a ticket (oldest rows by primary key:
    one index step each); None for a desk that has had neither."""
    first_mail = tx.c.scalar(select(T_INBOUND.c.received_at).order_by(T_INBOUND.c.id).limit(1))
    first_ticket = tx.c.scalar(select(T_TICKETS.c.created_at).order_by(T_TICKETS.c.id).limit(1))
    known = [t for t in (first_mail, first_ticket) if t is not None]
    return min(known) if known else None
