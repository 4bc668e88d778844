"""What `#` commands do to a ticket.  Pure: commands in, field changes out.

The status each command leads to is a table, readable on one screen; `#assign`
and `#take` also set the assignee, `#reopen` goes back to assigned or new.
"""

from __future__ import annotations

from collections.abc import Sequence

from maildesk.config import EngineerConfig
from maildesk.domain import Change, Status, TicketRef
from maildesk.pipeline import assign
from maildesk.pipeline.commands import Command

STATUS_AFTER: dict[str, str] = {
    "resolve": Status.RESOLVED,
    "close": Status.CLOSED,
    "wait": Status.WAITING_ON_USER,
    "escalate": Status.ESCALATED,
}
FIELD_OF: dict[str, str] = {"priority": "priority", "category": "category", "status": "status"}


def changes_for(
    ticket: TicketRef,
    commands: Sequence[Command],
    actor: EngineerConfig | None,
    people: Sequence[EngineerConfig],
) -> tuple[tuple[Change, ...], tuple[str, ...]]:
    """The changes the commands make, in order, or the errors (then nothing applies)."""
    state = {"status": ticket.status, "priority": ticket.priority,
             "category": ticket.category, "assignee": ticket.assignee}  # fmt: skip
    errors: list[str] = []
    for command in commands:
        for field, value in _effects(command, state, actor, people, errors):
            state[field] = value
    if errors:
        return (), tuple(errors)
    original = {"status": ticket.status, "priority": ticket.priority,
                "category": ticket.category, "assignee": ticket.assignee}  # fmt: skip
    changes = tuple(
        Change(field, original[field], value)
        for field, value in state.items()
        if value != original[field]
    )
    return changes, ()


def _effects(
    command: Command,
    state: dict[str, str],
    actor: EngineerConfig | None,
    people: Sequence[EngineerConfig],
    errors: list[str],
) -> list[tuple[str, str]]:
    name = command.name
    if name in FIELD_OF:
        return [(FIELD_OF[name], command.argument)]
    if name in STATUS_AFTER:
        return [("status", STATUS_AFTER[name])]
    if name == "reopen":
        return [("status", Status.ASSIGNED if state["assignee"] else Status.NEW)]
    if name in ("assign", "take"):
        who = actor if name == "take" else assign.resolve(command.argument, people)
        if who is None:
            errors.append(f"{command.line}: no engineer called {command.argument!r}")
            return []
        status = Status.ASSIGNED if state["status"] == Status.NEW else state["status"]
        return [("assignee", who.email), ("status", status)]
    return []  # note, status_query: no change
