"""Every timer kind, as one table, and what a status change does to timers.  Pure."""

from __future__ import annotations

from datetime import datetime

from maildesk.config import Config
from maildesk.domain import Status
from maildesk.pipeline.lifecycle import EVERY
from maildesk.sla import steps as sla
from maildesk.timers import auto_close
from maildesk.timers.model import KindSpec, Schedule, TimerKind


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
