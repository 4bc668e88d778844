"""Every timer kind, as one table, and what a status change does to timers.  Pure."""

from __future__ import annotations

from datetime import datetime

from maildesk.config import Config
from maildesk.domain import Status
from maildesk.timers import auto_close, survey
from maildesk.timers.model import KindSpec, Schedule, TimerKind

KINDS: dict[TimerKind, KindSpec] = {
    TimerKind.AUTO_CLOSE: KindSpec(
        handler=auto_close.fire,
        alive_in=frozenset({Status.RESOLVED}),
        starts_on=frozenset({Status.RESOLVED}),
        first_due=auto_close.first_due,
        working_time=False,
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
}


def on_status(
    old: str, new: str, now: datetime, cfg: Config
) -> tuple[tuple[Schedule, ...], tuple[TimerKind, ...]]:
    """A ticket went from `old` to `new`: the timers that start (a new step each) and
    the kinds whose pending timers end."""
    if old == new:
        return (), ()
    status = Status(new)
    cancel = tuple(kind for kind, spec in KINDS.items() if status not in spec.alive_in)
    start = []
    for kind, spec in KINDS.items():
        due = spec.first_due(now, cfg) if status in spec.starts_on else None
        if due is not None:
            start.append(Schedule(kind, due))
    return tuple(start), cancel
