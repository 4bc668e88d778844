"""The figures of a digest against a known data set, every one computed by hand.

Twelve tickets around the weeks of 16 and 23 November 2026, with their status
history, SLA targets, survey mails and answers, written straight into the tables (on
SQLite and PostgreSQL, built once each).  The same instants fall on different local
days for a desk in Asia/Shanghai (UTC+8) and one in America/New_York (UTC-5), so the
two desks see different weeks:

    Shanghai  previous [11-15 16:00Z, 11-22 16:00Z)  week [11-22 16:00Z, 11-29 16:00Z)
    New York  previous [11-16 05:00Z, 11-23 05:00Z)  week [11-23 05:00Z, 11-30 05:00Z)

Business minutes are those of the default calendar (Asia/Shanghai, Monday to Friday
09:00-12:00 and 13:00-18:00 = 01:00-04:00Z and 05:00-10:00Z), 2026 official without
special days; urgent tickets count 24×7 (`[sla] calendar`).  The comments beside the
expected values say how each was counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from maildesk import config as config_mod
from maildesk import db
from maildesk.digest import period as periods
from maildesk.digest.collect import figures
from maildesk.digest.model import (
    Backlog,
    Breach,
    Counts,
    DayCount,
    Durations,
    Figures,
    Period,
    PeriodKind,
    Satisfaction,
    SelfService,
    Share,
    SlaFigure,
    WeekSla,
)
from maildesk.store import Store
from maildesk.store import calendar as calendar_rows
from maildesk.store.base import T_EVENTS, T_OUTBOX, T_SLA, T_SURVEY_ANSWERS, T_TICKETS

from .conftest import ConfigFactory
from .servers.postgres import PostgresCluster

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
SH, NY = "Asia/Shanghai", "America/New_York"
LI, HAN, ZHANG = "li.lei@example.com", "han.mei@example.com", "zhang.san@example.com"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# number: created, status now, priority, category, group, assignee, first response
TICKETS: dict[int, tuple[Any, ...]] = {
    1: (at(11, 22, 15, 30), "resolved", "high", "网络问题", "network", LI, at(11, 23, 2)),
    2: (at(11, 22, 16, 30), "closed", "medium", "硬件故障", "desktop", HAN, at(11, 23, 5, 30)),
    3: (at(11, 23, 4, 30), "new", "urgent", "账号权限", "accounts", "", None),
    4: (at(11, 23, 5, 30), "resolved", "low", "软件安装", "desktop", HAN, at(11, 23, 6)),
    5: (at(11, 20, 2), "assigned", "medium", "网络问题", "network", LI, at(11, 20, 3)),
    6: (at(11, 25, 2), "resolved", "high", "硬件故障", "desktop", HAN, at(11, 25, 3)),
    7: (at(11, 10, 2), "waiting_on_user", "medium", "其他", "network", LI, at(11, 10, 3)),
    8: (at(11, 16, 2), "closed", "low", "账号权限", "accounts", ZHANG, at(11, 16, 3)),
    9: (at(11, 19, 2), "rejected", "medium", "邮件问题", "desktop", HAN, None),
    10: (at(11, 29, 15, 30), "new", "urgent", "打印机", "desktop", "", None),
    11: (at(11, 29, 16, 30), "new", "high", "打印机", "network", LI, None),
    12: (at(11, 30, 5, 30), "new", "low", "打印机", "network", LI, None),
}
# number: (kind, field, old, new, at), in the order they happened
EVENTS: dict[int, list[tuple[str, str, str, str, datetime]]] = {
    1: [("changed", "priority", "medium", "high", at(11, 23, 2)),  # not a status change
        ("changed", "status", "assigned", "in_progress", at(11, 23, 2)),
        ("public_reply", "", "", "", at(11, 23, 2)),
        ("changed", "status", "in_progress", "resolved", at(11, 24, 3))],
    2: [("changed", "status", "assigned", "in_progress", at(11, 23, 5, 30)),
        ("changed", "status", "in_progress", "resolved", at(11, 25, 8)),
        ("changed", "status", "resolved", "closed", at(11, 29, 16, 30))],
    4: [("changed", "status", "assigned", "in_progress", at(11, 23, 6)),
        ("changed", "status", "in_progress", "resolved", at(11, 24, 2)),
        ("reopened", "status", "resolved", "assigned", at(11, 26, 2)),  # the user replied
        ("changed", "status", "assigned", "resolved", at(11, 27, 2))],
    5: [("changed", "status", "assigned", "in_progress", at(11, 20, 3)),
        ("changed", "status", "in_progress", "resolved", at(11, 27, 8)),
        ("changed", "status", "resolved", "assigned", at(12, 1, 2))],  # #reopen, later
    6: [("changed", "status", "assigned", "in_progress", at(11, 25, 3)),
        ("changed", "status", "in_progress", "resolved", at(11, 29, 16, 30))],
    7: [("changed", "status", "assigned", "waiting_on_user", at(11, 10, 3))],
    8: [("changed", "status", "assigned", "in_progress", at(11, 16, 3)),
        ("changed", "status", "in_progress", "closed", at(11, 18, 2)),
        ("changed", "status", "closed", "assigned", at(11, 23, 6)),  # an engineer's #reopen
        ("changed", "status", "assigned", "closed", at(11, 24, 6))],
    9: [("changed", "status", "new", "rejected", at(11, 24, 2))],
}  # fmt: skip
# (number, target, calendar, due, met, provisional)
TARGETS = [
    (1, "response", "business", at(11, 23, 3), at(11, 23, 2), False),
    (1, "resolution", "business", at(11, 25, 3), at(11, 24, 3), True),
    (1, "update", "business", at(11, 23, 10), None, False),  # not in the digest
    (2, "response", "business", at(11, 23, 3), at(11, 23, 5, 30), False),
    (2, "resolution", "business", None, at(11, 25, 8), False),  # paused when met
    (3, "response", "business", at(11, 23, 5, 30), None, True),
    (3, "resolution", "business", at(11, 30, 6), None, False),
    (4, "response", "business", at(11, 23, 9), at(11, 23, 6), False),
    (4, "resolution", "business", at(11, 24, 6), at(11, 27, 2), False),
    (5, "response", "business", at(11, 20, 6), at(11, 20, 3), False),
    (5, "resolution", "business", at(12, 3, 2), None, False),  # reopened, due later
    (6, "response", "business", at(11, 25, 4), at(11, 25, 3), False),
    (6, "resolution", "business", at(11, 27, 2), at(11, 29, 16, 30), False),
    (7, "response", "business", at(11, 10, 6), at(11, 10, 3), False),
    (7, "resolution", "business", None, None, False),  # waiting on the user
    (8, "response", "business", at(11, 16, 9), at(11, 16, 3), False),
    (8, "resolution", "business", at(11, 17, 2), at(11, 24, 6), False),
    (9, "response", "business", None, None, False),  # rejected before an answer
    (10, "response", "24x7", at(11, 29, 16, 30), None, False),
    (12, "response", "business", at(11, 30, 9), None, False),
]
# (number, kind, created)
OUTBOX = [(1, "survey", at(11, 24, 4)), (2, "survey", at(11, 25, 9)), (4, "survey", at(11, 24, 3)),
          (6, "survey", at(11, 29, 16, 20)), (8, "survey", at(11, 18, 3)),
          (1, "ack", at(11, 24, 5))]  # fmt: skip
# (number, score, answered, replaced, review, review closed)
ANSWERS = [
    (1, 5, at(11, 24, 6), False, "", None),
    (2, 2, at(11, 25, 10), True, "closed", at(11, 27, 3)),
    (2, 4, at(11, 26, 10), False, "", None),
    (4, 2, at(11, 27, 3), False, "open", None),
    (6, 3, at(11, 29, 17), False, "", None),
    (8, 1, at(11, 18, 4), False, "open", None),
]


def number(n: int) -> str:
    return f"IT-{n:04d}"


def fill(store: Store) -> None:
    tickets, events, targets, outbox, answers = [], [], [], [], []
    for n, (created, status, priority, category, group, assignee, responded) in TICKETS.items():
        tickets.append({
            "id": n, "number": number(n), "subject": f"subject {n}", "description": "",
            "requester_name": "", "requester_email": "user@example.com", "department": "",
            "employee_id": "", "status": status, "priority": priority, "category": category,
            "type": "incident", "assignee": assignee, "group_name": group,
            "created_at": created, "updated_at": created, "first_response_at": responded,
            "resolved_at": None, "closed_at": None, "linked_ticket_id": None})  # fmt: skip
        events.append(_event(n, "created", "", "", "", created))
        events.extend(_event(n, *e) for e in EVENTS.get(n, []))
    for n, target, calendar, due, met, provisional in TARGETS:
        targets.append({"ticket_id": n, "target": target, "calendar": calendar, "minutes": 60,
                        "started_at": TICKETS[n][0], "paused_minutes": 0.0,
                        "paused_since": None if due else TICKETS[n][0], "due_at": due,
                        "met_at": met, "provisional": provisional})  # fmt: skip
    for i, (n, kind, created) in enumerate(OUTBOX):
        outbox.append({
            "ticket_id": n, "inbound_id": None, "kind": kind, "mail_from": "it@example.com",
            "recipients": "user@example.com", "to_address": "user@example.com", "subject": "",
            "message_id": f"<m{i}@example.com>", "raw": b"", "status": "sent", "attempts": 1,
            "next_attempt_at": created, "claimed_until": None, "claimed_by": "",
            "last_error": "", "created_at": created, "sent_at": created, "lane": "bulk",
            "to_domain": "example.com", "held_reason": ""})  # fmt: skip
    for n, score, answered, replaced, review, closed in ANSWERS:
        answers.append({
            "ticket_id": n, "score": score, "comment": "", "via": "link",
            "sender": "user@example.com", "answered_at": answered, "inbound_id": None,
            "replaced": replaced, "review": review, "review_due_at": None,
            "review_closed_at": closed, "review_closed_by": "", "review_note": ""})  # fmt: skip
    with store.transaction() as tx:
        for table, rows in ((T_TICKETS, tickets), (T_EVENTS, events), (T_SLA, targets),
                            (T_OUTBOX, outbox), (T_SURVEY_ANSWERS, answers)):  # fmt: skip
            tx.c.execute(insert(table), rows)
        calendar_rows.replace_year(tx, 2026, [], "test", NOW)


def _event(n: int, kind: str, field: str, old: str, new: str, when: datetime) -> dict[str, Any]:
    return {"ticket_id": n, "at": when, "actor": "x@example.com", "kind": kind, "field": field,
            "old_value": old, "new_value": new, "text": "", "inbound_id": None}  # fmt: skip


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def data_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The data set, built once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('digest') / 'maildesk.db'}"
        db.upgrade(db.make_engine(url))
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        name = f"d_{uuid.uuid4().hex[:12]}"
        cluster.create_database(name, template="template_maildesk")
        url = cluster.url(name)
    engine = db.make_engine(url)
    fill(Store(engine))
    engine.dispose()
    yield url
    if request.param == "postgresql":
        cluster.drop_database(name)


def run(url: str, folder: Any, timezone: str, group: str = "") -> Figures:
    extra = f'\n[tickets]\ntimezone = "{timezone}"\n\n[sla]\ncalendar = {{ urgent = "24x7" }}\n'
    cfg: config_mod.Config = ConfigFactory(folder, url)(extra=extra)
    engine = db.make_engine(url)
    try:
        week = periods.ended(PeriodKind.WEEK, NOW, cfg.tickets.timezone)
        return figures(Store(engine), cfg, week, group, NOW)
    finally:
        engine.dispose()


def week(first: date, start: datetime, end: datetime, tz: str) -> Period:
    last = date.fromordinal(first.toordinal() + 6)
    return Period(PeriodKind.WEEK, first, last, start, end, tz)


def days(*counts: tuple[int, int]) -> tuple[DayCount, ...]:
    return tuple(DayCount(date(2026, 11, 23 + i), o, r) for i, (o, r) in enumerate(counts))


def weeks(*last: tuple[int, int]) -> tuple[WeekSla, ...]:
    """The 8 weeks from 5 October; `last` gives the met/missed of the last ones."""
    mondays = [date.fromordinal(date(2026, 10, 5).toordinal() + 7 * i) for i in range(8)]
    values = [(0, 0)] * (8 - len(last)) + list(last)
    return tuple(WeekSla(m, met, missed) for m, (met, missed) in zip(mondays, values, strict=True))


def breach(n: int, target: str, due: datetime, late: float, assignee: str) -> Breach:
    return Breach(number(n), f"subject {n}", assignee, target, due, late)


SHANGHAI = Figures(
    period=week(date(2026, 11, 23), at(11, 22, 16), at(11, 29, 16), SH),
    previous=week(date(2026, 11, 16), at(11, 15, 16), at(11, 22, 16), SH),
    group="",
    # opened 2, 3, 4, 6, 10; resolved 1, 2, 4 (twice: once), 5; closed 8; reopened 4, 8
    counts=Counts(opened=5, resolved=4, closed=1, reopened=2),
    previous_counts=Counts(opened=4, resolved=0, closed=1, reopened=0),  # 1, 5, 8, 9; 8
    # 3 (155.5 h), 6 (110 h: resolved after the end), 7 (470 h), 10 (0.5 h); 5 is not:
    # resolved before the end, reopened after it
    backlog=Backlog(open=4, median_age_hours=132.75, older_than_week=1),
    # 1 (0.5 h), 5 (62 h), 7 (302 h), 9 (86 h: rejected after the end); not 8 (closed)
    previous_backlog=Backlog(open=4, median_age_hours=74.0, older_than_week=1),
    by_category=(
        Share("硬件故障", 2, 1, 1),
        Share("软件安装", 1, 1, 0),
        Share("打印机", 1, 0, 1),
        Share("账号权限", 1, 0, 1),
        Share("网络问题", 0, 2, 0),
        Share("其他", 0, 0, 1),
    ),
    by_priority=(
        Share("urgent", 2, 0, 2),
        Share("medium", 1, 2, 1),
        Share("high", 1, 1, 1),
        Share("low", 1, 1, 0),
    ),
    by_group=(Share("desktop", 4, 2, 2), Share("accounts", 1, 0, 1), Share("network", 0, 2, 1)),
    by_engineer=(Share(HAN, 3, 2, 1), Share("", 2, 0, 2), Share(LI, 0, 2, 1)),
    # response met 1, 4, 6, missed 2 (late), 3 (provisional); 10 is decided after the end
    # resolution met 1 (provisional), 2 (paused when met), missed 4, 6
    sla=(SlaFigure("response", 3, 2, 1), SlaFigure("resolution", 2, 2, 1)),
    previous_sla=(SlaFigure("response", 2, 0, 0), SlaFigure("resolution", 0, 1, 0)),
    breaches=(
        breach(3, "response", at(11, 23, 5, 30), 2190, ""),  # Mon 13:30 to the end: 270 + 4×480
        breach(4, "resolution", at(11, 24, 6), 1260, HAN),  # Tue 14:00 to Fri 10:00
        breach(6, "resolution", at(11, 27, 2), 420, HAN),  # Fri 10:00 to Mon 00:30
        breach(2, "response", at(11, 23, 3), 90, HAN),  # Mon 11:00 to 13:30
    ),
    # first responses 1 (60), 2 (210), 4 (30), 6 (60)
    response_time=Durations(count=4, median_minutes=60, p90_minutes=210),
    previous_response_time=Durations(count=2, median_minutes=60, p90_minutes=60),  # 5, 8
    # resolved 1 (600), 2 (1320), 4 (1770: its last resolution), 5 (2700)
    resolution_time=Durations(count=4, median_minutes=1545, p90_minutes=2700),
    previous_resolution_time=Durations(),
    # surveys 1, 2, 4; answers 5, 4, 2 (2's first answer replaced); reviews opened by
    # 2's first answer (closed in the week) and 4's; open at the end 4's and 8's
    satisfaction=Satisfaction(3, 3, (0, 1, 0, 1, 1), 2, 2, 1),
    previous_satisfaction=Satisfaction(1, 1, (1, 0, 0, 0, 0), 1, 1, 0),
    recurring=(),
    daily=days((3, 0), (0, 2), (1, 1), (0, 0), (0, 2), (0, 0), (1, 0)),
    weekly_sla=weeks((1, 0), (2, 1), (5, 4)),  # 7's response in the week of 9 November
    missing_calendar_years=(2027,),
    self_service=SelfService(resolved_total=4),  # no article in this data set
)

NEW_YORK = Figures(
    period=week(date(2026, 11, 23), at(11, 23, 5), at(11, 30, 5), NY),
    previous=week(date(2026, 11, 16), at(11, 16, 5), at(11, 23, 5), NY),
    group="",
    # opened 4, 6, 10, 11; resolved 1, 2, 4, 5, 6; closed 2, 8; reopened 4, 8
    counts=Counts(opened=4, resolved=5, closed=2, reopened=2),
    previous_counts=Counts(opened=5, resolved=0, closed=1, reopened=0),  # 1, 2, 3, 5, 9; 8
    # 3 (168.5 h), 7 (483 h), 10 (13.5 h), 11 (12.5 h); 6 was resolved before the end
    backlog=Backlog(open=4, median_age_hours=91.0, older_than_week=2),
    # 1 (13.5), 2 (12.5), 3 (0.5), 5 (75), 7 (315), 9 (99)
    previous_backlog=Backlog(open=6, median_age_hours=44.25, older_than_week=1),
    by_category=(
        Share("打印机", 2, 0, 2),
        Share("硬件故障", 1, 2, 0),
        Share("软件安装", 1, 1, 0),
        Share("网络问题", 0, 2, 0),
        Share("其他", 0, 0, 1),
        Share("账号权限", 0, 0, 1),
    ),
    by_priority=(
        Share("high", 2, 2, 1),
        Share("low", 1, 1, 0),
        Share("urgent", 1, 0, 2),
        Share("medium", 0, 2, 1),
    ),
    by_group=(Share("desktop", 3, 3, 1), Share("network", 1, 2, 2), Share("accounts", 0, 0, 1)),
    by_engineer=(Share(HAN, 2, 3, 0), Share(LI, 1, 2, 2), Share("", 1, 0, 2)),
    # response met 4, 6, missed 3 (provisional), 10; 1 and 2 were decided the week before
    sla=(SlaFigure("response", 2, 2, 1), SlaFigure("resolution", 2, 2, 1)),
    previous_sla=(SlaFigure("response", 2, 1, 0), SlaFigure("resolution", 0, 1, 0)),
    breaches=(
        breach(3, "response", at(11, 23, 5, 30), 2370, ""),  # to Mon 13:00 Shanghai: +180
        breach(4, "resolution", at(11, 24, 6), 1260, HAN),
        breach(10, "response", at(11, 29, 16, 30), 750, ""),  # 24×7: 16:30 to 05:00
        breach(6, "resolution", at(11, 27, 2), 420, HAN),
    ),
    response_time=Durations(count=3, median_minutes=60, p90_minutes=210),  # 2, 4, 6
    previous_response_time=Durations(count=2, median_minutes=60, p90_minutes=60),  # 1, 5
    # 1 (600), 2 (1320), 6 (1380), 4 (1770), 5 (2700)
    resolution_time=Durations(count=5, median_minutes=1380, p90_minutes=2700),
    previous_resolution_time=Durations(),
    satisfaction=Satisfaction(4, 4, (0, 1, 1, 1, 1), 2, 2, 1),  # 6's survey and answer too
    previous_satisfaction=Satisfaction(1, 1, (1, 0, 0, 0, 0), 1, 1, 0),
    recurring=(),
    daily=days((1, 2), (1, 0), (0, 1), (0, 1), (0, 1), (0, 0), (2, 1)),
    weekly_sla=weeks((2, 0), (2, 2), (4, 4)),  # 7 and 8's responses in the week of 9 Nov
    missing_calendar_years=(2027,),
    self_service=SelfService(resolved_total=5),  # no article in this data set
)

SHANGHAI_DESKTOP = Figures(
    period=SHANGHAI.period,
    previous=SHANGHAI.previous,
    group="desktop",
    counts=Counts(opened=4, resolved=2, closed=0, reopened=1),  # 2, 4, 6, 10; 2, 4; 4
    previous_counts=Counts(opened=1),  # 9
    backlog=Backlog(open=2, median_age_hours=55.25, older_than_week=0),  # 6, 10
    previous_backlog=Backlog(open=1, median_age_hours=86.0, older_than_week=0),  # 9
    by_category=(Share("硬件故障", 2, 1, 1), Share("软件安装", 1, 1, 0), Share("打印机", 1, 0, 1)),
    by_priority=(
        Share("low", 1, 1, 0),
        Share("medium", 1, 1, 0),
        Share("high", 1, 0, 1),
        Share("urgent", 1, 0, 1),
    ),
    by_group=(Share("desktop", 4, 2, 2),),
    by_engineer=(Share(HAN, 3, 2, 1), Share("", 1, 0, 1)),
    sla=(SlaFigure("response", 2, 1, 0), SlaFigure("resolution", 1, 2, 0)),
    previous_sla=(SlaFigure("response"), SlaFigure("resolution")),
    breaches=SHANGHAI.breaches[1:],
    response_time=Durations(count=3, median_minutes=60, p90_minutes=210),
    previous_response_time=Durations(),
    resolution_time=Durations(count=2, median_minutes=1545, p90_minutes=1770),
    previous_resolution_time=Durations(),
    satisfaction=Satisfaction(2, 2, (0, 1, 0, 1, 0), 2, 1, 1),
    previous_satisfaction=Satisfaction(),
    recurring=(),
    daily=days((2, 0), (0, 1), (1, 1), (0, 0), (0, 1), (0, 0), (1, 0)),
    weekly_sla=weeks((3, 3)),
    missing_calendar_years=(2027,),
    self_service=SelfService(resolved_total=2),  # no article in this data set
)


@pytest.mark.parametrize(
    ("timezone", "group", "expected"),
    [(SH, "", SHANGHAI), (NY, "", NEW_YORK), (SH, "desktop", SHANGHAI_DESKTOP)],
    ids=["shanghai", "new-york", "shanghai-desktop"],
)
def test_every_figure(
    data_url: str, tmp_path: Any, timezone: str, group: str, expected: Figures
) -> None:
    found = run(data_url, tmp_path, timezone, group)
    for name in Figures.__dataclass_fields__:
        assert getattr(found, name) == getattr(expected, name), name
    assert found == expected


def test_a_period_still_running_counts_only_what_is_decided_by_now(
    data_url: str, tmp_path: Any
) -> None:
    """30 November to 6 December in Shanghai, asked on Wednesday 2 December: 5's
    resolution is due on the 3rd, not missed yet; the lateness of what is missed runs
    to now."""
    cfg = ConfigFactory(tmp_path, data_url)(extra='\n[sla]\ncalendar = { urgent = "24x7" }\n')
    engine = db.make_engine(data_url)
    try:
        running = periods.between(date(2026, 11, 30), date(2026, 12, 6), SH)
        found = figures(Store(engine), cfg, running, "", NOW)
    finally:
        engine.dispose()
    # response: 10 (due 11-29 16:30Z = Monday 00:30 in Shanghai) and 12; resolution: 3
    assert found.sla == (SlaFigure("response", 0, 2, 0), SlaFigure("resolution", 0, 1, 0))
    assert found.breaches == (
        breach(10, "response", at(11, 29, 16, 30), 3930, ""),  # 24×7: 65.5 hours
        breach(3, "resolution", at(11, 30, 6), 1200, ""),  # Mon 14:00 to Wed 18:00
        breach(12, "response", at(11, 30, 9), 1020, LI),  # Mon 17:00 to Wed 18:00
    )
