"""The figures of one period, for the whole desk or one group: `figures(...)`.

The counting is SQL in store/digest.py (its docstring says how the history is read);
here the rows become the contract's values (digest/model.py): breakdowns folded per
category, priority, group and engineer, durations in business minutes, breaches with
their lateness.  One transaction, so every figure comes from the same moment's data
(SQLite's snapshot; on PostgreSQL a REPEATABLE READ transaction).

Durations count business minutes of the ticket's SLA calendar as sla/usecases picks
it ("24x7" for a priority configured so, else the business calendar); a breach's
lateness counts in the calendar its target's due time was computed in.  Recurring
terms come from the subjects and descriptions of the tickets opened in the period and
the one before (digest/recurring.py), each marked when a knowledge-base article
answers it; self-service from the knowledge base's credits (store/kb.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from maildesk.calendar.business import business_minutes_between
from maildesk.calendar.changes import missing_years
from maildesk.calendar.settings import CALENDAR_SECTION
from maildesk.config import Config
from maildesk.digest import period as periods
from maildesk.digest import recurring
from maildesk.digest.model import (
    Backlog,
    Breach,
    DayCount,
    Durations,
    Figures,
    Period,
    RecurringTerm,
    Satisfaction,
    SelfService,
    Share,
    SlaFigure,
    WeekSla,
)
from maildesk.kb import steps as kb_steps
from maildesk.kb.usecases import open_kb
from maildesk.sla.settings import SLA_SECTION
from maildesk.sla.usecases import Calendars
from maildesk.store import Store, Tx, ticket_texts
from maildesk.store import calendar as calendar_rows
from maildesk.store import digest as rows
from maildesk.store import kb as kb_rows

P90 = 0.9


def figures(store: Store, cfg: Config, period: Period, group: str, now: datetime) -> Figures:
    """Everything a digest or report of `period` says (group "" = the whole desk)."""
    open_kb(cfg).refresh()  # the folder is read here, before the transaction
    with store.transaction() as tx:
        if tx.c.dialect.name == "postgresql":  # every query reads the same snapshot
            tx.c.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _figures(tx, cfg, period, group, now)


def _with_articles(cfg: Config, terms: tuple[RecurringTerm, ...]) -> tuple[RecurringTerm, ...]:
    """Each recurring problem marked when an article answers it (its term and example
    subjects, asked as a request would be); the others are worth an article."""
    kb = open_kb(cfg)
    return tuple(replace(t, has_article=bool(kb.suggest(_asked(t), 1))) for t in terms)


def _asked(term: RecurringTerm) -> str:
    return "\n".join([term.term, *(e.subject for e in term.examples)])


def _self_service(tx: Tx, cfg: Config, period: Period, group: str) -> SelfService:
    """Issue 13: articles suggested and credited, tickets resolved self-served and all."""
    use = kb_rows.article_use(tx, period.start, period.end, group)
    return kb_steps.titled(use, open_kb(cfg))


def _figures(tx: Tx, cfg: Config, period: Period, group: str, now: datetime) -> Figures:
    before = periods.previous(period)
    cals = Calendars(tx, cfg, now)
    both = (before.start, period.start, period.end)
    previous_counts, counts = rows.counts(tx, both, group)
    previous_sla, sla = rows.sla(tx, both, group, now)
    backlog_rows = rows.backlog(tx, period.end, group)
    shares = _shares(
        rows.opened_by(tx, period.start, period.end, group),
        rows.resolved_by(tx, period.start, period.end, group),
        backlog_rows.by,
    )
    return Figures(
        period=period,
        previous=before,
        group=group,
        counts=counts,
        previous_counts=previous_counts,
        backlog=_backlog(backlog_rows),
        previous_backlog=_backlog(rows.backlog(tx, before.end, group)),
        by_category=shares[0],
        by_priority=shares[1],
        by_group=shares[2],
        by_engineer=shares[3],
        sla=_ordered(sla),
        previous_sla=_ordered(previous_sla),
        breaches=_breaches(tx, cals, period, group, now),
        response_time=_durations(cfg, cals, rows.response_pairs(tx, period.start, period.end,
                                                                group)),
        previous_response_time=_durations(cfg, cals, rows.response_pairs(tx, before.start,
                                                                         before.end, group)),
        resolution_time=_durations(cfg, cals, rows.resolution_pairs(tx, period.start,
                                                                    period.end, group)),
        previous_resolution_time=_durations(cfg, cals, rows.resolution_pairs(
            tx, before.start, before.end, group)),
        satisfaction=_satisfaction(rows.satisfaction(tx, period.start, period.end, group)),
        previous_satisfaction=_satisfaction(rows.satisfaction(tx, before.start, before.end,
                                                              group)),
        recurring=_with_articles(cfg, recurring.find(
            ticket_texts.opened(tx, period.start, period.end, group),
            ticket_texts.opened(tx, before.start, before.end, group))),
        daily=_daily(tx, period, group),
        weekly_sla=_weekly(tx, period, group, now),
        missing_calendar_years=_missing_years(tx, cfg, now),
        self_service=_self_service(tx, cfg, period, group),
    )  # fmt: skip


def _backlog(found: rows.BacklogRows) -> Backlog:
    return Backlog(sum(found.by.values()), found.median_age_hours, found.older_than_week)


def _shares(opened: Mapping[rows.Dims, int], resolved: Mapping[rows.Dims, int],
            backlog: Mapping[rows.Dims, int]) -> list[tuple[Share, ...]]:  # fmt: skip
    """One breakdown per dimension (category, priority, group, engineer): most opened
    first, then most resolved, most open at the end, then by name."""
    out = []
    for i in range(4):
        tally: dict[str, list[int]] = {}
        for column, found in enumerate((opened, resolved, backlog)):
            for dims, n in found.items():
                tally.setdefault(dims[i], [0, 0, 0])[column] += n
        shares = (Share(name, *t) for name, t in tally.items())
        out.append(tuple(sorted(shares, key=_share_order)))
    return out


def _share_order(s: Share) -> tuple[int, int, int, str]:
    return (-s.opened, -s.resolved, -s.open_at_end, s.name)


def _ordered(found: Mapping[str, SlaFigure]) -> tuple[SlaFigure, ...]:
    return tuple(found[t] for t in rows.TARGETS)


def _breaches(tx: Tx, cals: Calendars, period: Period, group: str,
              now: datetime) -> tuple[Breach, ...]:  # fmt: skip
    """Missed targets, most late first: business minutes from due to met, or to the
    period's end (to now, while the period runs) when still not met."""
    until = min(period.end, now)
    found = [
        Breach(r.number, r.subject, r.assignee, r.target, r.due_at,
               business_minutes_between(cals.get(r.calendar), r.due_at, r.met_at or until))
        for r in rows.breaches(tx, period.start, period.end, group, now)
    ]  # fmt: skip
    return tuple(sorted(found, key=lambda b: (-b.late_minutes, b.due_at, b.number, b.target)))


def _durations(cfg: Config, cals: Calendars, pairs: Iterable[rows.Pair]) -> Durations:
    settings = cfg.section(SLA_SECTION)
    minutes = sorted(
        business_minutes_between(
            cals.get("24x7" if settings.around_the_clock(priority) else "business"), a, b
        )
        for a, b, priority in pairs
    )
    if not minutes:
        return Durations()
    return Durations(len(minutes), median(minutes), nearest_rank(minutes, P90))


def median(ordered: list[float]) -> float:
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def nearest_rank(ordered: list[float], share: float) -> float:
    """The smallest value with at least `share` of the values at or below it."""
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _satisfaction(found: rows.SatisfactionRows) -> Satisfaction:
    scores = found.scores
    return Satisfaction(
        surveys_sent=found.surveys_sent,
        answers=sum(scores.values()),
        distribution=(scores.get(1, 0), scores.get(2, 0), scores.get(3, 0), scores.get(4, 0),
                      scores.get(5, 0)),
        reviews_opened=found.reviews_opened,
        reviews_open_at_end=found.reviews_open_at_end,
        reviews_closed=found.reviews_closed,
    )  # fmt: skip


def _daily(tx: Tx, period: Period, group: str) -> tuple[DayCount, ...]:
    days = periods.daily_days(period)
    bounds = [periods.midnight(d, period.timezone) for d in days] + [period.end]
    return tuple(
        DayCount(day, c.opened, c.resolved)
        for day, c in zip(days, rows.counts(tx, bounds, group), strict=True)
    )


def _weekly(tx: Tx, period: Period, group: str, now: datetime) -> tuple[WeekSla, ...]:
    """The 8 weeks ending with the period's last day; the last one up to its end."""
    mondays = periods.sla_weeks(period)
    bounds = [periods.midnight(m, period.timezone) for m in mondays] + [period.end]
    return tuple(
        WeekSla(monday, sum(f.met for f in week.values()), sum(f.missed for f in week.values()))
        for monday, week in zip(mondays, rows.sla(tx, bounds, group, now), strict=True)
    )


def _missing_years(tx: Tx, cfg: Config, now: datetime) -> tuple[int, ...]:
    """This year's official schedule, and from November next year's, when the
    database has not got it (the daemon seeds what chinese-calendar knows at start)."""
    official = {r.year for r in calendar_rows.official_years(tx)}
    return tuple(missing_years(now, official, cfg.section(CALENDAR_SECTION).zone))
