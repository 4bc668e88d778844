"""How many SQL statements the processing of one message runs (issue 14): SQLAlchemy's
cost per statement was several times the statement's own, and a new ticket took 32.
What a message needs is read in few statements (store/senders.py), a bounce reads no
facts at all, and writes that change nothing are not made.  Counted on the statements
the database receives, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from maildesk.service import Service
from maildesk.store import outbox

from .conftest import ConfigFactory, build_service
from .test_engineers import mail
from .test_flat_cost import PEOPLE, statements


def processed(service: Service, raw: bytes) -> tuple[str, list[str]]:
    """The outcome of processing this message, and the statements it ran (journaling
    before it is not counted)."""
    entry = service.receive(raw, "test")
    with statements(service, kinds=("",)) as seen:
        outcome = service.process(entry.id)
    return outcome.kind, [" ".join(sql.split()) for sql, _ in seen]


def bounce_of(message_id: str, address: str) -> bytes:
    """An Exim bounce of our mail (tests/fixtures/bounces/exim_null_from.eml's shape)."""
    return (
        "Return-path: <>\r\n"
        f"X-Failed-Recipients: {address}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "From: Mail Delivery System <Mailer-Daemon@mx.partner.example.org>\r\n"
        "To: it-support@example.com\r\n"
        f"References: <{message_id}>\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "Subject: Mail delivery failed: returning message to sender\r\n"
        "Message-Id: <E1tHq7Y-0004Qm-2b@mx.partner.example.org>\r\n"
        "Date: Mon, 30 Nov 2026 09:15:44 +0800\r\n"
        "\r\n"
        "This message was created automatically by mail delivery software.\r\n\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        "recipients. This is a permanent error. The following address(es) failed:\r\n\r\n"
        f"  {address}\r\n"
        "    mailbox is full: retry timeout exceeded\r\n\r\n"
        "------ This is a copy of the message, including all the headers. ------\r\n\r\n"
        "From: it-support@example.com\r\n"
        f"To: {address}\r\n"
        "Subject: [IT] We received your request\r\n"
        f"Message-ID: <{message_id}>\r\n"
        "\r\n"
        "Your request has been received.\r\n"
    ).encode()


@pytest.fixture
def desk(make_config: ConfigFactory) -> Service:
    service = build_service(make_config(extra=PEOPLE))
    for n in range(3):  # some history: assigned tickets in the groups
        service.ingest(mail(f"u{n}@example.com", f"VPN 连不上 {n}", "error 809", n=n), "t")
    return service


def test_a_new_ticket_takes_few_statements(desk: Service) -> None:
    kind, seen = processed(desk, mail("a@example.com", "打印机卡纸", "三楼", n=100))
    assert kind == "created"
    assert len(seen) <= 22, "\n".join(seen)  # 33 before issue 14's work


def test_a_reply_takes_few_statements(desk: Service) -> None:
    number = desk.ingest(mail("a@example.com", "打印机卡纸", "三楼", n=100), "t").ticket_number
    reply = mail("a@example.com", f"Re: [{number}] 打印机卡纸", "还是不行", n=101)
    kind, seen = processed(desk, reply)
    assert kind == "threaded"
    assert len(seen) <= 21, "\n".join(seen)  # 26 before


def test_a_bounce_reads_no_ticket_facts(desk: Service) -> None:
    desk.ingest(mail("a@example.com", "打印机卡纸", "三楼", n=100), "t")
    with desk.store.transaction() as tx:
        ack = next(row for row in outbox.listing(tx) if row.kind == "ack")
    kind, seen = processed(desk, bounce_of(ack.message_id, "a@example.com"))
    assert kind == "bounce"
    reads = [sql for sql in seen if sql.startswith("SELECT")]
    assert not [sql for sql in reads if "ticket_events" in sql or "FROM tickets" in sql], reads
    assert len(seen) <= 10, "\n".join(seen)  # 21 before: the facts of a reply, unused
