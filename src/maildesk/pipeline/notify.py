"""Who hears about a ticket, and with what.  Pure.

The assignee; while unassigned, the group's available members; with no group,
the leads (or every engineer when there are no leads).  Each notification's
Message-ID is signed for its recipient (tags.py), so their reply can command.
"""

from __future__ import annotations

from maildesk.config import Config, EngineerConfig
from maildesk.domain import Address, MailPlan
from maildesk.pipeline import assign


def targets(assignee: str, group: str, cfg: Config) -> list[EngineerConfig]:
    person = cfg.person(assignee) if assignee else None
    if person is not None:
        return [person]
    if group:  # unassigned, or assigned to someone no longer in the config
        members = assign.members(group, cfg.people)
        return [p for p in members if p.available] or members
    leads = [p for p in cfg.people if p.role == "lead" and p.available]
    return leads or [p for p in cfg.people if p.role == "engineer" and p.available]


def plan(
    assignee: str, group: str, cfg: Config, text: str, attachments: tuple[str, ...]
) -> tuple[MailPlan, ...]:
    return tuple(
        MailPlan(
            "notification",
            Address(person.name, person.email),
            "",
            (),
            text=text,
            sign_for=person.email,
            lines=attachments,
        )
        for person in targets(assignee, group, cfg)
    )
