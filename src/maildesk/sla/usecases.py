"""Use cases: keep a ticket's SLA targets and their timers true, in the caller's
transaction.  The decisions are in targets.py and steps.py.

`sync` runs whenever a ticket may have moved: created, its status, priority, first
response or last public reply (the update target) changed (Service, the timers'
tick), or the calendar changed (`recompute`, called by `maildesk calendar import` and
by the daemon when seeding added a year).  It stores each target and replaces the
ticket's pending SLA timers by the ones its running targets owe; timers already done
are never scheduled again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import datetime

from maildesk.calendar.business import next_working_instant
from maildesk.calendar.model import Calendar, around_the_clock
from maildesk.calendar.settings import CALENDAR_SECTION, CalendarSettings
from maildesk.calendar.usecases import calendar_in, ensure_seeded
from maildesk.config import Config
from maildesk.domain import Status, TicketView
from maildesk.sla import steps
from maildesk.sla.settings import SLA_SECTION, TARGETS, SlaSettings
from maildesk.sla.targets import FINISHED, RUNNING, Facts, Target, follow, started
from maildesk.store import Store, Tx, tickets
from maildesk.store import sla as rows
from maildesk.store import timers as timer_rows
from maildesk.timers.model import WorkingTime


@dataclass
class Calendars:
    """The business calendar read when first needed for a message; 24×7 in the desk's
    zone.  One Calendars serves a transaction (the service's batch); `next_message`
    forgets the business calendar, so each message reads the stored version again (a
    calendar import another transaction commits mid-batch is seen by the messages
    after it; an equal version costs one query: the built calendar is kept)."""

    tx: Tx
    cfg: Config
    now: datetime
    loaded: dict[str, Calendar] = field(default_factory=dict)

    def next_message(self) -> None:
        self.loaded.pop("business", None)

    def get(self, name: str) -> Calendar:
        """The calendar, kept for the message unless building it seeded the database
        (a savepoint rolled back would take the seeded years away again)."""
        if name not in self.loaded:
            settings = self.cfg.section(CALENDAR_SECTION)
            if name == "24x7":
                self.loaded[name] = around_the_clock(settings.timezone)
            else:
                found, seeded = _business_seeding(self.tx, settings, self.now)
                if seeded:
                    return found
                self.loaded[name] = found
        return self.loaded[name]


_BUILT: dict[tuple[object, ...], Calendar] = {}  # one per stored version: its year tables kept


def _business(tx: Tx, settings: CalendarSettings, now: datetime) -> Calendar:
    return _business_seeding(tx, settings, now)[0]


def _business_seeding(tx: Tx, settings: CalendarSettings, now: datetime) -> tuple[Calendar, bool]:
    """The business calendar, built again only when the stored one changed (reading and
    building it costs ~10 ms; the version query a fraction of one), and whether the
    database was seeded for it: one with no official year at all is seeded first (the
    daemon seeds at start)."""
    version = rows.calendar_version(tx)
    seeded = not version[2] and bool(ensure_seeded(tx, now))
    if seeded:
        version = rows.calendar_version(tx)
    key = (settings, *version)
    found = _BUILT.get(key)
    if found is None:
        found = calendar_in(tx, settings)
        _BUILT.clear()
        _BUILT[key] = found
    return found, seeded


def sync(tx: Tx, ticket: TicketView, cfg: Config, now: datetime,
         calendars: Calendars | None = None,
         stored: dict[str, Target] | None = None) -> dict[str, Target]:  # fmt: skip
    """Store the ticket's targets as its state says; reschedule their timers.  `stored`:
    its targets as stored, when the caller knows them (a ticket just created has none)."""
    cals = calendars or Calendars(tx, cfg, now)
    settings = cfg.section(SLA_SECTION)
    replies, last = _updates(tx, ticket, settings)
    facts = Facts(ticket.status, ticket.first_response_at, now, last)
    old = rows.of_ticket(tx, ticket.id) if stored is None else stored
    new: dict[str, Target] = {}
    for name in TARGETS:
        minutes = settings.target_minutes(name, ticket.priority)
        if minutes is None or (name not in old and not _starts(name, ticket.status, facts)):
            if name in old and old[name].met_at is not None:
                new[name] = old[name]  # decided: kept for the record (digests, audit)
            elif name in old:  # off for this priority now
                rows.drop(tx, ticket.id, name)
            continue  # a ticket older than the targets gets them when next worked on
        calendar = "24x7" if settings.around_the_clock(ticket.priority) else "business"
        start = facts.last_update_at if name == "update" else ticket.created_at
        base = old.get(name) or started(name, calendar, minutes, start or ticket.created_at)
        base = replace(base, minutes=minutes, calendar=calendar)
        new[name] = follow(base, facts, functools.partial(cals.get, calendar))
    rows.put_many(tx, ticket.id, old, new)
    if new != old:
        _reschedule(tx, ticket, new, cals, now, had=bool(old), cycle=replies)
    return new


def _updates(tx: Tx, ticket: TicketView, settings: SlaSettings) -> tuple[int, datetime | None]:
    """The ticket's public replies so far and the last one's time, read only when its
    priority has an update target."""
    if settings.target_minutes("update", ticket.priority) is None:
        return 0, None
    return rows.last_public_reply(tx, ticket.id)


def _starts(name: str, status: str, facts: Facts) -> bool:
    """Can a target the ticket does not have yet start now?  While it runs; the update
    target from the first message to the requester on, unless the ticket is finished
    (waiting on the user, it starts paused)."""
    if name == "update":
        return facts.last_update_at is not None and Status(status) not in FINISHED
    return Status(status) in RUNNING


def _reschedule(tx: Tx, ticket: TicketView, targets: dict[str, Target], cals: Calendars,
                now: datetime, had: bool, cycle: int) -> None:  # fmt: skip
    """Replace the pending timers of the targets (`had`: there were targets before, so
    maybe timers) by the ones they owe now; the update target's carry its `cycle`."""
    settings = cals.cfg.section(SLA_SECTION)
    if had:
        rows.unschedule(tx, ticket.id, steps.SLA_KINDS, below_step=steps.MANUAL * 100,
                        cycle=steps.CYCLE)  # fmt: skip
    owed = [
        (p.kind.value, p.step or 1, p.due_at)
        for t in targets.values()
        for p in steps.plans(
            t, ticket.priority, settings, cals.get(t.calendar), now, _cycle(t, cycle)
        )
    ]
    timer_rows.schedule_many(tx, ticket.id, owed, now)


def _cycle(t: Target, replies: int) -> int:
    return replies if t.target == "update" else 0


def recompute(tx: Tx, cfg: Config, now: datetime) -> int:
    """The calendar changed: every ticket with a target not met gets its due times
    again from the new calendar; returns how many tickets."""
    cals = Calendars(tx, cfg, now)
    ids = rows.open_ticket_ids(tx)
    for ticket_id in ids:
        sync(tx, tickets.by_id(tx, ticket_id), cfg, now, cals)
    return len(ids)


def with_due(tx: Tx, ticket: TicketView, found: dict[str, Target] | None = None) -> TicketView:
    """The ticket with its targets' due times (as `sync` returned them, else read), for
    the mails that state them."""
    found = rows.of_ticket(tx, ticket.id) if found is None else found
    return replace(ticket, targets=tuple(found[n] for n in TARGETS if n in found))


def business_hours(store: Store, cfg: Config, now: datetime) -> WorkingTime:
    """The next working instant of the business calendar as it is in the database now
    (seeded on first use; years newly seeded move open tickets' due times)."""
    with store.transaction() as tx:
        if ensure_seeded(tx, now):
            recompute(tx, cfg, now)
        cal = _business(tx, cfg.section(CALENDAR_SECTION), now)
    return functools.partial(next_working_instant, cal)


def escalated_by_hand(tx: Tx, ticket: TicketView, cfg: Config, now: datetime,
                      calendars: Calendars | None = None) -> None:  # fmt: skip
    """`#escalate` (or `#status escalated`): the lead was told with the change; the
    further levels of the chain follow, as after a breach."""
    settings = cfg.section(SLA_SECTION)
    cals = calendars or Calendars(tx, cfg, now)
    calendar = "24x7" if settings.around_the_clock(ticket.priority) else "business"
    for plan in steps.by_hand(now, ticket.priority, settings, cals.get(calendar)):
        timer_rows.schedule(tx, ticket.id, plan.kind, plan.step or 1, plan.due_at, now)
