"""What the decision on one message knows of its sender, and of each group's last
assignee, read in one statement: every figure is an index lookup of its own (a
subquery), so the cost stays flat however many tickets and mails are stored.

Before, these were up to nine statements per message; SQLAlchemy's cost per
statement is several times that of such a lookup (issue 14)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, exists, func, select

from maildesk.store.base import T_BOUNCES, Tx, co, ct


@dataclass(frozen=True)
class SenderFacts:
    auto_mails_last_hour: int = 0  # automatic mails we sent the address (held ones aside)
    auto_mails_last_day: int = 0
    bounced: bool = False  # since the cooldown began
    opened: int = 0  # tickets it opened within the flood window
    last_assigned: dict[str, str] = field(default_factory=dict)  # group → last assignee


# Mail a limit held back was not sent: it does not count towards the limits.
_SENT = (
    select(
        func.sum(case((co.created_at >= bindparam("hour"), 1), else_=0)).label("hour"),
        func.count().label("day"),
    )
    .where(
        co.to_address == bindparam("address"),
        co.created_at >= bindparam("day"),
        co.status.not_in(("held", "summarised")),
    )
    .subquery("sent")
)
_BOUNCED = exists().where(
    T_BOUNCES.c.address == bindparam("address"),
    T_BOUNCES.c.last_bounce_at >= bindparam("bounced_since"),
)
_OPENED = (
    select(func.count())
    .where(ct.requester_email == bindparam("address"), ct.created_at >= bindparam("opened_since"))
    .scalar_subquery()
)


def _last_assignee(n: int) -> ColumnElement[Any]:
    """The assignee of the newest assigned ticket of group parameter `g<n>`: one step of
    ix_tickets_group_id."""
    return (
        select(ct.assignee)
        .where(ct.group_name == bindparam(f"g{n}"), ct.assignee != "")
        .order_by(ct.id.desc())
        .limit(1)
        .scalar_subquery()
    )


_STATEMENTS: dict[int, Select[Any]] = {}  # by the number of groups: built once each


def _statement(groups: int) -> Select[Any]:
    if groups not in _STATEMENTS:
        columns = [_last_assignee(n) for n in range(groups)]
        _STATEMENTS[groups] = select(_SENT.c.hour, _SENT.c.day, _BOUNCED, _OPENED, *columns)
    return _STATEMENTS[groups]


def facts(
    tx: Tx,
    address: str,
    hour: datetime,
    day: datetime,
    bounced_since: datetime,
    opened_since: datetime,
    groups: Sequence[str] = (),
) -> SenderFacts:
    """Automatic mails to `address` since `hour` and since `day`, whether it bounced
    since `bounced_since`, the tickets it opened since `opened_since`, and the last
    assignee of each of `groups` (a group nobody was assigned in is absent)."""
    params: dict[str, Any] = {
        "address": address.lower(), "hour": hour, "day": day,
        "bounced_since": bounced_since, "opened_since": opened_since,
    }  # fmt: skip
    params.update({f"g{n}": group for n, group in enumerate(groups)})
    row = tx.c.execute(_statement(len(groups)), params).one()
    last = {g: str(a) for g, a in zip(groups, row[4:], strict=True) if a}
    return SenderFacts(int(row[0] or 0), int(row[1] or 0), bool(row[2]), int(row[3] or 0), last)
