"""Mailbox positions (UIDVALIDITY, last UID) and the leases that let one daemon poll each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, or_, select, update

from maildesk.store.base import T_LEASES, T_MAILBOXES, Tx, rowcount


def mailbox_state(tx: Tx, name: str) -> tuple[int, int] | None:
    m = T_MAILBOXES.c
    row = tx.c.execute(select(m.uidvalidity, m.last_uid).where(m.name == name)).first()
    return (int(row[0]), int(row[1])) if row else None


def save_mailbox_state(tx: Tx, name: str, uidvalidity: int, last_uid: int) -> None:
    m = T_MAILBOXES.c
    values = {"uidvalidity": uidvalidity, "last_uid": last_uid}
    result = tx.c.execute(update(T_MAILBOXES).where(m.name == name).values(**values))
    if rowcount(result) == 0:
        tx.c.execute(insert(T_MAILBOXES).values(name=name, **values))


def take_lease(tx: Tx, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Hold `name` until now+ttl if it is free, expired, or already ours.

    `holder` is "node:pid": a restarted daemon (same node, new pid) takes its
    predecessor's lease at once instead of waiting for it to expire.
    """
    node = holder.rsplit(":", 1)[0] + ":"
    lease = T_LEASES.c
    tx.c.execute(tx.d.lease, {"name": name, "holder": holder, "expires_at": now + ttl})
    result = tx.c.execute(
        update(T_LEASES)
        .where(
            lease.name == name,
            or_(
                lease.holder == holder,
                lease.holder.startswith(node, autoescape=True),
                lease.expires_at < now,
            ),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    return rowcount(result) > 0


def lease_holder(tx: Tx, name: str) -> str | None:
    lease = T_LEASES.c
    return tx.c.scalar(select(lease.holder).where(lease.name == name))


def release_lease(tx: Tx, name: str, holder: str) -> None:
    lease = T_LEASES.c
    tx.c.execute(
        update(T_LEASES)
        .where(lease.name == name, lease.holder == holder)
        .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
    )
