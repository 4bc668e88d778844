"""The only module that queries the database.  Returns and takes domain values.

`Store.transaction()` yields a `Tx`; everything done through one Tx commits or
rolls back together — a ticket change and the outbox rows it causes, always.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from maildesk.db import (
    InboundMessage,
    KnownMessageId,
    Lease,
    MailboxState,
    OutboxMessage,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from maildesk.domain import NewTicket, OutgoingMail, Status, TicketRef, TicketView


@dataclass(frozen=True)
class JournalEntry:
    id: int
    duplicate: bool


@dataclass(frozen=True)
class PendingMessage:
    id: int
    raw: bytes
    source: str


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


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    source: str
    message_id: str
    size: int
    received_at: datetime
    reason: str


def dedupe_key(raw: bytes, message_id: str) -> tuple[str, str]:
    """(key, sha256): the Message-ID when there is one, else the content hash."""
    digest = hashlib.sha256(raw).hexdigest()
    return (f"mid:{message_id}" if message_id else f"sha256:{digest}"), digest


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


class Tx:
    """One open transaction.  Methods are the queries maildesk needs, by name."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # --- journal ------------------------------------------------------------------------

    def journal(self, raw: bytes, message_id: str, source: str, now: datetime) -> JournalEntry:
        key, digest = dedupe_key(raw, message_id)
        stmt = (
            _insert(self.s, InboundMessage)
            .values(
                dedupe_key=key,
                message_id=message_id,
                sha256=digest,
                source=source,
                size=len(raw),
                raw=raw,
                received_at=now,
                status="pending",
                outcome="",
                quarantine_reason="",
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(InboundMessage.id)
        )
        new_id = self.s.execute(stmt).scalar()
        if new_id is not None:
            return JournalEntry(new_id, duplicate=False)
        existing = self.s.scalar(select(InboundMessage.id).where(InboundMessage.dedupe_key == key))
        assert existing is not None
        return JournalEntry(existing, duplicate=True)

    def lock_pending(self, inbound_id: int) -> PendingMessage | None:
        """Take one pending message for processing; None if done or held by another daemon."""
        row = self.s.execute(
            select(InboundMessage.id, InboundMessage.raw, InboundMessage.source)
            .where(InboundMessage.id == inbound_id, InboundMessage.status == "pending")
            .with_for_update(skip_locked=True)
        ).first()
        return PendingMessage(row.id, row.raw, row.source) if row else None

    def finish_inbound(
        self, inbound_id: int, now: datetime, outcome: str, ticket_id: int | None
    ) -> None:
        self.s.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id)
            .values(status="processed", outcome=outcome, processed_at=now, ticket_id=ticket_id)
        )

    def quarantine(self, inbound_id: int, now: datetime, reason: str) -> None:
        self.s.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id)
            .values(status="quarantined", quarantine_reason=reason[:4000], processed_at=now)
        )

    def pending_ids(self, limit: int) -> list[int]:
        return list(
            self.s.scalars(
                select(InboundMessage.id)
                .where(InboundMessage.status == "pending")
                .order_by(InboundMessage.id)
                .limit(limit)
            )
        )

    def quarantined(self) -> list[QuarantineRow]:
        rows = self.s.execute(
            select(InboundMessage)
            .where(InboundMessage.status == "quarantined")
            .order_by(InboundMessage.id)
        ).scalars()
        return [
            QuarantineRow(r.id, r.source, r.message_id, r.size, r.received_at, r.quarantine_reason)
            for r in rows
        ]

    def inbound_raw(self, inbound_id: int) -> bytes | None:
        return self.s.scalar(select(InboundMessage.raw).where(InboundMessage.id == inbound_id))

    def release_quarantined(self, inbound_id: int) -> bool:
        result = self.s.execute(
            update(InboundMessage)
            .where(InboundMessage.id == inbound_id, InboundMessage.status == "quarantined")
            .values(status="pending", quarantine_reason="")
        )
        return bool(getattr(result, "rowcount", 0))

    # --- tickets ------------------------------------------------------------------------

    def next_sequence(self, key: str) -> int:
        """Per-key counter; the row lock makes it unique and gap-free across daemons."""
        stmt = _insert(self.s, TicketCounter).values(key=key, last=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"], set_={"last": TicketCounter.last + 1}
        ).returning(TicketCounter.last)
        value = self.s.execute(stmt).scalar()
        assert value is not None
        return int(value)

    def create_ticket(
        self, number: str, new: NewTicket, now: datetime, inbound_id: int | None
    ) -> TicketView:
        ticket = Ticket(
            number=number,
            subject=new.subject,
            description=new.description,
            requester_name=new.requester.name,
            requester_email=new.requester.email,
            department=new.department,
            employee_id=new.employee_id,
            status=Status.NEW.value,
            priority=new.priority,
            category=new.category,
            type=new.type,
            assignee="",
            group_name="",
            created_at=now,
            updated_at=now,
        )
        self.s.add(ticket)
        self.s.flush()
        self.add_event(ticket.id, now, new.requester.email, "created", inbound_id)
        return _view(ticket)

    def add_event(
        self,
        ticket_id: int,
        now: datetime,
        actor: str,
        kind: str,
        inbound_id: int | None,
        text: str = "",
        field: str = "",
        old: str = "",
        new: str = "",
    ) -> None:
        self.s.add(
            TicketEvent(
                ticket_id=ticket_id,
                at=now,
                actor=actor,
                kind=kind,
                field=field,
                old_value=old,
                new_value=new,
                text=text,
                inbound_id=inbound_id,
            )
        )

    def touch_ticket(self, ticket_id: int, now: datetime) -> None:
        self.s.execute(update(Ticket).where(Ticket.id == ticket_id).values(updated_at=now))

    def remember_message_id(self, message_id: str, ticket_id: int, direction: str) -> None:
        if not message_id:
            return
        stmt = (
            _insert(self.s, KnownMessageId)
            .values(message_id=message_id, ticket_id=ticket_id, direction=direction)
            .on_conflict_do_nothing(index_elements=["message_id"])
        )
        self.s.execute(stmt)

    def ticket_by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        if not message_ids:
            return None
        rows = self.s.execute(
            select(KnownMessageId.message_id, KnownMessageId.ticket_id).where(
                KnownMessageId.message_id.in_(list(message_ids))
            )
        ).all()
        by_id = {r.message_id: r.ticket_id for r in rows}
        for mid in message_ids:  # first match in the caller's order of preference
            if mid in by_id:
                return self._ref(by_id[mid])
        return None

    def ticket_by_number(self, number: str) -> TicketRef | None:
        ticket = self.s.scalar(select(Ticket).where(Ticket.number == number))
        return _ref(ticket) if ticket else None

    def _ref(self, ticket_id: int) -> TicketRef | None:
        ticket = self.s.get(Ticket, ticket_id)
        return _ref(ticket) if ticket else None

    def ticket(self, number: str) -> TicketView | None:
        ticket = self.s.scalar(select(Ticket).where(Ticket.number == number))
        return _view(ticket) if ticket else None

    def tickets(self, status: str | None = None, limit: int = 100) -> list[TicketView]:
        query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
        if status:
            query = query.where(Ticket.status == status)
        return [_view(t) for t in self.s.scalars(query)]

    def events(self, ticket_id: int) -> list[dict[str, Any]]:
        rows = self.s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        return [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "field": e.field,
                "old": e.old_value,
                "new": e.new_value,
                "text": e.text,
                "inbound_id": e.inbound_id,
            }
            for e in rows
        ]

    def count_tickets(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(Ticket)) or 0)

    # --- outbox -------------------------------------------------------------------------

    def enqueue(
        self, mail: OutgoingMail, ticket_id: int | None, inbound_id: int | None, now: datetime
    ) -> None:
        self.s.add(
            OutboxMessage(
                ticket_id=ticket_id,
                inbound_id=inbound_id,
                kind=mail.kind,
                mail_from=mail.mail_from,
                recipients=json.dumps(list(mail.recipients)),
                subject=mail.subject,
                message_id=mail.message_id,
                raw=mail.raw,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        if ticket_id is not None:
            self.remember_message_id(mail.message_id, ticket_id, "out")

    def claim_outbox(
        self, now: datetime, limit: int, holder: str, hold: timedelta
    ) -> list[ClaimedMail]:
        """Take due rows (pending, or 'sending' whose claimant died) for this sender."""
        due = or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
        )
        rows = self.s.scalars(
            select(OutboxMessage)
            .where(due)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.status = "sending"
            row.claimed_by = holder
            row.claimed_until = now + hold
        return [
            ClaimedMail(r.id, r.mail_from, tuple(json.loads(r.recipients)), r.raw, r.attempts)
            for r in rows
        ]

    def release_stale_claims(self, holder_prefix: str, now: datetime) -> int:
        """Queue again what an earlier run of this node claimed but never finished."""
        result = self.s.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "sending",
                OutboxMessage.claimed_by.startswith(holder_prefix, autoescape=True),
            )
            .values(status="pending", next_attempt_at=now, claimed_until=None)
        )
        return int(getattr(result, "rowcount", 0))

    def mark_sent(self, outbox_id: int, now: datetime) -> None:
        self.s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id)
            .values(status="sent", sent_at=now, attempts=OutboxMessage.attempts + 1, last_error="")
        )

    def mark_failed_attempt(
        self, outbox_id: int, error: str, retry_at: datetime | None, attempts: int
    ) -> None:
        status = "pending" if retry_at else "failed"
        values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
        if retry_at:
            values["next_attempt_at"] = retry_at
        self.s.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(**values))

    def outbox(self, status: str | None = None, limit: int = 100) -> list[OutboxRow]:
        query = (
            select(OutboxMessage, Ticket.number)
            .join(Ticket, Ticket.id == OutboxMessage.ticket_id, isouter=True)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
        if status:
            query = query.where(OutboxMessage.status == status)
        return [_outbox_row(row, number or "") for row, number in self.s.execute(query).all()]

    def outbox_raw(self, outbox_id: int) -> bytes | None:
        return self.s.scalar(select(OutboxMessage.raw).where(OutboxMessage.id == outbox_id))

    def retry_outbox(self, now: datetime, outbox_id: int | None) -> int:
        """Put failed rows (one, or all) back in the queue; returns how many."""
        query = update(OutboxMessage).where(OutboxMessage.status == "failed")
        if outbox_id is not None:
            query = query.where(OutboxMessage.id == outbox_id)
        result = self.s.execute(
            query.values(status="pending", attempts=0, next_attempt_at=now, last_error="")
        )
        return int(getattr(result, "rowcount", 0))

    def outbox_counts(self) -> dict[str, int]:
        rows = self.s.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
        return {status: int(n) for status, n in rows}

    # --- mailboxes and leases ----------------------------------------------------------

    def mailbox_state(self, name: str) -> tuple[int, int] | None:
        row = self.s.get(MailboxState, name)
        return (row.uidvalidity, row.last_uid) if row else None

    def save_mailbox_state(self, name: str, uidvalidity: int, last_uid: int) -> None:
        row = self.s.get(MailboxState, name)
        if row is None:
            self.s.add(MailboxState(name=name, uidvalidity=uidvalidity, last_uid=last_uid))
        else:
            row.uidvalidity, row.last_uid = uidvalidity, last_uid

    def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold `name` until now+ttl if it is free, expired, or already ours.

        `holder` is "node:pid": a restarted daemon (same node, new pid) takes its
        predecessor's lease at once instead of waiting for it to expire.
        """
        node = holder.rsplit(":", 1)[0] + ":"
        self.s.execute(
            _insert(self.s, Lease)
            .values(name=name, holder=holder, expires_at=now + ttl)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        result = self.s.execute(
            update(Lease)
            .where(
                Lease.name == name,
                or_(
                    Lease.holder == holder,
                    Lease.holder.startswith(node, autoescape=True),
                    Lease.expires_at < now,
                ),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
        return bool(getattr(result, "rowcount", 0))

    def release_lease(self, name: str, holder: str) -> None:
        self.s.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
        )


def _ref(ticket: Ticket) -> TicketRef:
    return TicketRef(
        ticket.id, ticket.number, ticket.status, ticket.subject, ticket.requester_email
    )


def _view(t: Ticket) -> TicketView:
    return TicketView(
        id=t.id,
        number=t.number,
        subject=t.subject,
        description=t.description,
        requester_name=t.requester_name,
        requester_email=t.requester_email,
        department=t.department,
        employee_id=t.employee_id,
        status=t.status,
        priority=t.priority,
        category=t.category,
        type=t.type,
        assignee=t.assignee,
        group=t.group_name,
        created_at=t.created_at,
        updated_at=t.updated_at,
        first_response_at=t.first_response_at,
        resolved_at=t.resolved_at,
        closed_at=t.closed_at,
    )


def _outbox_row(row: OutboxMessage, number: str) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        ticket_number=number,
        kind=row.kind,
        mail_from=row.mail_from,
        recipients=tuple(json.loads(row.recipients)),
        subject=row.subject,
        message_id=row.message_id,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield Tx(session)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name
