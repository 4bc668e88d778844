"""Mail a limit held back (held/): what is still held, and what replaced it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    bindparam,
    func,
    select,
    update,
)

from maildesk.store.base import T_OUTBOX, T_TICKETS, Tx, co, ct


@dataclass(frozen=True)
class HeldMail:
    id: int
    kind: str
    to_address: str
    reason: str
    held_at: datetime


@dataclass(frozen=True)
class HeldOnTicket:
    """The mail held back on one ticket (ticket_id None: mail about no ticket)."""

    ticket_id: int | None
    ticket_number: str
    group: str
    mails: tuple[HeldMail, ...]


def held_since(tx: Tx, since: datetime) -> list[HeldOnTicket]:
    """Mail still held that was held back at or after `since`, grouped by ticket (the
    ticket whose mail was held first comes first), oldest mail first in each."""
    by_ticket: dict[int | None, list[Any]] = {}
    for row in tx.c.execute(HELD_SINCE, {"since": since}):
        by_ticket.setdefault(row.ticket_id, []).append(row)
    return [_held_on(rows) for rows in by_ticket.values()]


def _held_on(rows: list[Any]) -> HeldOnTicket:
    mails = tuple(HeldMail(r.id, r.kind, r.to_address, r.held_reason, r.created_at) for r in rows)
    first = rows[0]
    return HeldOnTicket(first.ticket_id, first.number or "", first.group_name or "", mails)


HELD_SINCE = (
    select(co.id, co.ticket_id, ct.number, ct.group_name, co.kind, co.to_address,
           co.held_reason, co.created_at)
    .join(T_TICKETS, ct.id == co.ticket_id, isouter=True)
    .where(co.status == "held", co.created_at >= bindparam("since"))
    .order_by(co.id)
)  # fmt: skip


def mark_summarised(tx: Tx, outbox_ids: list[int]) -> None:
    """Held mail a summary replaced: kept (and listed) as `summarised`, never sent."""
    if outbox_ids:
        tx.c.execute(
            update(T_OUTBOX)
            .where(co.id.in_(outbox_ids), co.status == "held")
            .values(status="summarised")
        )


def last_of_kind_to(tx: Tx, address: str, kind: str) -> datetime | None:
    """When we last queued a mail of this kind to this address."""
    query = select(func.max(co.created_at)).where(co.to_address == address.lower(), co.kind == kind)
    found: datetime | None = tx.c.execute(query).scalar()
    return found
