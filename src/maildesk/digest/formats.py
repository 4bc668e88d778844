"""A period's figures outside mail (`maildesk report`): text for an 80-column terminal
(digest/terminal.py), CSV (one row per figure: section, name, value, previous) and JSON
(every field, dates and times ISO 8601)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from maildesk.digest.model import Durations, Figures, SlaFigure
from maildesk.digest.terminal import as_text

__all__ = ["as_csv", "as_json", "as_text", "csv_rows"]

# --- CSV and JSON ------------------------------------------------------------------------

Row = tuple[str, str, Any, Any]  # section, name, value, previous ("" when none)


def as_csv(f: Figures) -> str:
    """One row per figure: section, name, value, previous (empty when there is none)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("section", "name", "value", "previous"))
    for section, name, value, previous in csv_rows(f):
        writer.writerow((section, name, _cell(value), _cell(previous)))
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def csv_rows(f: Figures) -> Iterator[Row]:
    yield from _period_rows(f)
    for key in ("opened", "resolved", "closed", "reopened"):
        yield ("counts", key, getattr(f.counts, key), getattr(f.previous_counts, key))
    for key in ("open", "median_age_hours", "older_than_week"):
        yield ("backlog", key, getattr(f.backlog, key), getattr(f.previous_backlog, key))
    before = {s.target: s for s in f.previous_sla}
    for sla in f.sla:
        was = before.get(sla.target, SlaFigure(sla.target))
        for key in ("met", "missed", "provisional", "rate"):
            yield (f"sla.{sla.target}", key, getattr(sla, key), getattr(was, key))
    yield from _duration_rows("response_time", f.response_time, f.previous_response_time)
    yield from _duration_rows("resolution_time", f.resolution_time, f.previous_resolution_time)
    yield from _satisfaction_rows(f)
    for key in ("by_category", "by_priority", "by_group", "by_engineer"):
        for share in getattr(f, key):
            for part in ("opened", "resolved", "open_at_end"):
                yield (f"{key}.{part}", share.name, getattr(share, part), "")
    for b in f.breaches:
        yield (f"breaches.{b.target}.late_minutes", b.number, b.late_minutes, "")
    for r in f.recurring:
        yield (f"recurring.{r.category}", r.term, r.count, r.previous)
    for day in f.daily:
        yield ("daily.opened", day.day.isoformat(), day.opened, "")
        yield ("daily.resolved", day.day.isoformat(), day.resolved, "")
    for week in f.weekly_sla:
        yield ("weekly_sla.met", week.week_start.isoformat(), week.met, "")
        yield ("weekly_sla.missed", week.week_start.isoformat(), week.missed, "")
    yield from _self_service_rows(f)
    for year in f.missing_calendar_years:
        yield ("calendar.missing_year", str(year), year, "")


def _period_rows(f: Figures) -> Iterator[Row]:
    p, old = f.period, f.previous
    yield ("period", "kind", p.kind.value, old.kind.value)
    yield ("period", "first_day", p.first_day.isoformat(), old.first_day.isoformat())
    yield ("period", "last_day", p.last_day.isoformat(), old.last_day.isoformat())
    yield ("period", "timezone", p.timezone, old.timezone)
    yield ("period", "group", f.group, "")


def _duration_rows(name: str, d: Durations, old: Durations) -> Iterator[Row]:
    for key in ("count", "median_minutes", "p90_minutes"):
        yield (name, key, getattr(d, key), getattr(old, key))


def _satisfaction_rows(f: Figures) -> Iterator[Row]:
    s, old = f.satisfaction, f.previous_satisfaction
    for key in ("surveys_sent", "answers", "average", "response_rate", "reviews_opened",
                "reviews_open_at_end", "reviews_closed"):  # fmt: skip
        yield ("satisfaction", key, getattr(s, key), getattr(old, key))
    for score in range(1, 6):
        yield ("satisfaction", f"score_{score}", s.distribution[score - 1],
               old.distribution[score - 1])  # fmt: skip


def _self_service_rows(f: Figures) -> Iterator[Row]:
    s = f.self_service
    if s is None:
        return
    for key in ("resolved_self", "resolved_total", "rate"):
        yield ("self_service", key, getattr(s, key), "")
    for a in s.articles:
        yield ("self_service.suggested", a.name, a.suggested, "")
        yield ("self_service.helped", a.name, a.helped, "")


def as_json(f: Figures) -> str:
    """Every field of the figures, dates and times in ISO 8601, and what is derived from
    them: `empty`, each period's `days`, SLA `decided` and `rate` (0..1), satisfaction
    `average` and `response_rate`, the self-service `rate` (null when undefined)."""
    data = asdict(f)
    data["empty"] = f.empty
    for key in ("period", "previous"):
        data[key]["days"] = getattr(f, key).days
    for key in ("sla", "previous_sla"):
        for row, sla in zip(data[key], getattr(f, key), strict=True):
            row.update(decided=sla.decided, rate=sla.rate)
    for key in ("satisfaction", "previous_satisfaction"):
        answers = getattr(f, key)
        data[key].update(average=answers.average, response_rate=answers.response_rate)
    if f.self_service is not None:
        data["self_service"]["rate"] = f.self_service.rate
    return json.dumps(data, ensure_ascii=False, indent=2, default=_iso) + "\n"


def _iso(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
