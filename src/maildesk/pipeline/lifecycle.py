"""The ticket's state machine, as one table.  Pure.

`TRANSITIONS[(state, trigger)]` is the state a trigger leads to.  A trigger with no
entry for the current state applies nothing: the caller refuses it (and, inside an
all-or-nothing command mail, says why).  `BACK_TO_WORK` stands for "assigned when
someone has the ticket, else new", the state a reopened ticket returns to.

Triggers are every way a ticket moves: an engineer's commands, a user's reply, a
requester's close, an engineer's relayed reply, routing to a person at creation,
and the clock (reminders, escalation when a target slips, auto-resolve, auto-close).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from maildesk.domain import Status


class Trigger(StrEnum):
    ROUTE = "route"  # a new ticket routed to a person
    ASSIGN = "assign"  # #assign, #take, #status assigned
    START = "start"  # #status in_progress
    WAIT = "wait"  # #wait, #status waiting_on_user
    ESCALATE = "escalate"  # #escalate, #status escalated
    RESOLVE = "resolve"  # #resolve, #status resolved
    CLOSE = "close"  # #close, #status closed
    REJECT = "reject"  # #status rejected
    REOPEN = "reopen"  # #reopen
    USER_REPLY = "user_reply"  # the requester or a watcher wrote again
    REQUESTER_CLOSE = "requester_close"  # the requester's #close
    ENGINEER_REPLY = "engineer_reply"  # an engineer's text relayed to the user
    REMIND = "remind"  # clock: a reminder to the assignee
    SLA_ESCALATE = "sla_escalate"  # clock: a response or resolution target slipped
    AUTO_RESOLVE = "auto_resolve"  # clock: waiting on the user for too long
    AUTO_CLOSE = "auto_close"  # clock: resolved and not reopened in time


BACK_TO_WORK: Final = "back_to_work"
Target = Status | str

NEW, ASSIGNED, IN_PROGRESS = Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS
WAITING, ESCALATED = Status.WAITING_ON_USER, Status.ESCALATED
RESOLVED, CLOSED, REJECTED = Status.RESOLVED, Status.CLOSED, Status.REJECTED

OPEN = (NEW, ASSIGNED, IN_PROGRESS, WAITING, ESCALATED)
WORKED = (ASSIGNED, IN_PROGRESS, WAITING, ESCALATED)  # someone is on it
FINISHED = (RESOLVED, CLOSED, REJECTED)
EVERY = (*OPEN, *FINISHED)


def _rows(
    states: tuple[Status, ...], trigger: Trigger, to: Target | None
) -> dict[tuple[Status, Trigger], Target]:
    """One trigger from several states; `to=None` keeps each state as it is."""
    return {(state, trigger): (state if to is None else to) for state in states}


TRANSITIONS: dict[tuple[Status, Trigger], Target] = {
    **_rows((NEW,), Trigger.ROUTE, ASSIGNED),
    **_rows((NEW,), Trigger.ASSIGN, ASSIGNED),
    **_rows(WORKED, Trigger.ASSIGN, None),
    **_rows((NEW, ASSIGNED, WAITING, ESCALATED, IN_PROGRESS), Trigger.START, IN_PROGRESS),
    **_rows((NEW, ASSIGNED, IN_PROGRESS, ESCALATED, WAITING), Trigger.WAIT, WAITING),
    **_rows((NEW, ASSIGNED, IN_PROGRESS, WAITING), Trigger.ESCALATE, ESCALATED),
    **_rows(OPEN, Trigger.RESOLVE, RESOLVED),
    **_rows((*OPEN, RESOLVED), Trigger.CLOSE, CLOSED),
    **_rows(OPEN, Trigger.REJECT, REJECTED),
    **_rows(FINISHED, Trigger.REOPEN, BACK_TO_WORK),
    **_rows((NEW, ASSIGNED, IN_PROGRESS, ESCALATED), Trigger.USER_REPLY, None),
    **_rows((WAITING,), Trigger.USER_REPLY, IN_PROGRESS),
    **_rows(FINISHED, Trigger.USER_REPLY, BACK_TO_WORK),
    **_rows((*OPEN, RESOLVED), Trigger.REQUESTER_CLOSE, CLOSED),
    **_rows(EVERY, Trigger.ENGINEER_REPLY, None),
    **_rows(OPEN, Trigger.REMIND, None),
    **_rows((NEW, ASSIGNED, IN_PROGRESS, WAITING), Trigger.SLA_ESCALATE, ESCALATED),
    **_rows((WAITING,), Trigger.AUTO_RESOLVE, RESOLVED),
    **_rows((RESOLVED,), Trigger.AUTO_CLOSE, CLOSED),
}

# What a command leads to; `#status <state>` goes through STATUS_TRIGGER.
COMMAND_TRIGGER: dict[str, Trigger] = {
    "assign": Trigger.ASSIGN,
    "take": Trigger.ASSIGN,
    "wait": Trigger.WAIT,
    "escalate": Trigger.ESCALATE,
    "resolve": Trigger.RESOLVE,
    "close": Trigger.CLOSE,
    "reopen": Trigger.REOPEN,
}
STATUS_TRIGGER: dict[Status, Trigger] = {
    ASSIGNED: Trigger.ASSIGN,
    IN_PROGRESS: Trigger.START,
    WAITING: Trigger.WAIT,
    ESCALATED: Trigger.ESCALATE,
    RESOLVED: Trigger.RESOLVE,
    CLOSED: Trigger.CLOSE,
    REJECTED: Trigger.REJECT,
}  # `new` is not a state one sets: #reopen or #assign lead out of the finished states


def next_status(state: str, trigger: Trigger, has_assignee: bool) -> Status | None:
    """The state `trigger` leads to from `state`, or None when it does not apply."""
    target = TRANSITIONS.get((Status(state), trigger))
    if target is None:
        return None
    if target == BACK_TO_WORK:
        return ASSIGNED if has_assignee else NEW
    return Status(target)


def is_open(state: str) -> bool:
    return Status(state) in OPEN


def reopens(state: str, trigger: Trigger) -> bool:
    """Does this trigger take a finished ticket back to work?"""
    return TRANSITIONS.get((Status(state), trigger)) == BACK_TO_WORK
