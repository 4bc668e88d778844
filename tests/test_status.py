"""`maildesk status`: each loop's heartbeat, mailboxes, backlog; exit 1 when unhealthy,
during a fault, and 0 again after it; read-only (no SQLite write lock)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from maildesk.cli import main
from maildesk.store import heartbeats

from .conftest import ConfigFactory, SmtpSink, build_service, require, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot, dovecot_available
from .test_daemon import running


def status(capsys: pytest.CaptureFixture[str], config: str, *extra: str) -> tuple[int, Any]:
    code = main(["--config", config, "status", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def states(report: Any) -> dict[str, str]:
    return {loop["name"]: loop["state"] for loop in report["loops"]}


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    require(dovecot_available())
    with Dovecot(users={"support": "secret"}) as server:
        yield server


def test_status_is_unhealthy_before_the_daemon_ever_ran(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = make_sqlite_config(imap={"port": 1})
    code, report = status(capsys, str(cfg.path))
    assert code == 1 and not report["healthy"]
    assert set(states(report).values()) == {"missing"}
    assert "imap-support" in states(report)


def test_status_follows_a_server_fault_and_the_recovery(
    make_config: ConfigFactory,
    own_dovecot: Dovecot,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = make_config(transport="smtp", smtp_port=smtp_sink.port, imap={"port": own_dovecot.port})
    own_dovecot.append("support", make_mail(1))
    with running(cfg):
        smtp_sink.wait_for(1)
        wait_until(lambda: status(capsys, str(cfg.path))[0] == 0, what="healthy")
        _code, report = status(capsys, str(cfg.path))
        assert states(report) == dict.fromkeys(
            ["imap-support", "processor", "sender", "summaries", "timers", "digests"], "ok"
        )
        assert report["mailboxes"][0]["state"] == "ok"
        assert report["mailboxes"][0]["holder"].startswith("test:")
        assert report["outbox"] == {"sent": 1} and report["quarantined"] == 0
        own_dovecot.kill()
        wait_until(lambda: status(capsys, str(cfg.path))[0] == 1, what="unhealthy")
        _code, report = status(capsys, str(cfg.path))
        assert states(report)["imap-support"] == "error"
        assert "mailbox support" in report["problems"][0]
        own_dovecot.restart()
        wait_until(lambda: status(capsys, str(cfg.path))[0] == 0, what="healthy again")
    assert main(["--config", str(cfg.path), "status"]) == 0
    text = capsys.readouterr().out
    assert "healthy" in text and "imap-support" in text and "outbox: sent 1" in text


def test_status_reads_without_the_write_lock(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = make_sqlite_config()
    assert main(["--config", str(cfg.path), "db", "upgrade"]) == 0
    capsys.readouterr()
    database = cfg.database_url.split("sqlite:///", 1)[1]
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        started = time.monotonic()
        code, report = status(capsys, str(cfg.path))
        assert time.monotonic() - started < 10
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert code == 1 and report["journal_pending"] == 0


def test_a_hung_loop_exits_3_for_the_watchdog(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = make_sqlite_config()
    store = build_service(cfg).store
    now = datetime.now(UTC)
    with store.transaction() as tx:
        heartbeats.record_success(tx, "processor", "test", now)
        heartbeats.record_success(tx, "summaries", "test", now)
        heartbeats.record_success(tx, "timers", "test", now)
        heartbeats.record_success(tx, "digests", "test", now)
        heartbeats.record_error(tx, "sender", "test", now, "OSError: relay unreachable")
    code, report = status(capsys, str(cfg.path))
    assert code == 1 and not report["hung"]
    assert states(report) == {
        "processor": "ok",
        "summaries": "ok",
        "timers": "ok",
        "digests": "ok",
        "sender": "error",
    }
    with store.transaction() as tx:
        heartbeats.record_success(tx, "processor", "test", now - timedelta(minutes=10))
    code, report = status(capsys, str(cfg.path))
    assert code == 3 and report["hung"] and states(report)["processor"] == "stale"
    code, report = status(capsys, str(cfg.path), "--node", "elsewhere")
    assert code == 1 and set(states(report).values()) == {"missing"}
