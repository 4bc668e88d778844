"""Periods in the desk's timezone (`[tickets] timezone`): pure functions of dates.

A day, a week (Monday to Sunday), a calendar month, or a range FROM..TO (TO included,
as people say it).  Each is half-open in UTC: from local midnight of its first day to
local midnight after its last day, so a day is 23 or 25 hours long across a change of
daylight saving time and the same instants fall on different days in different zones.

- `containing(kind, day, tz)`: the day, week or month a local date falls in;
- `between(first, last, tz)`: a range;
- `previous(p)`: the period of the same length just before (a month: the calendar
  month before, whatever its length);
- `ended(kind, now, tz)`: the one that has just ended at `now` (what a scheduled
  digest reports: yesterday, last week, last month);
- `parse(text, now, tz)`: the command line's `--period day|week|month|FROM..TO`;
  a word means the period that has just ended, as the digest reports it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from maildesk.digest.model import Period, PeriodKind

MAX_RANGE_DAYS = 366  # a report covers at most a year (its daily series has a row a day)
DAILY_DAYS_OF_A_DAY = 14  # a day's digest shows the last two weeks day by day
WEEKS_OF_SLA = 8  # the SLA series: the 8 weeks ending with the period's last day
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
WORDS = {kind.value: kind for kind in (PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH)}


class PeriodError(ValueError):
    """A period the command line gave that means nothing; the text says why."""


def midnight(day: date, timezone: str) -> datetime:
    """The UTC instant of local midnight at the start of `day`."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def local_day(t: datetime, timezone: str) -> date:
    return t.astimezone(ZoneInfo(timezone)).date()


def between(first: date, last: date, timezone: str, kind: PeriodKind = PeriodKind.RANGE) -> Period:
    if last < first:
        raise PeriodError(f"the period ends ({last}) before it starts ({first})")
    end = midnight(last + timedelta(days=1), timezone)
    return Period(kind, first, last, midnight(first, timezone), end, timezone)


def containing(kind: PeriodKind, day: date, timezone: str) -> Period:
    """The day, week (Monday to Sunday) or calendar month that `day` falls in."""
    if kind is PeriodKind.DAY:
        return between(day, day, timezone, kind)
    if kind is PeriodKind.WEEK:
        monday = day - timedelta(days=day.weekday())
        return between(monday, monday + timedelta(days=6), timezone, kind)
    if kind is PeriodKind.MONTH:
        first = day.replace(day=1)
        return between(first, _next_month(first) - timedelta(days=1), timezone, kind)
    raise ValueError("a range is given by its days: use between()")


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous(period: Period) -> Period:
    """The period of the same length just before: it ends where `period` starts."""
    day_before = period.first_day - timedelta(days=1)
    if period.kind is PeriodKind.RANGE:
        first = period.first_day - timedelta(days=period.days)
        return between(first, day_before, period.timezone)
    return containing(period.kind, day_before, period.timezone)


def ended(kind: PeriodKind, now: datetime, timezone: str) -> Period:
    """The day, week or month that has just ended at `now`: the one before the one
    `now` is in (at 00:05 on a Monday, last week; at 23:59 on a Sunday, the week
    before last, since this one has not ended)."""
    return previous(containing(kind, local_day(now, timezone), timezone))


def daily_days(period: Period) -> tuple[date, ...]:
    """The days of the daily series: every day of the period; for a day, the last 14."""
    if period.kind is PeriodKind.DAY:
        first = period.last_day - timedelta(days=DAILY_DAYS_OF_A_DAY - 1)
    else:
        first = period.first_day
    return tuple(first + timedelta(days=i) for i in range((period.last_day - first).days + 1))


def sla_weeks(period: Period) -> tuple[date, ...]:
    """The Mondays of the SLA series' weeks: the week of the last day and the 7 before."""
    monday = period.last_day - timedelta(days=period.last_day.weekday())
    return tuple(monday - timedelta(weeks=WEEKS_OF_SLA - 1 - i) for i in range(WEEKS_OF_SLA))


def parse(text: str, now: datetime, timezone: str) -> Period:
    """`day`, `week`, `month` (the one just ended at `now`) or `FROM..TO` (dates
    YYYY-MM-DD, TO included, at most MAX_RANGE_DAYS days)."""
    given = text.strip().lower()
    if given in WORDS:
        return ended(WORDS[given], now, timezone)
    first_text, dots, last_text = given.partition("..")
    if not dots:
        raise PeriodError(
            f"expected day, week, month or FROM..TO like 2026-11-01..2026-11-30, got {text!r}"
        )
    first, last = _day(first_text, "FROM"), _day(last_text, "TO")
    if last < first:
        raise PeriodError(f"the range ends ({last}) before it starts ({first}): give FROM..TO")
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS:
        raise PeriodError(f"a range of at most {MAX_RANGE_DAYS} days, got {days} ({text})")
    return between(first, last, timezone)


def _day(text: str, name: str) -> date:
    text = text.strip()
    if not _ISO_DAY.match(text):
        raise PeriodError(f"{name} must be a date like 2026-11-30, got {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"{name}: {text} is not a date ({exc})") from exc
