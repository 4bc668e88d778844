"""Use cases: journal a message, process it, process whatever is pending.

The shape of every use case: read facts → pure decision → one transaction.
"""

from __future__ import annotations

import email.parser
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import InterfaceError, OperationalError

from maildesk.config import Config
from maildesk.domain import Decision, Facts, FollowUp, Ignore, Inbound, NewTicket, Person
from maildesk.pipeline import correlate, numbering, plan
from maildesk.pipeline.parse import MSGID, ParseError, parse
from maildesk.render import Renderer
from maildesk.store import JournalEntry, Store, Tx

log = logging.getLogger("maildesk.ingest")
_HEADERS = email.parser.BytesHeaderParser()


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Outcome:
    kind: str  # created, threaded, ignored, duplicate, quarantined, skipped
    detail: str
    inbound_id: int
    ticket_number: str = ""


def quick_message_id(raw: bytes) -> str:
    """Message-ID from the headers alone, for journaling before the full parse."""
    try:
        value = str(_HEADERS.parsebytes(raw).get("Message-ID") or "")
    except Exception:  # any header garbage: journal by content hash instead
        return ""
    found = MSGID.search(value)
    return (found.group(1) if found else value.strip())[:900]


class Service:
    def __init__(
        self,
        cfg: Config,
        store: Store,
        renderer: Renderer,
        directory: Mapping[str, Person] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.renderer = renderer
        self.directory = directory or {}
        self.clock = clock
        self.number_re = numbering.number_pattern(cfg.tickets.number_format, (cfg.tickets.prefix,))

    # --- journal ---------------------------------------------------------------------

    def receive(self, raw: bytes, source: str) -> JournalEntry:
        return self.receive_many([(raw, source)])[0]

    def receive_many(self, items: Sequence[tuple[bytes, str]]) -> list[JournalEntry]:
        """Journal raw messages durably in one transaction; duplicates are flagged."""
        now = self.clock()
        with self.store.transaction() as tx:
            entries = [tx.journal(raw, quick_message_id(raw), src, now) for raw, src in items]
        for entry, (_, source) in zip(entries, items, strict=True):
            if entry.duplicate:
                log.info("skipped as duplicate: %s is journal entry #%s", source, entry.id)
        return entries

    def ingest(self, raw: bytes, source: str) -> Outcome:
        entry = self.receive(raw, source)
        if entry.duplicate:
            return Outcome("duplicate", f"already journaled as #{entry.id}", entry.id)
        return self.process(entry.id)

    # --- processing --------------------------------------------------------------------

    def process_pending(self, limit: int = 1000) -> list[Outcome]:
        with self.store.transaction() as tx:
            ids = tx.pending_ids(limit)
        return self.process_many(ids)

    def process(self, inbound_id: int) -> Outcome:
        return self.process_many([inbound_id])[0]

    def process_many(self, ids: Sequence[int]) -> list[Outcome]:
        """Process journal entries in one transaction, each inside its own savepoint:
        one that fails is quarantined without undoing the others.  A database outage
        rolls everything back and leaves the entries pending, to be retried."""
        now = self.clock()
        with self.store.transaction() as tx:
            outcomes = [self._process_isolated(tx, inbound_id, now) for inbound_id in ids]
        for outcome in outcomes:  # logged once committed
            _log_outcome(outcome)
        return outcomes

    def _process_isolated(self, tx: Tx, inbound_id: int, now: datetime) -> Outcome:
        pending = tx.lock_pending(inbound_id)  # the row lock outlives a savepoint rollback
        if pending is None:
            return Outcome("skipped", "already processed or taken by another daemon", inbound_id)
        try:
            with tx.savepoint():
                return self._process_one(tx, inbound_id, pending.raw, now)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            log.exception("internal error on journal entry #%s", inbound_id)
            reason = f"internal error: {type(exc).__name__}: {exc}"
            tx.quarantine(inbound_id, now, reason)
            return Outcome("quarantined", reason, inbound_id)

    def _process_one(self, tx: Tx, inbound_id: int, raw: bytes, now: datetime) -> Outcome:
        try:
            inbound = parse(raw)
        except ParseError as exc:
            tx.quarantine(inbound_id, now, str(exc))
            return Outcome("quarantined", str(exc), inbound_id)
        decision = plan.decide(inbound, self._facts(tx, inbound), self.cfg)
        return self._apply(tx, inbound_id, inbound, decision, now)

    def _facts(self, tx: Tx, inbound: Inbound) -> Facts:
        by_number = None
        for number in correlate.numbers_in(inbound.subject, self.number_re):
            by_number = tx.ticket_by_number(number)
            if by_number:
                break
        return Facts(
            ticket_by_reference=tx.ticket_by_message_ids(correlate.referenced_ids(inbound)),
            ticket_by_number=by_number,
            requester=self.directory.get(inbound.sender.email.lower()),
        )

    def _apply(
        self, tx: Tx, inbound_id: int, inbound: Inbound, decision: Decision, now: datetime
    ) -> Outcome:
        action = decision.action
        if isinstance(action, Ignore):
            tx.finish_inbound(inbound_id, now, f"ignored: {action.reason}", None)
            return Outcome("ignored", action.reason, inbound_id)
        if isinstance(action, FollowUp):
            return self._follow_up(tx, inbound_id, inbound, action, now)
        return self._create(tx, inbound_id, inbound, action, decision, now)

    def _create(
        self,
        tx: Tx,
        inbound_id: int,
        inbound: Inbound,
        new: NewTicket,
        decision: Decision,
        now: datetime,
    ) -> Outcome:
        tickets = self.cfg.tickets
        key = numbering.counter_key(tickets.number_format, now, tickets.timezone)
        seq = tx.next_sequence(key)
        number = numbering.format_number(
            tickets.number_format, tickets.prefix, now, tickets.timezone, seq
        )
        ticket = tx.create_ticket(number, new, now, inbound_id)
        tx.remember_message_id(inbound.message_id, ticket.id, "in")
        for mail_plan in decision.mails:
            tx.enqueue(self.renderer.render(mail_plan, ticket, now), ticket.id, inbound_id, now)
        detail = f"from {inbound.sender.email}"
        if decision.no_reply_reason:
            detail += f"; no acknowledgment: {decision.no_reply_reason}"
        tx.finish_inbound(inbound_id, now, f"created {number}", ticket.id)
        return Outcome("created", detail, inbound_id, number)

    def _follow_up(
        self, tx: Tx, inbound_id: int, inbound: Inbound, follow: FollowUp, now: datetime
    ) -> Outcome:
        ticket = follow.ticket
        tx.add_event(ticket.id, now, inbound.sender.email, "reply", inbound_id, text=follow.text)
        tx.touch_ticket(ticket.id, now)
        tx.remember_message_id(inbound.message_id, ticket.id, "in")
        tx.finish_inbound(inbound_id, now, f"threaded onto {ticket.number}", ticket.id)
        return Outcome("threaded", f"matched by {follow.matched_by}", inbound_id, ticket.number)


def _log_outcome(outcome: Outcome) -> None:
    number = f" {outcome.ticket_number}" if outcome.ticket_number else ""
    log.info("message #%s: %s%s (%s)", outcome.inbound_id, outcome.kind, number, outcome.detail)
