"""Bounces: our mail that bounced, and the addresses to rest (store/senders.py reads
who bounced lately)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update

from maildesk.store import values
from maildesk.store.base import T_OUTBOX, Tx, co


def record_bounce(
    tx: Tx, message_id: str, recipients: Sequence[str], reason: str, now: datetime
) -> tuple[int | None, int | None]:
    """Mark our mail with this Message-ID bounced and rest its recipients' addresses.
    Returns (outbox id, ticket id) when the mail is ours."""
    row = None
    if message_id:
        row = tx.c.execute(
            select(co.id, co.ticket_id, co.recipients).where(
                co.message_id == values.text(message_id)
            )
        ).first()
    if row is not None:
        tx.c.execute(
            update(T_OUTBOX).where(co.id == row.id)
            .values(status="bounced", last_error=values.text(reason)[:2000])
        )  # fmt: skip
        recipients = list(recipients) or json.loads(row.recipients)
    for address in {r.lower() for r in recipients if "@" in r}:
        one = {"address": address, "last_bounce_at": now, "reason": reason[:2000], "count": 1}
        tx.c.execute(tx.d.bounce, values.row(one))
    return (row.id, row.ticket_id) if row is not None else (None, None)
