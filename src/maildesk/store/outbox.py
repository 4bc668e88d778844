"""The outbox: mails queued in the same transaction as the change that causes them,
claimed and sent later by the sender (maildesk.outbox)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from maildesk.domain import OutgoingMail
from maildesk.store import threads
from maildesk.store.base import T_OUTBOX, T_TICKETS, Tx, co, ct, rowcount


@dataclass(frozen=True)
class OutboxRow:
    id: int
    ticket_number: str
    kind: str
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class ClaimedMail:
    id: int
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes
    attempts: int


INSERT_OUTBOX = insert(T_OUTBOX)
MARK_SENT = (
    update(T_OUTBOX)
    .where(co.id == bindparam("b_id"))
    .values(status="sent", sent_at=bindparam("now"), attempts=co.attempts + 1, last_error="")
)


def enqueue(
    tx: Tx, mail: OutgoingMail, ticket_id: int | None, inbound_id: int | None, now: datetime
) -> None:
    values = {
        "ticket_id": ticket_id, "inbound_id": inbound_id, "kind": mail.kind,
        "mail_from": mail.mail_from, "recipients": json.dumps(list(mail.recipients)),
        "to_address": mail.recipients[0].lower() if mail.recipients else "",
        "subject": mail.subject, "message_id": mail.message_id, "raw": mail.raw,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "claimed_until": None,
        "claimed_by": "", "last_error": "", "created_at": now, "sent_at": None,
    }  # fmt: skip
    tx.c.execute(INSERT_OUTBOX, values)
    if ticket_id is not None:
        threads.remember_message_id(tx, mail.message_id, ticket_id, "out")


def claim(tx: Tx, now: datetime, limit: int, holder: str, hold: timedelta) -> list[ClaimedMail]:
    """Take due rows (pending, or 'sending' whose claimant died) for this sender.

    Ids first (index on status, id; no row bodies read while choosing), then the
    claimed rows themselves.
    """
    ids = _due_ids(tx, co.status == "pending", co.next_attempt_at <= now, limit)
    if len(ids) < limit:
        ids += _due_ids(tx, co.status == "sending", co.claimed_until < now, limit - len(ids))
    if not ids:
        return []
    tx.c.execute(
        update(T_OUTBOX)
        .where(co.id.in_(ids))
        .values(status="sending", claimed_by=holder, claimed_until=now + hold)
    )
    rows = tx.c.execute(
        select(co.id, co.mail_from, co.recipients, co.raw, co.attempts)
        .where(co.id.in_(ids))
        .order_by(co.id)
    )
    return [
        ClaimedMail(r.id, r.mail_from, tuple(json.loads(r.recipients)), r.raw, r.attempts)
        for r in rows
    ]


def _due_ids(tx: Tx, status: Any, due: Any, limit: int) -> list[int]:
    query = (
        select(co.id).where(status, due).order_by(co.id).limit(limit)
        .with_for_update(skip_locked=True)
    )  # fmt: skip
    return list(tx.c.scalars(query))


def renew_claims(tx: Tx, holder: str, until: datetime) -> None:
    tx.c.execute(
        update(T_OUTBOX)
        .where(co.status == "sending", co.claimed_by == holder)
        .values(claimed_until=until)
    )


def release_stale_claims(tx: Tx, holder_prefix: str, now: datetime) -> int:
    """Queue again what an earlier run of this node claimed but never finished."""
    result = tx.c.execute(
        update(T_OUTBOX)
        .where(co.status == "sending", co.claimed_by.startswith(holder_prefix, autoescape=True))
        .values(status="pending", next_attempt_at=now, claimed_until=None)
    )
    return rowcount(result)


def mark_sent(tx: Tx, outbox_ids: Sequence[int], now: datetime) -> None:
    if outbox_ids:
        tx.c.execute(MARK_SENT, [{"b_id": i, "now": now} for i in outbox_ids])


def mark_failed_attempt(
    tx: Tx, outbox_id: int, error: str, retry_at: datetime | None, attempts: int
) -> None:
    status = "pending" if retry_at else "failed"
    values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
    if retry_at:
        values["next_attempt_at"] = retry_at
    tx.c.execute(update(T_OUTBOX).where(co.id == outbox_id).values(**values))


def listing(tx: Tx, status: str | None = None, limit: int = 100) -> list[OutboxRow]:
    query = (
        select(T_OUTBOX, ct.number)
        .join(T_TICKETS, ct.id == co.ticket_id, isouter=True)
        .order_by(co.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(co.status == status)
    return [_outbox_row(row) for row in tx.c.execute(query).mappings()]


def raw(tx: Tx, outbox_id: int) -> bytes | None:
    return tx.c.scalar(select(co.raw).where(co.id == outbox_id))


def retry(tx: Tx, now: datetime, outbox_id: int | None) -> int:
    """Put failed rows (one, or all) back in the queue; returns how many."""
    query = update(T_OUTBOX).where(co.status == "failed")
    if outbox_id is not None:
        query = query.where(co.id == outbox_id)
    result = tx.c.execute(
        query.values(status="pending", attempts=0, next_attempt_at=now, last_error="")
    )
    return rowcount(result)


def counts(tx: Tx) -> dict[str, int]:
    rows = tx.c.execute(select(co.status, func.count()).group_by(co.status)).all()
    return {status: int(n) for status, n in rows}


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        ticket_number=row["number"] or "",
        kind=row["kind"],
        mail_from=row["mail_from"],
        recipients=tuple(json.loads(row["recipients"])),
        subject=row["subject"],
        message_id=row["message_id"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )
