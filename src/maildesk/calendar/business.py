"""Business-time arithmetic on a Calendar: pure functions of aware datetimes.

Business time is the real time elapsed inside working intervals (a working span of a
local day, turned into UTC instants, so a DST change inside a span counts as it
happens).  Instants come in aware (any zone) and go out in the zone they came in.

Conventions (each tested):
- intervals are half-open: `is_working_time` is true at 09:00 and false at 12:00;
- `add_business(cal, t, m)` for m > 0 is the *earliest* instant with m business minutes
  since t: when they run out exactly at the end of an interval the result is that end
  (Friday 17:00 + 1 h = Friday 18:00, not Monday 09:00), otherwise it is inside working
  time; m = 0 gives t itself; m < 0 counts back and gives the *latest* such instant
  (Monday 10:00 - 1 h = Monday 09:00);
- `business_minutes_between(cal, a, b)` is signed: negative when b is before a.

Pauses (a ticket waiting for its requester) are (start, end) instants whose business
time does not count; end None means still paused.

Speed: each year's working intervals are built once per Calendar value (cached in it)
with their running sums, so an addition is a binary search per year crossed, whatever
its length (10,000 business hours is five years: five searches).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from maildesk.calendar.model import Calendar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = datetime(1970, 1, 1)
EPOCH_DAY = date(1970, 1, 1)
DAY_US = 86_400_000_000
US = timedelta(microseconds=1)
MINUTE_US = 60_000_000
MAX_YEARS = 400  # a search that crosses this many years without working time gives up

Pause = tuple[datetime, datetime | None]


@dataclass(frozen=True)
class YearTable:
    """A local year's working intervals in µs since the epoch, with running sums."""

    starts: list[int]
    ends: list[int]
    before: list[int]  # business µs of the year before interval k
    upto: list[int]  # business µs of the year up to the end of interval k
    total: int


# --- the public functions ----------------------------------------------------------------


def add_business(cal: Calendar, start: datetime, minutes: float) -> datetime:
    """The instant `minutes` business minutes after `start` (before it, if negative)."""
    return _out(_add(cal, _us(start), _minutes_us(minutes)), start)


def business_minutes_between(
    cal: Calendar, a: datetime, b: datetime, pauses: Iterable[Pause] = ()
) -> float:
    """Business minutes from a to b, less those inside pauses; negative if b < a."""
    return business_between(cal, a, b, pauses) / timedelta(minutes=1)


def business_between(
    cal: Calendar, a: datetime, b: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """As business_minutes_between, as a timedelta (exact to the microsecond)."""
    if b < a:
        return -business_between(cal, b, a, pauses)
    lo, hi = _us(a), _us(b)
    total = _between(cal, lo, hi)
    for p0, p1 in _merged(pauses, hi):
        total -= _between(cal, max(p0, lo), min(p1, hi)) if p1 > lo else 0
    return total * US


def due_after(
    cal: Calendar, start: datetime, minutes: float, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """When `minutes` business minutes from `start` are used up, pauses not counting;
    None while a pause without end holds the clock before that."""
    t, left = _us(start), _minutes_us(minutes)
    if left < 0:
        raise ValueError("due_after needs minutes >= 0")
    for p0, p1 in _merged(pauses, None):
        if p1 <= t:
            continue
        if p0 > t:
            due = _add(cal, t, left)
            if due <= p0:
                return _out(due, start)
            left -= _between(cal, t, p0)
        if p1 == _OPEN:
            return None
        t = max(t, p1)
    return _out(_add(cal, t, left), start)


def is_working_time(cal: Calendar, t: datetime) -> bool:
    us = _us(t)
    table = _table(cal, _local_year(cal, us))
    k = bisect_right(table.starts, us) - 1
    return k >= 0 and us < table.ends[k]


def next_working_instant(cal: Calendar, t: datetime) -> datetime:
    """t itself when it is working time, else the start of the next working interval."""
    us = _us(t)
    year = _local_year(cal, us)
    for _ in range(MAX_YEARS):
        table = _table(cal, year)
        k = bisect_right(table.ends, us)
        if k < len(table.starts):
            return _out(max(us, table.starts[k]), t)
        year += 1
    raise ValueError(f"no working time within {MAX_YEARS} years")


def is_provisional(cal: Calendar, t: datetime, since: datetime | None = None) -> bool:
    """True when t's local year has no official schedule: a deadline there is an
    estimate.  With `since` (the deadline's start), any year from since to t counts."""
    last = t.astimezone(cal.zone).year
    first = last if since is None else min(since.astimezone(cal.zone).year, last)
    return not all(cal.is_official(year) for year in range(first, last + 1))


def year_hours(cal: Calendar, year: int) -> float:
    """Business hours in a local year (for `calendar show` and sanity checks)."""
    return _table(cal, year).total / (60 * MINUTE_US)


# --- conversions -------------------------------------------------------------------------

_OPEN = 2**62  # the end of a pause that has not ended


def _us(t: datetime) -> int:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"business time needs aware datetimes, got naive {t!r}")
    return (t - EPOCH) // US


def _out(us: int, like: datetime) -> datetime:
    return (EPOCH + us * US).astimezone(like.tzinfo)


def _minutes_us(minutes: float) -> int:
    return timedelta(minutes=minutes) // US


def _local_year(cal: Calendar, us: int) -> int:
    return (EPOCH + us * US).astimezone(cal.zone).year


def _merged(pauses: Iterable[Pause], cap: int | None) -> list[tuple[int, int]]:
    """Pauses in µs, sorted and overlapping ones joined; an open end becomes _OPEN."""
    spans = sorted((_us(p0), _OPEN if p1 is None else _us(p1)) for p0, p1 in pauses)
    merged: list[tuple[int, int]] = []
    for p0, p1 in spans:
        if p1 <= p0 or (cap is not None and p0 >= cap):
            continue
        if merged and p0 <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], p1))
        else:
            merged.append((p0, p1))
    return merged


# --- the year tables ---------------------------------------------------------------------


def _table(cal: Calendar, year: int) -> YearTable:
    table: YearTable | None = cal.cache.get(year)
    if table is None:
        table = _build(cal, year)
        cal.cache[year] = table
    return table


def _build(cal: Calendar, year: int) -> YearTable:
    starts: list[int] = []
    ends: list[int] = []
    day = date(year, 1, 1)
    while day.year == year:
        hours = cal.hours_on(day)
        offset = _steady_offset(cal, day) if hours else None
        for span in hours:
            s, e = _boundary(cal, day, span.start, offset), _boundary(cal, day, span.end, offset)
            if starts and s <= ends[-1]:  # touching spans (or a DST fold): one interval
                s, e = starts.pop(), max(e, ends.pop())
            if e > s:
                starts.append(s)
                ends.append(e)
        day += timedelta(days=1)
    before, upto, total = [], [], 0
    for s, e in zip(starts, ends, strict=True):
        before.append(total)
        total += e - s
        upto.append(total)
    return YearTable(starts, ends, before, upto, total)


def _steady_offset(cal: Calendar, day: date) -> int | None:
    """The day's UTC offset in µs when it has one all day (no DST change), else None."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=cal.zone)
    offsets = {
        midnight.utcoffset(),
        midnight.replace(fold=1).utcoffset(),
        (midnight + timedelta(days=1)).utcoffset(),
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return None if offset is None else offset // US


def _boundary(cal: Calendar, day: date, minute: int, offset: int | None) -> int:
    if offset is None:
        return _wall(cal, day, minute)
    return (day - EPOCH_DAY).days * DAY_US + minute * MINUTE_US - offset


def _wall(cal: Calendar, day: date, minute: int) -> int:
    """A local wall-clock time as µs since the epoch.  An hour skipped by DST maps to
    the instant the clocks jump (the first one that exists); a repeated hour to its
    first occurrence."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    first = naive.replace(tzinfo=cal.zone)  # fold=0
    before, after = first.utcoffset(), first.replace(fold=1).utcoffset()
    assert before is not None and after is not None
    local = (naive - NAIVE_EPOCH) // US
    if before >= after:  # one offset, or a repeated hour: its first occurrence
        return local - before // US
    return _jump(cal, local - after // US, local - before // US)  # skipped: the jump


def _jump(cal: Calendar, lo: int, hi: int) -> int:
    """The first instant in (lo, hi] with the offset of hi: where a DST gap ends."""
    target = (EPOCH + hi * US).astimezone(cal.zone).utcoffset()
    while hi - lo > 1_000_000:
        mid = (lo + hi) // 2
        if (EPOCH + mid * US).astimezone(cal.zone).utcoffset() == target:
            hi = mid
        else:
            lo = mid
    return hi


# --- the arithmetic ----------------------------------------------------------------------


def _position(table: YearTable, us: int) -> int:
    """Business µs of the year before the instant us (which lies in that local year)."""
    k = bisect_right(table.starts, us) - 1
    if k < 0:
        return 0
    return table.before[k] + min(us, table.ends[k]) - table.starts[k]


def _between(cal: Calendar, lo: int, hi: int) -> int:
    if hi <= lo:
        return 0
    first, last = _local_year(cal, lo), _local_year(cal, hi)
    total = _position(_table(cal, last), hi) - _position(_table(cal, first), lo)
    for year in range(first, last):
        total += _table(cal, year).total
    return total


def _add(cal: Calendar, us: int, amount: int) -> int:
    if amount == 0:
        return us
    year = _local_year(cal, us)
    target = _position(_table(cal, year), us) + amount
    for _ in range(MAX_YEARS):
        table = _table(cal, year)
        if amount > 0 and target > table.total:
            target -= table.total
            year += 1
        elif amount < 0 and target < 0:
            year -= 1
            target += _table(cal, year).total
        else:
            return _locate(table, target, latest=amount < 0)
    raise ValueError(f"no working time within {MAX_YEARS} years")


def _locate(table: YearTable, target: int, *, latest: bool) -> int:
    """The instant at business position `target` of the year: the earliest one (an
    interval's end when it falls on one) or the latest (the next interval's start)."""
    k = bisect_right(table.before, target) - 1 if latest else bisect_left(table.upto, target)
    return table.starts[k] + target - table.before[k]
