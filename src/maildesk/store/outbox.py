"""The outbox: mails queued in the same transaction as the change that causes them,
claimed and sent later by the sender (maildesk.outbox)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    func,
    insert,
    select,
    update,
)

from maildesk.domain import Lane, OutgoingMail
from maildesk.store import threads
from maildesk.store import values as stored
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
    lane: str
    held_reason: str  # why a limit held it back (kept after it is released)


INSERT_OUTBOX = insert(T_OUTBOX)


def enqueue(
    tx: Tx, mail: OutgoingMail, ticket_id: int | None, inbound_id: int | None, now: datetime
) -> None:
    """Queue a mail to be sent, in its lane."""
    _insert(tx, mail, ticket_id, inbound_id, now, "")


def hold(
    tx: Tx,
    mail: OutgoingMail,
    ticket_id: int | None,
    inbound_id: int | None,
    now: datetime,
    reason: str,
) -> None:
    """Keep a mail a limit held back: status held, never claimed, listed with its reason
    until `retry` releases it."""
    _insert(tx, mail, ticket_id, inbound_id, now, reason or "held")


def _insert(
    tx: Tx,
    mail: OutgoingMail,
    ticket_id: int | None,
    inbound_id: int | None,
    now: datetime,
    held_reason: str,
) -> None:
    tx.c.execute(INSERT_OUTBOX, _row(mail, ticket_id, inbound_id, now, held_reason))
    if ticket_id is not None:
        threads.remember_message_id(tx, mail.message_id, ticket_id, "out")


def enqueue_many(tx: Tx, mails: Sequence[tuple[OutgoingMail, int]], now: datetime) -> None:
    """`enqueue` for several (mail, ticket id), none answering a message: two statements."""
    if not mails:
        return
    tx.c.execute(INSERT_OUTBOX, [_row(mail, ticket_id, None, now, "") for mail, ticket_id in mails])
    threads.remember_many(tx, [(mail.message_id, ticket_id) for mail, ticket_id in mails], "out")


def _row(
    mail: OutgoingMail,
    ticket_id: int | None,
    inbound_id: int | None,
    now: datetime,
    held_reason: str,
) -> dict[str, Any]:
    to_address = mail.recipients[0].lower() if mail.recipients else ""
    values = {
        "ticket_id": ticket_id, "inbound_id": inbound_id, "kind": mail.kind,
        "mail_from": mail.mail_from, "recipients": json.dumps(list(mail.recipients)),
        "to_address": to_address, "to_domain": to_address.rpartition("@")[2],
        "lane": Lane(mail.lane).value, "subject": mail.subject, "message_id": mail.message_id,
        "raw": mail.raw, "status": "held" if held_reason else "pending", "attempts": 0,
        "next_attempt_at": now, "claimed_until": None, "claimed_by": "", "last_error": "",
        "held_reason": held_reason[:2000], "created_at": now, "sent_at": None,
    }  # fmt: skip
    return stored.row(values)


def queued(tx: Tx, message_ids: Iterable[str]) -> set[str]:
    """Which of these Message-IDs are queued (or sent) already, in one query."""
    ids = sorted(set(message_ids))
    return set(tx.c.scalars(select(co.message_id).where(co.message_id.in_(ids)))) if ids else set()


# Claiming order: a bulk mail is claimed only when no interactive mail fills the batch.


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
    """Queue mail again: one row that failed or was held, or (no id) every failed row.
    Held mail is released only one by one.  Returns how many rows were queued."""
    if outbox_id is None:
        query = update(T_OUTBOX).where(co.status == "failed")
    else:
        query = update(T_OUTBOX).where(co.id == outbox_id, co.status.in_(("failed", "held")))
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
        lane=row["lane"],
        held_reason=row["held_reason"],
    )
