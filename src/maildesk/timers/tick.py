"""Use case, run by the clock: due timers → what their handlers decide, exactly once.

One short transaction leases the due rows to this daemon (store/timers.claim_due);
then, in batches, one transaction per batch: for each timer the ticket's row lock,
the timer re-checked (still pending, still ours), the kind's pure handler, and its
result applied — status through the lifecycle table, an event, mails into the outbox
with Message-IDs derived from the key, timers scheduled or cancelled — with the row
marked done in the same transaction.  A daemon that dies after the claim leaves rows
leased until `lease_until` (or until it restarts: `release_own`); nothing of their
work was committed, so they are done once, later.

Working time: a kind flagged `working_time` fires only at `working_time(due)`, the
next working instant (the business calendar plugs in there; by default every
instant is working time, 24×7); a row claimed before that is deferred to it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from maildesk import outgoing
from maildesk.calendar import usecases as calendars
from maildesk.calendar.business import add_business
from maildesk.calendar.model import Calendar
from maildesk.calendar.settings import CALENDAR_SECTION
from maildesk.config import Config
from maildesk.domain import EventKind, TicketView
from maildesk.pipeline import lifecycle
from maildesk.render import Renderer
from maildesk.sla import usecases as sla
from maildesk.sla.steps import SLA_KINDS
from maildesk.sla.targets import moves_targets
from maildesk.store import Store, Tx, errors, tickets
from maildesk.store import timers as rows
from maildesk.timers.kinds import KINDS, first_step, on_status, restarted_on_message
from maildesk.timers.model import Result, Schedule, Timer, TimerKind, WorkingTime, always
from maildesk.timers.writes import Reads, Writes

log = logging.getLogger("maildesk.timers")
ACTOR = "maildesk"
LEASE = timedelta(minutes=5)
BATCH = 100  # timers per transaction: on SQLite the write lock is held ~0.1 s
CLAIM_LIMIT = 10_000  # per tick; the next tick takes the rest


@dataclass(frozen=True)
class TickReport:
    claimed: int
    fired: int  # a handler's result applied
    obsolete: int  # the ticket had moved on: nothing done
    deferred: int  # waiting for working time
    mails: int
    failed: int = 0  # its handler or its mail raised: marked done as `failed: …`, logged


def run(
    store: Store,
    renderer: Renderer,
    now: datetime,
    holder: str,
    *,
    working_time: WorkingTime = always,
    limit: int = CLAIM_LIMIT,
    lease: timedelta = LEASE,
    batch: int = BATCH,
) -> TickReport:
    """Claim the due timers and apply each once; returns what happened."""
    with store.transaction() as tx:
        claimed = rows.claim_due(tx, now, limit, holder, lease)
    counts = dict.fromkeys(COUNTS, 0)
    fire = functools.partial(_fire, store, renderer, now, holder, working_time)
    for start in range(0, len(claimed), batch):
        chunk = claimed[start : start + batch]
        try:
            _add(counts, fire(chunk))
        except Exception as exc:
            if errors.classify(exc) == "transient":
                raise  # an outage: the rows stay leased and are claimed again later
            _one_by_one(store, fire, chunk, now, counts)
    report = TickReport(len(claimed), counts["fired"], counts["obsolete"], counts["deferred"],
                        counts["mails"], counts["failed"])  # fmt: skip
    if claimed:
        log.info("timers: %s", report)
    return report


COUNTS = ("fired", "obsolete", "deferred", "mails", "skipped", "failed")


def _fire(
    store: Store, renderer: Renderer, now: datetime, holder: str, working_time: WorkingTime,
    chunk: Sequence[rows.TimerRow],
) -> dict[str, int]:  # fmt: skip
    """One batch in one transaction; its counts only once it committed."""
    counts = dict.fromkeys(COUNTS, 0)
    with store.transaction() as tx:
        _Batch(tx, renderer, now, holder, working_time).fire(chunk, counts)
    return counts


def _one_by_one(
    store: Store,
    fire: Callable[[Sequence[rows.TimerRow]], dict[str, int]],
    chunk: Sequence[rows.TimerRow],
    now: datetime,
    counts: dict[str, int],
) -> None:
    """A batch failed because of one of its timers: each fires alone, and one that fails
    again is marked done as `failed: reason` (logged), so it never blocks the others."""
    for row in chunk:
        try:
            _add(counts, fire([row]))
        except Exception as exc:
            if errors.classify(exc) == "transient":
                raise
            log.exception("timer %s failed; marked done as failed", row.key)
            with store.transaction() as tx:
                rows.finish_many(tx, [(row.id, f"failed: {errors.reason(exc)}")], now)
            counts["failed"] += 1


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for name, n in more.items():
        counts[name] += n


@dataclass
class _Batch:
    """Claimed timers fired in one transaction: their tickets locked and read at once
    (tickets first, then timers: the order a mail's transaction takes them in), their
    watchers and thread history read at once, their writes sent at once at the end
    (timers/writes.py), the rows marked done with them."""

    tx: Tx
    renderer: Renderer
    now: datetime
    holder: str
    working_time: WorkingTime

    def fire(self, claimed: Sequence[rows.TimerRow], counts: dict[str, int]) -> None:
        ours = rows.lock_batch(self.tx, claimed, self.holder)
        mine = {r.ticket_id for r in claimed if r.id in ours}
        views = tickets.by_ids(self.tx, mine)
        reads, writes = Reads.of(self.tx, mine), Writes(self.tx, self.now)
        done: list[tuple[int, str]] = []
        for row in claimed:
            if row.id not in ours:  # cancelled meanwhile, or the lease was lost
                counts["skipped"] += 1
                continue
            what, outcome = self._one(row, views, reads, writes)
            counts[what] += 1
            if outcome:
                done.append((row.id, outcome))
        counts["mails"] += writes.flush()
        rows.finish_many(self.tx, done, self.now)

    def _one(
        self, row: rows.TimerRow, views: dict[int, TicketView], reads: Reads, writes: Writes
    ) -> tuple[str, str]:
        """("fired" | "obsolete" | "deferred", the outcome to record)."""
        if row.kind not in KINDS:
            return "obsolete", f"obsolete: unknown timer kind {row.kind!r}"
        kind = TimerKind(row.kind)
        spec = KINDS[kind]
        when = self.working_time(row.due_at) if spec.working_time else row.due_at
        if when > self.now:
            tx = writes.timers_now()
            rows.schedule(tx, row.ticket_id, kind, row.step, when, self.now)
            rows.release(tx, row.id)
            return "deferred", ""
        ticket = views[row.ticket_id]
        timer = Timer(kind, row.step, row.due_at, row.key)
        result = spec.handler(ticket, timer, self.now, self.renderer.cfg)
        if result.obsolete:
            return "obsolete", f"obsolete: {result.obsolete}"
        views[ticket.id] = apply(writes, self.renderer, reads, ticket, timer, result)
        return "fired", result.event or "done"


def apply(
    writes: Writes, renderer: Renderer, reads: Reads, ticket: TicketView, timer: Timer,
    result: Result,
) -> TicketView:  # fmt: skip
    """A handler's result, kept in the batch's writes: the ticket as it will be."""
    now, cfg = writes.now, renderer.cfg
    if result.trigger is not None:
        new = lifecycle.next_status(ticket.status, result.trigger, bool(ticket.assignee))
        if new is not None and new != ticket.status:
            old, ticket = ticket.status, writes.status(ticket, new, ACTOR)
            start, cancel = on_status(old, new, now, cfg)
            writes.cancel(ticket.id, cancel, f"status {old} → {new}")
            _schedule(writes, ticket.id, start, now, cfg)
            if moves_targets(old, new):  # targets pause, resume, are met or reopened
                sla.sync(writes.timers_now(), ticket, cfg, now)
    if result.event:
        writes.event(ticket.id, ACTOR, EventKind.TIMER, text=result.event)
    _schedule(writes, ticket.id, result.schedule, now, cfg)
    writes.cancel(ticket.id, result.cancel, f"cancelled by {timer.key}")
    if not result.mails:
        return ticket
    shown = sla.with_due(writes.timers_now(), ticket) if timer.kind in SLA_KINDS else ticket
    people = reads.people(ticket)
    for mail in outgoing.timer_mails(renderer, result.mails, shown, people, reads.histories,
                                     timer.key, now):  # fmt: skip
        writes.mail(mail, ticket.id)
    return ticket


def follow_status(tx: Tx, ticket_id: int, old: str, new: str, now: datetime, cfg: Config) -> None:
    """The ticket's status changed (any path): start the kinds that begin in the new
    state (a new step each), cancel the pending ones that do not live in it."""
    start, cancel = on_status(old, new, now, cfg)
    rows.cancel(tx, ticket_id, cancel, now, f"status {old} → {new}")
    _schedule(tx, ticket_id, start, now, cfg)


def follow_message(tx: Tx, ticket_id: int, status: str, now: datetime, cfg: Config) -> None:
    """A message went to the requester (an engineer's public reply): the pending timers
    of the kinds it restarts are due again their first delay from now."""
    kinds = restarted_on_message(status)
    if not kinds:
        return
    pending = {TimerKind(r.kind): r.step for r in rows.of_ticket(tx, ticket_id)
               if r.state == "pending" and r.kind in kinds}  # fmt: skip
    plans = (first_step(kind, now, cfg, step) for kind, step in pending.items())
    _schedule(tx, ticket_id, [plan for plan in plans if plan is not None], now, cfg)


def _schedule(
    on: Tx | Writes, ticket_id: int, plans: Sequence[Schedule], now: datetime, cfg: Config
) -> None:
    if not plans:
        return
    tx = on.timers_now() if isinstance(on, Writes) else on
    calendar: Calendar | None = None
    for plan in plans:
        step = plan.step if plan.step is not None else rows.next_step(tx, ticket_id, plan.kind)
        due = plan.due_at
        if plan.business_minutes is not None:
            calendar = calendar or business_calendar(tx, cfg, now)
            due = add_business(calendar, plan.due_at, plan.business_minutes)
        rows.schedule(tx, ticket_id, plan.kind, step, due, now)


def business_calendar(tx: Tx, cfg: Config, now: datetime) -> Calendar:
    """The business calendar ([calendar] hours, the database's holidays and make-up
    days, seeded on first use), read once per transaction: a batch of timers shares
    one, and the year tables it caches are built once (reading it is ~4 ms)."""
    found = _CALENDARS.get(tx)
    if found is None:
        calendars.ensure_seeded(tx, now)
        found = _CALENDARS[tx] = calendars.calendar_in(tx, cfg.section(CALENDAR_SECTION))
    return found


_CALENDARS: WeakKeyDictionary[Tx, Calendar] = WeakKeyDictionary()  # dies with its Tx
