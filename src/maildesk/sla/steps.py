"""The timers a running target owes, and what each one does when it fires.  Pure.

Per target: a reminder to the assignee at `remind_at` of the target; at the due time
the breach (escalation level 1: the status becomes escalated, the group lead is
mailed); each `escalation_hours` entry a further level, that long after the breach in
the same calendar, mailed to the managers.  Keys: kind `sla_remind` step = the
target's number, kind `sla_escalate` step = the target's number × 100 + the level, or
900 + the level after an `#escalate` (the `_24x7` kinds for around-the-clock
policies: sent at any hour; the others wait for working time).  The update target
recurs: cycle c adds c × 1000 to its steps (a step happens once, so each cycle needs
its own: 3 → 1003, 301 → 1301 in the first cycle after the first response).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from maildesk.calendar.business import add_business
from maildesk.calendar.model import Calendar
from maildesk.config import Config
from maildesk.domain import MailPlan, Status, TicketView
from maildesk.pipeline import notify
from maildesk.pipeline.lifecycle import Trigger
from maildesk.sla.settings import SLA_SECTION, TARGETS, SlaSettings
from maildesk.sla.targets import RUNNING, Target, at_share
from maildesk.timers.model import Result, Schedule, Timer, TimerKind, obsolete

LEVELS = 99  # a step is target × 100 + level
MANUAL = 9  # the "target" of an escalation by hand (#escalate)
CYCLE = 1000  # a recurring target's cycle c adds c × CYCLE to its steps


def remind_kind(calendar: str) -> TimerKind:
    return TimerKind.SLA_REMIND_24X7 if calendar == "24x7" else TimerKind.SLA_REMIND


def escalate_kind(calendar: str) -> TimerKind:
    return TimerKind.SLA_ESCALATE_24X7 if calendar == "24x7" else TimerKind.SLA_ESCALATE


SLA_KINDS = (TimerKind.SLA_REMIND, TimerKind.SLA_ESCALATE, TimerKind.SLA_REMIND_24X7,
             TimerKind.SLA_ESCALATE_24X7)  # fmt: skip


def number(target: str) -> int:
    return TARGETS.index(target) + 1


def plans(
    t: Target, priority: str, settings: SlaSettings, cal: Calendar, now: datetime, cycle: int = 0
) -> list[Schedule]:
    """The timers of a running target (none when it is met or paused; no reminder once
    it is breached, e.g. a ticket older than the SLA module, or a calendar change)."""
    if not t.running or t.due_at is None:
        return []
    out = _steps(t, priority, settings, cal, now)
    return [Schedule(p.kind, p.due_at, (p.step or 0) + cycle * CYCLE) for p in out]


def _steps(
    t: Target, priority: str, settings: SlaSettings, cal: Calendar, now: datetime
) -> list[Schedule]:
    assert t.due_at is not None
    n = number(t.target)
    out = []
    if settings.remind_at > 0 and t.due_at > now:
        out.append(Schedule(remind_kind(t.calendar), at_share(t, settings.remind_at, cal), n))
    escalate = escalate_kind(t.calendar)
    out.append(Schedule(escalate, t.due_at, n * 100 + 1))
    for level, hours in enumerate(settings.escalation_hours[priority][: LEVELS - 1], start=2):
        out.append(Schedule(escalate, add_business(cal, t.due_at, hours * 60), n * 100 + level))
    return out


def by_hand(now: datetime, priority: str, settings: SlaSettings, cal: Calendar) -> list[Schedule]:
    """`#escalate` is level 1 (the lead hears of it as of a breach); the further levels
    follow from then as after a breach (step 900 + level)."""
    escalate = escalate_kind(settings.calendar.get(priority, "business"))
    hours = settings.escalation_hours[priority][: LEVELS - 1]
    return [Schedule(escalate, add_business(cal, now, h * 60), MANUAL * 100 + level)
            for level, h in enumerate(hours, start=2)]  # fmt: skip


def _target_of(timer: Timer) -> tuple[str, int]:
    """(target, level); level 0 for a reminder."""
    step = timer.step % CYCLE
    if timer.kind in (TimerKind.SLA_REMIND, TimerKind.SLA_REMIND_24X7):
        return TARGETS[step - 1], 0
    if step // 100 == MANUAL:
        return "escalation", step % 100
    return TARGETS[step // 100 - 1], step % 100


def _still_owed(ticket: TicketView, target: str) -> str:
    """Why the target no longer counts, or "" while it does."""
    if target == "escalation":
        return "" if ticket.status == Status.ESCALATED else f"ticket is {ticket.status}"
    if Status(ticket.status) not in RUNNING:
        return f"ticket is {ticket.status}: the {target} clock is paused"
    if target == "response" and ticket.first_response_at is not None:
        return "first response given"
    if target == "update" and ticket.first_response_at is None:
        return "no first response yet"
    return ""


def fire(ticket: TicketView, timer: Timer, now: datetime, cfg: Config) -> Result:
    """A reminder, the breach, or a further escalation level of one target."""
    target, level = _target_of(timer)
    why = _still_owed(ticket, target)
    if why:
        return obsolete(why)
    if level == 0:
        mail = notify.plan(notify.targets(ticket.assignee, ticket.group, cfg),
                           f"sla_remind.{target}")  # fmt: skip
        return Result(Trigger.REMIND, f"SLA {target}: reminder ({timer.key})", _mails(mail))
    if level == 1:
        mail = notify.plan(notify.leads(ticket.group, cfg), f"sla_breach.{target}")
        text = f"SLA {target} target breached, due {_utc(timer.due_at)}: escalated to the lead"
        return Result(Trigger.SLA_ESCALATE, f"{text} ({timer.key})", _mails(mail))
    mail = notify.plan(notify.managers(cfg), f"sla_level{level}.{target}")
    text = f"SLA {target}: escalation level {level} to the managers"
    return Result(Trigger.SLA_ESCALATE, f"{text} ({timer.key})", _mails(mail))


def _mails(plan: MailPlan | None) -> tuple[MailPlan, ...]:
    return (plan,) if plan is not None else ()


def _utc(when: datetime) -> str:
    return (when - (when.utcoffset() or timedelta())).strftime("%Y-%m-%d %H:%M UTC")


def settings_of(cfg: Config) -> SlaSettings:
    return cfg.section(SLA_SECTION)
