"""The inbound journal: every raw message, kept durably before it is processed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update

from maildesk.pipeline.fingerprint import fingerprint
from maildesk.store import values as stored
from maildesk.store.base import T_INBOUND, Tx, ci, rowcount


@dataclass(frozen=True)
class JournalEntry:
    id: int
    duplicate: bool
    reuses: int | None = None  # the earlier entry, a different message, with this Message-ID


@dataclass(frozen=True)
class PendingMessage:
    id: int
    raw: bytes
    source: str
    reuses: int | None = None


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    source: str
    message_id: str
    size: int
    received_at: datetime
    reason: str


def dedupe_key(raw: bytes, message_id: str) -> tuple[str, str]:
    """(key, sha256 of the raw bytes).  The key is the Message-ID when there is one,
    else the content fingerprint (pipeline/fingerprint.py).  A different message that
    reuses a Message-ID is journaled under `reuse_key` instead."""
    digest = hashlib.sha256(raw).hexdigest()
    return (f"mid:{message_id}" if message_id else f"sha256:{fingerprint(raw)}"), digest


def reuse_key(key: str, raw: bytes) -> str:
    """The key of a message whose Message-ID an earlier, different message holds:
    the ID and the fingerprint (stored IDs have no spaces)."""
    return f"{key} fp:{fingerprint(raw)}"


def first_key(key: str) -> str:
    """The key of the first message with this key's Message-ID."""
    return key.partition(" fp:")[0]


# Statements built once: executing a prepared statement skips SQLAlchemy's per-call
# construction and cache-key work, which dominated the cost of a message.
LOCK_PENDING = (
    select(ci.id, ci.raw, ci.source, ci.dedupe_key)
    .where(ci.id == bindparam("id"), ci.status == "pending")
    .with_for_update(skip_locked=True)
)
FINISH_INBOUND = (
    update(T_INBOUND)
    .where(ci.id == bindparam("b_id"))
    .values(status="processed", outcome=bindparam("outcome"),
            processed_at=bindparam("now"), ticket_id=bindparam("ticket_id"))
)  # fmt: skip
QUARANTINE = (
    update(T_INBOUND)
    .where(ci.id == bindparam("b_id"))
    .values(status="quarantined", quarantine_reason=bindparam("reason"),
            processed_at=bindparam("now"))
)  # fmt: skip


def add(tx: Tx, raw: bytes, message_id: str, source: str, now: datetime) -> JournalEntry:
    """Journal the raw bytes as received; the Message-ID is kept in its stored form.
    A duplicate is a message whose Message-ID *and* content match a journaled one: a
    different message reusing a Message-ID is journaled as its own."""
    message_id, source = stored.message_id(message_id), stored.text(source)
    key, digest = dedupe_key(raw, message_id)
    values = {
        "dedupe_key": key, "message_id": message_id, "sha256": digest, "source": source,
        "size": len(raw), "raw": raw, "received_at": now, "status": "pending",
        "outcome": "", "quarantine_reason": "",
    }  # fmt: skip
    new_id = tx.c.execute(tx.d.journal, values).scalar()
    if new_id is not None:
        return JournalEntry(new_id, duplicate=False)
    first, first_raw = tx.c.execute(select(ci.id, ci.raw).where(ci.dedupe_key == key)).one()
    if not message_id or fingerprint(first_raw) == fingerprint(raw):
        return JournalEntry(first, duplicate=True)
    values["dedupe_key"] = reuse_key(key, raw)  # the same ID on a different message
    new_id = tx.c.execute(tx.d.journal, values).scalar()
    if new_id is not None:
        return JournalEntry(new_id, duplicate=False, reuses=first)
    existing = tx.c.scalar(select(ci.id).where(ci.dedupe_key == values["dedupe_key"]))
    assert existing is not None
    return JournalEntry(existing, duplicate=True)


def lock_pending(tx: Tx, inbound_id: int) -> PendingMessage | None:
    """Take one pending message for processing; None if done or held by another daemon."""
    row = tx.c.execute(LOCK_PENDING, {"id": inbound_id}).first()
    if row is None:
        return None
    return PendingMessage(row.id, row.raw, row.source, _reuses(tx, row.dedupe_key))


def _reuses(tx: Tx, key: str) -> int | None:
    """The first entry with this entry's Message-ID, when this one reuses it."""
    if first_key(key) == key:
        return None
    return tx.c.scalar(select(ci.id).where(ci.dedupe_key == first_key(key)))


def finish(tx: Tx, inbound_id: int, now: datetime, outcome: str, ticket_id: int | None) -> None:
    params = {
        "b_id": inbound_id,
        "outcome": stored.text(outcome),
        "now": now,
        "ticket_id": ticket_id,
    }
    tx.c.execute(FINISH_INBOUND, params)


def quarantine(tx: Tx, inbound_id: int, now: datetime, reason: str) -> None:
    tx.c.execute(QUARANTINE, {"b_id": inbound_id, "reason": stored.text(reason)[:4000], "now": now})


def pending_ids(tx: Tx, limit: int, received_before: datetime | None = None) -> list[int]:
    query = select(ci.id).where(ci.status == "pending").order_by(ci.id).limit(limit)
    if received_before is not None:
        query = query.where(ci.received_at < received_before)
    return list(tx.c.scalars(query))


def quarantined(tx: Tx) -> list[QuarantineRow]:
    query = (
        select(ci.id, ci.source, ci.message_id, ci.size, ci.received_at, ci.quarantine_reason)
        .where(ci.status == "quarantined")
        .order_by(ci.id)
    )
    return [QuarantineRow(*row) for row in tx.c.execute(query)]


def ticket_of(tx: Tx, inbound_id: int) -> int | None:
    """The ticket this entry was processed onto, if any."""
    return tx.c.scalar(select(ci.ticket_id).where(ci.id == inbound_id))


def raw(tx: Tx, inbound_id: int) -> bytes | None:
    return tx.c.scalar(select(ci.raw).where(ci.id == inbound_id))


def release_quarantined(tx: Tx, inbound_id: int) -> bool:
    result = tx.c.execute(
        update(T_INBOUND)
        .where(ci.id == inbound_id, ci.status == "quarantined")
        .values(status="pending", quarantine_reason="")
    )
    return rowcount(result) > 0
