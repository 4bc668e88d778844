"""PostgreSQL restarted (fast and crash) while mail is being ingested, under one daemon
and under two sharing a mailbox: intake resumes by itself, every message becomes exactly
one ticket with one acknowledgment, and `maildesk status` says unhealthy while the
database is away and healthy again once it is back."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from maildesk import config as config_mod
from maildesk import db
from maildesk.cli import main
from maildesk.outbox import MARK_EVERY
from maildesk.store import Store, journal, leases, tickets
from maildesk.store.health import lease_holders

from .conftest import ConfigFactory, SmtpSink, require, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot
from .servers.postgres import PostgresCluster, postgres_available
from .subprocesses import acks_by_message_id, start_daemon, wait_started
from .test_daemon import running_thread

pytestmark = pytest.mark.slow

AWAY_SECONDS = 4.0  # longer than the lease of the two-daemon test


@pytest.fixture
def own_pg() -> Iterator[tuple[PostgresCluster, str]]:
    """A cluster of this test's own: it is stopped and killed."""
    require(postgres_available())
    with PostgresCluster() as cluster:
        # A crash must not lose what was committed: the shared test cluster's
        # synchronous_commit=off would (its last ~200 ms of commits), as no real server does.
        with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("SELECT pg_reload_conf()")
        cluster.create_database("maildesk")
        engine = db.make_engine(cluster.url("maildesk"))
        db.upgrade(engine)
        engine.dispose()
        yield cluster, cluster.url("maildesk")


class Probe:
    """Reads the end state through one engine; -1 while the database is away."""

    def __init__(self, url: str) -> None:
        self.store = Store(db.make_engine(url))

    def tickets(self) -> int:
        try:
            with self.store.transaction() as tx:
                return tickets.count(tx)
        except Exception:
            return -1

    def requesters(self) -> set[str]:
        try:
            with self.store.transaction() as tx:
                return {t.requester_email for t in tickets.listing(tx, limit=1000)}
        except Exception:
            return set()

    def leftovers(self) -> tuple[int, int]:
        """(quarantined, pending)"""
        with self.store.transaction() as tx:
            return len(journal.quarantined(tx)), len(journal.pending_ids(tx, 1000))


def _append(dovecot: Dovecot, numbers: range) -> None:
    for n in numbers:
        dovecot.append("support", make_mail(n, sender=f"user{n}@example.com"))


def _check_acks(sink: SmtpSink, count: int, daemons: int) -> int:
    """Every ticket acknowledged, by exactly one Message-ID; returns how many were sent again.
    A send whose "sent" mark the database lost in its crash is resent, same Message-ID
    (outbox.flush: at most MARK_EVERY per daemon): the recipient sees it once."""
    acks = acks_by_message_id(sink)
    assert len(acks) == count
    assert len({number for number, _ in acks}) == count  # one Message-ID per ticket
    resent = sum(acks.values()) - count
    assert resent <= MARK_EVERY * daemons
    return resent


def _live_holder(probe: Probe) -> str:
    """The one holder of the mailbox's lease, if it has not expired."""
    with probe.store.transaction() as tx:
        holder, expires = lease_holders(tx)["imap:support"]
        assert leases.lease_holder(tx, "imap:support") == holder  # one row, one holder
    return str(holder) if expires > datetime.now(UTC) else ""


def _status(path: Path) -> int:
    return main(["--config", str(path), "status"])


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "crash"])
def test_one_daemon_resumes_intake_after_postgresql_restarts(
    tmp_path: Path,
    own_pg: tuple[PostgresCluster, str],
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    fast: bool,
) -> None:
    cluster, url = own_pg
    path = ConfigFactory(tmp_path, url).write(
        transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port, "batch": 10}
    )
    cfg = config_mod.load(path)
    probe = Probe(url)
    with running_thread(cfg) as (_, thread):
        wait_until(lambda: _status(path) == 0, timeout=30, what="healthy status")
        _append(dovecot, range(50))
        wait_until(lambda: probe.tickets() >= 1, timeout=30, what="ingest under way")
        at_stop = probe.tickets()
        cluster.halt(fast)
        assert _status(path) != 0  # unhealthy while PostgreSQL is away
        time.sleep(AWAY_SECONDS)  # the outage itself, not a wait for a result
        cluster.resume()
        returned = time.monotonic()
        _append(dovecot, range(50, 70))
        new = {f"user{n}@example.com" for n in range(50, 70)}
        wait_until(lambda: bool(probe.requesters() & new), timeout=60, what="first new ticket")
        first_new = time.monotonic() - returned
        wait_until(lambda: probe.tickets() == 70, timeout=60, what="70 tickets")
        wait_until(lambda: len(acks_by_message_id(smtp_sink)) == 70, timeout=60, what="70 acks")
        all_done = time.monotonic() - returned
        wait_until(lambda: _status(path) == 0, timeout=30, what="healthy status again")
        healthy_after = time.monotonic() - returned
        assert thread.is_alive()  # the same daemon, never restarted
    mode = "fast" if fast else "crash"
    print(
        f"\n{mode} restart (one daemon): {at_stop} tickets when stopped; first new message "
        f"processed {first_new:.1f}s after PostgreSQL returned, all 70 acked after "
        f"{all_done:.1f}s, status healthy after {healthy_after:.1f}s"
    )
    resent = _check_acks(smtp_sink, 70, daemons=1)
    print(f"acknowledgments sent again (same Message-ID): {resent}")
    assert probe.tickets() == 70
    assert probe.leftovers() == (0, 0)
    probe.store.engine.dispose()


def test_two_daemons_survive_a_postgresql_crash_and_one_holds_the_lease(
    tmp_path: Path, own_pg: tuple[PostgresCluster, str], dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cluster, url = own_pg
    factory = ConfigFactory(tmp_path, url)
    common = {"transport": "smtp", "smtp_port": smtp_sink.port, "lease": 3}
    imap = {"port": dovecot.port, "poll": 1, "batch": 10}
    paths = {node: factory.write(node=node, imap=imap, **common) for node in ("alpha", "beta")}
    probe = Probe(url)
    _append(dovecot, range(60))
    logs = {node: tmp_path / f"{node}.log" for node in paths}
    procs = {node: start_daemon(paths[node], logs[node]) for node in paths}
    try:
        for node, proc in procs.items():
            wait_started(proc, logs[node], node=node)
        wait_until(lambda: probe.tickets() >= 1, timeout=30, what="ingest under way")
        at_stop = probe.tickets()
        cluster.halt(fast=False)
        time.sleep(AWAY_SECONDS)  # the outage: every lease expires meanwhile
        cluster.resume()
        returned = time.monotonic()
        _append(dovecot, range(60, 100))
        wait_until(lambda: probe.tickets() == 100, timeout=90, what="100 tickets")
        wait_until(lambda: len(acks_by_message_id(smtp_sink)) == 100, timeout=60, what="100 acks")
        all_done = time.monotonic() - returned
        assert all(proc.poll() is None for proc in procs.values())  # neither restarted
        holders = {f"{node}:{proc.pid}" for node, proc in procs.items()}
        wait_until(lambda: _live_holder(probe) in holders, timeout=15, what="a live lease")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                with suppress(Exception):
                    proc.wait(timeout=30)
    print(f"\ncrash (two daemons): {at_stop} tickets when stopped, 100 acked {all_done:.1f}s after")
    resent = _check_acks(smtp_sink, 100, daemons=2)
    print(f"acknowledgments sent again (same Message-ID): {resent}")
    assert probe.tickets() == 100 and probe.leftovers() == (0, 0)
    both_logs = "".join(log.read_text() for log in logs.values())
    assert both_logs.count("created IT-") == 100
    probe.store.engine.dispose()
