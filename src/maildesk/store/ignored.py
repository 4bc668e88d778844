"""Journal entries processed as `ignored: <reason>` (auto-replies to nothing of ours,
list mail under `[automatic] lists = "ignore"`, delay notices, our own mail): what
`maildesk ignored` lists, newest first, with who sent them and why they were ignored."""

from __future__ import annotations

import email.parser
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from maildesk.pipeline.charsets import decode_header_value
from maildesk.pipeline.parse import RAW_HEADERS
from maildesk.store.base import Tx, ci

PREFIX = "ignored: "
HEADER_BYTES = 16384  # From and Subject are read from the head of the raw message


@dataclass(frozen=True)
class IgnoredRow:
    id: int
    received_at: datetime
    source: str
    sender: str
    subject: str
    reason: str


def listing(tx: Tx, limit: int) -> list[IgnoredRow]:
    query = (
        select(ci.id, ci.received_at, ci.source, ci.raw, ci.outcome)
        .where(ci.status == "processed", ci.outcome.like(f"{PREFIX}%"))
        .order_by(ci.id.desc())
        .limit(limit)
    )
    rows = []
    for row in tx.c.execute(query):
        sender, subject = _from_and_subject(bytes(row.raw or b"")[:HEADER_BYTES])
        reason = row.outcome[len(PREFIX) :]
        rows.append(IgnoredRow(row.id, row.received_at, row.source, sender, subject, reason))
    return rows


def _from_and_subject(head: bytes) -> tuple[str, str]:
    try:
        msg = email.parser.BytesHeaderParser(policy=RAW_HEADERS).parsebytes(head)
        return decode_header_value(msg.get("from", "")), decode_header_value(msg.get("subject", ""))
    except Exception:  # a listing shows what it can; the raw bytes stay in the journal
        return "", ""
