"""Heartbeats of the supervised loops: per loop and node, the last success and the
last error.  Written by supervise.Heartbeat (at most every few seconds), read by
`maildesk status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from maildesk.store.base import T_HEARTBEATS, Tx, rowcount

h = T_HEARTBEATS.c


@dataclass(frozen=True)
class HeartbeatRow:
    name: str
    node: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str


def record_success(tx: Tx, name: str, node: str, now: datetime) -> None:
    _upsert(tx, name, node, {"last_success_at": now})


def record_error(tx: Tx, name: str, node: str, now: datetime, error: str) -> None:
    _upsert(tx, name, node, {"last_error_at": now, "last_error": error[:500]})


def _upsert(tx: Tx, name: str, node: str, values: dict[str, Any]) -> None:
    where = (h.name == name) & (h.node == node)
    if rowcount(tx.c.execute(update(T_HEARTBEATS).where(where).values(**values))) == 0:
        tx.c.execute(insert(T_HEARTBEATS).values(name=name, node=node, **values))


def listing(tx: Tx) -> list[HeartbeatRow]:
    rows = tx.c.execute(select(T_HEARTBEATS).order_by(h.name, h.node)).all()
    return [
        HeartbeatRow(r.name, r.node, r.last_success_at, r.last_error_at, r.last_error or "")
        for r in rows
    ]
