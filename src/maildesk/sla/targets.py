"""The promises on one ticket, as values, and how a ticket's state moves them.  Pure.

A target (first response, resolution, update) is a length in minutes of its policy's calendar
(business hours, or 24×7) counted from `started_at`.  Its clock runs while the ticket
is being worked and pauses while it waits on the user or is finished (resolved,
closed, rejected); a pause adds the business minutes it lasted, so the due time moves
by exactly them: due = started + length + paused, in the calendar.  A reopened ticket
resumes with the time it had left, never with the time it spent waiting.

Met: the first response by an engineer's public reply; the resolution by resolving
(a reopen takes it back).  A met target keeps the due time it had then.

The update target recurs: it runs from the last message to the requester (an
engineer's public reply, the first response included); the next such message meets it
and starts the next cycle from then (nothing paused yet).  Finishing the ticket stops
it as it does the resolution (a reopen resumes it with the time that was left).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from maildesk.calendar.business import add_business, business_minutes_between, is_provisional
from maildesk.calendar.model import Calendar
from maildesk.domain import Status

RUNNING = frozenset({Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.ESCALATED})
FINISHED = frozenset({Status.RESOLVED, Status.CLOSED, Status.REJECTED})


@dataclass(frozen=True)
class Target:
    target: str  # "response" | "resolution"
    calendar: str  # "business" | "24x7"
    minutes: float
    started_at: datetime
    paused_minutes: float = 0.0
    paused_since: datetime | None = None
    due_at: datetime | None = None  # None while paused
    met_at: datetime | None = None
    provisional: bool = False

    @property
    def running(self) -> bool:
        return self.met_at is None and self.paused_since is None


@dataclass(frozen=True)
class Facts:
    """What moves a ticket's targets."""

    status: str
    first_response_at: datetime | None
    now: datetime
    last_update_at: datetime | None = None  # the last engineer's public reply


def moves_targets(old: str, new: str) -> bool:
    """Can a change of status from `old` to `new` move a target?  Only when it starts or
    stops the clock, or finishes or reopens the ticket (resolved → closed does not)."""

    def phase(status: str) -> tuple[bool, bool]:
        return Status(status) in RUNNING, Status(status) in FINISHED

    return phase(old) != phase(new)


def started(target: str, calendar: str, minutes: float, now: datetime) -> Target:
    return Target(target, calendar, minutes, now)


def follow(t: Target, facts: Facts, cal: Calendar | Callable[[], Calendar]) -> Target:
    """The target after the ticket's state, its first response and the calendar (or
    a function giving it: called only when a due time is computed)."""
    t = _meet(_next_cycle(t, facts), facts)
    if t.met_at is not None:
        return t
    if Status(facts.status) in RUNNING:
        calendar = cal if isinstance(cal, Calendar) else cal()
        return _due(_resume(t, facts.now, calendar), calendar)
    return _pause(t, facts.now)


def _next_cycle(t: Target, facts: Facts) -> Target:
    """A message to the requester after the update target started meets it: the next
    one runs from that message."""
    last = facts.last_update_at
    if t.target != "update" or last is None or last <= t.started_at:
        return t
    return started(t.target, t.calendar, t.minutes, last)


def _meet(t: Target, facts: Facts) -> Target:
    if t.target == "response":
        if t.met_at is None and facts.first_response_at is not None:
            return replace(t, met_at=facts.first_response_at)
        return t
    finished = Status(facts.status) in FINISHED
    if finished and t.met_at is None:
        return replace(t, met_at=facts.now, paused_since=t.paused_since or facts.now)
    if not finished and t.met_at is not None:  # reopened: paused since it was resolved
        return replace(t, met_at=None, paused_since=t.paused_since or t.met_at)
    return t


def _pause(t: Target, now: datetime) -> Target:
    """The clock stops (waiting on the user); a target already breached keeps its due
    time: a pause cannot undo a miss (digests and audits count it)."""
    if t.paused_since is not None:
        return t
    if breached(t, now):
        return replace(t, paused_since=now)
    return replace(t, paused_since=now, due_at=None)


def breached(t: Target, at: datetime) -> bool:
    return t.met_at is None and t.due_at is not None and t.due_at <= at


def _resume(t: Target, now: datetime, cal: Calendar) -> Target:
    if t.paused_since is None:
        return t
    if t.due_at is not None and t.due_at <= t.paused_since:  # breached before the pause:
        return replace(t, paused_since=None)  # the pause does not move it
    paused = max(0.0, business_minutes_between(cal, t.paused_since, now))
    return replace(t, paused_minutes=t.paused_minutes + paused, paused_since=None)


def _due(t: Target, cal: Calendar) -> Target:
    due = add_business(cal, t.started_at, t.minutes + t.paused_minutes)
    return replace(t, due_at=due, provisional=is_provisional(cal, due, since=t.started_at))


def at_share(t: Target, share: float, cal: Calendar) -> datetime:
    """When `share` of the target is used up (the reminder), pauses so far counted."""
    return add_business(cal, t.started_at, t.minutes * share + t.paused_minutes)


def state(t: Target, now: datetime) -> str:
    """met | breached | paused | running, as `tickets show` says it."""
    if t.met_at is not None:
        return "met" if t.due_at is None or t.met_at <= t.due_at else "breached"
    if t.due_at is not None and t.due_at <= now:
        return "breached"
    return "paused" if t.paused_since is not None else "running"


def paused_now(t: Target, now: datetime, cal: Calendar) -> float:
    """Business minutes paused so far, the running pause included."""
    if t.paused_since is None or t.met_at is not None:
        return t.paused_minutes
    return t.paused_minutes + max(0.0, business_minutes_between(cal, t.paused_since, now))
