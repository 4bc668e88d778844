"""The daemon against real servers: Dovecot (IMAP), aiosmtpd (relay), SQLite/PostgreSQL."""

from __future__ import annotations

import email
import os
import smtplib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from maildesk.clock import Clock
from maildesk.config import Config
from maildesk.daemon import Daemon
from maildesk.mailbox import Fetcher, connect
from maildesk.outbox import make_transport
from maildesk.store import leases, tickets
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, SmtpSink, build_service, free_port, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot


@contextmanager
def running(cfg: Config, clock: Clock | None = None) -> Iterator[Daemon]:
    """The daemon in a thread; with `clock`, on time the test sets."""
    with running_thread(cfg, clock) as (daemon, _):
        yield daemon


@contextmanager
def running_thread(
    cfg: Config, clock: Clock | None = None
) -> Iterator[tuple[Daemon, threading.Thread]]:
    """`running`, with the thread the daemon runs on (to see that it never stopped)."""
    daemon = Daemon(cfg, build_service(cfg, clock), make_transport(cfg.outbox))
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        yield daemon, thread
    finally:
        daemon.stop.set()
        daemon.inbox_ready.set()
        daemon.outbox_ready.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "daemon did not stop within 30 s"


def ack_numbers(sink: SmtpSink) -> list[str]:
    numbers = []
    for _, _, raw in sink.messages:
        subject = str(email.message_from_bytes(raw)["Subject"])
        numbers.append(subject.split("]")[0].strip("["))
    return numbers


def test_imap_mail_becomes_ticket_and_ack_reaches_smtp(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    for n in range(3):
        dovecot.append("support", make_mail(n))
    cfg = make_config(transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port})
    with running(cfg) as daemon:
        mails = smtp_sink.wait_for(3)
        dovecot.append("support", make_mail(10))  # arrives while the daemon IDLEs
        mails = smtp_sink.wait_for(4)
        with daemon.store.transaction() as tx:
            assert tickets.count(tx) == 4
    assert sorted(m[1][0] for m in mails) == ["zhang.wei@example.com"] * 4
    assert len(set(ack_numbers(smtp_sink))) == 4
    assert dovecot.count("support", criteria="UNSEEN") == 0
    assert dovecot.count("support", criteria="SEEN") == 4


def test_several_mailboxes_are_watched(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    dovecot.add_user("helpdesk", "secret2")
    second = f"""
[[imap]]
name = "helpdesk"
host = "127.0.0.1"
port = {dovecot.port}
security = "plain"
username = "helpdesk"
password_env = "TEST_HELPDESK_PASSWORD"
"""
    os.environ["TEST_HELPDESK_PASSWORD"] = "secret2"
    try:
        cfg = make_config(
            transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port}, extra=second
        )
    finally:
        del os.environ["TEST_HELPDESK_PASSWORD"]
    dovecot.append("support", make_mail(1))
    dovecot.append("helpdesk", make_mail(2))
    with running(cfg) as daemon:
        smtp_sink.wait_for(2)
        with daemon.store.transaction() as tx:
            assert leases.mailbox_state(tx, "support") and leases.mailbox_state(tx, "helpdesk")
    assert dovecot.count("helpdesk", criteria="UNSEEN") == 0


def test_restart_resumes_without_duplicates(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cfg = make_config(transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port})
    dovecot.append("support", make_mail(1))
    with running(cfg):
        smtp_sink.wait_for(1)
    dovecot.append("support", make_mail(2))
    with dovecot.client("support") as client:  # someone un-reads mail: no second ticket
        client.select_folder("INBOX")
        client.remove_flags(client.search("ALL"), [b"\\Seen"])
    with running(cfg) as daemon:
        smtp_sink.wait_for(2)
        time.sleep(1)
        with daemon.store.transaction() as tx:
            assert tickets.count(tx) == 2
    assert len(smtp_sink.messages) == 2


def test_move_mode_moves_processed_mail(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cfg = make_config(
        transport="smtp",
        smtp_port=smtp_sink.port,
        imap={"port": dovecot.port, "on_done": "move", "move_to": "Processed", "idle": "false"},
    )
    for n in range(2):
        dovecot.append("support", make_mail(n))
    with running(cfg):
        smtp_sink.wait_for(2)
        wait_until(lambda: dovecot.count("support", "Processed") == 2, what="moved mail")
    assert dovecot.count("support") == 0


def test_uidvalidity_change_rescans_and_journal_drops_repeats(
    make_config: ConfigFactory, dovecot: Dovecot
) -> None:
    cfg = make_config(imap={"port": dovecot.port})
    service = build_service(cfg)
    dovecot.append("support", make_mail(1))
    fetcher = Fetcher(cfg.imap[0], service, "t:1", 30, lambda _: None, service.clock)
    client = connect(cfg.imap[0])
    try:
        assert fetcher.sync(client) == 1
        with service.store.transaction() as tx:
            uidvalidity, last = leases.mailbox_state(tx, "support") or (0, 0)
            # as after a server rebuild
            leases.save_mailbox_state(tx, "support", uidvalidity + 1, last)
        assert fetcher.sync(client) == 1  # everything fetched again...
    finally:
        client.logout()
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 1  # ...but only one ticket


def test_smtp_intake_answers_250_after_storing(make_config: ConfigFactory) -> None:
    port = free_port()
    cfg = make_config(intake="true", intake_port=port)
    with running(cfg) as daemon:
        wait_until(lambda: _accepts(port), what="SMTP intake listening")
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("zhang.wei@example.com", ["it-support@example.com"], make_mail(1))
            client.sendmail("<>", ["it-support@example.com"], make_mail(2))
        wait_until(lambda: _tickets(daemon) == 2, what="two tickets")
        wait_until(lambda: _outbox_status(daemon) == "sent", what="ack sent")
        assert len(list(cfg.outbox.folder.glob("*.eml"))) == 1
        with daemon.store.transaction() as tx:
            sources = [t.requester_email for t in tickets.listing(tx)]
    assert sources == ["zhang.wei@example.com"] * 2
    ack = email.message_from_bytes(next(cfg.outbox.folder.glob("*.eml")).read_bytes())
    assert ack["To"].endswith("<zhang.wei@example.com>")  # the <> sender got no ack


def test_a_listener_that_stops_serving_is_started_again(make_sqlite_config: ConfigFactory) -> None:
    """The SMTP intake is one of the supervised loops: its server closed under it (as a
    crashed event loop would leave it), it is started again and takes mail."""
    from maildesk.daemon import listening

    port = free_port()
    cfg = make_sqlite_config(intake="true", intake_port=port)
    with running(cfg) as daemon:
        # the port accepts while Controller.start() runs, before `daemon.listener` is set
        wait_until(lambda: daemon.listener is not None and _accepts(port),
                   what="SMTP intake listening")  # fmt: skip
        broken = daemon.listener
        assert broken is not None and listening(broken)
        broken.loop.call_soon_threadsafe(broken.server.close)
        wait_until(lambda: not listening(broken), what="the listener to stop serving")
        wait_until(lambda: daemon.listener is not broken and listening(daemon.listener),
                   what="the listener started again")  # fmt: skip
        wait_until(lambda: _accepts(port), what="SMTP intake listening again")
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("zhang.wei@example.com", ["it-support@example.com"], make_mail(1))
        wait_until(lambda: _tickets(daemon) == 1, what="a ticket from the new listener")


def test_lmtp_intake_answers_each_recipient(make_config: ConfigFactory) -> None:
    port = free_port()
    cfg = make_config(intake="true", intake_port=port, protocol="lmtp")
    with running(cfg) as daemon:
        wait_until(lambda: _accepts(port), what="LMTP intake listening")
        with smtplib.LMTP("127.0.0.1", port) as client:  # LMTP: one reply per recipient
            client.ehlo_or_helo_if_needed()
            client.mail("zhang.wei@example.com")
            client.rcpt("it-support@example.com")
            client.rcpt("it@example.com")
            first = client.data(make_mail(1))
            second = client.getreply()
        assert first[0] == 250 and second[0] == 250
        wait_until(lambda: _tickets(daemon) == 1, what="ticket from LMTP")


def test_failed_sends_are_retried_then_marked_failed(
    make_config: ConfigFactory, smtp_sink: SmtpSink
) -> None:
    cfg = make_config(transport="smtp", smtp_port=smtp_sink.port, max_attempts=3, backoff=0.1)
    service = build_service(cfg)
    service.ingest(make_mail(1), "t")
    smtp_sink.refuse_with = "451 4.3.0 try later"
    with running(cfg) as daemon:
        wait_until(lambda: _outbox_status(daemon) == "failed", what="mail marked failed")
        with daemon.store.transaction() as tx:
            row = outbox_rows.listing(tx)[0]
        assert row.attempts == 3 and "451" in row.last_error
        smtp_sink.refuse_with = None
        with daemon.store.transaction() as tx:
            assert outbox_rows.retry(tx, service.clock(), None) == 1
        daemon.outbox_ready.set()
        smtp_sink.wait_for(1)
        wait_until(lambda: _outbox_status(daemon) == "sent", what="mail sent after retry")


def test_permanent_refusal_fails_at_once(make_config: ConfigFactory, smtp_sink: SmtpSink) -> None:
    cfg = make_config(transport="smtp", smtp_port=smtp_sink.port, max_attempts=5)
    build_service(cfg).ingest(make_mail(1), "t")
    smtp_sink.refuse_with = "554 5.7.1 rejected"
    with running(cfg) as daemon:
        wait_until(lambda: _outbox_status(daemon) == "failed", what="mail marked failed")
        with daemon.store.transaction() as tx:
            assert outbox_rows.listing(tx)[0].attempts == 1


def test_unreachable_smtp_server_is_retried(make_config: ConfigFactory) -> None:
    """An unreachable relay is an outage, not the mail's fault: the mail waits (one attempt
    recorded), the relay is probed with backoff, and the mail goes once it answers."""
    relay = SmtpSink()  # its port stays closed until started
    cfg = make_config(transport="smtp", smtp_port=relay.port, max_attempts=2, backoff=0.1)
    build_service(cfg).ingest(make_mail(1), "t")
    with running(cfg) as daemon:
        wait_until(lambda: bool(_outbox_row(daemon).attempts), what="a failed attempt")
        time.sleep(1)  # probes at 0.1, 0.3, 0.7 s: none of them fails the mail
        row = _outbox_row(daemon)
        assert (row.status, row.attempts) == ("pending", 1) and "Connection" in row.last_error
        relay.controller.start()
        try:
            relay.wait_for(1)
            wait_until(lambda: _outbox_status(daemon) == "sent", what="mail sent")
        finally:
            relay.controller.stop()


def _accepts(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=1) as client:
            return client.noop()[0] == 250
    except OSError:
        return False


def _tickets(daemon: Daemon) -> int:
    with daemon.store.transaction() as tx:
        return tickets.count(tx)


def _outbox_row(daemon: Daemon) -> outbox_rows.OutboxRow:
    with daemon.store.transaction() as tx:
        return outbox_rows.listing(tx)[0]


def _outbox_status(daemon: Daemon) -> str:
    with daemon.store.transaction() as tx:
        rows = outbox_rows.listing(tx)
    return rows[0].status if rows else ""
