"""Limits hold mail back and summaries replace it, on time the test advances."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

from maildesk.clock import TestClock
from maildesk.held import tick
from maildesk.service import Service
from maildesk.store import events, tickets
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, build_service
from .mails import make_mail

PEOPLE = """
[security]
secret = "0123456789abcdef-held-test"
[[people]]
name = "王工"
email = "wang.gong@example.com"
[[people]]
name = "陈组长"
email = "lead@example.com"
role = "lead"
"""
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
USER = "zhang.wei@example.com"


def rows(service: Service) -> list[outbox_rows.OutboxRow]:
    with service.store.transaction() as tx:
        return outbox_rows.listing(tx, limit=10000)


def counts(service: Service, **where: str) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for row in rows(service):
        if all(getattr(row, k) == v for k, v in where.items()):
            found[(row.kind, row.status)] = found.get((row.kind, row.status), 0) + 1
    return found


def text_of(service: Service, row: outbox_rows.OutboxRow) -> str:
    with service.store.transaction() as tx:
        raw = outbox_rows.raw(tx, row.id) or b""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def summarise(service: Service, clock: TestClock) -> int:
    return tick.run(service.store, service.renderer, clock.now())


def test_a_flood_makes_every_ticket_and_one_summary_each(make_config: ConfigFactory) -> None:
    clock = TestClock(START)
    service = build_service(make_config(extra=PEOPLE, flood_limit=5), clock)
    for n in range(20):
        assert service.ingest(make_mail(n), "t").kind == "created"
        clock.advance(seconds=2)
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 20  # nothing lost
    mine = counts(service)
    assert mine[("ack", "pending")] == 5 and mine[("ack", "held")] == 15
    assert mine[("notification", "pending")] == 5 and mine[("notification", "held")] == 15
    assert summarise(service, clock) == 0  # the window has not passed
    clock.advance(minutes=10)
    assert summarise(service, clock) == 2
    after = counts(service)
    assert after[("flood_summary", "pending")] == 1 and after[("flood_ack", "pending")] == 1
    assert after[("ack", "summarised")] == 15 and after[("notification", "summarised")] == 15
    assert summarise(service, clock) == 0  # once
    summary = next(r for r in rows(service) if r.kind == "flood_ack")
    listed = text_of(service, summary)
    assert summary.recipients == (USER,) and "IT-20261123-0020" in listed
    assert "IT-20261123-0006" in listed and "IT-20261123-0005" not in listed


def test_a_burst_of_follow_ups_makes_one_notification(make_config: ConfigFactory) -> None:
    clock = TestClock(START)
    service = build_service(make_config(extra=PEOPLE), clock)
    number = service.ingest(make_mail(1), "t").ticket_number
    for n, text in enumerate(("第一条补充", "第二条补充", "第三条补充"), start=2):
        clock.advance(seconds=10)
        subject = f"Re: [{number}]"
        assert service.ingest(make_mail(n, subject=subject, body=text), "t").kind == "threaded"
    notes = counts(service, kind="notification")
    assert notes == {("notification", "pending"): 2, ("notification", "held"): 2}
    clock.advance(seconds=61)
    assert summarise(service, clock) == 1
    merged = rows(service)[0]
    assert merged.kind == "notification" and merged.status == "pending"
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        held = [e for e in events.listing(tx, ticket.id) if e["kind"] == "held"]
    assert len(held) == 2
    body = text_of(service, merged)
    assert "第二条补充" in body and "第三条补充" in body and "合并" in body


def test_a_loop_is_held_a_person_is_not_and_the_lead_hears_hourly(
    make_config: ConfigFactory,
) -> None:
    clock = TestClock(START)
    loops = "[loops]\nmax_auto_replies_per_hour = 1\n"
    service = build_service(make_config(extra=PEOPLE + loops), clock)
    number = service.ingest(make_mail(1), "t").ticket_number
    subject = f"Re: [{number}]"
    auto = "您好，我正在休假，回来后回复您。"
    for n in (2, 3, 4):
        clock.advance(minutes=2)
        service.ingest(make_mail(n, subject=subject, body=auto), "t")
    clock.advance(minutes=2)
    service.ingest(make_mail(5, subject=subject, body="整层楼都断网了，非常紧急！"), "t")
    notes = counts(service, kind="notification")
    # the first auto-reply and the person's words reach the engineer; repeats are held
    assert notes == {("notification", "pending"): 3, ("notification", "held"): 2}
    assert summarise(service, clock) == 1
    assert counts(service, kind="held_summary") == {("held_summary", "pending"): 1}
    for n in (6, 7):  # the responder again: the first after the person's words goes through
        clock.advance(minutes=2)
        service.ingest(make_mail(n, subject=subject, body=auto), "t")
    assert counts(service, kind="notification")[("notification", "held")] == 3
    assert summarise(service, clock) == 0  # at most hourly
    clock.advance(minutes=61)
    assert summarise(service, clock) == 1
    assert counts(service, kind="held_summary") == {("held_summary", "pending"): 2}
