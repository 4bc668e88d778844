"""Crash safety: the daemon as a real subprocess, killed with SIGKILL and restarted.

Exactly one ticket per message, nothing lost, every acknowledgment delivered.  A
repeated acknowledgment is allowed only as a resend of the same outbox row (same
Message-ID), which happens when a kill falls between the SMTP server's 250 and the
commit that records it; the test counts and reports those.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from maildesk import config as config_mod
from maildesk.outbox import MARK_EVERY
from maildesk.store import journal, tickets
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot
from .subprocesses import acks_by_message_id, start_daemon, wait_started

pytestmark = pytest.mark.slow
MESSAGES = 200
KILLS = 6


def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(
    make_sqlite_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with dovecot.client("support") as client:
        for n in range(MESSAGES):
            body = f"问题 {n}\n" + "详细描述。" * 50
            client.append("INBOX", make_mail(n, sender=f"user{n}@example.com", body=body))
    path = make_sqlite_config.write(
        transport="smtp",
        smtp_port=smtp_sink.port,
        imap={"port": dovecot.port, "poll": 1, "batch": 10},
        extra="",
    )
    cfg = config_mod.load(path)
    smtp_sink.delay = 0.02  # a relay that takes 20 ms a mail: kills land while work is in hand
    log = tmp_path / "daemon.log"
    rng = random.Random(20261122)
    kills = []
    for _ in range(KILLS):
        proc = start_daemon(path, log)
        wait_started(proc, log)
        delay = rng.uniform(0.0, 0.4)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        kills.append((round(delay, 2), _tickets(cfg), len(smtp_sink.messages)))
    proc = start_daemon(path, log)
    wait_started(proc, log)
    try:
        wait_until(lambda: _tickets(cfg) == MESSAGES, timeout=120, what="all tickets")
        smtp_sink.wait_for(MESSAGES, timeout=120)
        wait_until(lambda: _pending_outbox(cfg) == 0, timeout=60, what="outbox drained")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]

    acks = acks_by_message_id(smtp_sink)
    numbers = Counter(number for number, _ in acks)
    resent = sum(n - 1 for n in acks.values())
    print(f"\ncrash test: kills (delay s, tickets, acks at kill) = {kills}")
    print(f"crash test: {MESSAGES} messages, {_tickets(cfg)} tickets, {len(acks)} distinct acks, "
          f"{resent} resent after a kill between SMTP 250 and commit")  # fmt: skip
    mid_work = [k for k in kills if k[1] < MESSAGES or k[2] < MESSAGES]
    assert len(mid_work) >= 5, f"fewer than 5 kills fell while work was in hand: {kills}"
    assert _tickets(cfg) == MESSAGES
    assert all(n == 1 for n in numbers.values()), "a ticket got two different acknowledgments"
    assert len(numbers) == MESSAGES
    assert resent <= len(kills) * MARK_EVERY
    with build_service(cfg).store.transaction() as tx:
        assert journal.quarantined(tx) == []
        assert journal.pending_ids(tx, 10) == []
        assert sorted(t.number for t in tickets.listing(tx, limit=1000)) == sorted(numbers)
    assert dovecot.count("support", criteria="UNSEEN") == 0


def _tickets(cfg: config_mod.Config) -> int:
    with build_service(cfg).store.transaction() as tx:
        return tickets.count(tx)


def _pending_outbox(cfg: config_mod.Config) -> int:
    with build_service(cfg).store.transaction() as tx:
        counts = outbox_rows.counts(tx)
    return counts.get("pending", 0) + counts.get("sending", 0)
