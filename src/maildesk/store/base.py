"""What every store module shares: the tables, the open transaction, and the
INSERT … ON CONFLICT statements, which differ per dialect and are built once each.

The modules build their other frequent statements once too, at import: executing a
prepared statement skips SQLAlchemy's per-call construction and cache-key work, which
dominated the cost of a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, bindparam
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

T_INBOUND = InboundMessage
T_TICKETS = Ticket
T_EVENTS = TicketEvent
T_MSGIDS = KnownMessageId
T_OUTBOX = OutboxMessage
T_COUNTERS = TicketCounter
T_MAILBOXES = MailboxState
T_LEASES = Lease
T_WATCHERS = Watcher
T_BOUNCES = Bounce
T_ATTACHMENTS = StoredAttachment
T_HEARTBEATS = Heartbeat
T_TIMERS = Timer
T_CALENDAR_DAYS = CalendarDay
T_CALENDAR_YEARS = CalendarYear
T_SLA = SlaTarget
T_SURVEY_ANSWERS = SurveyAnswerRow
T_KB_USES = KbUse
T_KB_DRAFTS = KbDraft
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
