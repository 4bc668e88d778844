"""`maildesk calendar import FILE` and `maildesk calendar show [YEAR]`: the business
calendar's holidays and make-up working days (see maildesk.calendar)."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from maildesk.calendar import usecases
from maildesk.calendar.business import year_hours
from maildesk.calendar.files import ScheduleError, read_file
from maildesk.calendar.model import WEEKDAYS, Calendar, SpecialDay
from maildesk.calendar.settings import CALENDAR_SECTION, CalendarSettings
from maildesk.cli import EX_FAIL, EX_OK, CommandError, load_config, open_store
from maildesk.clock import SystemClock
from maildesk.sla import usecases as sla
from maildesk.store import calendar as rows
from maildesk.survey.usecases import recompute_reviews
from maildesk.vocab import local_time

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def add_calendar(sub: Any) -> None:
    cal = sub.add_parser("calendar", help="business calendar: holidays and make-up workdays")
    csub = cal.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    imp = csub.add_parser(
        "import",
        help="load an official schedule from an .ics or .yaml file",
        description="Replace the years in FILE with its holidays and make-up working days "
        "(调休上班) and mark them official. Nothing is imported from a file with a problem.",
    )
    imp.add_argument("file", metavar="FILE")
    imp.set_defaults(func=cmd_calendar_import)
    show = csub.add_parser("show", help="working hours, holidays and make-up days of a year")
    show.add_argument("year", nargs="?", type=int, help="default: this year")
    show.add_argument("--json", action="store_true", help="JSON for scripts")
    show.set_defaults(func=cmd_calendar_show)


def cmd_calendar_import(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    path = Path(args.file)
    try:
        parsed = read_file(path)
    except ScheduleError as exc:
        raise CommandError(str(exc)) from exc
    now = SystemClock().now()
    with open_store(cfg).transaction() as tx:
        usecases.ensure_seeded(tx, now)
        change = usecases.import_schedule(tx, parsed, path.name, now)
        if change.changed:  # deadlines on business time follow the calendar
            recompute_reviews(tx, cfg, now)
        moved = sla.recompute(tx, cfg, now) if change.changed else 0
    for year in change.years:
        was = "official now (was provisional)" if year in change.newly_official else "replaced"
        print(f"{year}: {was}, from {change.source}")
    for day in change.days:
        print(f"  {day.text()}")
    if not change.days:
        print("no day changed")
    if moved:
        print(f"due times recomputed on {moved} open ticket(s)")
    return EX_OK


def cmd_calendar_show(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    settings = cfg.section(CALENDAR_SECTION)
    now = SystemClock().now()
    year = args.year or now.astimezone(settings.zone).year
    if not 1900 < year < 2200:
        raise CommandError(f"{year}: expected a year like 2027", EX_FAIL)
    with open_store(cfg).transaction() as tx:
        usecases.ensure_seeded(tx, now)
        calendar = usecases.calendar_in(tx, settings)
        source = {r.year: r for r in rows.official_years(tx)}.get(year)
    shown = _shown(calendar, settings, year, source)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        _print(shown)
    return EX_OK


def _shown(
    calendar: Calendar, settings: CalendarSettings, year: int, source: rows.YearRow | None
) -> dict[str, Any]:
    special = calendar.special_days(year)
    return {
        "year": year,
        "timezone": settings.timezone,
        "official": source is not None,
        "source": source.source if source else "",
        "imported_at": local_time(source.imported_at, settings.timezone) if source else "",
        "hours": {name: [s.text() for s in calendar.week[i]] for i, name in enumerate(WEEKDAYS)},
        "makeup_day_hours": settings.makeup_day_hours,
        "business_hours": round(year_hours(calendar, year), 2),
        "holidays": _runs([s for s in special if s.kind.value == "holiday"]),
        "workdays": [_day(s) for s in special if s.kind.value == "workday"],
    }


def _day(special: SpecialDay) -> dict[str, str]:
    return {"date": special.day.isoformat(), "weekday": DAY_NAMES[special.day.weekday()],
            "name": special.name}  # fmt: skip


def _runs(days: list[SpecialDay]) -> list[dict[str, Any]]:
    """Consecutive holidays of one name as one run."""
    runs: list[dict[str, Any]] = []
    for s in days:
        last = runs[-1] if runs else None
        follows = last and date.fromisoformat(last["to"]) + timedelta(days=1) == s.day
        if last and follows and last["name"] == s.name:
            last["to"], last["days"] = s.day.isoformat(), last["days"] + 1
        else:
            runs.append({"from": s.day.isoformat(), "to": s.day.isoformat(), "days": 1,
                         "name": s.name})  # fmt: skip
    return runs


def _print(shown: dict[str, Any]) -> None:
    year, zone = shown["year"], shown["timezone"]
    offset = local_time(datetime(year, 7, 1, 12), zone).rsplit(" ", 1)[-1]
    if shown["official"]:
        status = f"official: {shown['source']}, imported {shown['imported_at']}"
    else:
        status = (
            f"provisional (no official schedule for {year}): deadlines count Monday to Friday; "
            "import the State Council's schedule with `maildesk calendar import FILE`"
        )
    print(f"Business calendar {year}, {zone} {offset}: {status}")
    print("Working hours:")
    for i, name in enumerate(WEEKDAYS):
        print(f"  {DAY_NAMES[i]}  {', '.join(shown['hours'][name]) or 'closed'}")
    makeup = DAY_NAMES[WEEKDAYS.index(shown["makeup_day_hours"])]
    print(f"  make-up working days (调休上班) have {makeup}'s hours")
    print(f"  {shown['business_hours']:g} business hours in {year}")
    print("Holidays:" if shown["holidays"] else "Holidays: none")
    for run in shown["holidays"]:
        span = run["from"] if run["days"] == 1 else f"{run['from']} to {run['to']}"
        print(f"  {span}  {run['name']} ({run['days']} day{'s' if run['days'] > 1 else ''})")
    print("Make-up working days:" if shown["workdays"] else "Make-up working days: none")
    for day in shown["workdays"]:
        print(f"  {day['date']} {day['weekday']}  {day['name']}")
