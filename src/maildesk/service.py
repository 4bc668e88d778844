"""Use cases: journal a message, process it, process whatever is pending.

The shape of every use case: read facts → pure decision → one transaction.
"""

from __future__ import annotations

import email.parser
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from maildesk import outgoing
from maildesk.attachments import AttachmentStore
from maildesk.clock import Clock, SystemClock
from maildesk.config import Config
from maildesk.domain import (
    Decision,
    EventKind,
    Facts,
    FollowUp,
    Ignore,
    Inbound,
    KbQuestion,
    MailKind,
    NewTicket,
    Person,
    Quarantine,
    RecordBounce,
    Status,
    SurveyAnswer,
    SurveySent,
    TicketRef,
    TicketView,
    Work,
)
from maildesk.held.settings import LIMITS
from maildesk.kb import flow as kb_flow
from maildesk.kb import steps as kb_steps
from maildesk.pipeline import assign, automail, correlate, numbering, plan, routing
from maildesk.pipeline.parse import MSGID, ParseError, parse
from maildesk.render import Renderer, keyed_nonce
from maildesk.sla import usecases as sla
from maildesk.store import (
    ClaimedMail,
    HandOffTerms,
    JournalEntry,
    Store,
    Tx,
    bounces,
    claims,
    errors,
    events,
    journal,
    participants,
    senders,
    surveys,
    threads,
    tickets,
)
from maildesk.survey import usecases as survey_usecases
from maildesk.timers import tick as timer_tick
from maildesk.vocab import reason, say

log = logging.getLogger("maildesk.ingest")
NOTHING_TOLD = events.Told(None, False, ())  # a message matching no ticket
_HEADERS = email.parser.BytesHeaderParser()


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


class HandOff(Protocol):
    """A sender with nothing to send: the mail a batch of messages queues is claimed for
    it in the batch's own transaction and handed over after the commit, so it goes
    without a claim of the sender's own (one transaction, and its wait, less per mail)."""

    def terms(self) -> HandOffTerms | None:
        """Whom to claim for, for how long and how many, while the sender would take
        mail now; None while it would not."""

    def take(self, mails: list[ClaimedMail]) -> None: ...


class Service:
    def __init__(
        self,
        cfg: Config,
        store: Store,
        renderer: Renderer,
        directory: Mapping[str, Person] | None = None,
        clock: Clock | None = None,
        files: AttachmentStore | None = None,
        rules: routing.Rules | None = None,
        kb: kb_flow.Desk | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.renderer = renderer
        self.directory = directory or {}
        self.clock: Callable[[], datetime] = (clock or SystemClock()).now  # passed-in time
        self.files = files or AttachmentStore(cfg.attachments.folder)
        self.rules = rules
        self.kb = kb  # the knowledge base (kb/flow.py): suggestions, self-service, questions
        self._drafts_due = kb is not None  # `#kb` drafts to write after a commit (kb/steps)
        prefixes = (cfg.tickets.prefix, *cfg.tickets.other_prefixes)
        self.number_re = numbering.number_pattern(cfg.tickets.number_format, prefixes)
        # the daemon's sender, when it would take the mail a batch writes at once
        self.hand_off: HandOff | None = None

    # --- journal ---------------------------------------------------------------------

    def receive(self, raw: bytes, source: str) -> JournalEntry:
        return self.receive_many([(raw, source)])[0]

    def receive_many(self, items: Sequence[tuple[bytes, str]]) -> list[JournalEntry]:
        """Journal raw messages durably in one transaction; duplicates are flagged."""
        now = self.clock()
        with self.store.transaction() as tx:
            entries = [journal.add(tx, raw, quick_message_id(raw), src, now) for raw, src in items]
        for entry, (_, source) in zip(entries, items, strict=True):
            if entry.duplicate:
                log.info("skipped as duplicate: %s is journal entry #%s", source, entry.id)
            elif entry.reuses is not None:
                log.info("journal entry #%s from %s: %s", entry.id, source, _reused(entry.reuses))
        return entries

    def ingest(self, raw: bytes, source: str) -> Outcome:
        entry = self.receive(raw, source)
        if entry.duplicate:
            return Outcome("duplicate", f"already journaled as #{entry.id}", entry.id)
        return self.process(entry.id)

    # --- processing --------------------------------------------------------------------

    def process_pending(self, limit: int = 1000) -> list[Outcome]:
        with self.store.transaction() as tx:
            ids = journal.pending_ids(tx, limit)
        return self.process_many(ids)

    def process(self, inbound_id: int) -> Outcome:
        return self.process_many([inbound_id])[0]

    def process_many(self, ids: Sequence[int]) -> list[Outcome]:
        """Process journal entries in one transaction, each inside its own savepoint:
        one that fails because of its own content is quarantined without undoing the
        others.  An outage (store/errors.py: connection lost, lock timeout, disk full)
        rolls everything back and leaves the entries pending, to be retried."""
        now = self.clock()
        if self.kb is not None:  # a changed folder is indexed before, not inside, the batch
            self.kb.knowledge.refresh()
        terms = self.hand_off.terms() if self.hand_off is not None else None
        with self.store.transaction() as tx:
            since = claims.newest_id(tx) if terms else 0
            cals = sla.Calendars(tx, self.cfg, now)  # built calendars kept for the batch
            outcomes = [self._process_isolated(tx, inbound_id, now, cals) for inbound_id in ids]
            handed = claims.claim_newer(tx, since, now, terms) if terms else []
        if handed and self.hand_off is not None:  # committed: the sender may send them
            self.hand_off.take(handed)
        for outcome in outcomes:  # logged once committed
            _log_outcome(outcome)
        if self._drafts_due and self.kb is not None:
            self._drafts_due = False
            kb_steps.write_drafts(self.store, self.kb.settings.folder, self.clock())
        return outcomes

    def _process_isolated(
        self, tx: Tx, inbound_id: int, now: datetime, cals: sla.Calendars
    ) -> Outcome:
        pending = journal.lock_pending(tx, inbound_id)  # the row lock outlives a savepoint rollback
        if pending is None:
            return Outcome("skipped", "already processed or taken by another daemon", inbound_id)
        cals.next_message()  # a calendar committed since the last message is read
        try:
            with tx.savepoint():
                outcome = self._process_one(tx, inbound_id, pending.raw, now, cals)
                if pending.reuses is not None:
                    outcome = _note_reuse(tx, outcome, pending.reuses, now)
                return outcome
        except Exception as exc:
            if errors.classify(exc) == "transient":
                raise  # the batch rolls back; the entries stay pending, retried later
            log.exception("journal entry #%s quarantined", inbound_id)
            reason = errors.reason(exc)
            journal.quarantine(tx, inbound_id, now, reason)
            return Outcome("quarantined", reason, inbound_id)

    def _process_one(
        self, tx: Tx, inbound_id: int, raw: bytes, now: datetime, cals: sla.Calendars
    ) -> Outcome:
        try:
            inbound = parse(raw)
        except ParseError as exc:
            journal.quarantine(tx, inbound_id, now, str(exc))
            return Outcome("quarantined", str(exc), inbound_id)
        auto = automail.classify(raw, inbound)
        decision = plan.without_facts(inbound, self.cfg, auto)  # a bounce reads no facts
        if decision is None:
            facts = self._facts(tx, inbound, now, auto.kind)
            decision = plan.decide(inbound, facts, self.cfg, now, auto, self.rules, self.kb)
        return self._apply(tx, inbound_id, inbound, decision, now, cals)

    def _facts(self, tx: Tx, inbound: Inbound, now: datetime, auto_kind: str) -> Facts:
        sender = inbound.sender.email.lower()
        plus = []
        if self.cfg.threading.plus_addressing:
            plus = correlate.plus_numbers(inbound, self.cfg.support_address, self.number_re)
        by_number = _first(tx, correlate.numbers_in(inbound.subject, self.number_re))
        referenced = correlate.referenced_ids(inbound)
        by_reference = threads.ticket_by_message_ids(tx, referenced, sender)
        matched = by_number or by_reference
        needed = assign.facts_needed(self.cfg, auto_kind, inbound.sender_missing, matched)
        groups = assign.groups(self.cfg.people) if needed else []
        cooldown = timedelta(hours=self.cfg.loops.bounce_cooldown_hours)
        window = self.cfg.section(LIMITS).window
        told = events.told(tx, matched.id, sender) if matched else NOTHING_TOLD
        known = senders.facts(tx, sender, now - timedelta(hours=1), now - timedelta(days=1),
                              now - cooldown, now - window, groups)  # fmt: skip
        return Facts(
            open_counts=self._open_counts(tx) if needed else {},
            last_assigned=known.last_assigned,
            ticket_by_number=by_number,
            ticket_by_reference=by_reference,
            ticket_by_plus=_first(tx, plus),
            requester=self.directory.get(sender),
            auto_mails_last_hour=known.auto_mails_last_hour,
            auto_mails_last_day=known.auto_mails_last_day,
            sender_bounced=known.bounced,
            recent_new_tickets=known.opened,
            last_reply=told.last_reply,
            watchers_refused_before=told.watchers_refused,
            earlier_texts=told.earlier_texts,
            survey=self._survey_sent(tx, matched) if matched else None,
            kb_suggested=kb_steps.suggested_on(tx, self.kb, matched),
            kb_suggested_on=matched.id if matched else None,
        )

    def _open_counts(self, tx: Tx) -> dict[str, int]:
        """Open tickets per engineer, only for the strategy that uses them: read from
        the open tickets alone, whose number does not grow with the stored tickets."""
        if self.cfg.assignment != "fewest_open":
            return {}
        return tickets.open_counts(tx, [p.email for p in self.cfg.people])

    def _survey_sent(self, tx: Tx, ticket: TicketRef) -> SurveySent | None:
        """The ticket's surveys: when the latest went, and their Message-IDs' nonces
        (derived from the timer's key and the requester, as render.keyed_nonce does)."""
        keys, at = surveys.sent(tx, ticket.id)
        if at is None:
            return None
        domain, to = self.cfg.message_id_domain, ticket.requester_email
        nonces = tuple(keyed_nonce(f"{key}:{MailKind.SURVEY}", to, domain) for key in keys)
        return SurveySent(ticket.id, at, nonces)

    def _apply(
        self,
        tx: Tx,
        inbound_id: int,
        inbound: Inbound,
        decision: Decision,
        now: datetime,
        cals: sla.Calendars,
    ) -> Outcome:
        action = decision.action
        if isinstance(action, Ignore):
            journal.finish(tx, inbound_id, now, f"ignored: {action.reason}", None)
            return Outcome("ignored", action.reason, inbound_id)
        if isinstance(action, RecordBounce):
            return self._bounce(tx, inbound_id, action, now)
        if isinstance(action, Quarantine):
            journal.quarantine(tx, inbound_id, now, action.reason)
            return Outcome("quarantined", action.reason, inbound_id)
        if isinstance(action, SurveyAnswer):  # never reopens, never answered
            return self._survey_answer(tx, inbound_id, inbound, action, now)
        if isinstance(action, KbQuestion):  # answered from the knowledge base, no ticket
            kb_steps.answer_question(tx, self.renderer, inbound, decision, inbound_id, now)
            detail = f"knowledge-base answer: {', '.join(action.articles)}"
            journal.finish(tx, inbound_id, now, detail, None)
            return Outcome("answered", detail, inbound_id)
        if isinstance(action, Work):
            outcome = self._work(tx, inbound_id, inbound, action, now)
            spoke = bool(action.text) and not action.refused  # relayed to the requester
            ticket = self._after_change(tx, action.ticket, now, cals, spoke)
        elif isinstance(action, FollowUp):
            outcome = self._follow_up(tx, inbound_id, inbound, action, now)
            ticket = self._after_change(tx, action.ticket, now, cals)
        else:
            outcome, ticket = self._create(tx, inbound_id, inbound, action, decision, now)
            kb_steps.record_suggestions(tx, decision, ticket.id, inbound_id, now)
            targets = sla.sync(tx, ticket, self.cfg, now, cals, stored={})  # new: none yet
            ticket = sla.with_due(tx, ticket, targets)
        self._keep_attachments(tx, ticket.id, inbound_id, inbound, decision, now)
        outgoing.write(tx, self.renderer, decision, inbound, ticket, inbound_id, now)
        return outcome

    def _after_change(
        self, tx: Tx, before: TicketRef, now: datetime, cals: sla.Calendars, spoke: bool = False
    ) -> TicketView:
        """The ticket as changed; a new status starts and ends its timers (timers/), and
        words relayed to the requester restart the ones waiting for such words."""
        ticket = tickets.by_id(tx, before.id)
        if ticket.status != before.status:
            timer_tick.follow_status(tx, ticket.id, before.status, ticket.status, now, self.cfg)
        if spoke:
            timer_tick.follow_message(tx, ticket.id, ticket.status, now, self.cfg)
        targets = sla.sync(tx, ticket, self.cfg, now, cals)  # status, priority, first response
        if ticket.status == Status.ESCALATED != before.status:
            sla.escalated_by_hand(tx, ticket, self.cfg, now, cals)
        return sla.with_due(tx, ticket, targets)

    def _keep_attachments(
        self,
        tx: Tx,
        ticket_id: int,
        inbound_id: int,
        inbound: Inbound,
        decision: Decision,
        now: datetime,
    ) -> None:
        """Kept files go to the content-addressed store; refusals are noted on the ticket."""
        for verdict in decision.attachments:
            sha256 = "" if verdict.refused else self.files.put(verdict.attachment.data)
            participants.add_attachment(tx, ticket_id, inbound_id, verdict, sha256, now)
            if verdict.refused:
                events.add(tx, ticket_id, now, inbound.sender.email, EventKind.ATTACHMENT_REFUSED,
                             inbound_id, text=verdict.line())  # fmt: skip

    def _work(
        self, tx: Tx, inbound_id: int, inbound: Inbound, work: Work, now: datetime
    ) -> Outcome:
        """An engineer's reply or a requester's command: changes, relayed text, a note."""
        ticket, actor = work.ticket, work.actor
        if work.refused:  # its Message-ID is not remembered: replies to it prove nothing
            events.add(tx, ticket.id, now, actor, EventKind.COMMAND_REFUSED, inbound_id,
                       text=work.refused)  # fmt: skip
            journal.finish(tx, inbound_id, now, f"refused: {work.refused}", ticket.id)
            return Outcome("refused", work.refused, inbound_id, ticket.number)
        threads.remember_message_id(tx, inbound.message_id, ticket.id, "in")
        tickets.change(tx, ticket.id, work.changes, now, actor, inbound_id)
        if work.text:
            events.add(
                tx, ticket.id, now, actor, EventKind.PUBLIC_REPLY, inbound_id, text=work.text
            )
            if self.cfg.person(actor):
                tickets.first_response(tx, ticket.id, now)
        if work.note:
            events.add(tx, ticket.id, now, actor, EventKind.NOTE, inbound_id, text=work.note)
        if work.said:
            events.add(tx, ticket.id, now, actor, EventKind.REPLY, inbound_id, text=work.said)
        if work.review is not None:
            survey_usecases.close_review(tx, ticket.id, actor, work.review, now, inbound_id)
        kb_steps.record_served(tx, work, inbound_id, now)
        if kb_steps.describe_draft(tx, self.renderer, self.kb, work, inbound, inbound_id, now):
            self._drafts_due = True
        changed = ", ".join(f"{c.field} {c.old} → {c.new}" for c in work.changes)
        detail = f"by {actor}" + (f": {changed}" if changed else "")
        journal.finish(tx, inbound_id, now, f"worked on {ticket.number}", ticket.id)
        return Outcome("worked", detail, inbound_id, ticket.number)

    def _survey_answer(
        self, tx: Tx, inbound_id: int, inbound: Inbound, answer: SurveyAnswer, now: datetime
    ) -> Outcome:
        ticket = answer.ticket
        detail = survey_usecases.record_answer(tx, self.renderer, inbound, answer, inbound_id,
                                               now)  # fmt: skip
        journal.finish(tx, inbound_id, now, detail, ticket.id)
        return Outcome("survey", detail, inbound_id, ticket.number)

    def _bounce(self, tx: Tx, inbound_id: int, bounce: RecordBounce, now: datetime) -> Outcome:
        outbox_id, ticket_id = bounces.record_bounce(
            tx, bounce.original_message_id, bounce.recipients, bounce.reason, now
        )
        if ticket_id is not None:
            events.add(tx, ticket_id, now, "mailer-daemon", EventKind.BOUNCE, inbound_id,
                         text=f"outbox #{outbox_id} bounced: {bounce.reason}")  # fmt: skip
        what = f"outbox #{outbox_id}" if outbox_id else "a mail we cannot identify"
        detail = f"bounce of {what} ({bounce.reason})"
        journal.finish(tx, inbound_id, now, detail, ticket_id)
        return Outcome("bounce", detail, inbound_id)

    def _create(
        self,
        tx: Tx,
        inbound_id: int,
        inbound: Inbound,
        new: NewTicket,
        decision: Decision,
        now: datetime,
    ) -> tuple[Outcome, TicketView]:
        settings = self.cfg.tickets
        key = numbering.counter_key(settings.number_format, now, settings.timezone)
        seq = tickets.next_sequence(tx, key)
        number = numbering.format_number(
            settings.number_format, settings.prefix, now, settings.timezone, seq
        )
        ticket = tickets.create(tx, number, new, now, inbound_id)
        threads.remember_message_id(tx, inbound.message_id, ticket.id, "in")
        detail = f"from {inbound.sender.email}"
        if decision.no_reply_reason:
            detail += f"; no acknowledgment: {decision.no_reply_reason}"
        journal.finish(tx, inbound_id, now, f"created {number}", ticket.id)
        return Outcome("created", detail, inbound_id, number), ticket

    def _follow_up(
        self, tx: Tx, inbound_id: int, inbound: Inbound, follow: FollowUp, now: datetime
    ) -> Outcome:
        ticket, actor = follow.ticket, inbound.sender.email
        kind = EventKind.AUTO_REPLY if follow.note_only else EventKind.REPLY
        events.add(tx, ticket.id, now, actor, kind, inbound_id, text=follow.text)
        detail = f"matched by {follow.matched_by}"
        move = follow.status
        if move is not None and follow.reopened:
            tickets.record_reopened(tx, ticket.id, move, now, actor, inbound_id)
            detail += f"; reopened ({move.old} → {move.new})"
        elif move is not None:
            tickets.change(tx, ticket.id, (move,), now, actor, inbound_id)
        for watcher in follow.add_watchers:
            participants.add_watcher(tx, ticket.id, watcher, now, actor, inbound_id)
        for who, why in follow.refused_watchers:
            events.add(tx, ticket.id, now, actor, EventKind.WATCHER_REFUSED, inbound_id,
                       field="watchers", new=who.email, text=say(why, "en"))  # fmt: skip
        tickets.touch(tx, ticket.id, now)
        if follow.proven:  # a claimed mail's id must not let a stranger's reply thread in
            threads.remember_message_id(tx, inbound.message_id, ticket.id, "in")
        journal.finish(tx, inbound_id, now, f"threaded onto {ticket.number}", ticket.id)
        if follow.note_only:
            detail += "; automatic reply noted"
        return Outcome("threaded", detail, inbound_id, ticket.number)


def _reused(earlier: int) -> str:
    return say(reason("message_id_reused", entry=f"#{earlier}"), "en")


def _note_reuse(tx: Tx, outcome: Outcome, earlier: int, now: datetime) -> Outcome:
    """Say on the ticket and in the outcome that this message's Message-ID was used
    before by a different message, naming that journal entry."""
    text = _reused(earlier)
    ticket_id = journal.ticket_of(tx, outcome.inbound_id)
    if ticket_id is not None:
        events.add(tx, ticket_id, now, "maildesk", EventKind.MESSAGE_ID_REUSED,
                   outcome.inbound_id, text=text)  # fmt: skip
    return replace(outcome, detail=f"{outcome.detail}; {text}")


def _first(tx: Tx, numbers: list[str]) -> TicketRef | None:
    """The first of these ticket numbers that exists."""
    for number in numbers:
        found = tickets.by_number(tx, number)
        if found:
            return found
    return None


def _log_outcome(outcome: Outcome) -> None:
    number = f" {outcome.ticket_number}" if outcome.ticket_number else ""
    log.info("message #%s: %s%s (%s)", outcome.inbound_id, outcome.kind, number, outcome.detail)
