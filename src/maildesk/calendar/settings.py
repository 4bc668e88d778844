"""[calendar]: the working hours of the service desk, in its time zone.

    [calendar]
    timezone = "Asia/Shanghai"
    makeup_day_hours = "mon"     # a make-up working day (调休上班) has Monday's hours
    hours.mon = ["09:00-12:00", "13:00-18:00"]
    …
    hours.sat = []
    hours.sun = []

A weekday left out of `hours` keeps its default (Monday to Friday 09:00-12:00
and 13:00-18:00, weekends closed); "24:00" may end a span.  Read it with
`cfg.section(CALENDAR_SECTION)`; the holidays and make-up days live in the database
(usecases.load_calendar).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from maildesk.calendar.model import (
    DAY_MINUTES,
    DEFAULT_WEEK,
    DEFAULT_ZONE,
    WEEKDAYS,
    Calendar,
    Hours,
    Span,
    SpecialDay,
    make_calendar,
)
from maildesk.config import ConfigError, Table, register
from maildesk.config.registry import Context, Values
from maildesk.config.values import one_of, time_zone

DEFAULT_HOURS: Mapping[str, list[str]] = {
    name: [span.text() for span in hours]
    for name, hours in zip(WEEKDAYS, DEFAULT_WEEK, strict=True)
}
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class CalendarSettings:
    timezone: str
    hours: tuple[Hours, ...]  # Monday first
    makeup_day_hours: str  # "mon" … "sun"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def calendar(self, special: Iterable[SpecialDay], official_years: Iterable[int]) -> Calendar:
        """These hours with the official schedule read from the database."""
        weekday = WEEKDAYS.index(self.makeup_day_hours)
        return make_calendar(self.zone, self.hours, special, official_years, weekday)


def parse_span(key: str, value: Any) -> Span:
    """ "09:00-12:00" -> Span(540, 720); the error names the key."""
    found = _SPAN.match(value) if isinstance(value, str) else None
    hint = 'expected "HH:MM-HH:MM" like "13:00-18:00"'
    if not found:
        raise ConfigError(f"{key}: {hint}, got {value!r}")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= DAY_MINUTES or end > DAY_MINUTES:
        raise ConfigError(f"{key}: {hint} with times from 00:00 to 24:00, got {value!r}")
    if end <= start:
        raise ConfigError(f"{key}: the span ends before it starts: {value!r}")
    return Span(start, end)


def day_hours(key: str, value: Any) -> Hours:
    """A list of spans, in order and not overlapping; [] is a day off."""
    if not isinstance(value, list | tuple):
        raise ConfigError(
            f'{key}: expected a list like ["09:00-12:00", "13:00-18:00"], got {value!r}'
        )
    spans = [
        v if isinstance(v, Span) else parse_span(f"{key}[{i}]", v) for i, v in enumerate(value)
    ]
    for i in range(1, len(spans)):
        if spans[i].start < spans[i - 1].end:
            raise ConfigError(
                f"{key}[{i}]: {spans[i].text()} starts before {spans[i - 1].text()} ends "
                "(list the spans in order, without overlap)"
            )
    return tuple(spans)


def week_hours(key: str, value: Any) -> tuple[Hours, ...]:
    """[calendar.hours]: mon … sun; a day left out keeps its default."""
    if not isinstance(value, Mapping):
        raise ConfigError(
            f'{key}: expected a table like {{ mon = ["09:00-18:00"] }}, got {value!r}'
        )
    for name in value:
        if name not in WEEKDAYS:
            raise ConfigError(f"{key}.{name}: unknown weekday (known: {', '.join(WEEKDAYS)})")
    week = tuple(
        day_hours(f"{key}.{name}", value[name]) if name in value else DEFAULT_WEEK[i]
        for i, name in enumerate(WEEKDAYS)
    )
    if not any(week):
        raise ConfigError(f"{key}: no working hours on any day of the week")
    return week


def _build(values: Values, _ctx: Context) -> CalendarSettings:
    return CalendarSettings(values["timezone"], values["hours"], values["makeup_day_hours"])


CALENDAR_SECTION = register(
    Table(
        "calendar",
        {
            "timezone": (DEFAULT_ZONE, time_zone),
            "hours": (DEFAULT_HOURS, week_hours),
            "makeup_day_hours": ("mon", one_of(*WEEKDAYS)),
        },
        _build,
    )
)
