"""The business calendar as a value: when the service desk works.

A Calendar is a time zone, the working hours of each weekday (local wall-clock spans),
the special days of the official schedule (a public holiday: closed; a make-up working
day, 调休: open with the hours of `makeup_weekday`, Monday by default) and the years for
which that schedule is official.  A year without official data has no special days: it
is worked Monday to Friday and every deadline in it is *provisional*.

Spans are minutes of the local day, end exclusive, so that 24:00 can end a day:
`Span(540, 720)` is 09:00-12:00.  `around_the_clock()` is the 24×7 calendar of a policy
that ignores holidays; it is never provisional.

The arithmetic on calendars is in business.py.  A Calendar keeps a cache of the working
intervals of each year it was asked about (derived data, never observable): build it
once and reuse it for many tickets.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"
DAY_MINUTES = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Span(NamedTuple):
    """Working time within one local day, in minutes from midnight; end exclusive."""

    start: int
    end: int

    def text(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Hours = tuple[Span, ...]  # one day's spans, sorted, not overlapping

OFFICE_HOURS: Hours = (Span(9 * 60, 12 * 60), Span(13 * 60, 18 * 60))
DEFAULT_WEEK: tuple[Hours, ...] = (OFFICE_HOURS,) * 5 + ((), ())
ALL_DAY: Hours = (Span(0, DAY_MINUTES),)


class DayKind(enum.Enum):
    HOLIDAY = "holiday"  # a public holiday (or a day off moved by 调休): closed
    WORKDAY = "workday"  # a make-up working day on a weekend (调休上班): open


@dataclass(frozen=True)
class SpecialDay:
    day: date
    kind: DayKind
    name: str = ""  # 春节, 国庆节 … as the source names it


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    week: tuple[Hours, ...] = DEFAULT_WEEK  # Monday first, 7 entries
    special: Mapping[date, SpecialDay] = field(default_factory=lambda: MappingProxyType({}))
    official_years: frozenset[int] = frozenset()
    makeup_weekday: int = 0  # the weekday whose hours a make-up working day has
    follows_holidays: bool = True  # False: a 24×7 calendar, never provisional
    cache: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a calendar needs the hours of 7 weekdays, Monday first")
        if not any(self.week):
            raise ValueError("a calendar needs some working hours in the week")

    def hours_on(self, day: date) -> Hours:
        """The working spans of a local date: its weekday's, unless it is special."""
        special = self.special.get(day) if self.follows_holidays else None
        if special is None:
            return self.week[day.weekday()]
        if special.kind is DayKind.HOLIDAY:
            return ()
        return self.week[self.makeup_weekday]

    def is_official(self, year: int) -> bool:
        """Is the year's schedule known (or irrelevant, on a 24×7 calendar)?"""
        return not self.follows_holidays or year in self.official_years

    def special_days(self, year: int) -> list[SpecialDay]:
        return sorted((s for s in self.special.values() if s.day.year == year), key=_day)


def _day(special: SpecialDay) -> date:
    return special.day


def make_calendar(
    zone: str | ZoneInfo = DEFAULT_ZONE,
    week: tuple[Hours, ...] = DEFAULT_WEEK,
    special: Iterable[SpecialDay] = (),
    official_years: Iterable[int] = (),
    makeup_weekday: int = 0,
) -> Calendar:
    """A calendar that follows the official schedule (holidays and make-up days)."""
    days = MappingProxyType({s.day: s for s in special})
    return Calendar(_zone(zone), week, days, frozenset(official_years), makeup_weekday)


def around_the_clock(zone: str | ZoneInfo = DEFAULT_ZONE) -> Calendar:
    """24×7: every minute is working time, holidays too; never provisional."""
    return Calendar(_zone(zone), (ALL_DAY,) * 7, follows_holidays=False)


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
