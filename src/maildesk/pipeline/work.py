"""What `#` commands do to a ticket.  Pure: commands in, field changes out.

Where a command leads the ticket's state is the lifecycle table's to say
(pipeline/lifecycle.py); a command with no transition from the current state is
refused with the reason, and then nothing in the mail applies.
"""

from __future__ import annotations

from collections.abc import Sequence

from maildesk.config import EngineerConfig
from maildesk.domain import Change, Status, TicketRef
from maildesk.pipeline import assign, lifecycle
from maildesk.pipeline.commands import Command
from maildesk.pipeline.lifecycle import Trigger
from maildesk.vocab import Reason, Term, reason

FIELDS = ("status", "priority", "category", "assignee")
Effects = list[tuple[str, str]] | Reason


def changes_for(
    ticket: TicketRef,
    commands: Sequence[Command],
    actor: EngineerConfig | None,
    people: Sequence[EngineerConfig],
) -> tuple[tuple[Change, ...], tuple[Reason, ...]]:
    """The changes the commands make, in order, or the reasons (then nothing applies)."""
    original = {"status": ticket.status, "priority": ticket.priority,
                "category": ticket.category, "assignee": ticket.assignee}  # fmt: skip
    state = dict(original)
    errors: list[Reason] = []
    for command in commands:
        effects = _effects(command, state, actor, people)
        if isinstance(effects, Reason):
            errors.append(effects)
            continue
        state.update(effects)
    if errors:
        return (), tuple(errors)
    changed = (Change(f, original[f], state[f]) for f in FIELDS if state[f] != original[f])
    return tuple(changed), ()


def _effects(
    command: Command,
    state: dict[str, str],
    actor: EngineerConfig | None,
    people: Sequence[EngineerConfig],
) -> Effects:
    name = command.name
    if name in ("priority", "category"):
        return [(name, command.argument)]
    if name in ("assign", "take"):
        return _assignment(command, state, actor, people)
    if name == "kb":  # a draft from what was done: only once it is done
        if state["status"] in (Status.RESOLVED, Status.CLOSED):
            return []
        return reason("kb_not_resolved", line=command.line, state=Term("status", state["status"]))
    trigger = _trigger(command)
    if isinstance(trigger, Reason) or trigger is None:
        return trigger or []  # note, status_query: no change
    return _move(command, state, trigger)


def _trigger(command: Command) -> Trigger | Reason | None:
    if command.name == "status":
        status = Status(command.argument)
        found = lifecycle.STATUS_TRIGGER.get(status)
        if found is None:
            state, instead = Term("status", status), Term("command", "reopen")
            return reason("state_not_settable", line=command.line, state=state, instead=instead)
        return found
    return lifecycle.COMMAND_TRIGGER.get(command.name)


def _move(command: Command, state: dict[str, str], trigger: Trigger) -> Effects:
    new = lifecycle.next_status(state["status"], trigger, bool(state["assignee"]))
    if new is None:
        return reason("not_in_state", line=command.line, command=Term("command", command.name),
                      state=Term("status", state["status"]))  # fmt: skip
    return [("status", new.value)]


def _assignment(
    command: Command,
    state: dict[str, str],
    actor: EngineerConfig | None,
    people: Sequence[EngineerConfig],
) -> Effects:
    who = actor if command.name == "take" else assign.resolve(command.argument, people)
    if who is None:
        return reason("no_such_engineer", line=command.line, name=command.argument)
    moved = _move(command, state, Trigger.ASSIGN)
    if isinstance(moved, Reason):
        return moved
    return [("assignee", who.email), *moved]
