"""SLA targets on the business calendar, on time the test advances: reminder → breach
(level 1, the lead) → further levels (the managers) with exact mail counts, over a
weekend and over 2026's Spring Festival make-up Saturday; pauses while waiting on the
user; reopening; priority changes; calendar imports; working time only."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maildesk import cli_sla
from maildesk.calendar.model import Calendar
from maildesk.cli import main
from maildesk.clock import TestClock
from maildesk.daemon import Daemon
from maildesk.outbox import make_transport
from maildesk.service import Service
from maildesk.sla import usecases as sla_usecases
from maildesk.sla.settings import SlaSettings
from maildesk.sla.steps import plans
from maildesk.sla.targets import Facts, follow, moves_targets, started, state
from maildesk.sla.usecases import business_hours
from maildesk.store import events, tickets
from maildesk.store import outbox as outbox_rows
from maildesk.store import sla as sla_rows
from maildesk.store import timers as timer_rows
from maildesk.timers import tick

from .conftest import ConfigFactory, build_service
from .test_engineers import PEOPLE, USER, mail

FIXTURES = Path(__file__).parent / "fixtures" / "calendar"

SH = ZoneInfo("Asia/Shanghai")
ENGINEER = "wang.gong@example.com"
LEAD = "lead@example.com"
MANAGER = "zhao@example.com"
LEAD_PERSON = '\n[[people]]\nname = "李组长"\nemail = "lead@example.com"\nrole = "lead"\n' \
    'groups = ["network"]\n'  # fmt: skip
SLA = "\n[sla]\nescalation_hours = { medium = [1, 2] }\n"


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def setup(make_config: ConfigFactory, start: datetime, sla: str = SLA) -> tuple[Service, TestClock]:
    cfg = make_config(extra=PEOPLE + LEAD_PERSON + sla)
    clock = TestClock(start.astimezone(UTC))
    return build_service(cfg, clock), clock


def open_ticket(service: Service, subject: str = "VPN 连不上了", n: int = 1) -> str:
    outcome = service.ingest(mail(USER, subject, "交换机端口灯不亮。", n=n), "t")
    assert outcome.kind == "created"
    return outcome.ticket_number


def notes(service: Service) -> list[tuple[str, ...]]:
    """The recipients of every notification, oldest first."""
    with service.store.transaction() as tx:
        rows = outbox_rows.listing(tx, limit=100000)
    return [r.recipients for r in sorted(rows, key=lambda r: r.id) if r.kind == "notification"]


def run_at(service: Service, clock: TestClock, when: datetime) -> list[tuple[str, ...]]:
    """Advance to `when`, tick with the business calendar; the notifications it sent."""
    clock.set(when.astimezone(UTC))
    before = len(notes(service))
    now = clock.now()
    working = business_hours(service.store, service.cfg, now)
    tick.run(service.store, service.renderer, now, "test:1", working_time=working)
    return notes(service)[before:]


def status(service: Service, number: str) -> str:
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
    assert found is not None
    return found.status


def target(service: Service, number: str, name: str = "response") -> sla_rows.Target:
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
        assert found is not None
        return sla_rows.of_ticket(tx, found.id)[name]


def test_reminder_breach_and_two_levels_with_exact_mails(make_config: ConfigFactory) -> None:
    """Monday 09:00, medium (4 business hours): reminder at 75 % (12:00, the lunch
    break: sent at 13:00), breach at 14:00 to the lead, then the managers at 15:00 and
    16:00; each mail once."""
    service, clock = setup(make_config, local(2026, 11, 23, 9))
    number = open_ticket(service)
    assert notes(service) == [(ENGINEER,)]  # the new ticket, to whoever works it
    due = target(service, number)
    assert due.due_at == local(2026, 11, 23, 14) and not due.provisional
    assert run_at(service, clock, local(2026, 11, 23, 11, 59)) == []
    assert run_at(service, clock, local(2026, 11, 23, 12, 30)) == []  # lunch: deferred
    assert run_at(service, clock, local(2026, 11, 23, 13)) == [(ENGINEER,)]
    assert run_at(service, clock, local(2026, 11, 23, 13, 59)) == []
    assert status(service, number) != "escalated"
    assert run_at(service, clock, local(2026, 11, 23, 14)) == [(LEAD,)]
    assert status(service, number) == "escalated"
    assert run_at(service, clock, local(2026, 11, 23, 15)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 11, 23, 16)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 11, 30, 16)) == []
    assert len(notes(service)) == 5


def note_id(service: Service, number: str) -> str:
    """The Message-ID of the engineer's notification: his replies command the ticket."""
    with service.store.transaction() as tx:
        rows = outbox_rows.listing(tx, limit=100000)
    return [r.message_id for r in rows if r.kind == "notification" and r.ticket_number == number
            and r.recipients == (ENGINEER,)][-1]  # fmt: skip


def engineer_says(service: Service, clock: TestClock, when: datetime, number: str, text: str,
                  n: int) -> None:  # fmt: skip
    clock.set(when.astimezone(UTC))
    reply = mail(f"王工 <{ENGINEER}>", f"Re: [{number}] VPN 连不上了", text,
                 in_reply_to=note_id(service, number), n=n)  # fmt: skip
    outcome = service.ingest(reply, "t")
    assert outcome.kind == "worked", outcome.detail


def user_says(service: Service, clock: TestClock, when: datetime, number: str, n: int) -> None:
    clock.set(when.astimezone(UTC))
    again = mail(USER, f"Re: [{number}] VPN 连不上了", "截图在附件里。", n=n)
    assert service.ingest(again, "t").kind == "threaded"


def test_over_a_weekend(make_config: ConfigFactory) -> None:
    """Friday 16:00 + 4 business hours = Monday 11:00; nothing on Saturday or Sunday."""
    service, clock = setup(make_config, local(2026, 11, 27, 16))
    number = open_ticket(service)
    assert target(service, number).due_at == local(2026, 11, 30, 11)
    assert run_at(service, clock, local(2026, 11, 28, 10)) == []
    assert run_at(service, clock, local(2026, 11, 29, 23)) == []
    assert run_at(service, clock, local(2026, 11, 30, 9, 59)) == []
    assert run_at(service, clock, local(2026, 11, 30, 10)) == [(ENGINEER,)]  # 75 %: 3 h
    assert run_at(service, clock, local(2026, 11, 30, 11)) == [(LEAD,)]
    # 11:00 + 1 h ends the morning: sent when the afternoon starts
    assert run_at(service, clock, local(2026, 11, 30, 12)) == []
    assert run_at(service, clock, local(2026, 11, 30, 13)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 11, 30, 14)) == [(MANAGER,)]  # + 2 h
    assert len(notes(service)) == 5


def test_over_the_spring_festival_make_up_saturday(make_config: ConfigFactory) -> None:
    """2026-02-13 17:00 + 4 business hours = Saturday 2026-02-14 12:00, a make-up
    working day (the breach mail waits for 13:00); 02-15..23 are holidays, so the
    last level (6 hours after the breach) comes on Tuesday 02-24 at 10:00."""
    sla = "\n[sla]\nescalation_hours = { medium = [1, 6] }\n"
    service, clock = setup(make_config, local(2026, 2, 13, 17), sla)
    number = open_ticket(service)
    assert target(service, number).due_at == local(2026, 2, 14, 12)
    assert run_at(service, clock, local(2026, 2, 14, 10, 59)) == []
    assert run_at(service, clock, local(2026, 2, 14, 11)) == [(ENGINEER,)]
    assert run_at(service, clock, local(2026, 2, 14, 12)) == []  # lunch
    assert run_at(service, clock, local(2026, 2, 14, 13)) == [(LEAD,)]
    assert run_at(service, clock, local(2026, 2, 14, 14)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 2, 16, 10)) == []  # 春节
    assert run_at(service, clock, local(2026, 2, 24, 9, 59)) == []
    assert run_at(service, clock, local(2026, 2, 24, 10)) == [(MANAGER,)]
    assert len(notes(service)) == 5


RESOLUTION = "\n[sla]\nresolution_hours = { medium = 8 }\nescalation_hours = { medium = [] }\n" \
    "\n[lifecycle]\nauto_close_days = 0\n"  # fmt: skip


def test_waiting_on_the_user_pauses_and_resumes_with_the_time_left(
    make_config: ConfigFactory,
) -> None:
    """Resolution in 8 business hours from Monday 09:00; waiting on the user from 10:00
    to Tuesday 14:00 (11 business hours): due Wednesday 12:00, nothing fires meanwhile."""
    service, clock = setup(make_config, local(2026, 11, 23, 9), RESOLUTION)
    number = open_ticket(service)
    assert target(service, number, "resolution").due_at == local(2026, 11, 23, 18)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "#wait\n请发一张截图。", n=2)
    assert status(service, number) == "waiting_on_user"
    paused = target(service, number, "resolution")
    assert paused.due_at is None and paused.paused_since == local(2026, 11, 23, 10)
    assert run_at(service, clock, local(2026, 11, 24, 13)) == []  # the old 75 % and due
    user_says(service, clock, local(2026, 11, 24, 14), number, n=3)
    resumed = target(service, number, "resolution")
    assert resumed.paused_minutes == 11 * 60 and resumed.due_at == local(2026, 11, 25, 12)
    sent = len(notes(service))
    assert run_at(service, clock, local(2026, 11, 24, 17, 59)) == []
    assert run_at(service, clock, local(2026, 11, 25, 10)) == [(ENGINEER,)]  # 6 of 8 h
    assert run_at(service, clock, local(2026, 11, 25, 12)) == []  # due as the morning ends
    assert run_at(service, clock, local(2026, 11, 25, 13)) == [(LEAD,)]
    assert len(notes(service)) == sent + 2


def test_a_reopened_ticket_does_not_escalate_for_the_time_it_was_resolved(
    make_config: ConfigFactory,
) -> None:
    """Resolved after 2 of 8 business hours; reopened a week later: 6 hours left."""
    service, clock = setup(make_config, local(2026, 11, 23, 9), RESOLUTION)
    number = open_ticket(service)
    engineer_says(service, clock, local(2026, 11, 23, 11), number, "#resolve 已重置端口", n=2)
    assert target(service, number, "resolution").met_at == local(2026, 11, 23, 11)
    assert run_at(service, clock, local(2026, 11, 30, 10)) == []
    user_says(service, clock, local(2026, 12, 1, 10), number, n=3)
    assert status(service, number) not in ("resolved", "escalated")
    reopened = target(service, number, "resolution")
    assert reopened.met_at is None and reopened.due_at == local(2026, 12, 1, 17)
    assert run_at(service, clock, local(2026, 12, 1, 10)) == []  # nothing at once
    assert run_at(service, clock, local(2026, 12, 1, 15)) == [(ENGINEER,)]  # 6 of 8 h
    assert run_at(service, clock, local(2026, 12, 1, 17)) == [(LEAD,)]
    assert status(service, number) == "escalated"


def test_a_priority_change_recomputes_the_due_times(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config, local(2026, 11, 23, 9))
    number = open_ticket(service)
    assert target(service, number).due_at == local(2026, 11, 23, 14)
    engineer_says(service, clock, local(2026, 11, 23, 9, 20), number, "#priority urgent", n=2)
    assert target(service, number).due_at == local(2026, 11, 23, 10)  # 1 business hour
    assert run_at(service, clock, local(2026, 11, 23, 9, 45)) == [(ENGINEER,)]
    assert run_at(service, clock, local(2026, 11, 23, 10)) == [(LEAD,)]


def test_the_first_public_reply_meets_the_response_target(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config, local(2026, 11, 23, 9))
    number = open_ticket(service)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "正在查看交换机。", n=2)
    met = target(service, number)
    assert met.met_at == local(2026, 11, 23, 10) and met.due_at == local(2026, 11, 23, 14)
    assert run_at(service, clock, local(2026, 11, 24, 18)) == []
    with service.store.transaction() as tx:
        assert [t for t in timer_rows.pending(tx) if t.kind.startswith("sla")] == []
    user_says(service, clock, local(2026, 11, 25, 9), number, n=3)
    assert "响应时限：已于 11月23日 10:00 (+08:00) 达成" in body_of(
        service, "notification", ENGINEER
    )


def test_escalate_by_hand_takes_the_same_chain(make_config: ConfigFactory) -> None:
    """`#escalate`: the status and the lead's mail at once, then the managers at the
    configured delays, as after a breach."""
    service, clock = setup(make_config, local(2026, 11, 23, 9))
    number = open_ticket(service)
    before = len(notes(service))
    engineer_says(service, clock, local(2026, 11, 23, 9, 30), number,
                  "#escalate 需要核心交换机权限", n=2)  # fmt: skip
    assert status(service, number) == "escalated"
    assert notes(service)[before:] == [(LEAD,)]
    assert run_at(service, clock, local(2026, 11, 23, 10, 29)) == []
    assert run_at(service, clock, local(2026, 11, 23, 10, 30)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 11, 23, 11, 30)) == [(MANAGER,)]


def test_an_urgent_ticket_is_announced_to_the_lead_at_once(make_config: ConfigFactory) -> None:
    service, _clock = setup(make_config, local(2026, 11, 23, 9))
    number = open_ticket(service, "紧急：核心交换机宕机，全楼断网")
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
    assert found is not None and found.priority == "urgent"
    assert notes(service) == [(ENGINEER,), (LEAD,)]


def test_a_breach_at_night_mails_the_lead_at_nine_unless_the_policy_is_24x7(
    make_config: ConfigFactory,
) -> None:
    """Urgent around the clock: created 01:00, due 02:00, the lead mailed at 02:00.
    A business-hours escalation due at 02:00 (e.g. computed before the calendar
    changed) waits for 09:00."""
    sla = '\n[sla]\ncalendar = { urgent = "24x7" }\nremind_at = 0\n'
    service, clock = setup(make_config, local(2026, 11, 24, 1), sla)
    number = open_ticket(service, "紧急：核心交换机宕机，全楼断网")
    assert target(service, number).due_at == local(2026, 11, 24, 2)
    assert run_at(service, clock, local(2026, 11, 24, 1, 59)) == []
    assert run_at(service, clock, local(2026, 11, 24, 2)) == [(LEAD,)]
    other = open_ticket(service, "VPN 连不上了", n=2)
    with service.store.transaction() as tx:
        found = tickets.view(tx, other)
        assert found is not None
        timer_rows.schedule(tx, found.id, "sla_escalate", 101, local(2026, 11, 24, 2), clock.now())
    assert run_at(service, clock, local(2026, 11, 24, 3)) == [(MANAGER,)]  # the 24×7 level 2
    # the daemon's tick, as `maildesk run` builds it: working time from the calendar
    daemon = Daemon(service.cfg, service, make_transport(service.cfg.outbox), clock=clock.now)
    clock.set(local(2026, 11, 24, 8, 59).astimezone(UTC))
    assert daemon.run_timers() == 0
    clock.set(local(2026, 11, 24, 9).astimezone(UTC))
    assert daemon.run_timers() == 1 and notes(service)[-1] == (LEAD,)
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
        assert found is not None
        lines = [e["text"] for e in events.listing(tx, found.id) if e["kind"] == "timer"]
    assert any(line.startswith("SLA response target breached") for line in lines)


def body_of(service: Service, kind: str, to: str) -> str:
    with service.store.transaction() as tx:
        found = [r for r in outbox_rows.listing(tx, limit=100000)
                 if r.kind == kind and r.recipients == (to,)]  # fmt: skip
        raw = outbox_rows.raw(tx, max(r.id for r in found)) or b""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_calendar_import_recomputes_and_ends_provisional(
    make_config: ConfigFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """2027 has no official calendar yet: Friday 2027-02-05 17:00 + 4 business hours is
    Monday 12:00, provisional, and the acknowledgment says so.  The State Council's
    schedule imported: 02-06..13 are 春节, Sunday 02-14 a make-up day: due then."""
    service, clock = setup(make_config, local(2027, 2, 5, 17))
    number = open_ticket(service)
    due = target(service, number)
    assert due.due_at == local(2027, 2, 8, 12) and due.provisional
    ack = body_of(service, "ack", USER)
    assert "4 个工作小时内，即 2月8日 12:00 (+08:00) 前（暂定" in ack
    path = str(make_config.written[-1])
    monkeypatch.setattr(cli_sla, "NOW", clock.now)
    assert main(["--config", path, "tickets", "show", number]) == 0
    assert "due 2027-02-08 12:00 (+08:00)" in capsys.readouterr().out
    assert main(["--config", path, "calendar", "import", str(FIXTURES / "china-2027.yaml")]) == 0
    assert "due times recomputed on 1 open ticket(s)" in capsys.readouterr().out
    moved = target(service, number)
    assert moved.due_at == local(2027, 2, 14, 12) and not moved.provisional
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
        assert found is not None
        due_times = {(t.kind, t.step): t.due_at for t in timer_rows.of_ticket(tx, found.id)}
    assert due_times == {
        ("sla_remind", 1): local(2027, 2, 14, 11),
        ("sla_escalate", 101): local(2027, 2, 14, 12),
        ("sla_escalate", 102): local(2027, 2, 14, 14),
        ("sla_escalate", 103): local(2027, 2, 14, 15),
    }


def test_overdue_and_due_within_listings(
    make_config: ConfigFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, clock = setup(make_config, local(2026, 11, 23, 9))
    first = open_ticket(service)  # due 14:00
    clock.set(local(2026, 11, 23, 11).astimezone(UTC))
    second = open_ticket(service, "打印机卡纸", n=2)  # due 16:00
    path = str(make_config.written[-1])
    monkeypatch.setattr(cli_sla, "NOW", lambda: local(2026, 11, 23, 14, 30))
    assert main(["--config", path, "tickets", "list", "--overdue"]) == 0
    out = capsys.readouterr().out
    assert first in out and second not in out and "2026-11-23 14:00 (+08:00)" in out
    assert "breached" in out
    assert main(["--config", path, "tickets", "list", "--due-within", "1h"]) == 0
    assert first in out and second not in capsys.readouterr().out
    assert main(["--config", path, "tickets", "list", "--due-within", "2h", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["number"], r["state"], r["due_at"]) for r in listed] == [
        (first, "breached", "2026-11-23T14:00:00+08:00"),
        (second, "running", "2026-11-23T16:00:00+08:00"),
    ]
    assert main(["--config", path, "tickets", "show", first]) == 0
    out = capsys.readouterr().out
    assert "response: due 2026-11-23 14:00 (+08:00) (240 min, business), paused 0 min" in out
    assert out.rstrip().count("breached") >= 1


def test_pure_targets_pause_by_exactly_the_business_time_waited() -> None:
    cal = Calendar(SH)  # weekdays 09-12, 13-18; no holidays (a provisional year)
    start = local(2026, 11, 23, 9)
    t = follow(started("response", "business", 240, start), Facts("new", None, start), cal)
    assert (t.due_at, state(t, start)) == (local(2026, 11, 23, 14), "running")
    waiting = follow(t, Facts("waiting_on_user", None, local(2026, 11, 23, 10)), cal)
    assert waiting.due_at is None and state(waiting, local(2026, 11, 30, 9)) == "paused"
    back = follow(waiting, Facts("in_progress", None, local(2026, 11, 24, 10)), cal)
    assert back.paused_minutes == 480 and back.due_at == local(2026, 11, 24, 14)
    met = follow(back, Facts("in_progress", local(2026, 11, 24, 15), local(2026, 11, 24, 15)), cal)
    assert state(met, local(2026, 12, 1, 9)) == "breached"  # met, but an hour late
    assert provisional_year(cal)


def test_a_pause_after_a_breach_does_not_undo_it() -> None:
    """Breached at 14:00, then waiting on the user, then back and resolved: the miss
    stays a miss (due time kept, not moved by the pause), and no timer runs meanwhile."""
    cal = Calendar(SH)
    start = local(2026, 11, 23, 9)
    t = follow(started("resolution", "business", 240, start), Facts("new", None, start), cal)
    late = local(2026, 11, 23, 16)
    waiting = follow(t, Facts("waiting_on_user", None, late), cal)
    assert waiting.due_at == local(2026, 11, 23, 14) and not waiting.running
    assert state(waiting, late) == "breached"  # paused, and still a miss
    back = follow(waiting, Facts("in_progress", None, local(2026, 11, 25, 10)), cal)
    assert back.due_at == local(2026, 11, 23, 14) and back.paused_minutes == 0
    done = follow(back, Facts("resolved", None, local(2026, 11, 25, 11)), cal)
    assert state(done, local(2026, 11, 26, 9)) == "breached"
    resolved_while_waiting = follow(waiting, Facts("resolved", None, local(2026, 11, 24, 9)), cal)
    assert state(resolved_while_waiting, local(2026, 11, 26, 9)) == "breached"


def provisional_year(cal: Calendar) -> bool:
    t = follow(started("resolution", "business", 60, local(2027, 3, 1, 9)),
               Facts("new", None, local(2027, 3, 1, 9)), cal)  # fmt: skip
    return t.provisional


def test_no_reminder_for_a_target_already_breached() -> None:
    """A ticket older than the SLA module (or moved by a calendar change) gets its
    breach and levels, not a reminder first."""
    cal = Calendar(SH)
    t = follow(started("response", "business", 60, local(2026, 11, 23, 9)),
               Facts("new", None, local(2026, 11, 25, 9)), cal)  # fmt: skip
    settings = SlaSettings({"medium": 1}, {}, {}, 0.75, {"medium": (2.0,)})
    kinds = [(p.kind, p.step) for p in plans(t, "medium", settings, cal, local(2026, 11, 25, 9))]
    assert kinds == [("sla_escalate", 101), ("sla_escalate", 102)]


@pytest.mark.parametrize(
    ("old", "new", "moves"),
    [
        ("resolved", "closed", False),  # the auto-close: both finished, the clock stopped
        ("new", "assigned", False),
        ("in_progress", "waiting_on_user", True),  # the clock pauses
        ("waiting_on_user", "in_progress", True),  # and resumes
        ("in_progress", "resolved", True),  # the resolution target is met
        ("closed", "in_progress", True),  # reopened
    ],
)
def test_which_status_changes_move_targets(old: str, new: str, moves: bool) -> None:
    assert moves_targets(old, new) is moves


UPDATE = "\n[sla]\nupdate_hours = { medium = 3 }\nescalation_hours = { medium = [1] }\n"


def timers_of(
    service: Service, number: str, state: str = "pending"
) -> dict[tuple[str, int], datetime]:
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
        assert found is not None
        return {(t.kind, t.step): t.due_at for t in timer_rows.of_ticket(tx, found.id)
                if t.kind.startswith("sla") and t.state == state}  # fmt: skip


def test_the_update_target_reminds_breaches_and_escalates(make_config: ConfigFactory) -> None:
    """Medium, 3 business hours between messages to the requester: the first response
    at 10:00 starts it, due 14:00 (the lunch hour not counted); the reminder at 75 %
    (13:15), the breach to the lead at 14:00, level 2 to the managers at 15:00."""
    service, clock = setup(make_config, local(2026, 11, 23, 9), UPDATE)
    number = open_ticket(service)
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
        assert found is not None and "update" not in sla_rows.of_ticket(tx, found.id)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "正在查看交换机。", n=2)
    update = target(service, number, "update")
    assert (update.started_at, update.due_at) == (local(2026, 11, 23, 10), local(2026, 11, 23, 14))
    assert timers_of(service, number) == {
        ("sla_remind", 1003): local(2026, 11, 23, 13, 15),
        ("sla_escalate", 1301): local(2026, 11, 23, 14),
        ("sla_escalate", 1302): local(2026, 11, 23, 15),
    }
    before = len(notes(service))
    assert run_at(service, clock, local(2026, 11, 23, 13, 14)) == []
    assert run_at(service, clock, local(2026, 11, 23, 13, 15)) == [(ENGINEER,)]
    assert "progress update" in body_of(service, "notification", ENGINEER) or \
        "进展更新" in body_of(service, "notification", ENGINEER)  # fmt: skip
    assert run_at(service, clock, local(2026, 11, 23, 13, 59)) == []
    assert run_at(service, clock, local(2026, 11, 23, 14)) == [(LEAD,)]
    assert status(service, number) == "escalated"
    assert "进展更新" in body_of(service, "notification", LEAD)
    assert run_at(service, clock, local(2026, 11, 23, 15)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 11, 30, 15)) == []
    assert len(notes(service)) == before + 3
    assert state(target(service, number, "update"), clock.now()) == "breached"


def test_a_reply_meets_the_update_target_and_starts_the_next(make_config: ConfigFactory) -> None:
    """The first cycle's reminder went at 13:15; a reply at 13:30 meets it before the
    breach: the next is due 3 business hours later (16:30), with steps of its own, so
    its reminder is sent too (15:45); the first cycle's breach never comes."""
    service, clock = setup(make_config, local(2026, 11, 23, 9), UPDATE)
    number = open_ticket(service)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "正在查看交换机。", n=2)
    assert run_at(service, clock, local(2026, 11, 23, 13, 15)) == [(ENGINEER,)]
    engineer_says(service, clock, local(2026, 11, 23, 13, 30), number, "已更换网线，请再试。", n=3)
    update = target(service, number, "update")
    assert (update.started_at, update.due_at, update.met_at) == (
        local(2026, 11, 23, 13, 30), local(2026, 11, 23, 16, 30), None)  # fmt: skip
    assert timers_of(service, number) == {
        ("sla_remind", 2003): local(2026, 11, 23, 15, 45),
        ("sla_escalate", 2301): local(2026, 11, 23, 16, 30),
        ("sla_escalate", 2302): local(2026, 11, 23, 17, 30),
    }
    assert run_at(service, clock, local(2026, 11, 23, 14)) == []  # the old breach: gone
    assert status(service, number) != "escalated"
    assert run_at(service, clock, local(2026, 11, 23, 15, 45)) == [(ENGINEER,)]
    assert run_at(service, clock, local(2026, 11, 23, 16, 29)) == []
    assert run_at(service, clock, local(2026, 11, 23, 16, 30)) == [(LEAD,)]


def test_waiting_on_the_user_pauses_the_update_target(make_config: ConfigFactory) -> None:
    """The reply that asks for a screenshot starts the cycle and the wait at once: the
    3 hours start when the user answers (Tuesday 10:00 → due 14:00), nothing before."""
    service, clock = setup(make_config, local(2026, 11, 23, 9), UPDATE)
    number = open_ticket(service)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "#wait\n请发一张截图。", n=2)
    paused = target(service, number, "update")
    assert paused.due_at is None and paused.paused_since == local(2026, 11, 23, 10)
    assert timers_of(service, number) == {}
    assert run_at(service, clock, local(2026, 11, 24, 9)) == []
    user_says(service, clock, local(2026, 11, 24, 10), number, n=3)
    resumed = target(service, number, "update")
    assert resumed.paused_minutes == 8 * 60 and resumed.due_at == local(2026, 11, 24, 14)
    assert run_at(service, clock, local(2026, 11, 24, 13, 14)) == []
    assert run_at(service, clock, local(2026, 11, 24, 13, 15)) == [(ENGINEER,)]
    assert run_at(service, clock, local(2026, 11, 24, 14)) == [(LEAD,)]


def test_resolving_stops_the_update_target(
    make_config: ConfigFactory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, clock = setup(make_config, local(2026, 11, 23, 9), UPDATE)
    number = open_ticket(service)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "正在查看交换机。", n=2)
    path = str(make_config.written[-1])
    monkeypatch.setattr(cli_sla, "NOW", lambda: local(2026, 11, 23, 14, 30))
    assert main(["--config", path, "tickets", "list", "--overdue"]) == 0
    assert "update" in capsys.readouterr().out  # due 14:00, not met
    engineer_says(service, clock, local(2026, 11, 23, 11), number, "#resolve 已重置端口", n=3)
    met = target(service, number, "update")
    assert met.met_at == local(2026, 11, 23, 11) and state(met, clock.now()) == "met"
    assert timers_of(service, number) == {}
    assert run_at(service, clock, local(2026, 11, 30, 10)) == []
    assert main(["--config", path, "tickets", "list", "--overdue"]) == 0
    assert number not in capsys.readouterr().out
    assert main(["--config", path, "tickets", "show", number]) == 0
    # the resolving reply met the cycle then running and started none (nothing due)
    line = "update: due - (180 min, business), since the reply of 2026-11-23 11:00 (+08:00), " \
        "paused 0 min, met 2026-11-23 11:00 (+08:00): met"  # fmt: skip
    assert line in capsys.readouterr().out


def test_no_update_target_unless_configured(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config, local(2026, 11, 23, 9))
    number = open_ticket(service)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "正在查看交换机。", n=2)
    engineer_says(service, clock, local(2026, 11, 23, 11), number, "请再试一次。", n=3)
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
        assert found is not None
        assert set(sla_rows.of_ticket(tx, found.id)) == {"response"}
    assert timers_of(service, number) == {}


def test_pure_update_cycles() -> None:
    """Each later message starts the next cycle from itself; an earlier one does not."""
    cal = Calendar(SH)
    start = local(2026, 11, 23, 10)
    t = follow(started("update", "business", 120, start),
               Facts("in_progress", start, start, start), cal)  # fmt: skip
    assert t.due_at == local(2026, 11, 23, 12)
    later = local(2026, 11, 23, 11)
    nxt = follow(t, Facts("in_progress", start, later, later), cal)
    assert (nxt.started_at, nxt.due_at, nxt.met_at) == (later, local(2026, 11, 23, 14), None)
    assert follow(nxt, Facts("in_progress", start, later, start), cal) == nxt


def test_a_target_switched_off_later_keeps_what_was_decided(make_config: ConfigFactory) -> None:
    """A met target is the record of a promise kept (digests, audit): when its priority
    later has no such target, only the targets still running go."""
    with_resolution = SLA + "resolution_hours = { medium = 20 }\n"
    service, clock = setup(make_config, local(2026, 11, 23, 9), with_resolution)
    number = open_ticket(service)
    engineer_says(service, clock, local(2026, 11, 23, 10), number, "#resolve 已更换端口", n=2)
    met = target(service, number, "resolution")
    assert met.met_at == local(2026, 11, 23, 10)
    off = make_config(extra=PEOPLE + LEAD_PERSON + SLA)  # resolution targets switched off
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        kept = sla_usecases.sync(tx, tickets.by_id(tx, ticket.id), off, clock.now())
    assert kept["resolution"].met_at == met.met_at
    assert target(service, number, "resolution") == met
