"""Which digests are due (digest/schedule.py, pure): the period that has just ended,
once its local time has passed; only the latest period of a kind; DST-free
Asia/Shanghai and Europe/Berlin across its changes; who receives which digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from maildesk.config import EngineerConfig
from maildesk.digest import schedule
from maildesk.digest.model import PeriodKind
from maildesk.digest.settings import Digests
from maildesk.domain import Address

SETTINGS = Digests(
    daily=True, daily_at=time(8, 30), weekly=True, weekly_on=0, weekly_at=time(8, 30),
    monthly=True, monthly_at=time(9, 0), managers=True, leads=True, extra_recipients=(),
)  # fmt: skip
SH, BERLIN = "Asia/Shanghai", "Europe/Berlin"
DAY, WEEK, MONTH = PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# (zone, now in UTC, kind, first day, last day of the latest due period): each pair of
# rows straddles a scheduled time by one minute.
TABLE = [
    # Shanghai = UTC+8: 08:30 local is 00:30 UTC
    (SH, utc(2026, 12, 2, 0, 29), DAY, date(2026, 11, 30), date(2026, 11, 30)),
    (SH, utc(2026, 12, 2, 0, 30), DAY, date(2026, 12, 1), date(2026, 12, 1)),
    (SH, utc(2026, 12, 1, 16, 0), DAY, date(2026, 11, 30), date(2026, 11, 30)),  # local 00:00
    (SH, utc(2026, 11, 30, 0, 29), WEEK, date(2026, 11, 16), date(2026, 11, 22)),  # Mon 08:29
    (SH, utc(2026, 11, 30, 0, 30), WEEK, date(2026, 11, 23), date(2026, 11, 29)),
    (SH, utc(2026, 12, 6, 15, 59), WEEK, date(2026, 11, 23), date(2026, 11, 29)),  # Sun 23:59
    (SH, utc(2026, 12, 1, 0, 59), MONTH, date(2026, 10, 1), date(2026, 10, 31)),
    (SH, utc(2026, 12, 1, 1, 0), MONTH, date(2026, 11, 1), date(2026, 11, 30)),
    (SH, utc(2027, 3, 1, 1, 0), MONTH, date(2027, 2, 1), date(2027, 2, 28)),
    (SH, utc(2027, 1, 1, 1, 0), DAY, date(2026, 12, 31), date(2026, 12, 31)),  # new year
    # Berlin: CEST (UTC+2) until 25 Oct 2026 03:00, then CET (UTC+1)
    (BERLIN, utc(2026, 10, 24, 6, 29), DAY, date(2026, 10, 22), date(2026, 10, 22)),
    (BERLIN, utc(2026, 10, 24, 6, 30), DAY, date(2026, 10, 23), date(2026, 10, 23)),
    (BERLIN, utc(2026, 10, 26, 6, 30), DAY, date(2026, 10, 24), date(2026, 10, 24)),  # 07:30
    (BERLIN, utc(2026, 10, 26, 7, 29), DAY, date(2026, 10, 24), date(2026, 10, 24)),
    (BERLIN, utc(2026, 10, 26, 7, 30), DAY, date(2026, 10, 25), date(2026, 10, 25)),
    (BERLIN, utc(2026, 3, 30, 6, 29), WEEK, date(2026, 3, 16), date(2026, 3, 22)),  # CEST
    (BERLIN, utc(2026, 3, 30, 6, 30), WEEK, date(2026, 3, 23), date(2026, 3, 29)),
]


@pytest.mark.parametrize(("zone", "now", "kind", "first", "last"), TABLE)
def test_the_latest_due_period(
    zone: str, now: datetime, kind: PeriodKind, first: date, last: date
) -> None:
    period = schedule.latest_due(kind, SETTINGS, now, zone)
    assert (period.kind, period.first_day, period.last_day) == (kind, first, last)
    assert schedule.send_time(period, SETTINGS) <= now


def test_periods_run_from_local_midnight_to_local_midnight() -> None:
    """Shanghai's day starts at 16:00 UTC the day before; Berlin's 25-hour day in
    October and its 167-hour week in March."""
    sh = schedule.latest_due(DAY, SETTINGS, utc(2026, 12, 2, 1, 0), SH)
    assert (sh.start, sh.end) == (utc(2026, 11, 30, 16), utc(2026, 12, 1, 16))
    autumn = schedule.period(DAY, date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert (autumn.start, autumn.end) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    spring = schedule.latest_due(WEEK, SETTINGS, utc(2026, 3, 30, 6, 30), BERLIN)
    assert (spring.start, spring.end) == (utc(2026, 3, 22, 23), utc(2026, 3, 29, 22))
    assert spring.end - spring.start == timedelta(hours=167)


def test_send_times_follow_the_local_clock_across_dst() -> None:
    """08:30 in Berlin is 06:30 UTC in summer time and 07:30 UTC in winter; a time that
    does not exist (02:30 on the spring-forward night) is the moment after the gap."""
    summer = schedule.period(DAY, date(2026, 10, 23), date(2026, 10, 23), BERLIN)
    winter = schedule.period(DAY, date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert schedule.send_time(summer, SETTINGS) == utc(2026, 10, 24, 6, 30)
    assert schedule.send_time(winter, SETTINGS) == utc(2026, 10, 26, 7, 30)
    night = Digests(**{**SETTINGS.__dict__, "daily_at": time(2, 30)})
    gap = schedule.period(DAY, date(2026, 3, 28), date(2026, 3, 28), BERLIN)
    assert schedule.send_time(gap, night) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST


def test_weekly_on_another_day_sends_last_week_then() -> None:
    friday = Digests(**{**SETTINGS.__dict__, "weekly_on": 4})
    thursday = schedule.latest_due(WEEK, friday, utc(2026, 12, 3, 12), SH)
    assert (thursday.first_day, thursday.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    sent = schedule.latest_due(WEEK, friday, utc(2026, 12, 4, 0, 30), SH)  # Fri 08:30
    assert (sent.first_day, sent.last_day) == (date(2026, 11, 23), date(2026, 11, 29))


def test_after_downtime_only_the_latest_period_of_each_kind_is_due() -> None:
    """Down for 40 days: one day, one week, one month are due, not one per missed day."""
    due = schedule.due(SETTINGS, [MANAGER], utc(2026, 12, 2, 3), SH)
    assert [(d.period.kind, d.period.first_day) for d in due] == [
        (DAY, date(2026, 12, 1)), (WEEK, date(2026, 11, 23)), (MONTH, date(2026, 11, 1)),
    ]  # fmt: skip


def test_kinds_switched_off_are_never_due() -> None:
    only_weekly = Digests(**{**SETTINGS.__dict__, "daily": False, "monthly": False})
    due = schedule.due(only_weekly, [MANAGER], utc(2026, 12, 2, 3), SH)
    assert [d.period.kind for d in due] == [WEEK]


MANAGER = EngineerConfig("赵经理", "zhao@example.com", (), "manager", True)
PEOPLE = [
    MANAGER,
    EngineerConfig("王工", "wang.gong@example.com", ("network",), "lead", True),
    EngineerConfig("李工", "li.gong@example.com", ("desktop", "network"), "lead", True),
    EngineerConfig("张三", "zhang@example.com", ("desktop",), "engineer", True),
    EngineerConfig("孙工", "sun@example.com", ("printers",), "engineer", True),  # no lead
]


def test_managers_get_the_desk_and_each_groups_leads_their_group() -> None:
    extra = Digests(**{**SETTINGS.__dict__, "extra_recipients": ("cio@example.com",
                                                                 "zhao@example.com")})  # fmt: skip
    assert schedule.audiences(extra, PEOPLE) == [
        ("", (Address("赵经理", "zhao@example.com"), Address("", "cio@example.com"))),
        ("desktop", (Address("李工", "li.gong@example.com"),)),
        ("network", (Address("王工", "wang.gong@example.com"),
                     Address("李工", "li.gong@example.com"))),
    ]  # fmt: skip


def test_switched_off_audiences_and_nobody_to_tell_get_nothing() -> None:
    no_managers = Digests(**{**SETTINGS.__dict__, "managers": False})
    assert [g for g, _ in schedule.audiences(no_managers, PEOPLE)] == ["desktop", "network"]
    no_leads = Digests(**{**SETTINGS.__dict__, "leads": False})
    assert [g for g, _ in schedule.audiences(no_leads, PEOPLE)] == [""]
    assert schedule.audiences(SETTINGS, PEOPLE[3:]) == []
    assert schedule.due(SETTINGS, PEOPLE[3:], utc(2026, 12, 2, 3), SH) == []


def test_a_missed_period_due_again_within_two_hours_is_not_sent_first() -> None:
    """Started on Monday 2 March at 08:00 (Shanghai) having missed Saturday's daily and
    the week before last: nothing stale now; at 08:30 Sunday's and last week's."""

    def due(now: datetime) -> list[tuple[str, str]]:
        found = schedule.due(SETTINGS, (MANAGER,), now, SH)
        return sorted({(d.period.kind.value, str(d.period.first_day)) for d in found})

    month = ("month", "2026-02-01")  # due since 1 March 09:00, next on 1 April: sent
    assert due(utc(2026, 3, 2, 0, 0)) == [month]  # 08:00: day and week come at 08:30
    assert due(utc(2026, 3, 2, 0, 30)) == [("day", "2026-03-01"), month, ("week", "2026-02-23")]
    assert due(utc(2026, 3, 1, 13, 0)) == [("day", "2026-02-28"), month, ("week", "2026-02-16")]
