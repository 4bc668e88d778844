"""Who hears about a ticket, and with what.  Pure.

Work goes to the assignee; while unassigned, to the group's available members;
when nobody in the group is available, to the group's lead, else the leads, else
the managers, else any available engineer — a ticket never reaches nobody while
someone is configured.
Changes reach the people they concern: a new assignee, the previous one, the lead
on an escalation or a priority raised to high or urgent (and the managers on
urgent).  Each person hears once per mail received; each notification's
Message-ID is signed for its recipient (tags.py), so their reply can command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from maildesk.config import Config, EngineerConfig
from maildesk.domain import Address, Change, MailKind, MailPlan, Priority, TicketRef
from maildesk.pipeline import assign

RAISED_TO = (Priority.URGENT.value, Priority.HIGH.value)


def targets(assignee: str, group: str, cfg: Config) -> list[EngineerConfig]:
    """Who works the ticket now."""
    person = cfg.person(assignee) if assignee else None
    if person is not None:
        return [person]
    if group:  # unassigned, or assigned to someone no longer in the config
        available = [p for p in assign.members(group, cfg.people) if p.available]
        return available or leads(group, cfg) or _available(cfg.people, "engineer")
    return leads("", cfg) or _available(cfg.people, "engineer")


def leads(group: str, cfg: Config) -> list[EngineerConfig]:
    """The group's lead, else every lead, else the managers (available ones first)."""
    people = cfg.people
    in_group = [p for p in _available(people, "lead") if group and group in p.groups]
    return in_group or _available(people, "lead") or managers(cfg)


def managers(cfg: Config) -> list[EngineerConfig]:
    return _available(cfg.people, "manager") or [p for p in cfg.people if p.role == "manager"]


def _available(people: Sequence[EngineerConfig], role: str) -> list[EngineerConfig]:
    return [p for p in people if p.role == role and p.available]


def plan(
    people: Iterable[EngineerConfig],
    notice: str,
    text: str = "",
    lines: tuple[str, ...] = (),
    author: str = "",
    reopened: bool = False,
    unverified: bool = False,
) -> MailPlan | None:
    """One notification to these people, or None when there is nobody to tell."""
    to = tuple(dict.fromkeys(Address(p.name, p.email) for p in people))
    if not to:
        return None
    return MailPlan(MailKind.NOTIFICATION, to=to, notice=notice, text=text, lines=lines,
                    author=author, reopened=reopened, unverified=unverified)  # fmt: skip


def about_changes(
    ticket: TicketRef, changes: Sequence[Change], actor: str, cfg: Config
) -> list[MailPlan]:
    """Tell whom a command mail concerns: new and previous assignee, leads, managers."""
    field = {c.field: c for c in changes}
    plans: list[MailPlan | None] = []
    moved = field.get("assignee")
    if moved is not None:
        plans.append(plan(_people(cfg, moved.new), "assigned"))
        plans.append(plan(_people(cfg, moved.old), "reassigned"))
    raised = field.get("priority")
    level = raised.new if raised is not None else ticket.priority
    if "status" in field and field["status"].new == "escalated":
        plans.append(plan(_escalation_readers(ticket, level, cfg), "escalated"))
    if raised is not None and raised.new in RAISED_TO and _rank(raised.new) < _rank(raised.old):
        plans.append(plan(_escalation_readers(ticket, raised.new, cfg), "priority_raised"))
    return once_each([p for p in plans if p is not None], skip={actor.lower()})


def _people(cfg: Config, email: str) -> list[EngineerConfig]:
    person = cfg.person(email) if email else None
    return [person] if person is not None else []


def _escalation_readers(ticket: TicketRef, level: str, cfg: Config) -> list[EngineerConfig]:
    readers = leads(ticket.group, cfg)
    if level == Priority.URGENT.value:
        readers += managers(cfg)
    return readers


def _rank(priority: str) -> int:
    order = [p.value for p in Priority]
    return order.index(priority) if priority in order else len(order)


def once_each(plans: Sequence[MailPlan], skip: set[str]) -> list[MailPlan]:
    """Each person hears once, from the first plan that names them; `skip` never."""
    seen = set(skip)
    out = []
    for mail in plans:
        to = tuple(a for a in mail.to if a.email.lower() not in seen)
        seen.update(a.email.lower() for a in to)
        if to:
            out.append(replace(mail, to=to))
    return out
