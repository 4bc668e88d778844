"""Mail loops and bounces: how much we sent an address lately, and who bounced."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, case, func, select, update

from maildesk.store import values
from maildesk.store.base import T_BOUNCES, T_OUTBOX, Tx, co

# Mail a limit held back was not sent: it does not count towards the limits.
AUTO_MAILS = select(
    func.sum(case((co.created_at >= bindparam("hour"), 1), else_=0)), func.count()
).where(
    co.to_address == bindparam("address"),
    co.created_at >= bindparam("day"),
    co.status.not_in(("held", "summarised")),
)
BOUNCED_SINCE = select(T_BOUNCES.c.address).where(
    T_BOUNCES.c.address == bindparam("address"),
    T_BOUNCES.c.last_bounce_at >= bindparam("since"),
)


def auto_mails_since(tx: Tx, address: str, hour: datetime, day: datetime) -> tuple[int, int]:
    """Automatic mails to this address since each time: (since `hour`, since `day`)."""
    row = tx.c.execute(AUTO_MAILS, {"address": address.lower(), "hour": hour, "day": day}).one()
    return int(row[0] or 0), int(row[1] or 0)


def bounced_since(tx: Tx, address: str, since: datetime) -> bool:
    params = {"address": address.lower(), "since": since}
    return tx.c.execute(BOUNCED_SINCE, params).first() is not None


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
