"""Hand-built digest figures for the tests of the schedule, the formats and the report
(the SQL that computes them is tested with a known data set elsewhere)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from maildesk.digest.model import (
    ArticleUse,
    Backlog,
    Breach,
    Counts,
    DayCount,
    Durations,
    Figures,
    Period,
    PeriodKind,
    RecurringTerm,
    Satisfaction,
    SelfService,
    Share,
    SlaFigure,
    TicketRef,
    WeekSla,
)

ZONE = "Asia/Shanghai"
DAY = Period(
    PeriodKind.DAY,
    date(2026, 11, 30),
    date(2026, 11, 30),
    datetime(2026, 11, 29, 16, tzinfo=UTC),
    datetime(2026, 11, 30, 16, tzinfo=UTC),
    ZONE,
)
DAY_BEFORE = Period(
    PeriodKind.DAY,
    date(2026, 11, 29),
    date(2026, 11, 29),
    datetime(2026, 11, 28, 16, tzinfo=UTC),
    DAY.start,
    ZONE,
)


def week_figures() -> Figures:
    """A day at a desk of two groups: every part filled."""
    return Figures(
        period=DAY,
        previous=DAY_BEFORE,
        group="",
        counts=Counts(opened=12, resolved=9, closed=4, reopened=1),
        previous_counts=Counts(opened=8, resolved=10, closed=4, reopened=0),
        backlog=Backlog(open=17, median_age_hours=26.5, older_than_week=3),
        previous_backlog=Backlog(open=14, median_age_hours=30.0, older_than_week=2),
        by_category=(
            Share("网络问题", 5, 4, 7),
            Share("硬件故障", 4, 3, 6),
            Share("其他", 3, 2, 4),
        ),
        by_priority=(Share("urgent", 2, 2, 1), Share("medium", 10, 7, 16)),
        by_group=(Share("network", 7, 5, 9), Share("desktop", 5, 4, 8)),
        by_engineer=(Share("wang.gong@example.com", 7, 5, 9), Share("li.lei@example.com", 5, 4, 8)),
        sla=(
            SlaFigure("response", met=10, missed=2),
            SlaFigure("resolution", met=6, missed=1, provisional=1),
        ),
        previous_sla=(SlaFigure("response", met=7, missed=1), SlaFigure("resolution", met=8)),
        breaches=(
            Breach(
                "IT-20261130-0003",
                "共享盘打不开，财务部三楼所有电脑都无法访问 Z 盘的报表文件夹",
                "wang.gong@example.com",
                "resolution",
                datetime(2026, 11, 30, 2, tzinfo=UTC),
                135.0,
            ),
            Breach(
                "IT-20261130-0007",
                "Printer on 2F jams",
                "",
                "response",
                datetime(2026, 11, 30, 6, tzinfo=UTC),
                20.0,
            ),
        ),
        response_time=Durations(12, 38.0, 95.0),
        previous_response_time=Durations(8, 45.0, 120.0),
        resolution_time=Durations(9, 250.0, 610.0),
        previous_resolution_time=Durations(10, 300.0, 700.0),
        satisfaction=Satisfaction(
            surveys_sent=9,
            answers=6,
            distribution=(1, 0, 1, 2, 2),
            reviews_opened=1,
            reviews_open_at_end=1,
            reviews_closed=0,
        ),
        previous_satisfaction=Satisfaction(
            surveys_sent=10, answers=5, distribution=(0, 0, 1, 2, 2)
        ),
        recurring=(
            RecurringTerm(
                "网络问题",
                "VPN",
                4,
                1,
                (
                    TicketRef("IT-20261130-0009", "VPN 连不上"),
                    TicketRef("IT-20261130-0002", "VPN error 809"),
                ),
            ),
        ),
        daily=(DayCount(date(2026, 11, 29), 8, 10), DayCount(date(2026, 11, 30), 12, 9)),
        weekly_sla=(WeekSla(date(2026, 11, 23), 40, 5), WeekSla(date(2026, 11, 30), 16, 3)),
        missing_calendar_years=(2027,),
        self_service=SelfService(2, 9, (ArticleUse("vpn-809", "VPN 错误 809", 5, 2),)),
    )


def empty_figures() -> Figures:
    nothing = week_figures()
    return replace(
        nothing,
        counts=Counts(),
        backlog=Backlog(),
        by_category=(),
        by_priority=(),
        by_group=(),
        by_engineer=(),
        sla=(),
        breaches=(),
        satisfaction=Satisfaction(),
        recurring=(),
        self_service=None,
    )
