"""Conversations end to end through the service and the database (SQLite and PostgreSQL):
watchers, reopening, replacing long-closed tickets, bounces, loop limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from maildesk.clock import TestClock
from maildesk.pipeline.parse import parse
from maildesk.store import events as ticket_events
from maildesk.store import journal, participants, tickets
from maildesk.store import outbox as outbox_rows
from maildesk.store.base import T_TICKETS

from .conftest import ConfigFactory, build_service
from .mails import make_mail

SECRET = '[security]\nsecret = "0123456789abcdef-conversations"\n'


def ack_id(service, ticket_number: str) -> str:  # type: ignore[no-untyped-def]
    with service.store.transaction() as tx:
        rows = [r for r in outbox_rows.listing(tx) if r.ticket_number == ticket_number]
    return rows[-1].message_id


def test_cc_watcher_reply_threads_and_requester_adds_colleagues(
    make_config: ConfigFactory,
) -> None:
    service = build_service(make_config(extra=SECRET))
    first = make_mail(1, headers={"Cc": "李娜 <li.na@example.com>, it-support@example.com"})
    number = service.ingest(first, "t").ticket_number
    watcher_reply = make_mail(2, sender="李娜 <li.na@example.com>", subject=f"Re: [{number}] x")
    assert service.ingest(watcher_reply, "t").kind == "threaded"
    claimed = make_mail(4, subject=f"Re: [{number}]", headers={"Cc": "eve@evil.example"})
    assert service.ingest(claimed, "t").kind == "threaded"  # lands, but adds nobody
    reply_to_ack = {"Cc": "wang.qiang@example.com", "References": f"<{ack_id(service, number)}>"}
    adds = make_mail(3, subject=f"Re: [{number}]", headers=reply_to_ack)
    assert service.ingest(adds, "t").kind == "threaded"
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        assert sorted(participants.watchers(tx, ticket.id)) == [
            "li.na@example.com",
            "wang.qiang@example.com",
        ]
        kinds = [e["kind"] for e in ticket_events.listing(tx, ticket.id)]
    assert kinds.count("watcher_added") == 2 and kinds.count("reply") == 3


def test_reply_reopens_resolved_and_replaces_long_closed(make_config: ConfigFactory) -> None:
    clock = TestClock(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    service = build_service(make_config(extra=SECRET), clock)
    number = service.ingest(make_mail(1), "t").ticket_number
    _set(service, number, status="resolved")
    outcome = service.ingest(make_mail(2, subject=f"Re: [{number}]"), "t")
    assert outcome.kind == "threaded" and "reopened (resolved → new)" in outcome.detail
    _set(service, number, status="closed", closed_at=clock.now())
    clock.advance(days=6)  # closed recently: a proven reply reopens it, a claimed one not
    claimed = service.ingest(make_mail(5, subject=f"Re: [{number}]"), "t")
    assert claimed.kind == "threaded" and "reopened" not in claimed.detail
    proven = {"References": f"<{ack_id(service, number)}>"}
    again = service.ingest(make_mail(4, subject=f"Re: [{number}]", headers=proven), "t")
    assert again.kind == "threaded" and "reopened (closed → new)" in again.detail
    _set(service, number, status="closed", closed_at=clock.now())
    clock.advance(days=7, minutes=1)  # closed longer than reopen_closed_within_days
    replaced = service.ingest(make_mail(3, subject=f"Re: [{number}] again"), "t")
    assert replaced.kind == "created" and replaced.ticket_number != number
    with service.store.transaction() as tx:
        new = tickets.view(tx, replaced.ticket_number)
        assert new is not None
        events = ticket_events.listing(tx, new.id)
        ack = outbox_rows.raw(tx, outbox_rows.listing(tx)[0].id) or b""
    linked = [e for e in events if e["kind"] == "linked"]
    assert events[0]["kind"] == "created" and len(linked) == 1
    assert linked[0]["new"] == number
    assert number.encode() in ack  # the answer says which closed ticket it replaces


def test_bounce_of_our_ack_marks_it_and_rests_the_address(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    number = service.ingest(make_mail(1, sender="gone@example.com"), "t").ticket_number
    message_id = ack_id(service, number)
    outcome = service.ingest(_bounce("gone@example.com", message_id), "t")
    assert outcome.kind == "bounce"
    with service.store.transaction() as tx:
        row = outbox_rows.listing(tx)[0]
        ticket = tickets.view(tx, number)
        assert ticket is not None
        assert [e["kind"] for e in ticket_events.listing(tx, ticket.id)][-1] == "bounce"
    assert row.status == "bounced"
    again = service.ingest(make_mail(2, sender="gone@example.com", subject="new issue"), "t")
    assert again.kind == "created" and "bounced recently" in again.detail
    with service.store.transaction() as tx:
        assert len(outbox_rows.listing(tx)) == 1  # no second ack to a bouncing address


def test_auto_reply_is_noted_without_answer_or_reopen(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    number = service.ingest(make_mail(1), "t").ticket_number
    _set(service, number, status="resolved")
    oof = make_mail(2, subject=f"自动回复: [{number}] 电脑无法开机", body="我正在休假。")
    outcome = service.ingest(oof, "t")
    assert outcome.kind == "threaded" and "automatic reply noted" in outcome.detail
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None and ticket.status == "resolved"
        assert len(outbox_rows.listing(tx)) == 1


def test_per_sender_limit_stops_answers(make_config: ConfigFactory) -> None:
    cfg = make_config(extra="[loops]\nmax_auto_replies_per_hour = 3\n")
    service = build_service(cfg)
    outcomes = [service.ingest(make_mail(n, subject=f"问题 {n}"), "t") for n in range(5)]
    assert [o.kind for o in outcomes] == ["created"] * 5
    with service.store.transaction() as tx:
        assert len(outbox_rows.listing(tx)) == 3
    assert "3 automatic mails to this sender in the last hour" in outcomes[3].detail


def test_plus_address_threads_for_the_requester(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    number = service.ingest(make_mail(1), "t").ticket_number
    plus = make_mail(2, subject="no number here", headers={"Delivered-To": ""})
    plus = plus.replace(b"To: ", f"To: it-support+{number}@example.com, ".encode(), 1)
    outcome = service.ingest(plus, "t")
    assert outcome.kind == "threaded" and outcome.ticket_number == number


def _set(service, number: str, **values: object) -> None:  # type: ignore[no-untyped-def]
    with service.store.transaction() as tx:
        tx.c.execute(update(T_TICKETS).where(T_TICKETS.c.number == number).values(**values))


def _bounce(recipient: str, message_id: str) -> bytes:
    """A Postfix-style delivery status notification for one of our mails."""
    text = f"""Return-Path: <>
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: it-support@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com. I'm sorry to have to inform you
that your message could not be delivered to one or more recipients.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected

--B
Content-Type: text/rfc822-headers

From: IT Support <it-support@example.com>
To: {recipient}
Subject: [IT-20261122-0001] ack
Message-ID: <{message_id}>

--B--
"""
    return text.replace("\n", "\r\n").encode()


def test_follow_up_event_shows_only_what_the_person_wrote(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    number = service.ingest(make_mail(1), "t").ticket_number
    body = (
        "重启以后可以开机了，谢谢！\n\n"
        "------------------ 原始邮件 ------------------\n"
        '发件人: "IT服务台"<it-support@example.com>;\n'
        "发送时间: 2026年11月22日(星期天) 上午9:20\n"
        f"主题: [{number}] 电脑无法开机\n\n"
        "我们已收到您的服务请求。\n"
    )
    outcome = service.ingest(make_mail(2, subject=f"回复：[{number}] 电脑无法开机", body=body), "t")
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        event = ticket_events.listing(tx, ticket.id)[-1]
        raw = journal.raw(tx, outcome.inbound_id) or b""
    assert event["kind"] == "reply"
    assert event["text"] == "重启以后可以开机了，谢谢！"
    assert "原始邮件" in parse(raw).text  # the full original is kept in the journal


REPLY_FIXTURES = Path(__file__).parent / "fixtures" / "replies"
SUBJECT_STYLES = ("回复：[{n}] 电脑无法开机", "RE: [{n}] 电脑无法开机", "答复: 【{n}】电脑无法开机",
                  "Re: Re: {n}", "AW: [{n}]", "转发: [{n}]")  # fmt: skip


def test_follow_up_from_every_client_style_lands_with_only_new_text(
    make_sqlite_config: ConfigFactory,
) -> None:
    """Each client fixture as a real follow-up: the right ticket, only what was written."""
    service = build_service(make_sqlite_config())
    number = service.ingest(make_mail(1), "t").ticket_number
    expected = json.loads((REPLY_FIXTURES / "expected.json").read_text(encoding="utf-8"))
    for i, (name, case) in enumerate(sorted(expected.items())):
        body = (REPLY_FIXTURES / name).read_text(encoding="utf-8")
        subject = SUBJECT_STYLES[i % len(SUBJECT_STYLES)].format(n=number)
        outcome = service.ingest(make_mail(100 + i, subject=subject, body=body), "t")
        assert (outcome.kind, outcome.ticket_number) == ("threaded", number), name
        with service.store.transaction() as tx:
            event = ticket_events.listing(tx, tickets.view(tx, number).id)[-1]  # type: ignore[union-attr]
        assert event["text"] == case["visible_text"], name
    assert len(expected) >= 25


def test_outside_watchers_are_refused_and_the_requester_told_once(
    make_config: ConfigFactory,
) -> None:
    service = build_service(make_config(extra=SECRET))
    number = service.ingest(make_mail(1), "t").ticket_number
    proven = {"References": f"<{ack_id(service, number)}>", "Cc": "eve@outside.example"}
    for n in (2, 3):
        assert service.ingest(make_mail(n, subject=f"Re: [{number}]", headers=proven), "t")
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None and participants.watchers(tx, ticket.id) == []
        kinds = [e["kind"] for e in ticket_events.listing(tx, ticket.id)]
        told = [r for r in outbox_rows.listing(tx) if r.kind == "watchers_refused"]
    assert kinds.count("watcher_refused") == 2  # recorded each time
    assert len(told) == 1 and told[0].recipients == ("zhang.wei@example.com",)  # told once
