"""Keeping the requester informed, by the clock ([inform]).  Pure.

- progress note: a ticket in progress for `progress_minutes` business minutes with no
  word to the requester gets a note ("your ticket is being worked on"); an engineer's
  public reply restarts that wait, and after a note the next one is due the same time
  later, at most `progress_notes` per ticket;
- waiting on the user: `waiting_remind_days` business days after the ticket began to
  wait, a reminder; after `waiting_resolve_days`, resolved with a notice saying how to
  reopen (then the resolved ticket's auto-close, auto_close.py, takes over).  A reply
  from them first takes the ticket back to work, which cancels both.
"""

from __future__ import annotations

from datetime import datetime

from maildesk.config import Config
from maildesk.domain import MailKind, MailPlan, Status, TicketView
from maildesk.pipeline.lifecycle import Trigger
from maildesk.timers.inform_settings import INFORM
from maildesk.timers.model import Result, Schedule, Timer, TimerKind, obsolete


def progress_delay(cfg: Config) -> float | None:
    return cfg.section(INFORM).progress_delay


def remind_delay(cfg: Config) -> float | None:
    return cfg.section(INFORM).remind_delay


def resolve_delay(cfg: Config) -> float | None:
    return cfg.section(INFORM).resolve_delay


def progress_note(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    if ticket.status != Status.IN_PROGRESS:
        return obsolete(f"ticket is {ticket.status}, no longer in progress")
    settings = cfg.section(INFORM)
    if timer.step > settings.progress_notes:
        return obsolete(f"at most {settings.progress_notes} progress notes per ticket")
    minutes = f"{settings.progress_minutes:g}"
    more = timer.step < settings.progress_notes and settings.progress_delay is not None
    after = settings.progress_delay if more else None
    return Result(
        event=f"progress note to the requester: {minutes} business minutes in progress "
        f"without a word to them ({timer.key})",
        mails=(MailPlan(MailKind.PROGRESS_NOTE),),
        schedule=(Schedule(TimerKind.PROGRESS_NOTE, now, business_minutes=after),) if more else (),
    )


def waiting_remind(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    if ticket.status != Status.WAITING_ON_USER:
        return obsolete(f"ticket is {ticket.status}, no longer waiting on the user")
    days = f"{cfg.section(INFORM).waiting_remind_days:g}"
    return Result(
        event=f"reminder to the requester: waiting on them {days} business days ({timer.key})",
        mails=(MailPlan(MailKind.WAITING_REMINDER),),
    )


def auto_resolve(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    if ticket.status != Status.WAITING_ON_USER:
        return obsolete(f"ticket is {ticket.status}, no longer waiting on the user")
    days = f"{cfg.section(INFORM).waiting_resolve_days:g}"
    return Result(
        trigger=Trigger.AUTO_RESOLVE,
        event=f"resolved: waiting on the user {days} business days without a reply ({timer.key})",
        mails=(MailPlan(MailKind.AUTO_RESOLVED),),
    )
