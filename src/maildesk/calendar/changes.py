"""What an import changes, and which years lack an official schedule: pure functions.

`diff` compares the special days before and after; `changed_ranges` folds the changed
dates into date ranges.  Those ranges are the event "the calendar changed": every
deadline that runs through them must be recomputed (see usecases.CalendarChange).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from maildesk.calendar.model import DEFAULT_ZONE, SpecialDay

WARN_FROM_MONTH = 11  # from 1 November, next year's missing schedule is warned about


@dataclass(frozen=True)
class DayChange:
    day: date
    before: SpecialDay | None  # None: an ordinary day before
    after: SpecialDay | None  # None: an ordinary day now

    def text(self) -> str:
        return f"{self.day} {_describe(self.before)} -> {_describe(self.after)}"


def _describe(special: SpecialDay | None) -> str:
    if special is None:
        return "ordinary day"
    return f"{special.kind.value} {special.name}".strip()


def diff(before: Mapping[date, SpecialDay], after: Mapping[date, SpecialDay]) -> list[DayChange]:
    """Every date whose kind or name differs, in date order."""
    return [
        DayChange(day, before.get(day), after.get(day))
        for day in sorted({*before, *after})
        if before.get(day) != after.get(day)
    ]


def changed_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Dates folded into (first, last) runs of consecutive days."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def missing_years(
    now: datetime, official_years: Collection[int], zone: ZoneInfo | None = None
) -> list[int]:
    """The years whose schedule is missing and matters now: this year always, and from
    1 November next year (the State Council publishes it in late October or November)."""
    today = now.astimezone(zone or ZoneInfo(DEFAULT_ZONE)).date()
    wanted = [today.year, today.year + 1] if today.month >= WARN_FROM_MONTH else [today.year]
    return [year for year in wanted if year not in official_years]
