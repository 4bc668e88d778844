"""The ingest use case against SQLite and PostgreSQL: journal, exactly-once, threading,
quarantine, acknowledgments in the outbox, ticket numbers under concurrency."""

from __future__ import annotations

import email
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maildesk import db, directory
from maildesk.clock import TestClock
from maildesk.config import ConfigError
from maildesk.render import Renderer, environment, make_renderer
from maildesk.service import Service, quick_message_id
from maildesk.store import Store, journal, leases, tickets
from maildesk.store import claims as claims_rows
from maildesk.store import events as ticket_events
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, build_service
from .mails import make_mail


def test_new_message_creates_ticket_and_acknowledgment(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    outcome = service.ingest(make_mail(1), "test")
    assert outcome.kind == "created"
    assert outcome.ticket_number.startswith("IT-") and outcome.ticket_number.endswith("-0001")
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, outcome.ticket_number)
        outbox = outbox_rows.listing(tx)
        events = ticket_events.listing(tx, ticket.id) if ticket else []
    assert ticket is not None
    assert ticket.subject == "电脑无法开机 #1"
    assert ticket.requester_name == "张伟"
    assert ticket.requester_email == "zhang.wei@example.com"
    assert ticket.status == "new" and ticket.priority == "medium"
    assert ticket.category == "硬件故障"  # routed by the shipped rules (电脑, 开机)
    assert "风扇在转" in ticket.description
    assert [e["kind"] for e in events] == ["created", "routed"]
    assert events[1]["text"] == "group desktop"
    assert len(outbox) == 1
    with service.store.transaction() as tx:
        ack = email.message_from_bytes(outbox_rows.raw(tx, outbox[0].id) or b"")
    assert str(ack["Subject"]).startswith(f"[{ticket.number}] ")
    assert ack["In-Reply-To"] == "<msg-1@client.example.com>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert outbox[0].recipients == ("zhang.wei@example.com",)


def test_same_message_twice_makes_one_ticket_one_ack(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    first = service.ingest(make_mail(1), "imap:a")
    again = service.ingest(make_mail(1), "imap:b")
    assert first.kind == "created"
    assert again.kind == "duplicate"
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 1
        assert len(outbox_rows.listing(tx)) == 1


def test_same_bytes_without_message_id_deduplicated_by_hash(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    raw = b"From: a@example.com\r\nSubject: no id\r\n\r\nbody\r\n"
    assert quick_message_id(raw) == ""
    assert service.ingest(raw, "x").kind == "created"
    assert service.ingest(raw, "x").kind == "duplicate"
    other = raw.replace(b"body", b"body 2")
    assert service.ingest(other, "x").kind == "created"


def test_journaled_but_unprocessed_message_is_processed_later(make_config: ConfigFactory) -> None:
    """A crash between journal commit and processing loses nothing."""
    service = build_service(make_config())
    entry = service.receive(make_mail(7), "smtp")
    assert not entry.duplicate
    with service.store.transaction() as tx:
        assert journal.pending_ids(tx, 10) == [entry.id]
    outcomes = service.process_pending()
    assert [o.kind for o in outcomes] == ["created"]
    assert service.process(entry.id).kind == "skipped"  # second attempt does nothing


def test_unparseable_message_is_quarantined_with_reason(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    outcome = service.ingest(b"Subject: nobody sent this\r\n\r\nhello\r\n", "smtp")
    assert outcome.kind == "quarantined"
    assert "no sender" in outcome.detail
    with service.store.transaction() as tx:
        rows = journal.quarantined(tx)
        assert tickets.count(tx) == 0
    assert len(rows) == 1 and "no sender" in rows[0].reason
    with service.store.transaction() as tx:
        assert journal.raw(tx, rows[0].id) == b"Subject: nobody sent this\r\n\r\nhello\r\n"


def test_internal_error_quarantines_and_daemon_goes_on(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    """An admin's broken template: the message is quarantined, the next one still works."""
    broken = tmp_path / "templates" / "zh-CN"
    broken.mkdir(parents=True)
    (broken / "ack.txt.j2").write_text("{{ t.no_such_field }}")
    (broken / "ack.html.j2").write_text("<p>x</p>")
    service = build_service(make_config(extra=""))
    service.renderer = Renderer(environment(tmp_path / "templates"), service.cfg)
    outcome = service.ingest(make_mail(1), "smtp")
    assert outcome.kind == "quarantined"
    assert "no_such_field" in outcome.detail
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 0  # the half-made ticket was rolled back
        assert len(outbox_rows.listing(tx)) == 0
    service.renderer = make_renderer(service.cfg)
    assert service.ingest(make_mail(2), "smtp").kind == "created"
    with service.store.transaction() as tx:
        assert journal.release_quarantined(tx, outcome.inbound_id)
    assert service.process(outcome.inbound_id).kind == "created"


def test_quarantined_message_can_be_retried(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    outcome = service.ingest(b"Subject: x\r\n\r\nbody\r\n", "smtp")
    with service.store.transaction() as tx:
        assert journal.release_quarantined(tx, outcome.inbound_id)
    assert service.process(outcome.inbound_id).kind == "quarantined"  # still no sender


def test_reply_threads_by_references_and_by_subject_number(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    created = service.ingest(make_mail(1), "smtp")
    with service.store.transaction() as tx:
        ack_id = outbox_rows.listing(tx)[0].message_id
    reply = make_mail(
        2, subject="Re: whatever", body="补充：昨天还好好的。",
        headers={"In-Reply-To": f"<{ack_id}>", "References": f"<{ack_id}>"},
    )  # fmt: skip
    threaded = service.ingest(reply, "smtp")
    assert threaded.kind == "threaded"
    assert threaded.ticket_number == created.ticket_number
    by_subject = service.ingest(
        make_mail(3, subject=f"回复：[{created.ticket_number}] 电脑无法开机"), "smtp"
    )
    assert by_subject.kind == "threaded"
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, created.ticket_number)
        assert ticket is not None
        kinds = [e["kind"] for e in ticket_events.listing(tx, ticket.id) if e["kind"] != "routed"]
        assert kinds == ["created", "reply", "reply"]
        assert tickets.count(tx) == 1
        assert len(outbox_rows.listing(tx)) == 1  # follow-ups are not acknowledged again


def test_subject_number_from_a_stranger_opens_new_ticket(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    created = service.ingest(make_mail(1), "smtp")
    stranger = make_mail(
        2, sender="mallory@evil.example", subject=f"Re: [{created.ticket_number}] hi"
    )
    assert service.ingest(stranger, "smtp").kind == "created"


@pytest.mark.parametrize(
    ("headers", "sender", "kind"),
    [
        ({"Auto-Submitted": "auto-replied"}, "zhang.wei@example.com", "ignored"),
        ({"Auto-Submitted": "auto-generated"}, "nagios@example.com", "created"),
        ({"Precedence": "bulk"}, "zhang.wei@example.com", "ignored"),  # [automatic] lists
        ({}, "MAILER-DAEMON@mx.example.com", "created"),
        ({}, "it-support@example.com", "created"),
        ({"Return-Path": "<>"}, "zhang.wei@example.com", "created"),
    ],
)
def test_no_acknowledgment_to_automatic_or_own_mail(
    make_config: ConfigFactory, headers: dict[str, str], sender: str, kind: str
) -> None:
    """An auto-reply or a list mail to nothing of ours is journaled and dropped (lists by
    the default `[automatic] lists = "ignore"`); an alarm is a ticket; none of them is
    ever answered."""
    service = build_service(make_config())
    outcome = service.ingest(make_mail(1, sender=sender, headers=headers), "smtp")
    assert outcome.kind == kind
    if kind == "created":
        assert "no acknowledgment" in outcome.detail
    with service.store.transaction() as tx:
        assert outbox_rows.listing(tx) == []


def test_own_mail_with_loop_header_is_never_ingested(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    created = service.ingest(make_mail(1), "smtp")
    with service.store.transaction() as tx:
        ack_raw = outbox_rows.raw(tx, outbox_rows.listing(tx)[0].id)
    assert ack_raw is not None
    again = service.ingest(ack_raw, "smtp")
    assert again.kind in ("ignored", "threaded")
    assert again.kind == "ignored", "our own acknowledgment must not be ingested"
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 1
        ticket = tickets.view(tx, created.ticket_number)
        assert ticket is not None
        assert [e["kind"] for e in ticket_events.listing(tx, ticket.id)] == ["created", "routed"]


def test_ticket_numbers_restart_each_day_in_configured_timezone(
    make_config: ConfigFactory,
) -> None:
    times = [
        datetime(2026, 11, 21, 15, 59, tzinfo=UTC),  # 23:59 in Shanghai, the 21st
        datetime(2026, 11, 21, 16, 1, tzinfo=UTC),  # 00:01 in Shanghai, the 22nd
        datetime(2026, 11, 21, 16, 2, tzinfo=UTC),
    ]
    clock = TestClock(times[0])
    service = build_service(make_config(), clock)
    numbers = []
    for i, now in enumerate(times):
        clock.set(now)
        numbers.append(service.ingest(make_mail(i), "t").ticket_number)
    assert numbers == ["IT-20261121-0001", "IT-20261122-0001", "IT-20261122-0002"]


def test_concurrent_writers_get_unique_gapless_numbers(make_config: ConfigFactory) -> None:
    """Four threads, each with its own engine, as four daemons would."""
    cfg = make_config()
    services = [build_service(cfg) for _ in range(4)]
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for i in range(15):
                services[worker].ingest(make_mail(worker * 100 + i), f"w{worker}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    with services[0].store.transaction() as tx:
        numbers = sorted(t.number for t in tickets.listing(tx, limit=1000))
    seqs = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert seqs == list(range(1, 61))


def test_outbox_claim_is_exclusive(make_config: ConfigFactory) -> None:
    cfg = make_config()
    service = build_service(cfg)
    for i in range(10):
        service.ingest(make_mail(i), "t")
    other = Store(db.make_engine(cfg.database_url))
    now = datetime.now(UTC)
    with service.store.transaction() as tx:
        mine = claims_rows.claim(tx, now, 6, "a:1", timedelta(minutes=5), per_domain=10)
    with other.transaction() as tx:
        theirs = claims_rows.claim(tx, now, 100, "b:1", timedelta(minutes=5), per_domain=10)
    assert len(mine) == 6 and len(theirs) == 4
    assert not {m.id for m in mine} & {m.id for m in theirs}
    later = now + timedelta(minutes=6)  # claims expire: a dead sender's rows come back
    with other.transaction() as tx:
        again = claims_rows.claim(tx, later, 100, "b:1", timedelta(minutes=5), per_domain=10)
    assert len(again) == 10


def test_lease_is_held_by_one_daemon_until_it_expires(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    now = datetime.now(UTC)
    ttl = timedelta(seconds=30)
    with service.store.transaction() as tx:
        assert leases.take_lease(tx, "imap:support", "a:1", now, ttl)
    with service.store.transaction() as tx:
        assert not leases.take_lease(tx, "imap:support", "b:2", now + timedelta(seconds=10), ttl)
    with service.store.transaction() as tx:
        assert leases.take_lease(tx, "imap:support", "a:1", now + timedelta(seconds=20), ttl)
    with service.store.transaction() as tx:
        assert leases.take_lease(tx, "imap:support", "b:2", now + timedelta(seconds=51), ttl)


def test_directory_fills_department_and_employee_id(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    csv_path = tmp_path / "staff.csv"
    csv_path.write_text(
        "email,name,department,employee_id\nZhang.Wei@example.com,张伟,财务部,E1024\n",
        encoding="utf-8",
    )
    cfg = make_config(directory=str(csv_path))
    service = Service(cfg, build_service(cfg).store, make_renderer(cfg), directory.load(csv_path))
    created = service.ingest(make_mail(1, sender="zhang.wei@example.com"), "t")
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, created.ticket_number)
    assert ticket is not None
    assert (ticket.requester_name, ticket.department, ticket.employee_id) == (
        "张伟",
        "财务部",
        "E1024",
    )


def test_directory_without_required_columns_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "staff.csv"
    bad.write_text("mail,name\nx@example.com,X\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"maildesk\.directory_csv: .* lacks column"):
        directory.load(bad)
