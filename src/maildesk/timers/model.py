"""The plain values timer handlers take and return.  Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from maildesk.config import Config
from maildesk.domain import MailPlan, Status, TicketView
from maildesk.pipeline.lifecycle import Trigger


class TimerKind(StrEnum):
    AUTO_CLOSE = "auto_close"  # resolved and no reply for [lifecycle] auto_close_days
    SLA_REMIND = "sla_remind"  # a share of an SLA target used up: the assignee reminded
    SLA_ESCALATE = "sla_escalate"  # an SLA target breached: lead, then managers (sla/)
    SLA_REMIND_24X7 = "sla_remind_24x7"  # the same for a 24×7 policy: sent at any hour
    SLA_ESCALATE_24X7 = "sla_escalate_24x7"
    PROGRESS_NOTE = "progress_note"  # in progress, nothing said to the requester ([inform])
    WAITING_REMIND = "waiting_remind"  # waiting on the user: remind them ([inform])
    AUTO_RESOLVE = "auto_resolve"  # waiting on the user too long: resolved ([inform])
    SURVEY = "survey"  # resolved: the satisfaction survey, after [survey] delay_minutes
    REVIEW_REMIND = "review_remind"  # a low score's review, part of its target gone
    REVIEW_ESCALATE = "review_escalate"  # a low score's review, its target missed


@dataclass(frozen=True)
class Timer:
    """A due timer as its handler sees it."""

    kind: TimerKind
    step: int
    due_at: datetime
    key: str  # "<ticket id>:<kind>:<step>": the mails' Message-IDs derive from it


@dataclass(frozen=True)
class Schedule:
    kind: TimerKind
    due_at: datetime
    step: int | None = None  # None: the step after the ticket's last of this kind
    # set: due this many business minutes after `due_at`, on the business calendar
    # ([calendar]; resolved in the transaction that stores it: tick._schedule)
    business_minutes: float | None = None


@dataclass(frozen=True)
class Result:
    """What a fired timer does.  `obsolete` non-empty: nothing, and why (the ticket
    moved on); otherwise a lifecycle trigger, a line for the ticket's history, mails
    by kind, and timers to schedule or cancel."""

    trigger: Trigger | None = None
    event: str = ""
    mails: tuple[MailPlan, ...] = ()
    schedule: tuple[Schedule, ...] = ()
    cancel: tuple[TimerKind, ...] = ()
    obsolete: str = ""


def obsolete(why: str) -> Result:
    return Result(obsolete=why)


Handler = Callable[[TicketView, Timer, datetime, Config], Result]
FirstDue = Callable[[datetime, Config], datetime | None]  # None: this kind is off
BusinessDelay = Callable[[Config], float | None]  # business minutes; None: this kind is off


@dataclass(frozen=True)
class KindSpec:
    handler: Handler
    alive_in: frozenset[Status]  # leaving these states cancels the kind's pending timers
    starts_on: frozenset[Status]  # entering one of these schedules a new step …
    first_due: FirstDue  # … due then (from the time of the change)
    working_time: bool  # sent in working time only: deferred to the next working instant
    # set: first due this many business minutes after the change (first_due unused)
    business_delay: BusinessDelay | None = None
    # a message to the requester (an engineer's public reply) restarts the pending timer:
    # due again its first delay from then (tick.follow_message)
    restarts_on_message: bool = False


def by_business_delay(now: datetime, cfg: Config) -> datetime | None:
    """The `first_due` of a kind timed by its `business_delay` instead."""
    return None


WorkingTime = Callable[[datetime], datetime]  # the next working instant at or after a time


def always(when: datetime) -> datetime:
    """24×7: every instant is working time (until the business calendar plugs in)."""
    return when
