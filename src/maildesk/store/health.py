"""Read-only questions `maildesk status` asks: the journal's backlog, the oldest
mail waiting to be sent, quarantined messages, who holds each lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from maildesk.store.base import T_LEASES, T_MAILBOXES, Tx, ci, co


def journal_backlog(tx: Tx) -> tuple[int, datetime | None]:
    """How many journal entries wait to be processed, and when the oldest arrived."""
    row = tx.c.execute(
        select(func.count(), func.min(ci.received_at)).where(ci.status == "pending")
    ).one()
    return int(row[0]), row[1]


def quarantine_count(tx: Tx) -> int:
    return int(tx.c.scalar(select(func.count()).where(ci.status == "quarantined")) or 0)


def oldest_pending_mail(tx: Tx) -> datetime | None:
    """When the oldest outgoing mail still waiting (pending or sending) was queued."""
    query = select(func.min(co.created_at)).where(co.status.in_(("pending", "sending")))
    oldest: datetime | None = tx.c.scalar(query)
    return oldest


def mailbox_positions(tx: Tx) -> dict[str, int]:
    m = T_MAILBOXES.c
    return {r.name: int(r.last_uid) for r in tx.c.execute(select(m.name, m.last_uid))}


def lease_holders(tx: Tx) -> dict[str, tuple[str, datetime]]:
    le = T_LEASES.c
    rows = tx.c.execute(select(le.name, le.holder, le.expires_at))
    return {r.name: (r.holder, r.expires_at) for r in rows}
