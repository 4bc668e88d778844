"""Every timer kind, as one table, and what a status change does to timers.  Pure."""

from __future__ import annotations

from datetime import datetime

from maildesk.config import Config
from maildesk.domain import Status
from maildesk.pipeline.lifecycle import EVERY
from maildesk.sla import steps as sla
from maildesk.timers import auto_close, inform, survey
from maildesk.timers.model import KindSpec, Schedule, TimerKind, by_business_delay


def never(now: datetime, cfg: Config) -> datetime | None:
    return None


KINDS: dict[TimerKind, KindSpec] = {
    TimerKind.AUTO_CLOSE: KindSpec(
        handler=auto_close.fire,
        alive_in=frozenset({Status.RESOLVED}),
        starts_on=frozenset({Status.RESOLVED}),
        first_due=auto_close.first_due,
        working_time=False,
    ),
    TimerKind.PROGRESS_NOTE: KindSpec(
        handler=inform.progress_note,
        alive_in=frozenset({Status.IN_PROGRESS}),
        starts_on=frozenset({Status.IN_PROGRESS}),
        first_due=by_business_delay,
        working_time=True,
        business_delay=inform.progress_delay,
        restarts_on_message=True,
    ),
    TimerKind.WAITING_REMIND: KindSpec(
        handler=inform.waiting_remind,
        alive_in=frozenset({Status.WAITING_ON_USER}),
        starts_on=frozenset({Status.WAITING_ON_USER}),
        first_due=by_business_delay,
        working_time=True,
        business_delay=inform.remind_delay,
    ),
    TimerKind.AUTO_RESOLVE: KindSpec(
        handler=inform.auto_resolve,
        alive_in=frozenset({Status.WAITING_ON_USER}),
        starts_on=frozenset({Status.WAITING_ON_USER}),
        first_due=by_business_delay,
        working_time=True,
        business_delay=inform.resolve_delay,
    ),
    TimerKind.SURVEY: KindSpec(
        handler=survey.ask,
        alive_in=frozenset({Status.RESOLVED, Status.CLOSED}),
        starts_on=frozenset({Status.RESOLVED}),
        first_due=survey.first_due,
        working_time=False,
    ),
    # a review lives whatever the ticket does: started by a low score (service), ended
    # by `#review done`; its first due times need the business calendar (survey/review)
    TimerKind.REVIEW_REMIND: KindSpec(
        handler=survey.remind_review,
        alive_in=frozenset(Status),
        starts_on=frozenset(),
        first_due=survey.never,
        working_time=True,
    ),
    TimerKind.REVIEW_ESCALATE: KindSpec(
        handler=survey.escalate_review,
        alive_in=frozenset(Status),
        starts_on=frozenset(),
        first_due=survey.never,
        working_time=True,
    ),
    # SLA timers are scheduled and moved by sla/usecases.sync (they need the ticket's
    # targets and calendar), never by a status change alone
    TimerKind.SLA_REMIND: KindSpec(sla.fire, frozenset(EVERY), frozenset(), never, True),
    TimerKind.SLA_ESCALATE: KindSpec(sla.fire, frozenset(EVERY), frozenset(), never, True),
    TimerKind.SLA_REMIND_24X7: KindSpec(sla.fire, frozenset(EVERY), frozenset(), never, False),
    TimerKind.SLA_ESCALATE_24X7: KindSpec(sla.fire, frozenset(EVERY), frozenset(), never, False),
}


def on_status(
    old: str, new: str, now: datetime, cfg: Config
) -> tuple[tuple[Schedule, ...], tuple[TimerKind, ...]]:
    """A ticket went from `old` to `new`: the timers that start (a new step each) and
    the kinds whose pending timers end (alive in `old`, not in `new`)."""
    if old == new:
        return (), ()
    status, before = Status(new), Status(old)
    cancel = tuple(kind for kind, spec in KINDS.items()
                   if before in spec.alive_in and status not in spec.alive_in)  # fmt: skip
    start = (first_step(kind, now, cfg) for kind, spec in KINDS.items() if status in spec.starts_on)
    return tuple(plan for plan in start if plan is not None), cancel


def first_step(
    kind: TimerKind, now: datetime, cfg: Config, step: int | None = None
) -> Schedule | None:
    """The kind's timer as it starts at `now` (None: the kind is off): its first due
    time, or its business delay from now."""
    spec = KINDS[kind]
    if spec.business_delay is not None:
        minutes = spec.business_delay(cfg)
        return None if minutes is None else Schedule(kind, now, step, business_minutes=minutes)
    due = spec.first_due(now, cfg)
    return None if due is None else Schedule(kind, due, step)


def restarted_on_message(status: str) -> tuple[TimerKind, ...]:
    """The kinds a message to the requester restarts while the ticket is in `status`."""
    return tuple(kind for kind, spec in KINDS.items()
                 if spec.restarts_on_message and Status(status) in spec.alive_in)  # fmt: skip
