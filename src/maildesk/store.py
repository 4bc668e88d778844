"""The only module that queries the database.  Returns and takes domain values.

`Store.transaction()` yields a `Tx`; everything done through one Tx commits or
rolls back together — a ticket change and the outbox rows it causes, always.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from maildesk.db import (
    Bounce,
    InboundMessage,
    KnownMessageId,
    Lease,
    MailboxState,
    OutboxMessage,
    StoredAttachment,
    Ticket,
    TicketCounter,
    TicketEvent,
    Watcher,
)
from maildesk.domain import (
    Address,
    AttachmentVerdict,
    Change,
    NewTicket,
    OutgoingMail,
    Status,
    TicketRef,
    TicketView,
)


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
ci = T_INBOUND.c
ct = T_TICKETS.c
co = T_OUTBOX.c

# Statements built once: executing a prepared statement skips SQLAlchemy's per-call
# construction and cache-key work, which dominated the cost of a message.
LOCK_PENDING = (
    select(ci.id, ci.raw, ci.source)
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
INSERT_TICKET = insert(T_TICKETS).returning(ct.id)
INSERT_EVENT = insert(T_EVENTS)
INSERT_OUTBOX = insert(T_OUTBOX)
TOUCH_TICKET = (
    update(T_TICKETS).where(ct.id == bindparam("b_id")).values(updated_at=bindparam("now"))
)
TICKET_BY_NUMBER = select(T_TICKETS).where(ct.number == bindparam("number"))
TICKET_BY_ID = select(T_TICKETS).where(ct.id == bindparam("id"))
MARK_SENT = (
    update(T_OUTBOX)
    .where(co.id == bindparam("b_id"))
    .values(status="sent", sent_at=bindparam("now"), attempts=co.attempts + 1, last_error="")
)


AUTO_MAILS = select(
    func.sum(case((co.created_at >= bindparam("hour"), 1), else_=0)), func.count()
).where(co.to_address == bindparam("address"), co.created_at >= bindparam("day"))
BOUNCED_SINCE = select(T_BOUNCES.c.address).where(
    T_BOUNCES.c.address == bindparam("address"),
    T_BOUNCES.c.last_bounce_at >= bindparam("since"),
)


COLUMN = {"group": "group_name"}
CLOSED_STATES = (Status.RESOLVED.value, Status.CLOSED.value, Status.REJECTED.value)


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
            index_elements=["message_id"]
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


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class Tx:
    """One open transaction.  Methods are the queries maildesk needs, by name."""

    def __init__(self, conn: Connection) -> None:
        self.c = conn
        self.d = _dialect(conn)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.c.begin_nested():
            yield

    # --- journal ------------------------------------------------------------------------

    def journal(self, raw: bytes, message_id: str, source: str, now: datetime) -> JournalEntry:
        key, digest = dedupe_key(raw, message_id)
        values = {
            "dedupe_key": key, "message_id": message_id, "sha256": digest, "source": source,
            "size": len(raw), "raw": raw, "received_at": now, "status": "pending",
            "outcome": "", "quarantine_reason": "",
        }  # fmt: skip
        new_id = self.c.execute(self.d.journal, values).scalar()
        if new_id is not None:
            return JournalEntry(new_id, duplicate=False)
        existing = self.c.scalar(select(ci.id).where(ci.dedupe_key == key))
        assert existing is not None
        return JournalEntry(existing, duplicate=True)

    def lock_pending(self, inbound_id: int) -> PendingMessage | None:
        """Take one pending message for processing; None if done or held by another daemon."""
        row = self.c.execute(LOCK_PENDING, {"id": inbound_id}).first()
        return PendingMessage(row.id, row.raw, row.source) if row else None

    def finish_inbound(
        self, inbound_id: int, now: datetime, outcome: str, ticket_id: int | None
    ) -> None:
        params = {"b_id": inbound_id, "outcome": outcome, "now": now, "ticket_id": ticket_id}
        self.c.execute(FINISH_INBOUND, params)

    def quarantine(self, inbound_id: int, now: datetime, reason: str) -> None:
        self.c.execute(QUARANTINE, {"b_id": inbound_id, "reason": reason[:4000], "now": now})

    def pending_ids(self, limit: int, received_before: datetime | None = None) -> list[int]:
        query = select(ci.id).where(ci.status == "pending").order_by(ci.id).limit(limit)
        if received_before is not None:
            query = query.where(ci.received_at < received_before)
        return list(self.c.scalars(query))

    def quarantined(self) -> list[QuarantineRow]:
        query = (
            select(ci.id, ci.source, ci.message_id, ci.size, ci.received_at, ci.quarantine_reason)
            .where(ci.status == "quarantined")
            .order_by(ci.id)
        )
        return [QuarantineRow(*row) for row in self.c.execute(query)]

    def inbound_raw(self, inbound_id: int) -> bytes | None:
        return self.c.scalar(select(ci.raw).where(ci.id == inbound_id))

    def release_quarantined(self, inbound_id: int) -> bool:
        result = self.c.execute(
            update(T_INBOUND)
            .where(ci.id == inbound_id, ci.status == "quarantined")
            .values(status="pending", quarantine_reason="")
        )
        return _rowcount(result) > 0

    # --- tickets ------------------------------------------------------------------------

    def next_sequence(self, key: str) -> int:
        """Per-key counter; the row lock makes it unique and gap-free across daemons."""
        value = self.c.execute(self.d.next_sequence, {"key": key}).scalar()
        assert value is not None
        return int(value)

    def create_ticket(
        self, number: str, new: NewTicket, now: datetime, inbound_id: int | None
    ) -> TicketView:
        values = {
            "number": number, "subject": new.subject, "description": new.description,
            "requester_name": new.requester.name, "requester_email": new.requester.email,
            "department": new.department, "employee_id": new.employee_id,
            "status": Status.ASSIGNED.value if new.assignee else Status.NEW.value,
            "priority": new.priority, "category": new.category, "type": new.type,
            "assignee": new.assignee, "group_name": new.group, "created_at": now,
            "updated_at": now, "first_response_at": None, "resolved_at": None,
            "closed_at": None, "linked_ticket_id": new.linked_to.id if new.linked_to else None,
        }  # fmt: skip
        ticket_id = self.c.execute(INSERT_TICKET, values).scalar_one()
        self.add_event(ticket_id, now, new.requester.email, "created", inbound_id)
        if new.assignee or new.group:
            field = "assignee" if new.assignee else ""
            self.add_event(ticket_id, now, "maildesk", "routed", inbound_id, field=field,
                           new=new.assignee, text=f"group {new.group or '-'}")  # fmt: skip
        if new.linked_to:
            link = new.linked_to.number
            self.add_event(ticket_id, now, new.requester.email, "linked", inbound_id,
                           field="linked_ticket", new=link, text=new.link_reason)  # fmt: skip
        for watcher in new.watchers:
            self.add_watcher(ticket_id, watcher, now, new.requester.email, inbound_id)
        linked = new.linked_to.number if new.linked_to else ""
        return _view({**values, "id": ticket_id}, linked)

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
        values = {
            "ticket_id": ticket_id, "at": now, "actor": actor, "kind": kind, "field": field,
            "old_value": old, "new_value": new, "text": text, "inbound_id": inbound_id,
        }  # fmt: skip
        self.c.execute(INSERT_EVENT, values)

    def touch_ticket(self, ticket_id: int, now: datetime) -> None:
        self.c.execute(TOUCH_TICKET, {"b_id": ticket_id, "now": now})

    def remember_message_id(self, message_id: str, ticket_id: int, direction: str) -> None:
        if not message_id:
            return
        values = {"message_id": message_id, "ticket_id": ticket_id, "direction": direction}
        self.c.execute(self.d.message_id, values)

    def ticket_by_message_ids(self, message_ids: Sequence[str]) -> TicketRef | None:
        if not message_ids:
            return None
        rows = self.c.execute(
            select(T_MSGIDS.c.message_id, T_MSGIDS.c.ticket_id).where(
                T_MSGIDS.c.message_id.in_(list(message_ids))
            )
        ).all()
        by_id = {r.message_id: r.ticket_id for r in rows}
        for mid in message_ids:  # first match in the caller's order of preference
            if mid in by_id:
                row = self.c.execute(TICKET_BY_ID, {"id": by_id[mid]}).mappings().first()
                return self._ref(row) if row else None
        return None

    def ticket_by_number(self, number: str) -> TicketRef | None:
        row = self.c.execute(TICKET_BY_NUMBER, {"number": number}).mappings().first()
        return self._ref(row) if row else None

    def _ref(self, row: Any) -> TicketRef:
        return TicketRef(
            row["id"], row["number"], row["status"], row["subject"], row["requester_email"],
            watchers=frozenset(self.watchers(row["id"])), closed_at=row["closed_at"],
            priority=row["priority"], category=row["category"], assignee=row["assignee"],
            group=row["group_name"], requester_name=row["requester_name"],
            created_at=row["created_at"], first_response_at=row["first_response_at"],
        )  # fmt: skip

    def change_ticket(
        self, ticket_id: int, changes: Sequence[Change], now: datetime, actor: str,
        inbound_id: int | None,
    ) -> None:  # fmt: skip
        """Apply field changes, each an event; resolving and closing stamp their time."""
        values: dict[str, Any] = {"updated_at": now}
        for change in changes:
            values[COLUMN.get(change.field, change.field)] = change.new
            self.add_event(ticket_id, now, actor, "changed", inbound_id,
                           field=change.field, old=change.old, new=change.new)  # fmt: skip
        status = values.get("status")
        if status == Status.RESOLVED:
            values["resolved_at"] = now
        elif status == Status.CLOSED:
            values["closed_at"] = now
        elif status is not None:
            values.update(resolved_at=None, closed_at=None)
        self.c.execute(update(T_TICKETS).where(ct.id == ticket_id).values(**values))

    def first_response(self, ticket_id: int, now: datetime) -> None:
        self.c.execute(
            update(T_TICKETS)
            .where(ct.id == ticket_id, ct.first_response_at.is_(None))
            .values(first_response_at=now)
        )

    def assignment_facts(self) -> tuple[dict[str, int], dict[str, str]]:
        """Open tickets per assignee, and the last assignee of each group."""
        open_rows = self.c.execute(
            select(ct.assignee, func.count())
            .where(ct.assignee != "", ct.status.not_in(CLOSED_STATES))
            .group_by(ct.assignee)
        ).all()
        newest = (
            select(func.max(ct.id))
            .where(ct.group_name != "", ct.assignee != "")
            .group_by(ct.group_name)
        )
        rows = self.c.execute(select(ct.group_name, ct.assignee).where(ct.id.in_(newest)))
        last = {group: assignee for group, assignee in rows}
        return {a: int(n) for a, n in open_rows}, last

    def watchers(self, ticket_id: int) -> list[str]:
        w = T_WATCHERS.c
        return list(self.c.scalars(select(w.email).where(w.ticket_id == ticket_id)))

    def add_watcher(
        self, ticket_id: int, who: Address, now: datetime, actor: str, inbound_id: int | None
    ) -> None:
        values = {"ticket_id": ticket_id, "email": who.email.lower(), "name": who.name,
                  "added_at": now}  # fmt: skip
        if _rowcount(self.c.execute(self.d.watcher, values)):
            self.add_event(ticket_id, now, actor, "watcher_added", inbound_id,
                           field="watchers", new=who.email.lower())  # fmt: skip

    def reopen(self, ticket_id: int, now: datetime, actor: str, inbound_id: int | None) -> str:
        """Back to work: assigned if someone has it, else new.  Returns the new status."""
        row = self.c.execute(select(ct.status, ct.assignee).where(ct.id == ticket_id)).one()
        status = Status.ASSIGNED.value if row.assignee else Status.NEW.value
        self.c.execute(
            update(T_TICKETS)
            .where(ct.id == ticket_id)
            .values(status=status, resolved_at=None, closed_at=None, updated_at=now)
        )
        self.add_event(ticket_id, now, actor, "reopened", inbound_id,
                       field="status", old=row.status, new=status)  # fmt: skip
        return status

    def add_attachment(
        self,
        ticket_id: int,
        inbound_id: int | None,
        verdict: AttachmentVerdict,
        sha256: str,
        now: datetime,
    ) -> None:
        item = verdict.attachment
        values = {
            "ticket_id": ticket_id, "inbound_id": inbound_id,
            "filename": verdict.safe_name[:300], "content_type": item.content_type[:200],
            "size": item.size, "sha256": sha256, "content_id": item.content_id[:300],
            "refused_reason": verdict.refused, "created_at": now,
        }  # fmt: skip
        self.c.execute(insert(T_ATTACHMENTS), values)

    def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        a = T_ATTACHMENTS.c
        query = select(a.filename, a.content_type, a.size, a.sha256, a.content_id,
                       a.refused_reason).where(a.ticket_id == ticket_id).order_by(a.id)  # fmt: skip
        return [dict(r) for r in self.c.execute(query).mappings()]

    # --- loops and bounces ---------------------------------------------------------------

    def auto_mails_since(self, address: str, hour: datetime, day: datetime) -> tuple[int, int]:
        """Automatic mails to this address since each time: (since `hour`, since `day`)."""
        row = self.c.execute(
            AUTO_MAILS, {"address": address.lower(), "hour": hour, "day": day}
        ).one()
        return int(row[0] or 0), int(row[1] or 0)

    def bounced_since(self, address: str, since: datetime) -> bool:
        params = {"address": address.lower(), "since": since}
        return self.c.execute(BOUNCED_SINCE, params).first() is not None

    def record_bounce(
        self, message_id: str, recipients: Sequence[str], reason: str, now: datetime
    ) -> tuple[int | None, int | None]:
        """Mark our mail with this Message-ID bounced and rest its recipients' addresses.
        Returns (outbox id, ticket id) when the mail is ours."""
        row = None
        if message_id:
            row = self.c.execute(
                select(co.id, co.ticket_id, co.recipients).where(co.message_id == message_id)
            ).first()
        if row is not None:
            self.c.execute(
                update(T_OUTBOX).where(co.id == row.id)
                .values(status="bounced", last_error=reason[:2000])
            )  # fmt: skip
            recipients = list(recipients) or json.loads(row.recipients)
        for address in {r.lower() for r in recipients if "@" in r}:
            values = {"address": address, "last_bounce_at": now, "reason": reason[:2000],
                      "count": 1}  # fmt: skip
            self.c.execute(self.d.bounce, values)
        return (row.id, row.ticket_id) if row is not None else (None, None)

    def ticket(self, number: str) -> TicketView | None:
        row = self.c.execute(TICKET_BY_NUMBER, {"number": number}).mappings().first()
        return _view(row) if row else None

    def ticket_by_id(self, ticket_id: int) -> TicketView:
        row = self.c.execute(TICKET_BY_ID, {"id": ticket_id}).mappings().one()
        linked = row["linked_ticket_id"]
        number = self.c.scalar(select(ct.number).where(ct.id == linked)) if linked else ""
        return _view(row, number or "")

    def tickets(self, status: str | None = None, limit: int = 100) -> list[TicketView]:
        query = select(T_TICKETS).order_by(ct.id.desc()).limit(limit)
        if status:
            query = query.where(ct.status == status)
        return [_view(row) for row in self.c.execute(query).mappings()]

    def events(self, ticket_id: int) -> list[dict[str, Any]]:
        e = T_EVENTS.c
        query = select(T_EVENTS).where(e.ticket_id == ticket_id).order_by(e.id)
        return [
            {
                "at": r["at"].isoformat(),
                "actor": r["actor"],
                "kind": r["kind"],
                "field": r["field"],
                "old": r["old_value"],
                "new": r["new_value"],
                "text": r["text"],
                "inbound_id": r["inbound_id"],
            }
            for r in self.c.execute(query).mappings()
        ]

    def count_tickets(self) -> int:
        return int(self.c.scalar(select(func.count()).select_from(T_TICKETS)) or 0)

    # --- outbox -------------------------------------------------------------------------

    def enqueue(
        self, mail: OutgoingMail, ticket_id: int | None, inbound_id: int | None, now: datetime
    ) -> None:
        values = {
            "ticket_id": ticket_id, "inbound_id": inbound_id, "kind": mail.kind,
            "mail_from": mail.mail_from, "recipients": json.dumps(list(mail.recipients)),
            "to_address": mail.recipients[0].lower() if mail.recipients else "",
            "subject": mail.subject, "message_id": mail.message_id, "raw": mail.raw,
            "status": "pending", "attempts": 0, "next_attempt_at": now, "claimed_until": None,
            "claimed_by": "", "last_error": "", "created_at": now, "sent_at": None,
        }  # fmt: skip
        self.c.execute(INSERT_OUTBOX, values)
        if ticket_id is not None:
            self.remember_message_id(mail.message_id, ticket_id, "out")

    def claim_outbox(
        self, now: datetime, limit: int, holder: str, hold: timedelta
    ) -> list[ClaimedMail]:
        """Take due rows (pending, or 'sending' whose claimant died) for this sender.

        Ids first (index on status, id; no row bodies read while choosing), then the
        claimed rows themselves.
        """
        ids = self._due_ids(co.status == "pending", co.next_attempt_at <= now, limit)
        if len(ids) < limit:
            ids += self._due_ids(co.status == "sending", co.claimed_until < now, limit - len(ids))
        if not ids:
            return []
        self.c.execute(
            update(T_OUTBOX)
            .where(co.id.in_(ids))
            .values(status="sending", claimed_by=holder, claimed_until=now + hold)
        )
        rows = self.c.execute(
            select(co.id, co.mail_from, co.recipients, co.raw, co.attempts)
            .where(co.id.in_(ids))
            .order_by(co.id)
        )
        return [
            ClaimedMail(r.id, r.mail_from, tuple(json.loads(r.recipients)), r.raw, r.attempts)
            for r in rows
        ]

    def _due_ids(self, status: Any, due: Any, limit: int) -> list[int]:
        query = (
            select(co.id).where(status, due).order_by(co.id).limit(limit)
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        return list(self.c.scalars(query))

    def renew_claims(self, holder: str, until: datetime) -> None:
        self.c.execute(
            update(T_OUTBOX)
            .where(co.status == "sending", co.claimed_by == holder)
            .values(claimed_until=until)
        )

    def release_stale_claims(self, holder_prefix: str, now: datetime) -> int:
        """Queue again what an earlier run of this node claimed but never finished."""
        result = self.c.execute(
            update(T_OUTBOX)
            .where(co.status == "sending", co.claimed_by.startswith(holder_prefix, autoescape=True))
            .values(status="pending", next_attempt_at=now, claimed_until=None)
        )
        return _rowcount(result)

    def mark_sent(self, outbox_ids: Sequence[int], now: datetime) -> None:
        if outbox_ids:
            self.c.execute(MARK_SENT, [{"b_id": i, "now": now} for i in outbox_ids])

    def mark_failed_attempt(
        self, outbox_id: int, error: str, retry_at: datetime | None, attempts: int
    ) -> None:
        status = "pending" if retry_at else "failed"
        values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
        if retry_at:
            values["next_attempt_at"] = retry_at
        self.c.execute(update(T_OUTBOX).where(co.id == outbox_id).values(**values))

    def outbox(self, status: str | None = None, limit: int = 100) -> list[OutboxRow]:
        query = (
            select(T_OUTBOX, ct.number)
            .join(T_TICKETS, ct.id == co.ticket_id, isouter=True)
            .order_by(co.id.desc())
            .limit(limit)
        )
        if status:
            query = query.where(co.status == status)
        return [_outbox_row(row) for row in self.c.execute(query).mappings()]

    def outbox_raw(self, outbox_id: int) -> bytes | None:
        return self.c.scalar(select(co.raw).where(co.id == outbox_id))

    def retry_outbox(self, now: datetime, outbox_id: int | None) -> int:
        """Put failed rows (one, or all) back in the queue; returns how many."""
        query = update(T_OUTBOX).where(co.status == "failed")
        if outbox_id is not None:
            query = query.where(co.id == outbox_id)
        result = self.c.execute(
            query.values(status="pending", attempts=0, next_attempt_at=now, last_error="")
        )
        return _rowcount(result)

    def outbox_counts(self) -> dict[str, int]:
        rows = self.c.execute(select(co.status, func.count()).group_by(co.status)).all()
        return {status: int(n) for status, n in rows}

    # --- mailboxes and leases ----------------------------------------------------------

    def mailbox_state(self, name: str) -> tuple[int, int] | None:
        m = T_MAILBOXES.c
        row = self.c.execute(select(m.uidvalidity, m.last_uid).where(m.name == name)).first()
        return (int(row[0]), int(row[1])) if row else None

    def save_mailbox_state(self, name: str, uidvalidity: int, last_uid: int) -> None:
        m = T_MAILBOXES.c
        values = {"uidvalidity": uidvalidity, "last_uid": last_uid}
        result = self.c.execute(update(T_MAILBOXES).where(m.name == name).values(**values))
        if _rowcount(result) == 0:
            self.c.execute(insert(T_MAILBOXES).values(name=name, **values))

    def take_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Hold `name` until now+ttl if it is free, expired, or already ours.

        `holder` is "node:pid": a restarted daemon (same node, new pid) takes its
        predecessor's lease at once instead of waiting for it to expire.
        """
        node = holder.rsplit(":", 1)[0] + ":"
        lease = T_LEASES.c
        self.c.execute(self.d.lease, {"name": name, "holder": holder, "expires_at": now + ttl})
        result = self.c.execute(
            update(T_LEASES)
            .where(
                lease.name == name,
                or_(
                    lease.holder == holder,
                    lease.holder.startswith(node, autoescape=True),
                    lease.expires_at < now,
                ),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
        return _rowcount(result) > 0

    def lease_holder(self, name: str) -> str | None:
        lease = T_LEASES.c
        return self.c.scalar(select(lease.holder).where(lease.name == name))

    def release_lease(self, name: str, holder: str) -> None:
        lease = T_LEASES.c
        self.c.execute(
            update(T_LEASES)
            .where(lease.name == name, lease.holder == holder)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC))
        )


def _view(row: Any, linked_number: str = "") -> TicketView:
    return TicketView(
        id=row["id"],
        number=row["number"],
        subject=row["subject"],
        description=row["description"],
        requester_name=row["requester_name"],
        requester_email=row["requester_email"],
        department=row["department"],
        employee_id=row["employee_id"],
        status=row["status"],
        priority=row["priority"],
        category=row["category"],
        type=row["type"],
        assignee=row["assignee"],
        group=row["group_name"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        first_response_at=row["first_response_at"],
        resolved_at=row["resolved_at"],
        closed_at=row["closed_at"],
        linked_number=linked_number,
    )


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
    )


class FairLock:
    """First come, first served: a thread that releases and at once asks again waits
    behind those already waiting (threading.Lock lets it jump the queue)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()

    def __exit__(self, *_: object) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time and its busy handler sleeps and retries, so a
        # thread waiting for the lock can starve; an in-process lock hands it over at once.
        self._lock: AbstractContextManager[Any] = (
            FairLock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        if getattr(self._local, "open", False):
            raise RuntimeError("a transaction is already open in this thread: nest work in it")
        self._local.open = True
        try:
            with self._lock, self.engine.begin() as conn:
                yield Tx(conn)
        finally:
            self._local.open = False
