"""Two daemons on one PostgreSQL and one mailbox share the work: one fetches at a time
(lease), the other takes over when the holder dies; no message is processed twice."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from maildesk import config as config_mod
from maildesk.store import journal, leases, tickets

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot
from .subprocesses import acks_by_message_id, start_daemon, wait_started

pytestmark = pytest.mark.slow


def test_two_daemons_one_mailbox_postgresql(
    tmp_path: Path, pg_url: str, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    factory = ConfigFactory(tmp_path, pg_url)
    common = {"transport": "smtp", "smtp_port": smtp_sink.port, "lease": 3}
    imap = {"port": dovecot.port, "poll": 1, "batch": 10}
    path_a = factory.write(node="alpha", imap=imap, **common)
    path_b = factory.write(node="beta", imap=imap, **common)
    cfg = config_mod.load(path_a)
    for n in range(60):
        dovecot.append("support", make_mail(n, sender=f"user{n}@example.com"))
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    daemons = {"alpha": start_daemon(path_a, log_a), "beta": start_daemon(path_b, log_b)}
    try:
        for name, proc in daemons.items():
            wait_started(proc, log_a if name == "alpha" else log_b, node=name)
        wait_until(lambda: _tickets(cfg) == 60, timeout=60, what="first 60 tickets")
        holder = _lease_holder(cfg)
        victim = daemons[holder.split(":")[0]]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        for n in range(60, 100):
            dovecot.append("support", make_mail(n, sender=f"user{n}@example.com"))
        wait_until(lambda: _tickets(cfg) == 100, timeout=60, what="takeover and 100 tickets")
        smtp_sink.wait_for(100, timeout=60)
        survivor = _lease_holder(cfg)
    finally:
        for proc in daemons.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    assert survivor.split(":")[0] != holder.split(":")[0]
    acks = acks_by_message_id(smtp_sink)
    numbers = {number for number, _ in acks}
    assert len(numbers) == 100 and len(acks) == 100  # one ack per ticket, never two
    with build_service(cfg).store.transaction() as tx:
        assert {t.number for t in tickets.listing(tx, limit=1000)} == numbers
        assert journal.pending_ids(tx, 10) == []
    both_logs = log_a.read_text() + log_b.read_text()
    assert both_logs.count("created IT-") == 100


def _tickets(cfg: config_mod.Config) -> int:
    with build_service(cfg).store.transaction() as tx:
        return tickets.count(tx)


def _lease_holder(cfg: config_mod.Config) -> str:
    with build_service(cfg).store.transaction() as tx:
        holder = leases.lease_holder(tx, "imap:support")
    assert holder
    return str(holder)
