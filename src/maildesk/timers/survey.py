"""The satisfaction survey after resolution, and the clock of a low score's review.  Pure.

SURVEY starts when a ticket becomes resolved (a new step for each resolution: a ticket
reopened and resolved again is asked again, and the new answer replaces the old one),
due [survey] delay_minutes later (0: the next tick).  It lives while the ticket stays
resolved or closed; a reopening cancels it.

A score <= 2 opens a review (service.py) due in [survey] review_hours business hours:
REVIEW_REMIND mails the group's lead at [survey] review_remind_share of it, and
REVIEW_ESCALATE the managers when it is missed.  `#review done` cancels both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from maildesk.config import Config, EngineerConfig
from maildesk.domain import Address, MailKind, MailPlan, Status, TicketView
from maildesk.pipeline import notify
from maildesk.survey.settings import SURVEY
from maildesk.timers.model import Result, Timer, obsolete

ASKED_IN = (Status.RESOLVED, Status.CLOSED)


def first_due(now: datetime, cfg: Config) -> datetime | None:
    delay = cfg.section(SURVEY).delay
    return now + delay if delay is not None else None


def never(now: datetime, cfg: Config) -> datetime | None:
    """Not started by a change of state."""
    return None


def ask(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    if not cfg.section(SURVEY).enabled:
        return obsolete("surveys are off ([survey] enabled = false)")
    if ticket.status not in ASKED_IN:
        return obsolete(f"ticket is {ticket.status}, no longer resolved")
    if ticket.resolved_at is not None and ticket.resolved_at > timer.due_at:
        return obsolete("resolved again after this was due")
    return Result(
        event=f"satisfaction survey sent to {ticket.requester_email} ({timer.key})",
        mails=(MailPlan(MailKind.SURVEY),),
    )


def remind_review(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    readers = notify.leads(ticket.group, cfg)
    return _review_mail(readers, "review_remind", f"review reminder ({timer.key})")


def escalate_review(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    readers = notify.managers(cfg) or notify.leads(ticket.group, cfg)
    return _review_mail(readers, "review_escalated", f"review target missed ({timer.key})")


def _review_mail(readers: Sequence[EngineerConfig], notice: str, event: str) -> Result:
    to = tuple(dict.fromkeys(Address(p.name, p.email) for p in readers))
    if not to:
        return Result(event=f"{event}: nobody to tell (no lead or manager configured)")
    names = ", ".join(a.email for a in to)
    return Result(event=f"{event}: mailed {names}", mails=(MailPlan(MailKind.REVIEW, to=to,
                                                                    notice=notice),))  # fmt: skip
