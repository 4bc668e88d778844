"""The outbox through a relay outage, over a real aiosmtpd, on SQLite and PostgreSQL: while
the relay is down it is probed once per backoff step (the CPU idle, the log quiet); when it
is back the backlog goes at once, oldest first.  Time is a TestClock: nothing sleeps."""

from __future__ import annotations

import email
import logging
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from maildesk.clock import TestClock
from maildesk.config import Config
from maildesk.domain import OutgoingMail
from maildesk.outbox import RELAY_ERROR, Sender, make_transport
from maildesk.store import Store, claims
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, SmtpSink, build_service, free_port

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ACKS = 1000
DOMAINS = ("example.com", "corp.example", "lab.example.org", "mail.example.net", "hq.example")
STEP = timedelta(seconds=5)  # how often the test's sender loop comes round
OUTAGE = timedelta(minutes=20)


def ack(i: int) -> OutgoingMail:
    """An acknowledgment as the desk writes one, to a requester of its own."""
    requester = f"user{i:04d}@{DOMAINS[i % len(DOMAINS)]}"
    subject = f"[#{i + 1:05d}] Re: printer on floor {i % 9} prints blank pages"
    mid = f"<ack.{i:05d}@desk.example>"
    msg = EmailMessage()
    msg["From"] = "IT support <it-support@example.com>"
    msg["To"] = requester
    msg["Subject"] = subject
    msg["Message-ID"] = mid
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("We received your request and opened a ticket for it.\n" * 12)
    return OutgoingMail("ack", "it-support@example.com", (requester,), subject, mid, bytes(msg))


def queue_acks(store: Store) -> None:
    """ACKS acknowledgments, one second apart: the lowest id is the oldest."""
    with store.transaction() as tx:
        for i in range(ACKS):
            outbox_rows.enqueue(tx, ack(i), None, None, T0 + timedelta(seconds=i))


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every outgoing TCP connection smtplib tries, refused or not."""
    made: list[Any] = []
    real = socket.create_connection

    def counting(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting)
    yield made


def flush_for(sender: Sender, clock: TestClock, span: timedelta) -> int:
    """The daemon's sender loop over `span`, one round every STEP; returns rows handled."""
    handled = 0
    for _ in range(int(span / STEP)):
        handled += sender.flush()
        clock.advance(STEP)
    return handled


def _until_sending(sender: Sender, clock: TestClock, limit: timedelta) -> timedelta:
    """Rounds every STEP until one sends something; how long that took."""
    start = clock.now()
    while clock.now() - start <= limit and not sender.flush():
        clock.advance(STEP)
    return clock.now() - start


def test_a_backlog_goes_oldest_first_after_an_outage(
    make_config: ConfigFactory,
    connects: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay = SmtpSink()  # not started yet: its port is closed
    cfg = make_config(transport="smtp", smtp_port=relay.port, backoff=30, max_attempts=8)
    assert cfg.outbox.backoff_max_seconds == 300  # the default
    store = build_service(cfg).store
    queue_acks(store)
    clock = TestClock(T0 + timedelta(seconds=ACKS))
    sender = Sender(store, make_transport(cfg.outbox), cfg.outbox, "test:1", clock.now)
    caplog.set_level(logging.INFO, logger="maildesk.outbox")

    cpu = time.process_time()
    flush_for(sender, clock, STEP)
    held_up = _back_off_the_oldest(store, clock.now())
    flush_for(sender, clock, OUTAGE - STEP)
    cpu = time.process_time() - cpu
    print(f"\nrelay down {OUTAGE}: {len(connects)} connection attempts, CPU {cpu:.2f} s")
    # probes at 0, 30, 90, 210, 450, 750, 1050 s: one per backoff step (cap 300 s)
    assert len(connects) <= 8, connects
    assert cpu < 10  # generous: ~0.3 s here; each attempt of the old sender cost ~50 ms
    assert _attempted(cfg) <= 1 + held_up  # the probes spend no mail's attempts

    relay.controller.start()
    try:
        up = clock.now()
        waited = _until_sending(sender, clock, timedelta(seconds=300))
        rounds = 0
        while sender.flush() and rounds < ACKS:
            rounds += 1
        received = relay.wait_for(ACKS)
    finally:
        relay.controller.stop()
    print(f"relay up: first mail sent {waited} later, at the next probe")
    assert waited <= timedelta(seconds=300)  # one backoff step at most
    assert len(received) == ACKS
    mids = [_message_id(raw) for _, _, raw in received]
    assert mids[:10] == [f"<ack.{i:05d}@desk.example>" for i in range(10)]
    assert len(set(mids)) == ACKS  # none twice
    assert _statuses(cfg) == {"sent": ACKS}
    assert up <= clock.now()
    _assert_quiet(caplog.records)


def _assert_quiet(records: list[logging.LogRecord]) -> None:
    """One line when the outage starts, a reminder every 5 min, one when it ends."""
    lines = [r.getMessage() for r in records if "relay" in r.getMessage()]
    print("\n".join(lines))
    assert not [r for r in records if r.exc_info]
    starts = [r for r in records if "relay unavailable" in r.getMessage()]
    assert len(starts) == 1 and starts[0].levelno == logging.WARNING
    assert "Connection refused" in starts[0].getMessage()
    reminders = [r for r in records if "relay still unavailable" in r.getMessage()]
    assert 3 <= len(reminders) <= 5  # 20 minutes, then up to one backoff step
    assert all(f"{ACKS} mail(s) waiting" in r.getMessage() for r in reminders)
    [end] = [r for r in records if "relay is back" in r.getMessage()]
    assert end.levelno == logging.INFO and "after 2" in end.getMessage()
    assert len([r for r in records if r.levelno >= logging.WARNING]) == 1 + len(reminders)


def _back_off_the_oldest(store: Store, now: datetime) -> int:
    """The 10 oldest acknowledgments failed 6 times and wait an hour, as an earlier run or
    another daemon left them (half in the older form of last_error)."""
    late = now + timedelta(hours=1)
    with store.transaction() as tx:
        ids = sorted(r.id for r in outbox_rows.listing(tx, limit=ACKS))[:10]
        for n, outbox_id in enumerate(ids):
            error = ("" if n % 2 else RELAY_ERROR) + "ConnectionRefusedError: [Errno 111] refused"
            claims.mark_failed_attempt(tx, outbox_id, error, late, 6)
    return len(ids)


def _message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw)["Message-ID"])


def _attempted(cfg: Config) -> int:
    with build_service(cfg).store.transaction() as tx:
        return sum(1 for r in outbox_rows.listing(tx, limit=ACKS) if r.attempts)


def _statuses(cfg: Config) -> dict[str, int]:
    with build_service(cfg).store.transaction() as tx:
        return outbox_rows.counts(tx)


# --- SSL contexts ---------------------------------------------------------------------


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    made: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return made


@pytest.mark.parametrize("security", ["plain", "tls", "starttls"])
def test_one_ssl_context_per_transport_none_for_plain(
    make_sqlite_config: ConfigFactory, contexts: list[ssl.SSLContext], security: str
) -> None:
    cfg = make_sqlite_config(transport="smtp", smtp_port=free_port())
    out = _with_security(cfg, security)
    transport = make_transport(out)
    for _ in range(3):  # the port is closed: each attempt connects anew
        with pytest.raises(OSError):
            transport.probe()
    assert len(contexts) == (0 if security == "plain" else 1)


def test_plain_sends_without_an_ssl_context(
    make_sqlite_config: ConfigFactory, contexts: list[ssl.SSLContext], smtp_sink: SmtpSink
) -> None:
    cfg = make_sqlite_config(transport="smtp", smtp_port=smtp_sink.port)
    store = build_service(cfg).store
    with store.transaction() as tx:
        for i in range(3):
            outbox_rows.enqueue(tx, ack(i), None, None, T0)
    clock = TestClock(T0)
    transport = make_transport(cfg.outbox)
    sender = Sender(store, transport, cfg.outbox, "test:1", clock.now)
    assert sender.flush() == 3
    transport.close()
    assert len(smtp_sink.wait_for(3)) == 3
    assert contexts == []


def _with_security(cfg: Config, security: str) -> Any:
    from dataclasses import replace

    return replace(cfg.outbox, security=security, verify_certificate=False)


def test_a_connection_the_relay_closed_is_opened_again_without_an_outage(
    make_sqlite_config: ConfigFactory, smtp_sink: SmtpSink, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = make_sqlite_config(transport="smtp", smtp_port=smtp_sink.port)
    store = build_service(cfg).store
    clock = TestClock(T0)
    sender = Sender(store, make_transport(cfg.outbox), cfg.outbox, "test:1", clock.now)
    with store.transaction() as tx:
        outbox_rows.enqueue(tx, ack(0), None, None, T0)
    assert sender.flush() == 1
    smtp_sink.controller.stop()  # drops the idle connection the sender keeps
    smtp_sink.controller = Controller(smtp_sink, hostname="127.0.0.1", port=smtp_sink.port)
    smtp_sink.controller.start()
    with store.transaction() as tx:
        outbox_rows.enqueue(tx, ack(1), None, None, T0)
    assert sender.flush() == 1
    assert len(smtp_sink.wait_for(2)) == 2
    assert _statuses(cfg) == {"sent": 2}
    assert not sender.relay.down
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
