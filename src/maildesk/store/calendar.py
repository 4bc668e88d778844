"""The official schedule: special days (holidays, make-up working days) and the years
it covers.  Read as plain values; a year is replaced whole, with the days it holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, insert, select

from maildesk.calendar.model import DayKind, SpecialDay
from maildesk.store.base import T_CALENDAR_DAYS, T_CALENDAR_YEARS, Tx

d = T_CALENDAR_DAYS.c
y = T_CALENDAR_YEARS.c


@dataclass(frozen=True)
class YearRow:
    year: int
    source: str
    imported_at: datetime


@dataclass(frozen=True)
class Schedule:
    """What the database holds: every special day, and the official years."""

    days: tuple[SpecialDay, ...]
    years: tuple[YearRow, ...]

    @property
    def official_years(self) -> frozenset[int]:
        return frozenset(r.year for r in self.years)


def read(tx: Tx, years: range | None = None) -> Schedule:
    """The schedule, or the part of it in `years` (a range of years)."""
    days = select(d.day, d.kind, d.name).order_by(d.day)
    rows = select(y.year, y.source, y.imported_at).order_by(y.year)
    if years is not None:
        days = days.where(d.day >= date(years.start, 1, 1), d.day < date(years.stop, 1, 1))
        rows = rows.where(y.year >= years.start, y.year < years.stop)
    return Schedule(
        tuple(SpecialDay(r.day, DayKind(r.kind), r.name) for r in tx.c.execute(days)),
        tuple(YearRow(r.year, r.source, r.imported_at) for r in tx.c.execute(rows)),
    )


def official_years(tx: Tx) -> list[YearRow]:
    return [
        YearRow(*r) for r in tx.c.execute(select(y.year, y.source, y.imported_at).order_by(y.year))
    ]


def replace_year(tx: Tx, year: int, days: Iterable[SpecialDay], source: str, now: datetime) -> None:
    """The year's special days become exactly `days`, and the year official."""
    tx.c.execute(
        delete(T_CALENDAR_DAYS).where(d.day >= date(year, 1, 1), d.day < date(year + 1, 1, 1))
    )
    put_days(tx, days, source, now)
    tx.c.execute(delete(T_CALENDAR_YEARS).where(y.year == year))
    tx.c.execute(insert(T_CALENDAR_YEARS).values(year=year, source=source, imported_at=now))


def put_days(tx: Tx, days: Iterable[SpecialDay], source: str, now: datetime) -> None:
    """Add or overwrite single days (a holiday of next year's notice that starts on
    31 December) without touching the rest of their year."""
    rows = [
        {"day": s.day, "kind": s.kind.value, "name": s.name, "source": source, "imported_at": now}
        for s in days
    ]
    if rows:
        tx.c.execute(delete(T_CALENDAR_DAYS).where(d.day.in_([r["day"] for r in rows])))
        tx.c.execute(insert(T_CALENDAR_DAYS), rows)
