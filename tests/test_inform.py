"""Keeping the user informed, on time the test advances and the business calendar:
a progress note after 30 business minutes of silence (not when an engineer spoke),
and waiting on the user: reminder → auto-resolve → auto-close across a weekend and
2026's Spring Festival (make-up Saturdays included), a reply in between cancelling."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from maildesk.clock import TestClock
from maildesk.config import ConfigError
from maildesk.service import Service
from maildesk.store import events, tickets
from maildesk.store import timers as timer_rows
from maildesk.timers.inform_settings import INFORM
from maildesk.timers.kinds import on_status
from maildesk.timers.model import TimerKind

from .conftest import ConfigFactory, build_service
from .test_engineers import PEOPLE, USER, mail
from .test_timers import body, engineer_says, open_ticket, rows, run, status

CST = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=CST)  # an ordinary working Monday
SPRING_FRIDAY = datetime(2026, 2, 13, 15, 0, tzinfo=CST)  # the eve of the make-up Saturday
INFORM_MAIL = ("progress_note", "waiting_reminder", "auto_resolved", "closing_notice")


def setup(make_config: ConfigFactory, start: datetime, inform: str) -> tuple[Service, TestClock]:
    # surveys (also started on resolution) are tests/test_surveys.py's, SLA reminders
    # and escalations tests/test_sla.py's (here beyond any time these tests advance)
    far = "\n[sla]\nresponse_hours = { urgent = 2000, high = 2000, medium = 2000, low = 2000 }\n"
    cfg = make_config(extra=PEOPLE + f"\n[inform]\n{inform}\n" + "\n[survey]\nenabled = false\n"
                      + far)  # fmt: skip
    clock = TestClock(start)
    return build_service(cfg, clock), clock


def counts(service: Service) -> dict[str, int]:
    return {kind: len(rows(service, kind)) for kind in INFORM_MAIL}


def pending(service: Service, number: str) -> dict[str, datetime]:
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        found = timer_rows.of_ticket(tx, ticket.id)
    return {
        t.kind: t.due_at.astimezone(CST)
        for t in found
        if t.state == "pending" and not t.kind.startswith("sla_")
    }  # SLA: tests/test_sla


def history(service: Service, number: str) -> list[str]:
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        return [e["text"] for e in events.listing(tx, ticket.id) if e["kind"] == "timer"]


# --- progress notes ------------------------------------------------------------------------


def test_progress_note_once_after_30_business_minutes_of_silence(
    make_config: ConfigFactory,
) -> None:
    service, clock = setup(make_config, MONDAY_10, "progress_minutes = 30")
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#status in_progress", n=2)
    assert pending(service, number) == {"progress_note": MONDAY_10 + timedelta(minutes=30)}
    clock.advance(minutes=29)
    assert run(service, clock).claimed == 0
    clock.advance(minutes=1)
    report = run(service, clock)
    assert (report.fired, report.mails) == (1, 1)
    assert run(service, clock).claimed == 0  # once
    assert counts(service) == {**dict.fromkeys(INFORM_MAIL, 0), "progress_note": 1}
    (sent,) = rows(service, "progress_note")
    assert sent.recipients == (USER,) and sent.ticket_number == number
    text = body(service, sent)
    assert "正在处理中" in text and "王工" in text and "wang.gong@" not in text
    assert status(service, number) == "in_progress"
    # the next note waits as long again: 10:30 + 30 business minutes = 11:00
    assert pending(service, number) == {"progress_note": MONDAY_10 + timedelta(minutes=60)}
    assert any("30 business minutes" in line for line in history(service, number))


def test_no_progress_note_when_an_engineer_replied(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config, MONDAY_10, "progress_minutes = 30")
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#status in_progress", n=2)
    clock.advance(minutes=20)
    engineer_says(service, number, note, "正在更换交换机端口，预计半小时。", n=3)
    assert pending(service, number) == {"progress_note": MONDAY_10 + timedelta(minutes=50)}
    clock.advance(minutes=10)  # the first note's time: the engineer spoke since
    assert run(service, clock).claimed == 0
    assert counts(service)["progress_note"] == 0
    clock.advance(minutes=20)  # 30 minutes after the engineer's reply
    assert run(service, clock).mails == 1
    assert counts(service)["progress_note"] == 1


def test_progress_notes_count_business_minutes_and_stop_when_work_stops(
    make_config: ConfigFactory,
) -> None:
    """11:45 + 30 business minutes is 13:15 (lunch 12:00-13:00 does not count); leaving
    in progress cancels; at most progress_notes notes per ticket."""
    start = MONDAY_10.replace(hour=11, minute=45)
    service, clock = setup(make_config, start, "progress_minutes = 30\nprogress_notes = 2")
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#status in_progress", n=2)
    assert pending(service, number) == {"progress_note": start.replace(hour=13, minute=15)}
    clock.advance(hours=1, minutes=30)
    assert run(service, clock).mails == 1
    clock.advance(minutes=30)
    assert run(service, clock).mails == 1
    assert pending(service, number) == {}  # two notes: no third
    clock.advance(days=3)
    assert run(service, clock).claimed == 0 and counts(service)["progress_note"] == 2
    engineer_says(service, number, note, "#resolve 已更换端口", n=3)
    engineer_says(service, number, note, "#reopen", n=4)
    engineer_says(service, number, note, "#status in_progress", n=5)
    assert "progress_note" in pending(service, number)  # a new stretch, step 3 …
    clock.advance(minutes=5)
    engineer_says(service, number, note, "#wait\n请把报错截图发给我。", n=6)
    assert "progress_note" not in pending(service, number)  # … cancelled by waiting
    clock.advance(days=1)
    run(service, clock)
    assert counts(service)["progress_note"] == 2


def test_progress_notes_are_off_by_default(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config, MONDAY_10, "")
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#status in_progress", n=2)
    assert pending(service, number) == {}
    clock.advance(days=5)
    assert run(service, clock).claimed == 0 and counts(service)["progress_note"] == 0


# --- waiting on the user -----------------------------------------------------------------


def test_waiting_reminds_then_resolves_then_closes_over_the_spring_festival(
    make_config: ConfigFactory,
) -> None:
    """#wait on Friday 2026-02-13 15:00.  Business days: Sat 14 (make-up day, 1), the
    holiday 15-23, Tue 24 (2), Wed 25 (3) → reminder Wed 25 15:00; Thu 26 (4), Fri 27 (5),
    Sat 28 (make-up, 6), Sunday off, Mon 2 March (7) → resolved Mon 15:00; closed seven
    days after that ([lifecycle] auto_close_days)."""
    service, clock = setup(make_config, SPRING_FRIDAY, "")
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#wait\n请把报错截图发给我。", n=2)
    remind = datetime(2026, 2, 25, 15, 0, tzinfo=CST)
    resolve = datetime(2026, 3, 2, 15, 0, tzinfo=CST)
    assert pending(service, number) == {"waiting_remind": remind, "auto_resolve": resolve}
    clock.advance(remind - SPRING_FRIDAY - timedelta(seconds=1))
    assert run(service, clock).claimed == 0
    clock.advance(seconds=1)
    assert run(service, clock).mails == 1
    assert status(service, number) == "waiting_on_user"
    (reminder,) = rows(service, "waiting_reminder")
    text = body(service, reminder)
    assert "仍在等待您" in text and "4 个工作日内" in text and number in text
    clock.advance(resolve - remind)
    report = run(service, clock)
    assert (report.fired, report.mails) == (1, 1)
    assert status(service, number) == "resolved"
    (notice,) = rows(service, "auto_resolved")
    assert notice.recipients == (USER,)
    text = body(service, notice)
    assert "7 个工作日" in text and "重新打开" in text and "若 7 天内未收到您的回复" in text
    assert pending(service, number) == {"auto_close": resolve + timedelta(days=7)}
    clock.advance(days=7)
    assert run(service, clock).mails == 1 and status(service, number) == "closed"
    assert "天内直接回复本邮件" in body(service, rows(service, "closing_notice")[0])
    clock.advance(days=30)
    assert run(service, clock).claimed == 0
    assert counts(service) == {"progress_note": 0, "waiting_reminder": 1, "auto_resolved": 1,
                               "closing_notice": 1}  # fmt: skip
    lines = history(service, number)
    assert any("waiting on them 3 business days" in line for line in lines)
    assert any("resolved: waiting on the user 7 business days" in line for line in lines)


def test_waiting_over_a_weekend(make_config: ConfigFactory) -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=CST)
    inform = "waiting_remind_days = 2\nwaiting_resolve_days = 4"
    service, clock = setup(make_config, friday, inform)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#status waiting_on_user\n请确认您的工号。", n=2)
    remind = datetime(2026, 12, 1, 15, 0, tzinfo=CST)  # Tuesday: Mon 30 (1), Tue (2)
    resolve = datetime(2026, 12, 3, 15, 0, tzinfo=CST)  # Thursday
    assert pending(service, number) == {"waiting_remind": remind, "auto_resolve": resolve}
    clock.advance(days=2)  # Sunday: nothing yet
    assert run(service, clock).claimed == 0
    clock.advance(remind - clock.now())
    assert run(service, clock).mails == 1
    assert "2 个工作日内" in body(service, rows(service, "waiting_reminder")[0])
    clock.advance(resolve - clock.now())
    assert run(service, clock).mails == 1 and status(service, number) == "resolved"


def test_a_reply_while_waiting_takes_it_back_to_work_and_cancels(
    make_config: ConfigFactory,
) -> None:
    service, clock = setup(make_config, SPRING_FRIDAY, "")
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#wait\n请把报错截图发给我。", n=2)
    clock.advance(days=12)  # Wed 25 15:00: the reminder is due and sent
    assert run(service, clock).mails == 1
    clock.advance(days=1)
    again = mail(USER, f"Re: [{number}] VPN 连不上了", "截图在附件里。", n=3)
    assert service.ingest(again, "t").kind == "threaded"
    assert status(service, number) == "in_progress"
    assert pending(service, number) == {}
    clock.advance(days=60)
    assert run(service, clock).claimed == 0
    assert status(service, number) == "in_progress"
    assert counts(service) == {**dict.fromkeys(INFORM_MAIL, 0), "waiting_reminder": 1}


def test_zero_turns_waiting_timers_off(make_sqlite_config: ConfigFactory) -> None:
    inform = "waiting_remind_days = 0\nwaiting_resolve_days = 0"
    service, clock = setup(make_sqlite_config, SPRING_FRIDAY, inform)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#wait\n请把报错截图发给我。", n=2)
    assert pending(service, number) == {}
    clock.advance(days=90)
    assert run(service, clock).claimed == 0 and status(service, number) == "waiting_on_user"


# --- pure parts and configuration ----------------------------------------------------------


def test_entering_waiting_starts_both_in_business_days(make_sqlite_config: ConfigFactory) -> None:
    cfg = make_sqlite_config(extra=PEOPLE)
    start, cancel = on_status("in_progress", "waiting_on_user", MONDAY_10, cfg)
    assert [(s.kind, s.due_at, s.business_minutes) for s in start] == [
        (TimerKind.WAITING_REMIND, MONDAY_10, 3 * 480.0),
        (TimerKind.AUTO_RESOLVE, MONDAY_10, 7 * 480.0),
    ]
    assert cancel == (TimerKind.PROGRESS_NOTE,)
    assert on_status("waiting_on_user", "in_progress", MONDAY_10, cfg) == (
        (),
        (TimerKind.WAITING_REMIND, TimerKind.AUTO_RESOLVE),
    )


def test_a_business_day_follows_the_calendar_hours(make_sqlite_config: ConfigFactory) -> None:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    round_the_clock = "\n".join(f'hours.{d} = ["00:00-24:00"]' for d in days)
    cfg = make_sqlite_config(extra=PEOPLE + f"\n[calendar]\n{round_the_clock}\n")
    assert cfg.section(INFORM).remind_delay == 3 * 1440.0


@pytest.mark.parametrize(
    ("inform", "key"),
    [
        ("progress_minutes = -5", r"inform\.progress_minutes"),
        ('waiting_remind_days = "3"', r"inform\.waiting_remind_days"),
        ("waiting_remind_days = 7\nwaiting_resolve_days = 7", r"inform\.waiting_remind_days"),
        ("progress_notes = 0", r"inform\.progress_notes"),
        ("remind_days = 3", r"inform\.remind_days: unknown key"),
    ],
)
def test_a_bad_value_names_the_key(
    make_sqlite_config: ConfigFactory, inform: str, key: str
) -> None:
    with pytest.raises(ConfigError, match=key):
        make_sqlite_config(extra=PEOPLE + f"\n[inform]\n{inform}\n")
