"""The official schedule the chinese-calendar library knows: holidays and make-up
working days (调休上班) per year, from the State Council's notices.

Only years the library knows officially are taken (it raises for later years, and we
never estimate one); `maildesk calendar import` brings later years in.
"""

from __future__ import annotations

from collections.abc import Mapping

import chinese_calendar
from chinese_calendar import constants

from maildesk.calendar.model import DayKind, SpecialDay

SOURCE = f"chinese-calendar {chinese_calendar.__version__}"
_CHINESE = {h.value: h.chinese for h in constants.Holiday}


def _name(english: str) -> str:
    return str(_CHINESE.get(english, english))


def official_years() -> frozenset[int]:
    """The years the library has the State Council's schedule for."""
    known = [*constants.holidays, *constants.workdays]
    return frozenset(range(min(known).year, max(known).year + 1))


def schedule() -> Mapping[int, list[SpecialDay]]:
    """Year -> its holidays and make-up working days, named in Chinese (春节, 国庆节)."""
    years: dict[int, list[SpecialDay]] = {year: [] for year in official_years()}
    for kind, days in (
        (DayKind.HOLIDAY, constants.holidays),
        (DayKind.WORKDAY, constants.workdays),
    ):
        for day, english in days.items():
            years[day.year].append(SpecialDay(day, kind, _name(english)))
    return {year: sorted(days, key=lambda s: s.day) for year, days in years.items()}
