"""Hand-built digest figures for the rendering tests: a realistic week, a hostile one
(markup, CRLF, 10,000-character subjects, huge counts), and an empty one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

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

MONDAY = date(2026, 11, 23)


def week(first: date = MONDAY) -> Period:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=8)
    return Period(
        PeriodKind.WEEK,
        first,
        first + timedelta(days=6),
        start,
        start + timedelta(days=7),
        "Asia/Shanghai",
    )


def realistic(group: str = "", breaches: int = 3) -> Figures:
    days = tuple(
        DayCount(MONDAY + timedelta(i), o, r)
        for i, (o, r) in enumerate(
            [(31, 22), (27, 30), (24, 26), (29, 25), (35, 33), (6, 4), (3, 5)]
        )
    )
    late = [
        Breach(
            f"IT-20261124-{i:04d}",
            f"打印机卡纸 {i}",
            "wang.gong@example.com",
            "resolution",
            datetime(2026, 11, 24, 2, tzinfo=UTC),
            600.0 - i,
        )
        for i in range(1, breaches + 1)
    ]
    return Figures(
        period=week(),
        previous=week(MONDAY - timedelta(days=7)),
        group=group,
        counts=Counts(opened=155, resolved=145, closed=120, reopened=4),
        previous_counts=Counts(opened=140, resolved=150, closed=131, reopened=4),
        backlog=Backlog(open=62, median_age_hours=52.5, older_than_week=9),
        previous_backlog=Backlog(open=52, median_age_hours=40.0, older_than_week=11),
        by_category=(
            Share("硬件故障", 48, 44, 20),
            Share("网络问题", 41, 40, 13),
            Share("账号权限", 37, 36, 9),
            Share("", 2, 1, 1),
        ),
        by_priority=(
            Share("urgent", 9, 9, 1),
            Share("high", 30, 28, 10),
            Share("medium", 96, 90, 40),
            Share("low", 20, 18, 11),
        ),
        by_group=(Share("network", 70, 66, 25), Share("desktop", 85, 79, 37)),
        by_engineer=(
            Share("wang.gong@example.com", 52, 50, 19),
            Share("li.lei@example.com", 47, 44, 21),
            Share("", 5, 0, 5),
        ),
        sla=(SlaFigure("response", 140, 8), SlaFigure("resolution", 120, 12, provisional=3)),
        previous_sla=(SlaFigure("response", 130, 10), SlaFigure("resolution", 125, 9)),
        breaches=tuple(late),
        response_time=Durations(148, 38.0, 175.0),
        previous_response_time=Durations(140, 45.0, 160.0),
        resolution_time=Durations(145, 410.0, 1900.0),
        previous_resolution_time=Durations(150, 380.0, 2100.0),
        satisfaction=Satisfaction(90, 41, (2, 1, 4, 12, 22), 3, 2, 1),
        previous_satisfaction=Satisfaction(80, 30, (1, 2, 3, 10, 14), 1, 1, 1),
        recurring=(
            RecurringTerm(
                "硬件故障",
                "打印机",
                14,
                6,
                (
                    TicketRef("IT-20261127-0003", "三楼打印机卡纸"),
                    TicketRef("IT-20261125-0011", "打印机无法连接"),
                ),
            ),
            RecurringTerm("网络问题", "VPN", 9, 9, (TicketRef("IT-20261126-0002", "VPN 断线"),)),
        ),
        daily=days,
        weekly_sla=tuple(
            WeekSla(MONDAY - timedelta(weeks=7 - i), 230 + i, 9 + i % 3) for i in range(8)
        ),
        missing_calendar_years=(2027,),
        self_service=SelfService(12, 145, (ArticleUse("vpn", "VPN 重新连接", 30, 8),)),
    )


SCRIPT = '<script>alert(1)</script><img src="http://evil.test/t.png">'
CRLF_NAME = "<b>张伟</b>\r\nBcc: y@evil.test"


def hostile(subject: str = SCRIPT + "报表" * 5000, name: str = CRLF_NAME) -> Figures:
    """Markup and line breaks in every name a person wrote, huge counts everywhere."""
    base = realistic(group=name, breaches=25)
    huge = 10**13
    refs = (TicketRef("IT-1", subject), TicketRef(name, subject))
    return replace(
        base,
        counts=Counts(huge, huge, huge, huge),
        backlog=Backlog(huge, 10.0**9, huge),
        by_category=(Share(subject, huge, huge, huge),),
        by_group=(Share(name, huge, 0, 0),),
        by_engineer=(Share(name, huge, 1, 2),),
        breaches=tuple(
            replace(b, subject=subject, assignee=name, late_minutes=1e12) for b in base.breaches
        ),
        recurring=(RecurringTerm(name, subject, huge, 0, refs),),
        daily=tuple(replace(d, opened=huge * (i + 1)) for i, d in enumerate(base.daily)),
        weekly_sla=tuple(replace(w, met=huge, missed=huge) for w in base.weekly_sla),
        self_service=SelfService(1, huge, (ArticleUse(name, subject, huge, huge),)),
    )


def zero() -> Figures:
    """Nothing at all: no ticket, no survey, zero in every chart."""
    base = realistic()
    return replace(
        base,
        counts=Counts(),
        previous_counts=Counts(),
        backlog=Backlog(),
        previous_backlog=Backlog(),
        by_category=(),
        by_priority=(),
        by_group=(),
        by_engineer=(),
        sla=(),
        previous_sla=(),
        breaches=(),
        response_time=Durations(),
        previous_response_time=Durations(),
        resolution_time=Durations(),
        previous_resolution_time=Durations(),
        satisfaction=Satisfaction(),
        previous_satisfaction=Satisfaction(),
        recurring=(),
        daily=tuple(DayCount(d.day, 0, 0) for d in base.daily),
        weekly_sla=tuple(WeekSla(w.week_start, 0, 0) for w in base.weekly_sla),
        missing_calendar_years=(),
        self_service=None,
    )
