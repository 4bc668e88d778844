"""Faults the IMAP fetcher must notice by itself: Dovecot killed (no BYE) under an
idling and under a polling daemon, then restarted.  New mail must be fetched within
seconds of the server's return, and the CPU must stay idle while it is away."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from maildesk.config import Supervision

from .conftest import ConfigFactory, SmtpSink, require
from .mails import make_mail
from .servers.dovecot import Dovecot, dovecot_available
from .test_daemon import running

AWAY_SECONDS = 6.0


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A server of this test's own: it is killed."""
    require(dovecot_available())
    with Dovecot(users={"support": "secret"}) as server:
        yield server


@pytest.mark.parametrize("idle", ["true", "false"])
def test_mail_is_fetched_soon_after_a_killed_server_returns(
    make_sqlite_config: ConfigFactory,
    own_dovecot: Dovecot,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
    idle: str,
) -> None:
    cfg = make_sqlite_config(
        transport="smtp", smtp_port=smtp_sink.port, imap={"port": own_dovecot.port, "idle": idle}
    )
    cfg = replace(cfg, supervision=Supervision(imap_timeout_seconds=5))
    own_dovecot.append("support", make_mail(1))
    caplog.set_level(logging.INFO, logger="maildesk")
    with running(cfg):
        smtp_sink.wait_for(1)
        time.sleep(1.5)  # idling (or between polls)
        own_dovecot.kill()
        cpu = time.process_time()
        time.sleep(AWAY_SECONDS)
        cpu_away = time.process_time() - cpu
        own_dovecot.restart()
        returned = time.monotonic()
        own_dovecot.append("support", make_mail(2))
        smtp_sink.wait_for(2, timeout=60)
        fetched_after = time.monotonic() - returned
    mode = "IDLE" if idle == "true" else "polling"
    print(
        f"\n{mode}: first message fetched {fetched_after:.1f}s after the server returned; "
        f"CPU while away {cpu_away:.2f}s in {AWAY_SECONDS:.0f}s"
    )
    assert fetched_after < 15
    assert cpu_away < 0.1 * AWAY_SECONDS
    assert "connection problem" in caplog.text and "recovered after" in caplog.text
    if idle == "true":
        assert "closed the connection while idling" in caplog.text


def test_a_silent_server_is_noticed_and_mail_fetched_when_it_answers_again(
    make_sqlite_config: ConfigFactory,
    own_dovecot: Dovecot,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = make_sqlite_config(
        transport="smtp", smtp_port=smtp_sink.port, imap={"port": own_dovecot.port}
    )
    quick = Supervision(imap_timeout_seconds=2, idle_refresh_seconds=2)
    cfg = replace(cfg, supervision=quick)
    own_dovecot.append("support", make_mail(1))
    caplog.set_level(logging.INFO, logger="maildesk")
    with running(cfg):
        smtp_sink.wait_for(1)
        own_dovecot.freeze()
        try:
            cpu = time.process_time()
            time.sleep(AWAY_SECONDS)
            cpu_away = time.process_time() - cpu
            noticed = "connection problem" in caplog.text
        finally:
            own_dovecot.freeze(False)
        returned = time.monotonic()
        own_dovecot.append("support", make_mail(2))
        smtp_sink.wait_for(2, timeout=60)
        fetched_after = time.monotonic() - returned
    print(
        f"\nsilent server: first message fetched {fetched_after:.1f}s after it answered "
        f"again; CPU while silent {cpu_away:.2f}s in {AWAY_SECONDS:.0f}s"
    )
    assert noticed and "timed out" in caplog.text
    assert fetched_after < 15
    assert cpu_away < 0.1 * AWAY_SECONDS
