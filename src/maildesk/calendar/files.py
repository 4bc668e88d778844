"""Schedules an administrator imports (the daemon has no network): .ics or YAML.

Both give a `Parsed` schedule: the years the file covers and their special days.  A
problem is a ScheduleError naming the file and the line (ICS) or entry (YAML); nothing
is imported from a file with any problem.

ICS: each VEVENT with an all-day DTSTART (and DTEND, exclusive, or one day) is a run of
holidays or of make-up working days, as the public holiday feeds publish them:
SUMMARY "春节 假期 第1天/共8天", "元旦假期", "国庆节 补班", "春节调休上班", "Workday".
A make-up day is told by X-MAILDESK-KIND (holiday | workday) if present, else by
CATEGORIES or SUMMARY containing 补班, 上班, 班 or "workday"; a SUMMARY that says only
调休 (a day off in some feeds, a working day in others) is refused until the event says
which.  An event belongs to the year it ends in: next year's New Year holiday may begin
on 31 December, and that day is added without replacing this year.

YAML (one year per document; several documents may follow each other):

    year: 2027
    holidays:
      - {date: 2027-01-01, name: 元旦}
      - {from: 2027-02-05, to: 2027-02-11, name: 春节}
    workdays:
      - {date: 2027-02-14, name: 春节调休}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from maildesk.calendar.model import DayKind, SpecialDay

MAX_RUN_DAYS = 31  # no holiday or make-up run is longer: a longer one is a typo


class ScheduleError(ValueError):
    """A file that cannot be imported; the message names the line or entry."""


@dataclass
class Parsed:
    years: set[int] = field(default_factory=set)  # replaced whole, marked official
    days: dict[date, SpecialDay] = field(default_factory=dict)

    def add(self, where: str, special: SpecialDay) -> None:
        known = self.days.get(special.day)
        if known is not None and known.kind is not special.kind:
            raise ScheduleError(
                f"{where}: {special.day} is both a {known.kind.value} ({known.name}) "
                f"and a {special.kind.value} ({special.name})"
            )
        self.days.setdefault(special.day, special)

    def by_year(self) -> Mapping[int, list[SpecialDay]]:
        years: dict[int, list[SpecialDay]] = {}
        for day in sorted(self.days):
            years.setdefault(day.year, []).append(self.days[day])
        return years


def read_file(path: Path) -> Parsed:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{path}: cannot read: {exc}") from exc
    if path.suffix.lower() in (".ics", ".ical", ".ifb"):
        return parse_ics(text, path.name)
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse_yaml(text, path.name)
    raise ScheduleError(f"{path}: expected an .ics or .yaml file")


def _run(first: date, last: date, where: str) -> Iterator[date]:
    if last < first:
        raise ScheduleError(f"{where}: ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_RUN_DAYS:
        raise ScheduleError(f"{where}: {first} to {last} is longer than {MAX_RUN_DAYS} days")
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- ICS ---------------------------------------------------------------------------------

_WORKDAY_WORDS = ("补班", "上班", "班", "workday", "working day", "makeup")
_HOLIDAY_WORDS = ("假", "休息", "放假", "holiday", "day off")
_NOISE = re.compile(
    r"第\s*\d+\s*天\s*/?\s*共\s*\d+\s*天|调休上班|调休|补班|上班|放假|假期|休息|假|班|"
    r"\b(workday|working day|holiday|day off)\b",
    re.IGNORECASE,
)


@dataclass
class _Event:
    line: int
    props: dict[str, tuple[dict[str, str], str]] = field(default_factory=dict)


def _unfold(text: str) -> list[tuple[int, str]]:
    """Content lines with their first line number; folded lines joined (RFC 5545)."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        elif raw.strip():
            lines.append((number, raw))
    return lines


def _property(line: str) -> tuple[str, dict[str, str], str]:
    head, _, value = line.partition(":")
    name, *params = head.split(";")
    parameters = dict(p.partition("=")[::2] for p in params)
    return name.strip().upper(), {k.upper(): v for k, v in parameters.items()}, value.strip()


def _events(text: str, where: str) -> Iterator[_Event]:
    event: _Event | None = None
    for number, line in _unfold(text):
        name, params, value = _property(line)
        if name == "BEGIN" and value.upper() == "VEVENT":
            event = _Event(number)
        elif name == "END" and value.upper() == "VEVENT":
            if event is None:
                raise ScheduleError(f"{where}:{number}: END:VEVENT without BEGIN:VEVENT")
            yield event
            event = None
        elif event is not None:
            event.props.setdefault(name, (params, _text_value(value)))
    if event is not None:
        raise ScheduleError(f"{where}:{event.line}: VEVENT not ended (END:VEVENT missing)")


def _text_value(value: str) -> str:
    return value.replace("\\n", " ").replace("\\N", " ").replace("\\,", ",").replace("\\;", ";")


def _ics_date(event: _Event, key: str, where: str) -> date | None:
    if key not in event.props:
        return None
    params, value = event.props[key]
    if params.get("VALUE", "DATE").upper() != "DATE" or not re.fullmatch(r"\d{8}", value):
        raise ScheduleError(
            f"{where}: {key} {value!r} is not an all-day date (expected {key};VALUE=DATE:YYYYMMDD)"
        )
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError as exc:
        raise ScheduleError(f"{where}: {key} {value!r}: {exc}") from exc


def _kind(event: _Event, summary: str, where: str) -> DayKind:
    explicit = event.props.get("X-MAILDESK-KIND", ({}, ""))[1].strip().lower()
    if explicit:
        if explicit not in ("holiday", "workday"):
            raise ScheduleError(
                f"{where}: X-MAILDESK-KIND {explicit!r}: expected holiday or workday"
            )
        return DayKind(explicit)
    categories = event.props.get("CATEGORIES", ({}, ""))[1].lower()
    for text in (categories, summary.lower()):
        if any(word in text for word in _WORKDAY_WORDS):
            return DayKind.WORKDAY
        if any(word in text for word in _HOLIDAY_WORDS):
            return DayKind.HOLIDAY
    if "调休" in summary:
        raise ScheduleError(
            f"{where}: SUMMARY {summary!r} says 调休 but not whether it is a day off or a "
            "working day: add X-MAILDESK-KIND:holiday or X-MAILDESK-KIND:workday"
        )
    return DayKind.HOLIDAY


def _name(summary: str) -> str:
    return " ".join(_NOISE.sub(" ", summary).split()) or summary


def parse_ics(text: str, source: str) -> Parsed:
    if "BEGIN:VCALENDAR" not in text.upper():
        raise ScheduleError(f"{source}: not an iCalendar file (no BEGIN:VCALENDAR)")
    parsed = Parsed()
    for event in _events(text, source):
        where = f"{source}:{event.line}"
        summary = event.props.get("SUMMARY", ({}, ""))[1].strip()
        first = _ics_date(event, "DTSTART", where)
        if first is None:
            raise ScheduleError(f"{where}: VEVENT without DTSTART")
        end = _ics_date(event, "DTEND", where) or first + timedelta(days=1)
        if end <= first:
            raise ScheduleError(f"{where}: DTEND {end} is not after DTSTART {first}")
        kind, name = _kind(event, summary, where), _name(summary)
        last = end - timedelta(days=1)
        parsed.years.add(last.year)
        for day in _run(first, last, where):
            parsed.add(where, SpecialDay(day, kind, name))
    if not parsed.days:
        raise ScheduleError(f"{source}: no all-day events: nothing to import")
    return parsed


# --- YAML --------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML with dates left as text: a bad one is reported with its entry."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, source: str) -> Parsed:
    try:
        documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{source}: not valid YAML: {exc}") from exc
    if not documents:
        raise ScheduleError(f"{source}: empty: expected `year:`, `holidays:` and `workdays:`")
    parsed = Parsed()
    for index, document in enumerate(documents):
        where = source if len(documents) == 1 else f"{source} (document {index + 1})"
        _yaml_year(document, where, parsed)
    return parsed


def _yaml_year(document: Any, where: str, parsed: Parsed) -> None:
    if not isinstance(document, dict):
        raise ScheduleError(f"{where}: expected `year:`, `holidays:` and `workdays:`")
    unknown = sorted(set(document) - {"year", "holidays", "workdays"})
    if unknown:
        raise ScheduleError(
            f"{where}: unknown key {unknown[0]!r} (known: year, holidays, workdays)"
        )
    year = document.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 < year < 2200:
        raise ScheduleError(f"{where}: year: expected a year like 2027, got {year!r}")
    if year in parsed.years:
        raise ScheduleError(f"{where}: year {year} appears twice")
    parsed.years.add(year)
    for key, kind in (("holidays", DayKind.HOLIDAY), ("workdays", DayKind.WORKDAY)):
        entries = document.get(key) or []
        if not isinstance(entries, list):
            raise ScheduleError(f"{where}: {key}: expected a list of entries")
        for i, entry in enumerate(entries):
            _yaml_entry(entry, f"{where}: {key}[{i}]", year, kind, parsed)


def _yaml_entry(entry: Any, where: str, year: int, kind: DayKind, parsed: Parsed) -> None:
    if not isinstance(entry, dict):
        raise ScheduleError(f"{where}: expected {{date: YYYY-MM-DD, name: …}}, got {entry!r}")
    unknown = sorted(set(entry) - {"date", "from", "to", "name"})
    if unknown:
        raise ScheduleError(f"{where}: unknown key {unknown[0]!r} (known: date, from, to, name)")
    if "date" in entry:
        first = last = _yaml_date(entry, "date", where)
    else:
        first, last = _yaml_date(entry, "from", where), _yaml_date(entry, "to", where)
    if last.year != year:
        raise ScheduleError(f"{where}: {last} is not in {year}")
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise ScheduleError(f"{where}: name: expected text, got {name!r}")
    for day in _run(first, last, where):
        parsed.add(where, SpecialDay(day, kind, name.strip()))


def _yaml_date(entry: Mapping[str, Any], key: str, where: str) -> date:
    value = entry.get(key)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ScheduleError(f"{where}: {key}: expected a date YYYY-MM-DD, got {value!r}")
