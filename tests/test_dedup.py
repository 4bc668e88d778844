"""A duplicate is the same Message-ID *and* the same content: the same mail delivered
twice (IMAP and SMTP) is one message; a different mail that reuses a Message-ID is
journaled and processed as its own, and says so.  SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from maildesk.intake import with_return_path
from maildesk.pipeline.fingerprint import TRACE, fingerprint, is_trace
from maildesk.service import Service
from maildesk.store import events, journal, tickets

from .conftest import ConfigFactory, build_service

FIXTURES = Path(__file__).parent / "fixtures" / "dedup"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def by_smtp(name: str) -> bytes:
    """The fixture as our SMTP intake stores it: LF line endings, and the Return-Path
    the intake adds instead of the one the IMAP copy has."""
    raw = fixture(name).replace(b"\r\n", b"\n")
    return with_return_path(
        raw.partition(b"Return-Path: <li.na@example.com>\n")[2], "li.na@example.com"
    )


# --- the fingerprint (pure) ---------------------------------------------------------------


def test_imap_copy_and_smtp_copy_have_one_fingerprint() -> None:
    imap, smtp = fixture("imap-copy.eml"), fixture("smtp-copy.eml")
    assert imap != smtp and b"\r\n" in imap and b"\r\n" not in smtp
    assert fingerprint(imap) == fingerprint(with_return_path(smtp, "zhang.wei@example.com"))


def test_fingerprint_differs_when_the_author_wrote_something_else() -> None:
    smtp = fixture("smtp-copy.eml")
    for before, after in [
        (b"09:00:01 +0800", b"09:00:02 +0800"),  # Date
        (b"X-Priority: 3", b"X-Priority: 1"),
        (
            b"Content-Transfer-Encoding: base64\n\n5ZCE",
            b"Content-Transfer-Encoding: base64\n\n5ZCF",
        ),
    ]:
        assert fingerprint(smtp.replace(before, after)) != fingerprint(smtp), before


def test_fingerprint_ignores_mbox_line_and_trailing_whitespace_only() -> None:
    smtp = fixture("smtp-copy.eml")
    mbox = b"From zhang.wei@example.com Sun Nov 22 09:00:03 2026\n" + smtp + b"\n\n"
    assert fingerprint(mbox) == fingerprint(smtp)
    assert fingerprint(smtp.replace(b"\n\n5ZCE", b"\n\n 5ZCE")) != fingerprint(smtp)


def test_trace_table_names_what_routes_and_mail_stores_add() -> None:
    for name in (b"Received", b"X-Received", b"Return-Path", b"Delivered-To",
                 b"X-Original-To", b"Envelope-To", b"Status", b"X-Status", b"X-Keywords",
                 b"X-UID", b"X-Mozilla-Status2", b"Content-Length", b"Lines",
                 b"X-Spam-Status", b"Authentication-Results", b"ARC-Seal", b"X-Rspamd-Queue-Id",
                 b"X-MS-Exchange-Organization-SCL", b"X-Forefront-Antispam-Report"):  # fmt: skip
        assert is_trace(name + b": x"), name
    for name in (b"From", b"Subject", b"Date", b"Message-ID", b"X-Mailer", b"DKIM-Signature",
                 b"References", b"X-Priority", b"Content-Type", b"Status-Line",
                 b"X-MS-Has-Attach", b"X-QQ-mid"):  # fmt: skip
        assert not is_trace(name + b": x"), name
    assert all(why for _, why in TRACE)


# --- ingestion, both databases ------------------------------------------------------------


def ticket_events(service: Service, number: str) -> list[dict[str, object]]:
    with service.store.transaction() as tx:
        ref = tickets.by_number(tx, number)
        assert ref is not None
        return events.listing(tx, ref.id)


def test_same_mail_by_imap_and_by_smtp_is_one_message(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    first = service.ingest(fixture("imap-copy.eml"), "imap:INBOX")
    smtp = with_return_path(fixture("smtp-copy.eml"), "zhang.wei@example.com")
    again = service.ingest(smtp, "smtp:192.0.2.10")
    assert (first.kind, again.kind) == ("created", "duplicate")
    assert again.inbound_id == first.inbound_id
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 1


def test_different_mail_reusing_a_message_id_is_its_own_ticket(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    first = service.ingest(fixture("reused-id-1.eml"), "imap:INBOX")
    second = service.ingest(fixture("reused-id-2.eml"), "imap:INBOX")
    assert (first.kind, second.kind) == ("created", "created")
    assert second.ticket_number != first.ticket_number
    said = f"Message-ID was used before by a different message (journal entry #{first.inbound_id})"
    assert said in second.detail and "used before" not in first.detail
    reused = [
        e for e in ticket_events(service, second.ticket_number) if e["kind"] == "message_id_reused"
    ]
    assert [e["text"] for e in reused] == [
        f"its Message-ID was used before by a different message (journal entry "
        f"#{first.inbound_id}); processed as a message of its own"
    ]
    assert all(
        e["kind"] != "message_id_reused" for e in ticket_events(service, first.ticket_number)
    )
    # each delivered again, by SMTP: a duplicate of itself, not of the other
    again = [service.ingest(by_smtp(f"reused-id-{n}.eml"), "smtp") for n in (2, 1)]
    assert [(o.kind, o.inbound_id) for o in again] == [
        ("duplicate", second.inbound_id),
        ("duplicate", first.inbound_id),
    ]


def test_reply_naming_a_shared_message_id_threads(make_config: ConfigFactory) -> None:
    """References naming an ID two tickets' messages share: the sender's newest ticket
    of the two; anyone else's reply goes to the first, so a later mail reusing an ID
    cannot take an existing ticket's replies."""
    service = build_service(make_config())
    first = service.ingest(fixture("reused-id-1.eml"), "imap:INBOX")
    second = service.ingest(fixture("reused-id-2.eml"), "imap:INBOX")
    reply = service.ingest(fixture("reply-to-reused-id.eml"), "imap:INBOX")
    colleague = service.ingest(fixture("colleague-reply-to-reused-id.eml"), "imap:INBOX")
    assert second.kind == "created"
    assert (reply.kind, reply.ticket_number) == ("threaded", second.ticket_number)
    assert "matched by references" in reply.detail
    assert (colleague.kind, colleague.ticket_number) == ("threaded", first.ticket_number)


def test_reused_id_is_noted_when_processed_after_a_restart(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    service.ingest(fixture("reused-id-1.eml"), "imap:INBOX")
    entry = service.receive(fixture("reused-id-2.eml"), "imap:INBOX")
    assert not entry.duplicate and entry.reuses is not None
    later = build_service(make_config())  # a new process: only the journal row remains
    [outcome] = later.process_pending()
    assert outcome.kind == "created" and f"journal entry #{entry.reuses}" in outcome.detail
    with service.store.transaction() as tx:
        assert journal.ticket_of(tx, entry.id) is not None
