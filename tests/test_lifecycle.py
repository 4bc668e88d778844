"""The ticket state machine as a table, and who hears about changes.  Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk import config
from maildesk.domain import Change, MailKind, Status, TicketRef
from maildesk.pipeline import lifecycle, notify
from maildesk.pipeline.lifecycle import TRANSITIONS, Trigger, next_status

S = Status
T = Trigger


@pytest.mark.parametrize(
    ("state", "trigger", "assignee", "expected"),
    [
        (S.NEW, T.ROUTE, True, S.ASSIGNED),
        (S.NEW, T.ASSIGN, True, S.ASSIGNED),
        (S.IN_PROGRESS, T.ASSIGN, True, S.IN_PROGRESS),  # reassigning keeps the work going
        (S.ASSIGNED, T.START, True, S.IN_PROGRESS),
        (S.IN_PROGRESS, T.WAIT, True, S.WAITING_ON_USER),
        (S.WAITING_ON_USER, T.USER_REPLY, True, S.IN_PROGRESS),  # the user answered
        (S.IN_PROGRESS, T.USER_REPLY, True, S.IN_PROGRESS),
        (S.RESOLVED, T.USER_REPLY, True, S.ASSIGNED),  # reopened, back to its assignee
        (S.RESOLVED, T.USER_REPLY, False, S.NEW),
        (S.CLOSED, T.REOPEN, True, S.ASSIGNED),
        (S.REJECTED, T.REOPEN, False, S.NEW),
        (S.ESCALATED, T.RESOLVE, True, S.RESOLVED),
        (S.RESOLVED, T.CLOSE, True, S.CLOSED),
        (S.RESOLVED, T.REQUESTER_CLOSE, True, S.CLOSED),
        (S.CLOSED, T.ENGINEER_REPLY, True, S.CLOSED),  # an engineer may still write
        (S.IN_PROGRESS, T.SLA_ESCALATE, True, S.ESCALATED),
        (S.WAITING_ON_USER, T.AUTO_RESOLVE, True, S.RESOLVED),
        (S.RESOLVED, T.AUTO_CLOSE, True, S.CLOSED),
    ],
)
def test_allowed_transitions(
    state: Status, trigger: Trigger, assignee: bool, expected: Status
) -> None:
    assert next_status(state, trigger, assignee) == expected


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (S.CLOSED, T.WAIT),  # a closed ticket does not wait
        (S.CLOSED, T.ESCALATE),
        (S.REJECTED, T.RESOLVE),
        (S.RESOLVED, T.START),
        (S.CLOSED, T.ASSIGN),
        (S.ESCALATED, T.ESCALATE),
        (S.NEW, T.REOPEN),
        (S.IN_PROGRESS, T.REOPEN),
        (S.CLOSED, T.CLOSE),
        (S.CLOSED, T.REQUESTER_CLOSE),
        (S.REJECTED, T.REJECT),
        (S.CLOSED, T.SLA_ESCALATE),
        (S.RESOLVED, T.SLA_ESCALATE),
        (S.IN_PROGRESS, T.AUTO_RESOLVE),
        (S.CLOSED, T.AUTO_CLOSE),
        (S.CLOSED, T.REMIND),
        (S.ASSIGNED, T.ROUTE),
    ],
)
def test_refused_transitions(state: Status, trigger: Trigger) -> None:
    assert next_status(state, trigger, True) is None


def test_every_trigger_has_rows_and_finished_states_are_left_only_by_reopening() -> None:
    used = {trigger for _, trigger in TRANSITIONS}
    assert used == set(Trigger)
    for (state, trigger), target in TRANSITIONS.items():
        if state in lifecycle.FINISHED and target not in (state, lifecycle.BACK_TO_WORK):
            assert (state, target) in {(S.RESOLVED, S.CLOSED)}, (state, trigger, target)


PEOPLE = """
[maildesk]
support_address = "it@example.com"
[security]
secret = "0123456789abcdef-0123"
[[people]]
name = "王工"
email = "wang@example.com"
groups = ["network"]
[[people]]
name = "李工"
email = "li@example.com"
groups = ["network"]
available = false
[[people]]
name = "陈组长"
email = "lead@example.com"
groups = ["network"]
role = "lead"
[[people]]
name = "桌面组长"
email = "desk-lead@example.com"
groups = ["desktop"]
role = "lead"
[[people]]
name = "赵经理"
email = "boss@example.com"
role = "manager"
"""
CFG = config.parse(PEOPLE, Path("/tmp/x/maildesk.toml"), env={})
TICKET = TicketRef(1, "IT-1", "in_progress", "VPN", "u@example.com", assignee="wang@example.com",
                   group="network", priority="medium")  # fmt: skip


def heard(changes: tuple[Change, ...], actor: str = "wang@example.com") -> dict[str, str]:
    plans = notify.about_changes(TICKET, changes, actor, CFG)
    assert all(p.kind is MailKind.NOTIFICATION for p in plans)
    return {to.email: p.notice for p in plans for to in p.to}


def test_new_and_previous_assignee_hear_of_a_reassignment() -> None:
    moved = (Change("assignee", "wang@example.com", "li@example.com"),)
    assert heard(moved, actor="lead@example.com") == {
        "li@example.com": "assigned",
        "wang@example.com": "reassigned",
    }
    assert heard(moved, actor="wang@example.com") == {"li@example.com": "assigned"}


def test_escalation_and_raised_priority_reach_the_group_lead_and_managers_on_urgent() -> None:
    assert heard((Change("status", "in_progress", "escalated"),)) == {
        "lead@example.com": "escalated"
    }
    assert heard((Change("priority", "medium", "high"),)) == {"lead@example.com": "priority_raised"}
    urgent = heard((Change("priority", "medium", "urgent"),))
    assert urgent == {"lead@example.com": "priority_raised", "boss@example.com": "priority_raised"}
    assert heard((Change("priority", "urgent", "high"),)) == {}  # lowered: nobody
    assert heard((Change("priority", "medium", "low"),)) == {}


def people(*entries: str) -> config.Config:
    text = '[maildesk]\nsupport_address = "it@example.com"\n[security]\nsecret = "%s"\n' % (
        "s" * 20
    )
    for entry in entries:
        name, role, groups, available = entry.split("/")
        text += (f'[[people]]\nname = "{name}"\nemail = "{name}@example.com"\nrole = "{role}"\n'
                 f'groups = [{groups}]\navailable = {available}\n')  # fmt: skip
    return config.parse(text, Path("/tmp/x/maildesk.toml"), env={})


@pytest.mark.parametrize(
    ("entries", "group", "expected"),
    [
        (("wang/engineer/\"net\"/true", "lead/lead/\"net\"/true"), "net", ["wang", "lead"]),
        (("wang/engineer/\"net\"/false", "boss/manager//true"), "net", ["boss"]),
        (("wang/engineer/\"net\"/false", "other/lead/\"desk\"/true"), "net", ["other"]),
        (("wang/engineer/\"net\"/false", "off/lead/\"net\"/false", "boss/manager//true"), "net",
         ["boss"]),
        (("wang/engineer/\"net\"/true", "lead/lead//true"), "", ["lead"]),
        (("wang/engineer/\"net\"/true",), "", ["wang"]),
        (("wang/engineer/\"net\"/true", "boss/manager//true"), "printers", ["boss"]),
        (("wang/engineer/\"net\"/true",), "printers", ["wang"]),  # a group nobody works
    ],
)  # fmt: skip
def test_a_ticket_always_reaches_someone(
    entries: tuple[str, ...], group: str, expected: list[str]
) -> None:
    """Nobody available in the group: its lead, else the leads, else the managers."""
    cfg = people(*entries)
    assert [p.name for p in notify.targets("", group, cfg)] == expected
