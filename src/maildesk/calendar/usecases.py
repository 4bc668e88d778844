"""Use cases on the calendar in the database: load it (seeding it on first use) and
import a schedule file.  IO through the store; the decisions are in the pure modules.

Seeding: `ensure_seeded` adds each year the chinese-calendar library knows officially
and the database has no official row for (never overwriting an imported year), so a
newer library brings its new year in at the next start.  `load_calendar` calls it.

When the calendar changes: `import_schedule` returns a CalendarChange: the years
replaced and the date ranges whose special days changed.  Every open ticket whose
deadline window (from its start to its due time, in the new or the old calendar)
touches one of those ranges, or whose due time lies in a replaced year, must have its
deadlines recomputed with the new Calendar: `maildesk calendar import` calls
`sla.usecases.recompute` in the same transaction when the change is not empty.
Seeding changes the calendar too: when `ensure_seeded` returns years (a newer
chinese-calendar), `sla.usecases.business_hours` (the daemon, at start and each timer
tick) recomputes the same way.  A Calendar caches its year tables: keep one per load
and build a new one after a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from maildesk.calendar import changes, seed
from maildesk.calendar.files import Parsed
from maildesk.calendar.model import Calendar
from maildesk.calendar.settings import CalendarSettings
from maildesk.store import Store, Tx
from maildesk.store import calendar as rows


@dataclass(frozen=True)
class CalendarChange:
    source: str
    years: tuple[int, ...]  # replaced whole and now official
    newly_official: tuple[int, ...]  # of those, the ones that were provisional before
    days: tuple[changes.DayChange, ...]
    ranges: tuple[tuple[date, date], ...]  # the changed dates as runs

    @property
    def changed(self) -> bool:
        return bool(self.days or self.newly_official)


def ensure_seeded(tx: Tx, now: datetime) -> list[int]:
    """Seed the years chinese-calendar knows and the database lacks; returns them."""
    have = {r.year for r in rows.official_years(tx)}
    missing = sorted(seed.official_years() - have)
    if not missing:
        return []
    known = seed.schedule()
    try:
        with tx.savepoint():
            for year in missing:
                rows.replace_year(tx, year, known[year], seed.SOURCE, now)
    except IntegrityError:  # another daemon seeded them in the meantime
        return []
    return missing


def load_calendar(store: Store, settings: CalendarSettings, now: datetime) -> Calendar:
    """The configured hours with the database's schedule (seeded on first use)."""
    with store.transaction() as tx:
        ensure_seeded(tx, now)
        return calendar_in(tx, settings)


def calendar_in(tx: Tx, settings: CalendarSettings) -> Calendar:
    schedule = rows.read(tx)
    return settings.calendar(schedule.days, schedule.official_years)


def import_schedule(tx: Tx, parsed: Parsed, source: str, now: datetime) -> CalendarChange:
    """Replace the file's years (official from now on, source = the file's name); days
    of a run that begins in an earlier year are added to it without replacing it."""
    before = rows.read(tx)
    old = {s.day: s for s in before.days}
    new_days = parsed.by_year()
    for year in sorted(parsed.years):
        rows.replace_year(tx, year, new_days.get(year, []), source, now)
    carried = [s for year, days in new_days.items() if year not in parsed.years for s in days]
    rows.put_days(tx, carried, source, now)
    new = {day: s for day, s in old.items() if day.year not in parsed.years}
    new.update(parsed.days)
    found = changes.diff(old, new)
    return CalendarChange(
        source,
        tuple(sorted(parsed.years)),
        tuple(sorted(parsed.years - before.official_years)),
        tuple(found),
        tuple(changes.changed_ranges(c.day for c in found)),
    )
