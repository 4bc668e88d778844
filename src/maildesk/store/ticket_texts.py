"""The text of the tickets opened in a period, for the digests' recurring problems
(`digest/recurring.py`): only the columns it reads, the description cut in the query.
Reads by `tickets.created_at` (indexed by migration 0011)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select

from maildesk.digest.recurring import DESCRIPTION_CHARS, SUBJECT_CHARS, TicketText
from maildesk.store.base import Tx, ct
from maildesk.store.digest import group_is

_OPENED = (
    select(
        ct.number,
        ct.category,
        func.substr(ct.subject, 1, SUBJECT_CHARS).label("subject"),
        func.substr(ct.description, 1, DESCRIPTION_CHARS).label("description"),
        ct.created_at,
    )
    .where(ct.created_at >= bindparam("start"), ct.created_at < bindparam("end"))
    .order_by(ct.created_at, ct.id)
)
_OPENED_IN_GROUP = _OPENED.where(group_is(bindparam("group")))  # the period's range


def opened(tx: Tx, start: datetime, end: datetime, group: str = "") -> list[TicketText]:
    """Tickets created in [start, end), oldest first; of one group, or of the whole desk
    when `group` is ""."""
    query = _OPENED_IN_GROUP if group else _OPENED
    rows = tx.c.execute(query, {"start": start, "end": end, "group": group})
    return [TicketText(r.number, r.category, r.subject, r.description, r.created_at) for r in rows]
