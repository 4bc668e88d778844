"""The supervisor: every long-running loop of the daemon restarts after an error, says
so once, records heartbeats, and a loop that cannot recover makes the daemon exit 1."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy.exc import OperationalError

from maildesk.config import Supervision
from maildesk.daemon import Daemon
from maildesk.outbox import make_transport
from maildesk.store import heartbeats, leases
from maildesk.supervise import Heartbeat, Policy, supervise

from .conftest import ConfigFactory, SmtpSink, build_service, free_port, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot
from .test_daemon import running

FAST = Policy(initial_backoff=0.01, max_backoff=0.05, healthy_seconds=60)


def test_a_failing_body_is_restarted_logged_once_and_recorded(
    make_sqlite_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store = build_service(make_sqlite_config()).store
    stop = threading.Event()
    calls: list[int] = []

    def body(beat: Heartbeat) -> None:
        calls.append(1)
        if len(calls) <= 3:
            raise RuntimeError("database is locked")
        beat.ok()
        stop.set()

    beat = Heartbeat(store, "processor", "node-a", build_service(make_sqlite_config()).clock)
    caplog.set_level(logging.DEBUG, logger="maildesk")
    supervise("processor", body, stop, beat, FAST, lambda _: pytest.fail("not unhealthy"))
    assert len(calls) == 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the same error three times: said once
    assert "processor: RuntimeError: database is locked; retrying in" in warnings[0].message
    assert "\n" not in warnings[0].getMessage()
    assert "recovered after" in caplog.text
    with store.transaction() as tx:
        (row,) = heartbeats.listing(tx)
    assert (row.name, row.node) == ("processor", "node-a")
    assert row.last_success_at and row.last_error_at and "locked" in row.last_error


def test_a_loop_that_cannot_recover_reports_itself_unhealthy(
    make_sqlite_config: ConfigFactory,
) -> None:
    service = build_service(make_sqlite_config())
    beat = Heartbeat(service.store, "sender", "n", service.clock)
    policy = replace(FAST, unhealthy_exit_seconds=0.3)
    unhealthy: list[str] = []

    def body(_beat: Heartbeat) -> None:
        raise OSError("relay unreachable")

    started = time.monotonic()
    supervise("sender", body, threading.Event(), beat, policy, unhealthy.append)
    assert unhealthy == ["sender"] and time.monotonic() - started < 5


def test_daemon_exits_non_zero_when_a_mailbox_stays_unreachable(
    make_sqlite_config: ConfigFactory,
) -> None:
    cfg = make_sqlite_config(imap={"port": free_port()})
    cfg = replace(cfg, supervision=Supervision(unhealthy_exit_seconds=1.5))
    daemon = Daemon(cfg, build_service(cfg), make_transport(cfg.outbox))
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(daemon.run()), daemon=True)
    thread.start()
    thread.join(timeout=30)
    daemon.stop.set()
    assert result == [1]


def test_a_database_error_renewing_the_lease_does_not_stop_the_fetcher(
    make_config: ConfigFactory,
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = leases.take_lease
    failures = [3]

    def flaky(*args: object, **kwargs: object) -> bool:
        if failures[0] > 0:
            failures[0] -= 1
            raise OperationalError("UPDATE leases", {}, Exception("connection refused"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(leases, "take_lease", flaky)
    cfg = make_config(transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port})
    dovecot.append("support", make_mail(1))
    caplog.set_level(logging.INFO, logger="maildesk")
    with running(cfg) as daemon:
        smtp_sink.wait_for(1, timeout=30)
        wait_until(lambda: _beat_names(daemon) >= {"imap-support", "processor", "sender"})
    assert failures == [0] and "imap-support: OperationalError" in caplog.text


def _beat_names(daemon: Daemon) -> set[str]:
    with daemon.store.transaction() as tx:
        return {r.name for r in heartbeats.listing(tx) if r.last_success_at}
