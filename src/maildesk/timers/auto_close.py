"""Auto-close: a resolved ticket nobody answered in [lifecycle] auto_close_days is
closed, and the requester is told how to reopen it.  Pure."""

from __future__ import annotations

from datetime import datetime

from maildesk.config import Config
from maildesk.domain import MailKind, MailPlan, Status, TicketView
from maildesk.pipeline.lifecycle import Trigger
from maildesk.timers.model import Result, Timer, obsolete
from maildesk.timers.settings import LIFECYCLE


def first_due(now: datetime, cfg: Config) -> datetime | None:
    after = cfg.section(LIFECYCLE).auto_close_after
    return now + after if after is not None else None


def fire(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    if ticket.status != Status.RESOLVED:
        return obsolete(f"ticket is {ticket.status}, no longer resolved")
    if ticket.resolved_at is not None and ticket.resolved_at > timer.due_at:
        return obsolete("resolved again after this was due")
    days = f"{cfg.section(LIFECYCLE).auto_close_days:g}"
    return Result(
        trigger=Trigger.AUTO_CLOSE,
        event=f"closed: resolved {days} days without a reply ({timer.key})",
        mails=(MailPlan(MailKind.CLOSING_NOTICE),),
    )
