"""Business-time arithmetic (maildesk.calendar.business): tables and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maildesk.calendar import seed
from maildesk.calendar.business import (
    add_business,
    business_minutes_between,
    due_after,
    is_provisional,
    is_working_time,
    next_working_instant,
)
from maildesk.calendar.changes import changed_ranges, missing_years
from maildesk.calendar.model import (
    ALL_DAY,
    Calendar,
    DayKind,
    Span,
    SpecialDay,
    around_the_clock,
    make_calendar,
)

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def china() -> Calendar:
    days = [s for year in seed.schedule().values() for s in year]
    return make_calendar(SH, special=days, official_years=seed.official_years())


CN = china()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, zone: ZoneInfo = SH) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone)


# --- tables ------------------------------------------------------------------------------

ADD = [
    # the example: Friday before Spring Festival, then a make-up Saturday
    ("make-up Saturday", at(2026, 2, 13, 17), 240, at(2026, 2, 14, 12)),
    ("ends at the end of Friday", at(2026, 2, 13, 17), 60, at(2026, 2, 13, 18)),
    ("Spring Festival skipped", at(2026, 2, 14, 17), 120, at(2026, 2, 24, 10)),
    ("second make-up Saturday", at(2026, 2, 27, 17), 120, at(2026, 2, 28, 10)),
    ("国庆: Sep 30 to Oct 8", at(2026, 9, 30, 17), 120, at(2026, 10, 8, 10)),
    ("国庆 make-up Sunday", at(2026, 9, 18, 17), 120, at(2026, 9, 20, 10)),
    ("ordinary weekend", at(2026, 3, 6, 17), 120, at(2026, 3, 9, 10)),
    ("lunch break", at(2026, 3, 10, 11), 120, at(2026, 3, 10, 14)),
    ("ends at noon", at(2026, 3, 10, 11), 60, at(2026, 3, 10, 12)),
    ("start in the lunch break", at(2026, 3, 10, 12, 30), 30, at(2026, 3, 10, 13, 30)),
    ("start before hours", at(2026, 3, 10, 7), 30, at(2026, 3, 10, 9, 30)),
    ("start after hours", at(2026, 3, 10, 20), 30, at(2026, 3, 11, 9, 30)),
    ("start on a holiday", at(2026, 10, 3, 10), 60, at(2026, 10, 8, 10)),
    ("zero minutes", at(2026, 3, 10, 20), 0, at(2026, 3, 10, 20)),
    ("count back over lunch", at(2026, 3, 10, 14), -60, at(2026, 3, 10, 13)),
    ("count back over a weekend", at(2026, 3, 9, 10), -120, at(2026, 3, 6, 17)),
]


@pytest.mark.parametrize(("name", "start", "minutes", "due"), ADD, ids=[a[0] for a in ADD])
def test_add_business(name: str, start: datetime, minutes: float, due: datetime) -> None:
    assert add_business(CN, start, minutes) == due
    assert business_minutes_between(CN, start, due) == minutes


def test_a_result_comes_back_in_the_zone_it_was_given() -> None:
    due = add_business(CN, at(2026, 2, 13, 9, zone=UTC), 60)  # 17:00 in Shanghai
    assert due.tzinfo is UTC and due == at(2026, 2, 13, 18)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business(CN, datetime(2026, 3, 10, 9), 60)


def test_around_the_clock_ignores_holidays() -> None:
    always = around_the_clock(SH)
    assert add_business(always, at(2026, 10, 1, 23), 120) == at(2026, 10, 2, 1)
    assert not is_provisional(always, at(2031, 1, 1))
    assert is_working_time(always, at(2026, 2, 17, 3))


def test_working_time_is_half_open() -> None:
    assert is_working_time(CN, at(2026, 3, 10, 9))
    assert not is_working_time(CN, at(2026, 3, 10, 12))
    assert is_working_time(CN, at(2026, 2, 14, 10))  # make-up Saturday
    assert not is_working_time(CN, at(2026, 2, 16, 10))  # Spring Festival Monday


def test_next_working_instant() -> None:
    assert next_working_instant(CN, at(2026, 3, 10, 10)) == at(2026, 3, 10, 10)
    assert next_working_instant(CN, at(2026, 3, 10, 12)) == at(2026, 3, 10, 13)
    assert next_working_instant(CN, at(2026, 9, 30, 19)) == at(2026, 10, 8, 9)
    assert next_working_instant(CN, at(2026, 12, 31, 18)) == at(2027, 1, 1, 9)  # provisional


def test_a_year_without_official_data_is_provisional_and_worked_on_weekdays() -> None:
    assert not is_provisional(CN, at(2026, 12, 31, 10))
    assert is_provisional(CN, at(2027, 1, 1, 10))
    assert not is_provisional(CN, at(2026, 6, 1), since=at(2025, 12, 31))
    assert is_provisional(CN, at(2027, 1, 2), since=at(2026, 12, 31))
    later = make_calendar(SH, official_years={2026, 2028})
    assert is_provisional(later, at(2028, 6, 1), since=at(2026, 12, 31))  # 2027 between
    assert is_working_time(CN, at(2027, 2, 8, 10))  # a Monday: maybe 春节, nobody knows yet
    assert add_business(CN, at(2027, 2, 5, 17), 120) == at(2027, 2, 8, 10)


def test_pauses() -> None:
    start = at(2026, 3, 10, 9)
    lunch_to_next_day = (at(2026, 3, 10, 11), at(2026, 3, 11, 10))
    assert due_after(CN, start, 240, []) == at(2026, 3, 10, 14)
    # paused from 11:00 to the next day 10:00: 2 h counted before, 2 h after
    assert due_after(CN, start, 240, [lunch_to_next_day]) == at(2026, 3, 11, 12)
    assert business_minutes_between(CN, start, at(2026, 3, 11, 12), [lunch_to_next_day]) == 240
    assert due_after(CN, start, 240, [(at(2026, 3, 10, 14), None)]) == at(2026, 3, 10, 14)
    assert due_after(CN, start, 240, [(at(2026, 3, 10, 10), None)]) is None  # still paused


def test_a_dst_zone_counts_real_time() -> None:
    office = make_calendar(BERLIN, week=((Span(60, 240),),) * 7)  # 01:00-04:00 every day
    day = at(2026, 3, 29, 0, zone=BERLIN)  # clocks jump from 02:00 to 03:00
    assert business_minutes_between(office, day, day + timedelta(days=1)) == 120
    assert add_business(office, day, 90) == at(2026, 3, 29, 3, 30, zone=BERLIN)
    autumn = at(2026, 10, 25, 0, zone=BERLIN)  # 02:00-03:00 happens twice
    assert business_minutes_between(office, autumn, autumn + timedelta(days=1)) == 240


def test_missing_years_from_first_november() -> None:
    assert missing_years(at(2026, 10, 31, 23), {2026}, SH) == []
    assert missing_years(at(2026, 10, 31, 16, zone=UTC), {2026}, SH) == [2027]  # 00:00 +08
    assert missing_years(at(2026, 12, 2), {2026, 2027}, SH) == []
    assert missing_years(at(2027, 3, 1), {2026}, SH) == [2027]


def test_changed_ranges() -> None:
    days = [date(2027, 2, 6), date(2027, 2, 8), date(2027, 2, 7), date(2027, 10, 1)]
    assert changed_ranges(days) == [
        (date(2027, 2, 6), date(2027, 2, 8)),
        (date(2027, 10, 1), date(2027, 10, 1)),
    ]


def test_seed_has_spring_festival_and_national_day_2026() -> None:
    days = {s.day: s for s in seed.schedule()[2026]}
    assert days[date(2026, 2, 14)] == SpecialDay(date(2026, 2, 14), DayKind.WORKDAY, "春节")
    assert days[date(2026, 10, 1)].name == "国庆节"
    assert 2027 not in seed.official_years()  # never an estimate


def test_ten_thousand_business_hours_jump_by_years() -> None:
    """One table of working intervals per year crossed, then a binary search (its speed
    is measured by benchmarks/business_time.py, not asserted here)."""
    cal = china()
    due = add_business(cal, at(2026, 2, 13, 17), 10_000 * 60)
    assert due == at(2030, 12, 17, 17)
    assert sorted(cal.cache) == [2026, 2027, 2028, 2029, 2030]
    assert business_minutes_between(cal, at(2026, 2, 13, 17), due) == 10_000 * 60


# --- properties --------------------------------------------------------------------------

CALENDARS = st.sampled_from(
    [CN, make_calendar(BERLIN), around_the_clock(BERLIN), make_calendar(BERLIN, (ALL_DAY,) * 7)]
)
INSTANTS = st.datetimes(
    min_value=datetime(2025, 6, 1), max_value=datetime(2028, 6, 1), timezones=st.just(UTC)
)
MINUTES = st.integers(min_value=1, max_value=60 * 24 * 40)
PROPERTY = settings(max_examples=200, deadline=None)


def inside_working_time(cal: Calendar, t: datetime) -> bool:
    """Working time, or the end of a working interval."""
    return is_working_time(cal, t) or is_working_time(cal, t - timedelta(microseconds=1))


@PROPERTY
@given(CALENDARS, INSTANTS, MINUTES)
def test_due_is_never_outside_working_time(cal: Calendar, start: datetime, m: int) -> None:
    assert inside_working_time(cal, add_business(cal, start, m))


@PROPERTY
@given(CALENDARS, INSTANTS, MINUTES)
def test_between_undoes_add(cal: Calendar, start: datetime, m: int) -> None:
    due = add_business(cal, start, m)
    assert business_minutes_between(cal, start, due) == m
    assert add_business(cal, due, -m) >= start  # the latest instant m minutes before


@PROPERTY
@given(CALENDARS, INSTANTS, MINUTES, MINUTES, st.integers(0, 60 * 24 * 7))
def test_monotonic(cal: Calendar, start: datetime, m1: int, m2: int, later: int) -> None:
    lo, hi = sorted((m1, m2))
    assert add_business(cal, start, lo) <= add_business(cal, start, hi)
    assert add_business(cal, start, lo) <= add_business(cal, start + timedelta(minutes=later), lo)


@PROPERTY
@given(CALENDARS, INSTANTS, MINUTES, st.integers(0, 60 * 24 * 20), st.integers(1, 60 * 24 * 5))
def test_a_pause_moves_the_due_time_by_its_business_length(
    cal: Calendar, start: datetime, m: int, offset: int, length: int
) -> None:
    due = due_after(cal, start, m)
    assert due is not None
    pause = (start + timedelta(minutes=offset), start + timedelta(minutes=offset + length))
    if pause[0] >= due:
        return  # a pause after the due time changes nothing
    paused = business_minutes_between(cal, pause[0], pause[1])
    moved = due_after(cal, start, m, [pause])
    assert moved is not None
    assert business_minutes_between(cal, due, moved) == paused
    assert business_minutes_between(cal, start, moved, [pause]) == m
