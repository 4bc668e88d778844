"""Timers, exactly once, on time the test advances: auto-close of resolved tickets,
cancelled by a reply, caught up after downtime, raced by two schedulers, and
surviving a kill between claim and send."""

from __future__ import annotations

import email
import email.policy
import json
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from maildesk import config as config_mod
from maildesk import db
from maildesk.cli import main
from maildesk.clock import TestClock
from maildesk.config import ConfigError
from maildesk.daemon import Daemon
from maildesk.domain import Address, NewTicket
from maildesk.outbox import make_transport
from maildesk.render import keyed_nonce, make_renderer
from maildesk.service import Service
from maildesk.store import Store, events, tickets
from maildesk.store import outbox as outbox_rows
from maildesk.store import timers as timer_rows
from maildesk.store.base import T_TIMERS
from maildesk.timers import kinds, tick
from maildesk.timers.kinds import on_status
from maildesk.timers.model import TimerKind

from .conftest import ConfigFactory, build_service
from .test_engineers import PEOPLE, USER, mail

ENGINEER = "wang.gong@example.com"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DAYS = 7
NO_SURVEY = "\n[survey]\nenabled = false\n"


def setup(make_config: ConfigFactory, days: float = DAYS) -> tuple[Service, TestClock]:
    lifecycle = f"\n[lifecycle]\nauto_close_days = {days}\n"
    cfg = make_config(extra=PEOPLE + lifecycle + NO_SURVEY)  # surveys: tests/test_surveys.py
    clock = TestClock(START)
    return build_service(cfg, clock), clock


def rows(service: Service, kind: str = "closing_notice") -> list[outbox_rows.OutboxRow]:
    with service.store.transaction() as tx:
        return [r for r in outbox_rows.listing(tx, limit=100000) if r.kind == kind]


def open_ticket(service: Service, n: int = 1) -> tuple[str, str]:
    """A new VPN ticket routed to 王工: its number and his notification's Message-ID."""
    outcome = service.ingest(mail(USER, "VPN 连不上了", "交换机端口灯不亮。", n=n), "t")
    note = [r for r in rows(service, "notification") if r.ticket_number == outcome.ticket_number]
    return outcome.ticket_number, note[-1].message_id


def engineer_says(service: Service, number: str, note: str, text: str, n: int) -> None:
    reply = mail(f"王工 <{ENGINEER}>", f"Re: [{number}] VPN 连不上了", text, in_reply_to=note, n=n)
    assert service.ingest(reply, "t").kind == "worked"


def status(service: Service, number: str) -> str:
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
    assert ticket is not None
    return ticket.status


def run(service: Service, clock: TestClock, holder: str = "test:1") -> tick.TickReport:
    return tick.run(service.store, service.renderer, clock.now(), holder)


def test_resolved_ticket_is_closed_after_n_days_with_one_notice(
    make_config: ConfigFactory,
) -> None:
    service, clock = setup(make_config)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    clock.advance(days=DAYS, seconds=-1)
    assert run(service, clock).claimed == 0 and status(service, number) == "resolved"
    clock.advance(seconds=1)
    report = run(service, clock)
    assert (report.fired, report.mails) == (1, 1)
    assert status(service, number) == "closed"
    (notice,) = rows(service)
    assert notice.recipients == (USER,) and notice.ticket_number == number
    assert notice.lane == "bulk"  # thousands at once wait behind interactive mail
    text = body(service, notice)
    assert "7 天内直接回复本邮件" in text and number in text
    # threaded into the requester's conversation, under their first mail
    with service.store.transaction() as tx:
        raw = outbox_rows.raw(tx, notice.id) or b""
        ticket = tickets.view(tx, number)
        assert ticket is not None
        history = events.listing(tx, ticket.id)
        (timer,) = timer_rows.of_ticket(tx, ticket.id)
    assert str(parsed(raw)["References"]).startswith("<story-1-")  # the requester's first mail
    assert timer.state == "done" and timer.key == f"{ticket.id}:auto_close:1"
    assert any(e["kind"] == "timer" and "7 days" in e["text"] for e in history)
    assert keyed_nonce(f"{timer.key}:closing_notice", USER, "example.com") in notice.message_id
    clock.advance(days=30)
    assert run(service, clock).claimed == 0 and len(rows(service)) == 1


def test_a_reply_before_reopens_and_cancels_then_a_new_resolution_counts(
    make_config: ConfigFactory,
) -> None:
    service, clock = setup(make_config)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    clock.advance(days=3)
    again = mail(USER, f"Re: [{number}] VPN 连不上了", "还是连不上。", n=3)
    assert service.ingest(again, "t").kind == "threaded"
    assert status(service, number) != "resolved"
    clock.advance(days=DAYS)
    assert run(service, clock).claimed == 0 and rows(service) == []
    assert status(service, number) not in ("resolved", "closed")
    resolved_again = clock.now()
    engineer_says(service, number, note, "#resolve 换了网线", n=4)
    with service.store.transaction() as tx:
        found = timer_rows.pending(tx)
    assert [(t.step, t.due_at) for t in found] == [(2, resolved_again + timedelta(days=DAYS))]
    clock.advance(days=DAYS)
    assert run(service, clock).mails == 1 and status(service, number) == "closed"


def test_off_when_auto_close_days_is_zero(make_sqlite_config: ConfigFactory) -> None:
    service, clock = setup(make_sqlite_config, days=0)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 好了", n=2)
    clock.advance(days=365)
    assert run(service, clock).claimed == 0 and status(service, number) == "resolved"


def test_a_bad_value_names_the_key(make_sqlite_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError, match=r"lifecycle\.auto_close_days"):
        make_sqlite_config(extra="\n[lifecycle]\nauto_close_days = -1\n")


def test_status_changes_start_and_end_timers() -> None:
    cfg = _cfg_stub()
    start, _ = on_status("in_progress", "resolved", START, cfg)
    closing = [(s.kind, s.due_at) for s in start if s.kind == "auto_close"]
    assert closing == [("auto_close", START + timedelta(days=7))]
    started, ended = on_status("resolved", "in_progress", START, cfg)
    assert started == () and "auto_close" in ended
    assert on_status("resolved", "resolved", START, cfg) == ((), ())


def test_catch_up_after_downtime_sends_one_mail(make_config: ConfigFactory) -> None:
    """The daemon is down over the due time (and a month of missed ticks): at start it
    runs the timers once, and the ticket gets one notice."""
    service, clock = setup(make_config)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    clock.advance(days=40)
    daemon = Daemon(service.cfg, service, make_transport(service.cfg.outbox), clock=clock.now)
    daemon._release_own_claims()
    assert daemon.run_timers() == 1
    assert daemon.run_timers() == 0
    assert len(rows(service)) == 1 and status(service, number) == "closed"


def test_two_schedulers_on_postgresql_send_each_timer_once(pg_url: str) -> None:
    stores = [Store(db.make_engine(pg_url)), Store(db.make_engine(pg_url))]
    cfg = _cfg_stub()
    ids = seed(stores[0], 200, START - timedelta(minutes=1))
    services = [Service(cfg, s, make_renderer(cfg)) for s in stores]
    fired: dict[str, int] = {}

    def scheduler(service: Service, holder: str) -> None:
        while True:
            report = tick.run(service.store, service.renderer, START, holder, limit=20, batch=5)
            fired[holder] = fired.get(holder, 0) + report.fired
            if not report.claimed:
                return

    threads = [threading.Thread(target=scheduler, args=(s, f"node{i}:1"))
               for i, s in enumerate(services)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    sent = rows(services[0])
    assert len(sent) == 200 and len({r.message_id for r in sent}) == 200
    assert {r.ticket_number for r in sent} == {f"IT-T-{i:05d}" for i in range(200)}
    assert sum(fired.values()) == 200 and all(fired.values()), f"both took a share: {fired}"
    with stores[0].transaction() as tx:
        assert all(tickets.by_id(tx, i).status == "closed" for i in ids)


def seed(store: Store, n: int, due: datetime) -> list[int]:
    """n resolved tickets, each with an auto-close timer due at `due`."""
    ids = []
    with store.transaction() as tx:
        for i in range(n):
            who = Address("张伟", f"user{i}@example.com")
            new = NewTicket(f"VPN {i}", "连不上", who, "", "", "medium", "网络问题", "incident",
                            status="resolved")  # fmt: skip
            ids.append(tickets.create(tx, f"IT-T-{i:05d}", new, START - timedelta(days=8), None).id)
            timer_rows.schedule(tx, ids[-1], "auto_close", 1, due, START - timedelta(days=7))
    return ids


def _cfg_stub() -> config_mod.Config:
    folder = Path(tempfile.mkdtemp())
    return ConfigFactory(folder, f"sqlite:///{folder / 'unused.db'}")(extra=PEOPLE)


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body(service: Service, row: outbox_rows.OutboxRow) -> str:
    with service.store.transaction() as tx:
        raw = outbox_rows.raw(tx, row.id) or b""
    part = parsed(raw).get_body(("plain",))
    assert part is not None
    return str(part.get_content())


KILLED_AFTER = """
import os, signal, sys
from datetime import datetime, timedelta
from pathlib import Path
from maildesk import config, db
from maildesk.render import make_renderer
from maildesk.store import Store, timers
from maildesk.timers import tick

cfg = config.load(Path(sys.argv[1]))
store = Store(db.make_engine(cfg.database_url))
now, holder = datetime.fromisoformat(sys.argv[2]), f"test:{os.getpid()}"
if sys.argv[3] == "claim":
    with store.transaction() as tx:
        assert timers.claim_due(tx, now, 100, holder, timedelta(minutes=5))
else:
    assert tick.run(store, make_renderer(cfg), now, holder).mails == 1
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("killed_after", ["claim", "tick"])
def test_killed_between_claim_and_send_sends_once_after_restart(
    make_config: ConfigFactory, killed_after: str
) -> None:
    """A daemon SIGKILLed after claiming (nothing rendered) or after the tick committed
    (the mail queued, not sent): restarted, it sends the notice once, with the Message-ID
    derived from the timer's key."""
    service, clock = setup(make_config)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    clock.advance(days=DAYS, minutes=1)
    args = [str(service.cfg.path), clock.now().isoformat(), killed_after]
    done = subprocess.run([sys.executable, "-c", KILLED_AFTER, *args], check=False)
    assert done.returncode == -signal.SIGKILL
    assert status(service, number) == ("resolved" if killed_after == "claim" else "closed")
    if killed_after == "claim":  # another node waits for the lease to run out
        assert run(service, clock, "elsewhere:1").claimed == 0
    daemon = Daemon(service.cfg, service, make_transport(service.cfg.outbox), clock=clock.now)
    daemon._release_own_claims()  # the restart, under the same node name
    assert daemon.run_timers() == (1 if killed_after == "claim" else 0)
    while daemon.sender.flush():
        pass
    assert daemon.run_timers() == 0
    (notice,) = rows(service)
    assert notice.status == "sent" and status(service, number) == "closed"
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        (timer,) = timer_rows.of_ticket(tx, ticket.id)
    assert keyed_nonce(f"{timer.key}:closing_notice", USER, "example.com") in notice.message_id


def test_a_lease_that_runs_out_is_claimed_by_another_daemon(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    clock.advance(days=DAYS)
    with service.store.transaction() as tx:
        assert timer_rows.claim_due(tx, clock.now(), 10, "dead:1", tick.LEASE)
    assert run(service, clock, "alive:1").claimed == 0
    clock.advance(tick.LEASE + timedelta(seconds=1))
    assert run(service, clock, "alive:1").mails == 1 and len(rows(service)) == 1


def test_timers_list_shows_due_times_in_the_zone(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    service, _ = setup(make_sqlite_config)
    config = ["--config", str(service.cfg.path)]
    assert main([*config, "timers", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no pending timers"
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    assert main([*config, "timers", "list"]) == 0
    table = capsys.readouterr().out
    assert number in table and "auto_close" in table and "2026-11-30 09:00 (+08:00)" in table
    assert main([*config, "timers", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["ticket_number"] == number and row["due_at"] == "2026-11-30T09:00:00+08:00"


def test_a_working_time_kind_waits_for_the_next_working_instant(
    make_sqlite_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calendar plugs in as `working_time`: a kind flagged for it that falls due at
    night is deferred to the morning (one row, moved), then fires once."""
    spec = kinds.KINDS[TimerKind.AUTO_CLOSE]
    monkeypatch.setitem(kinds.KINDS, TimerKind.AUTO_CLOSE, replace(spec, working_time=True))
    service, clock = setup(make_sqlite_config)  # 01:00 UTC is 09:00 in Asia/Shanghai
    number, note = open_ticket(service)
    clock.advance(hours=17)  # 18:00 UTC = 02:00 local
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    clock.advance(days=DAYS)
    morning = clock.now() + timedelta(hours=7)  # 09:00 local

    def next_working(when: datetime) -> datetime:
        return max(when, morning)

    report = tick.run(service.store, service.renderer, clock.now(), "test:1",
                      working_time=next_working)  # fmt: skip
    assert (report.deferred, report.mails) == (1, 0) and status(service, number) == "resolved"
    with service.store.transaction() as tx:
        (pending,) = timer_rows.pending(tx)
    assert pending.due_at == morning and pending.lease_holder == ""
    clock.set(morning)
    report = tick.run(service.store, service.renderer, clock.now(), "test:1",
                      working_time=next_working)  # fmt: skip
    assert report.mails == 1 and status(service, number) == "closed"


def test_a_timer_whose_handler_raises_is_marked_failed_and_blocks_no_other(
    make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One bad timer used to roll back its whole batch on every tick, for ever: now the
    others fire and the bad one ends `failed: …`, logged, never retried in a loop."""
    service, clock = setup(make_config)
    opened = [open_ticket(service, n=10 * i) for i in range(1, 4)]
    for i, (number, note) in enumerate(opened):
        engineer_says(service, number, note, "#resolve 已重置交换机端口", n=10 * i + 5)
    bad = opened[0][0]
    spec = kinds.KINDS[TimerKind.AUTO_CLOSE]

    def handler(ticket: Any, timer: Any, now: datetime, cfg: Any) -> Any:
        if ticket.number == bad:
            raise ValueError("a template that cannot render")
        return spec.handler(ticket, timer, now, cfg)

    monkeypatch.setitem(kinds.KINDS, TimerKind.AUTO_CLOSE, replace(spec, handler=handler))
    clock.advance(days=DAYS)
    report = run(service, clock)
    assert (report.claimed, report.fired, report.mails, report.failed) == (3, 2, 2, 1)
    assert [status(service, n) for n, _ in opened] == ["resolved", "closed", "closed"]
    with service.store.transaction() as tx:
        outcomes = sorted(
            tx.c.scalars(select(T_TIMERS.c.outcome).where(T_TIMERS.c.state == "done"))
        )
    assert "failed: internal error: ValueError: a template that cannot render" in outcomes
    clock.advance(minutes=10)
    assert run(service, clock).claimed == 0  # done: never retried in a loop
