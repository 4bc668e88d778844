"""What every store module shares: the tables, the open transaction, and the
INSERT … ON CONFLICT statements, which differ per dialect and are built once each.

The modules build their other frequent statements once too, at import: executing a
prepared statement skips SQLAlchemy's per-call construction and cache-key work, which
dominated the cost of a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite

from maildesk.db import (
    Bounce,
    CalendarDay,
    CalendarYear,
    Heartbeat,
    InboundMessage,
    KbDraft,
    KbUse,
    KnownMessageId,
    Lease,
    MailboxState,
    OutboxMessage,
    SlaTarget,
    StoredAttachment,
    SurveyAnswerRow,
    Ticket,
    TicketCounter,
    TicketEvent,
    Timer,
    Watcher,
)

T_INBOUND = cast(Table, InboundMessage.__table__)
T_TICKETS = cast(Table, Ticket.__table__)
T_EVENTS = cast(Table, TicketEvent.__table__)
T_MSGIDS = cast(Table, KnownMessageId.__table__)
T_OUTBOX = cast(Table, OutboxMessage.__table__)
T_COUNTERS = cast(Table, TicketCounter.__table__)
T_MAILBOXES = cast(Table, MailboxState.__table__)
T_LEASES = cast(Table, Lease.__table__)
T_WATCHERS = cast(Table, Watcher.__table__)
T_BOUNCES = cast(Table, Bounce.__table__)
T_ATTACHMENTS = cast(Table, StoredAttachment.__table__)
T_HEARTBEATS = cast(Table, Heartbeat.__table__)
T_TIMERS = cast(Table, Timer.__table__)
T_CALENDAR_DAYS = cast(Table, CalendarDay.__table__)
T_CALENDAR_YEARS = cast(Table, CalendarYear.__table__)
T_SLA = cast(Table, SlaTarget.__table__)
T_SURVEY_ANSWERS = cast(Table, SurveyAnswerRow.__table__)
T_KB_USES = cast(Table, KbUse.__table__)
T_KB_DRAFTS = cast(Table, KbDraft.__table__)
ci = T_INBOUND.c
ct = T_TICKETS.c
co = T_OUTBOX.c


class _Dialect:
    """INSERT … ON CONFLICT statements differ per dialect: built once for each."""

    def __init__(self, name: str) -> None:
        module: Any = postgresql if name == "postgresql" else sqlite
        self.journal = (
            module.insert(T_INBOUND)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(ci.id)
        )
        counter = module.insert(T_COUNTERS).values(key=bindparam("key"), last=1)
        self.next_sequence = counter.on_conflict_do_update(
            index_elements=["key"], set_={"last": T_COUNTERS.c.last + 1}
        ).returning(T_COUNTERS.c.last)
        self.message_id = module.insert(T_MSGIDS).on_conflict_do_nothing(
            index_elements=["message_id", "ticket_id"]
        )
        self.lease = module.insert(T_LEASES).on_conflict_do_nothing(index_elements=["name"])
        self.watcher = module.insert(T_WATCHERS).on_conflict_do_nothing(
            index_elements=["ticket_id", "email"]
        )
        bounce = module.insert(T_BOUNCES)
        self.bounce = bounce.on_conflict_do_update(
            index_elements=["address"],
            set_={
                "last_bounce_at": bounce.excluded.last_bounce_at,
                "reason": bounce.excluded.reason,
                "count": T_BOUNCES.c.count + 1,
            },
        )


_DIALECTS: dict[str, _Dialect] = {}


def _dialect(conn: Connection) -> _Dialect:
    name = conn.dialect.name
    if name not in _DIALECTS:
        _DIALECTS[name] = _Dialect(name)
    return _DIALECTS[name]


def rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class Tx:
    """One open transaction: the connection `c` and the dialect's statements `d`.
    The queries are functions of the modules beside this one, taking a Tx first."""

    def __init__(self, conn: Connection) -> None:
        self.c = conn
        self.d = _dialect(conn)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.c.begin_nested():
            yield
