"""Periods in the desk's timezone: days, weeks, months, ranges, the one before, the one
just ended, and `--period` as the command line gives it.  Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from maildesk.digest import period as periods
from maildesk.digest.model import Period, PeriodKind
from maildesk.digest.period import PeriodError

SH, NY = "Asia/Shanghai", "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_week_is_monday_to_sunday_local() -> None:
    found = periods.containing(PeriodKind.WEEK, date(2026, 11, 26), SH)
    assert found == Period(PeriodKind.WEEK, date(2026, 11, 23), date(2026, 11, 29),
                           utc(2026, 11, 22, 16), utc(2026, 11, 29, 16), SH)  # fmt: skip
    assert found.days == 7


def test_a_day_across_the_change_of_daylight_saving_time_lasts_25_hours() -> None:
    found = periods.containing(PeriodKind.DAY, date(2026, 11, 1), NY)
    assert (found.start, found.end) == (utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))


def test_the_month_before_march_is_february_whatever_its_length() -> None:
    march = periods.containing(PeriodKind.MONTH, date(2028, 3, 15), SH)
    before = periods.previous(march)
    assert (before.first_day, before.last_day) == (date(2028, 2, 1), date(2028, 2, 29))
    assert before.end == march.start
    january = periods.previous(periods.containing(PeriodKind.MONTH, date(2027, 1, 1), SH))
    assert (january.first_day, january.last_day) == (date(2026, 12, 1), date(2026, 12, 31))


def test_the_range_before_a_range_has_its_length() -> None:
    found = periods.previous(periods.between(date(2026, 11, 10), date(2026, 11, 19), SH))
    assert (found.kind, found.first_day, found.last_day) == (
        PeriodKind.RANGE, date(2026, 10, 31), date(2026, 11, 9))  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "now", "tz", "first", "last"),
    [
        # 2026-11-30 00:30 in Shanghai is still Sunday 29 November in New York
        (PeriodKind.DAY, utc(2026, 11, 29, 16, 30), SH, date(2026, 11, 29), date(2026, 11, 29)),
        (PeriodKind.DAY, utc(2026, 11, 29, 16, 30), NY, date(2026, 11, 28), date(2026, 11, 28)),
        (PeriodKind.WEEK, utc(2026, 11, 29, 16, 30), SH, date(2026, 11, 23), date(2026, 11, 29)),
        (PeriodKind.WEEK, utc(2026, 11, 29, 16, 30), NY, date(2026, 11, 16), date(2026, 11, 22)),
        (PeriodKind.MONTH, utc(2026, 11, 30, 16, 30), SH, date(2026, 11, 1), date(2026, 11, 30)),
        (PeriodKind.MONTH, utc(2026, 11, 30, 16, 30), NY, date(2026, 10, 1), date(2026, 10, 31)),
    ],
)
def test_the_period_just_ended(
    kind: PeriodKind, now: datetime, tz: str, first: date, last: date
) -> None:
    found = periods.ended(kind, now, tz)
    assert (found.kind, found.first_day, found.last_day) == (kind, first, last)
    assert found.end <= now


def test_parse_words_and_ranges() -> None:
    now = utc(2026, 12, 2, 10)
    assert periods.parse(" Week ", now, SH) == periods.ended(PeriodKind.WEEK, now, SH)
    found = periods.parse("2026-11-01..2026-11-30", now, SH)
    assert (found.kind, found.first_day, found.last_day, found.days) == (
        PeriodKind.RANGE, date(2026, 11, 1), date(2026, 11, 30), 30)  # fmt: skip
    assert found.end == utc(2026, 11, 30, 16)  # TO is included
    assert periods.parse("2026-11-30..2026-11-30", now, SH).days == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("fortnight", "expected day, week, month or FROM..TO"),
        ("2026-11-01", "expected day, week, month or FROM..TO"),
        ("2026/11/01..2026-11-30", "FROM must be a date like"),
        ("2026-11-01..", "TO must be a date like"),
        ("2026-02-30..2026-03-01", "FROM: 2026-02-30 is not a date"),
        ("2026-11-30..2026-11-01", "the range ends (2026-11-01) before it starts"),
        ("2025-01-01..2026-12-31", "a range of at most 366 days, got 730"),
    ],
)
def test_parse_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(PeriodError) as raised:
        periods.parse(text, utc(2026, 12, 2), SH)
    assert says in str(raised.value)


def test_series_days_and_weeks() -> None:
    day = periods.containing(PeriodKind.DAY, date(2026, 11, 25), SH)
    assert periods.daily_days(day)[0] == date(2026, 11, 12)
    assert len(periods.daily_days(day)) == 14 and periods.daily_days(day)[-1] == day.last_day
    assert periods.sla_weeks(day) == tuple(
        date.fromordinal(date(2026, 11, 23).toordinal() - 7 * i) for i in range(7, -1, -1)
    )
    month = periods.containing(PeriodKind.MONTH, date(2026, 2, 1), SH)
    assert len(periods.daily_days(month)) == 28
