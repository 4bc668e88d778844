"""Poison mail: a value the database would refuse never stops the queue, on either
database; the mail is made storable (or quarantined alone) and the rest proceeds."""

from __future__ import annotations

import base64

import pytest

from maildesk.cli import main
from maildesk.service import Service
from maildesk.store import journal, tickets

from .conftest import ConfigFactory, build_service
from .mails import make_mail

HEAD = b"From: Zhang Wei <zhang.wei@example.com>\r\nTo: it-support@example.com\r\n"


def _long_encoded_id() -> bytes:
    """A Message-ID as RFC 2047 encoded words decoding to 900 four-byte characters."""
    words = []
    for _ in range(30):
        chunk = base64.b64encode(("\U0001f600" * 30).encode()).decode()
        words.append(f"=?utf-8?b?{chunk}?=")
    return ("Message-ID: <" + "\r\n ".join(words) + "@evil.example>\r\n").encode()


LONG_ID = HEAD + _long_encoded_id() + b"Subject: long id\r\n\r\nthe printer is on fire\r\n"
RAW_8BIT_ID = (
    HEAD + b"Message-ID: <caf\xe9-\xff\xfe@evil.example>\r\n"
    b"In-Reply-To: <\xe9t\xe9@evil.example>\r\nReferences: <r\xe9f@evil.example>\r\n"
    b"Subject: raw id\r\n\r\nmy mouse is gone\r\n"
)
NUL_BYTES = (
    HEAD + b"Message-ID: <nul@evil.example>\r\nSubject: nul \x00 in subject\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nbody with a \x00 byte\r\n"
)


def _batch(service: Service, poison: bytes) -> list[str]:
    items = [(make_mail(1), "t:1"), (poison, "t:poison"), (make_mail(2), "t:2")]
    entries = service.receive_many(items)
    outcomes = service.process_many([e.id for e in entries])
    return [o.kind for o in outcomes]


@pytest.mark.parametrize("poison", [LONG_ID, RAW_8BIT_ID, NUL_BYTES], ids=["long", "8bit", "nul"])
def test_poison_mail_is_stored_and_the_batch_proceeds(
    make_config: ConfigFactory, poison: bytes
) -> None:
    service = build_service(make_config())
    assert _batch(service, poison) == ["created"] * 3
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 3
        assert not journal.quarantined(tx)
        assert journal.raw(tx, 2) == poison  # the original bytes, kept


def test_a_reply_to_a_long_encoded_id_threads_onto_its_ticket(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    assert _batch(service, LONG_ID)[1] == "created"
    encoded = _long_encoded_id().split(b":", 1)[1]
    reply = HEAD + b"Message-ID: <re@client.example>\r\nIn-Reply-To:" + encoded
    reply += b"Subject: Re: long id\r\n\r\nstill on fire\r\n"
    assert service.ingest(reply, "t:reply").kind == "threaded"


def test_a_reply_to_a_raw_8bit_id_threads_onto_its_ticket(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    assert _batch(service, RAW_8BIT_ID)[1] == "created"
    reply = (
        HEAD + b"Message-ID: <re8@client.example>\r\nIn-Reply-To: <caf\xe9-\xff\xfe@evil.example>"
    )
    reply += b"\r\nSubject: Re: raw id\r\n\r\nstill gone\r\n"
    assert service.ingest(reply, "t:reply").kind == "threaded"
    other = reply.replace(b"\xfe@", b"\xfd@").replace(b"<re8@", b"<re9@")
    assert service.ingest(other, "t:other").kind == "created"  # other bytes, other id


def test_nul_bytes_are_dropped_from_the_ticket_text(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    number = service.ingest(NUL_BYTES, "t:nul").ticket_number
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
    assert ticket is not None
    assert ticket.subject == "nul  in subject" and "\x00" not in ticket.description


@pytest.mark.parametrize("poison", [LONG_ID, RAW_8BIT_ID, NUL_BYTES], ids=["long", "8bit", "nul"])
def test_mail_quarantined_before_is_fixed_by_quarantine_retry(
    make_config: ConfigFactory, poison: bytes
) -> None:
    path = make_config.write()
    service = build_service(make_config())
    entry = service.receive(poison, "t:poison")
    with service.store.transaction() as tx:  # as an earlier version left it
        journal.quarantine(tx, entry.id, service.clock(), "internal error: DataError")
    assert main(["--config", str(path), "quarantine", "retry", "--all"]) == 0
    with service.store.transaction() as tx:
        assert not journal.quarantined(tx) and tickets.count(tx) == 1


def test_mail_over_a_mime_cap_is_quarantined_with_the_cap_and_the_batch_proceeds(
    make_config: ConfigFactory,
) -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart\r\n" for _ in range(600))
    endless = (
        HEAD + b"Message-ID: <endless@evil.example>\r\nSubject: endless\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"
    )
    service = build_service(make_config())
    assert _batch(service, endless) == ["created", "quarantined", "created"]
    with service.store.transaction() as tx:
        (row,) = journal.quarantined(tx)
    assert row.reason == "over the MIME part cap: more than 500 MIME parts"
