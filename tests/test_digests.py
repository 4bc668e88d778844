"""Digests sent once per period (digest/usecases.py): the period row and the outbox rows
in one transaction, two daemons racing (SQLite and PostgreSQL), catch-up once after
downtime, a failure retried at the next tick; the [digests] section's errors."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from maildesk import config as config_mod
from maildesk import db
from maildesk.clock import TestClock
from maildesk.config import Config, ConfigError
from maildesk.daemon import Daemon
from maildesk.digest import usecases
from maildesk.digest.formats import as_text
from maildesk.digest.model import Figures, Period
from maildesk.domain import Address, Lane, OutgoingMail
from maildesk.outbox import make_transport
from maildesk.render import Renderer, make_renderer
from maildesk.render.mime import Envelope, assemble
from maildesk.service import Service
from maildesk.store import Store
from maildesk.store import digests as runs
from maildesk.store import outbox as outbox_rows
from maildesk.supervise import Heartbeat

from .conftest import ConfigFactory, build_service
from .digest_figures import week_figures

PEOPLE = """
[security]
secret = "0123456789abcdef-test-secret"

[[people]]
name = "赵经理"
email = "zhao@example.com"
role = "manager"

[[people]]
name = "王工"
email = "wang.gong@example.com"
groups = ["network"]
role = "lead"

[[people]]
name = "李工"
email = "li.gong@example.com"
groups = ["desktop", "network"]
role = "lead"

[digests]
extra_recipients = ["cio@example.com"]
"""
# Wednesday 2 December 2026, 09:00 in Shanghai: Tuesday's digest and last week's are due
START = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
# per period: the desk (赵经理, cio), desktop (李工), network (王工, 李工)
MAILS_PER_PERIOD = 5


def figures_of(store: Store, cfg: Config, period: Period, group: str, now: datetime) -> Figures:
    """The hand-built figures, for the period and group asked."""
    return replace(week_figures(), period=period, group=group)


def text_mail(renderer: Renderer, figures: Figures, to: Address, now: datetime) -> OutgoingMail:
    """A plain digest mail (the HTML one is digest/render's): the text report."""
    cfg = renderer.cfg
    text = as_text(figures, cfg.locale)
    p = figures.period
    subject = f"digest {p.kind} {p.first_day} {figures.group or 'desk'}"
    mid = f"digest.{p.kind}.{p.first_day}.{figures.group}.{to.email}@example.com"
    envelope = Envelope(cfg.support_name, cfg.support_address, to.name, to.email, subject, mid,
                        now, cfg.tickets.timezone, cfg.message_id_domain, "", (), (),
                        "auto-generated")  # fmt: skip
    raw = assemble(envelope, text, f"<pre>{text}</pre>")
    return OutgoingMail("digest", cfg.support_address, (to.email,), subject, mid, raw, Lane.BULK)


OPENED = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # the desk's first mail
FIRST_MAIL = (b"From: user@example.com\r\nTo: it-support@example.com\r\nSubject: hello\r\n"
              b"Message-ID: <first@example.com>\r\n\r\nhello\r\n")  # fmt: skip


def opened_desk(cfg: Config, clock: TestClock | None = None) -> Service:
    """A desk that has received mail since 1 November: its periods are reported."""
    first = TestClock(OPENED)
    service = build_service(cfg, first)
    assert service.ingest(FIRST_MAIL, "test").kind == "created"
    if clock is not None:
        service.clock = clock.now
    return service


def send(store: Store, cfg: Config, now: datetime, **edges: object) -> usecases.SendReport:
    kwargs = {"figures": figures_of, "write_mail": text_mail, **edges}
    return usecases.send_due(store, cfg, make_renderer(cfg), now, **kwargs)  # type: ignore[arg-type]


def digest_mails(store: Store) -> list[outbox_rows.OutboxRow]:
    with store.transaction() as tx:
        return [r for r in outbox_rows.listing(tx, limit=10_000) if r.kind == "digest"]


def recorded(store: Store) -> list[tuple[str, str, date, int]]:
    with store.transaction() as tx:
        return sorted((r.kind, r.group, r.first_day, r.recipients) for r in runs.listing(tx))


DAY_1, WEEK_1 = date(2026, 12, 1), date(2026, 11, 23)
FIRST_TICK = [("day", "", DAY_1, 2), ("day", "desktop", DAY_1, 1), ("day", "network", DAY_1, 2),
              ("week", "", WEEK_1, 2), ("week", "desktop", WEEK_1, 1),
              ("week", "network", WEEK_1, 2)]  # fmt: skip


def test_each_due_digest_is_queued_once_per_recipient(make_config: ConfigFactory) -> None:
    cfg = make_config(extra=PEOPLE)
    store = opened_desk(cfg).store
    report = send(store, cfg, START)
    assert (report.due, report.sent, report.mails, report.failed) == (6, 6, 10, 0)
    assert recorded(store) == FIRST_TICK
    mails = digest_mails(store)
    assert Counter(r.recipients[0] for r in mails) == {
        "zhao@example.com": 2, "cio@example.com": 2, "wang.gong@example.com": 2,
        "li.gong@example.com": 4,
    }  # fmt: skip
    assert all(r.lane == "bulk" and r.status == "pending" for r in mails)
    assert send(store, cfg, START + timedelta(minutes=1)).sent == 0  # the next tick
    assert len(digest_mails(store)) == 10


def test_nothing_new_before_the_scheduled_time_then_the_next_day(
    make_config: ConfigFactory,
) -> None:
    cfg = make_config(extra=PEOPLE)
    store = opened_desk(cfg).store
    send(store, cfg, START)
    before = datetime(2026, 12, 3, 0, 29, tzinfo=UTC)  # Thursday 08:29 local
    assert send(store, cfg, before).sent == 0
    after = send(store, cfg, before + timedelta(minutes=1))
    assert (after.sent, after.mails) == (3, MAILS_PER_PERIOD)
    assert ("day", "", date(2026, 12, 2), 2) in recorded(store)


def test_a_failing_digest_is_logged_and_sent_at_the_next_tick(
    make_config: ConfigFactory, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = make_config(extra=PEOPLE)
    store = opened_desk(cfg).store

    def broken_for_network(store: Store, cfg: Config, period: Period, group: str,
                           now: datetime) -> Figures:  # fmt: skip
        if group == "network":
            raise RuntimeError("database went away")
        return figures_of(store, cfg, period, group, now)

    first = send(store, cfg, START, figures=broken_for_network)
    assert (first.sent, first.failed) == (4, 2)
    assert "digest day 2026-12-01 for group network failed" in caplog.text
    assert [r for r in recorded(store) if r[1] == "network"] == []
    second = send(store, cfg, START + timedelta(minutes=1))
    assert (second.sent, second.mails, second.failed) == (2, 4, 0)
    assert recorded(store) == FIRST_TICK


def test_a_mail_that_cannot_be_written_records_no_period(make_config: ConfigFactory) -> None:
    """The row and the mails commit together: a mail failing for the second recipient
    leaves neither the row nor the first mail."""
    cfg = make_config(extra=PEOPLE)
    store = opened_desk(cfg).store

    def no_cio(renderer: Renderer, f: Figures, to: Address, now: datetime) -> OutgoingMail:
        if to.email == "cio@example.com":
            raise ValueError("cannot render")
        return text_mail(renderer, f, to, now)

    assert send(store, cfg, START, write_mail=no_cio).failed == 2
    assert [r for r in recorded(store) if r[1] == ""] == []
    assert all(r.recipients != ("zhao@example.com",) for r in digest_mails(store))


def test_two_daemons_racing_send_each_digest_once(make_config: ConfigFactory) -> None:
    """Both read their figures before either records the period (a barrier holds them
    there), so both try to insert every row: one wins each, the other queues nothing."""
    cfg = make_config(extra=PEOPLE)
    opened_desk(cfg)
    stores = [Store(db.make_engine(cfg.database_url)), Store(db.make_engine(cfg.database_url))]
    together = threading.Barrier(2, timeout=30)
    reports: list[usecases.SendReport] = []
    errors: list[BaseException] = []

    def held(store: Store, cfg: Config, period: Period, group: str, now: datetime) -> Figures:
        together.wait()
        return figures_of(store, cfg, period, group, now)

    def daemon(store: Store) -> None:
        try:
            reports.append(send(store, cfg, START, figures=held))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=daemon, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and len(reports) == 2
    assert sum(r.sent for r in reports) == 6 and sum(r.failed for r in reports) == 0
    assert all(r.due == 6 for r in reports)
    assert recorded(stores[0]) == FIRST_TICK
    mails = digest_mails(stores[0])
    assert len(mails) == 10 and len({r.message_id for r in mails}) == 10


# --- the daemon -----------------------------------------------------------------------------


def test_the_daemon_catches_up_once_on_start_after_being_down(make_config: ConfigFactory) -> None:
    """Sent on 2 December; down until 12 December 10:00 (ten daily digests and a weekly
    one missed): at start one daily (11 Dec) and one weekly (30 Nov – 6 Dec) digest,
    then nothing more until the next scheduled time."""
    cfg = make_config(extra=PEOPLE)
    clock = TestClock(START)
    service = opened_desk(cfg, clock)
    edges = usecases.Edges(figures_of, text_mail)
    daemon = Daemon(cfg, service, make_transport(cfg.outbox), clock=clock.now, digest_edges=edges)
    assert "digests" in [name for name, _ in daemon._loops()]
    assert daemon.send_digests() == 2 * MAILS_PER_PERIOD
    clock.set(datetime(2026, 12, 12, 2, 0, tzinfo=UTC))  # down for ten days
    restarted = Daemon(cfg, service, make_transport(cfg.outbox), clock=clock.now,
                       digest_edges=edges)  # fmt: skip
    restarted.stop.set()  # the loop's start only: its first tick, then it sees the stop
    restarted._digests_loop(Heartbeat(service.store, "digests", "test", clock.now))
    assert len(digest_mails(service.store)) == 4 * MAILS_PER_PERIOD
    assert restarted.outbox_ready.is_set()
    assert restarted.send_digests() == 0
    clock.advance(hours=22)  # Sunday 08:00 local
    assert restarted.send_digests() == 0
    clock.advance(minutes=30)  # 08:30
    assert restarted.send_digests() == MAILS_PER_PERIOD
    days = [r[2] for r in recorded(service.store) if r[:2] == ("day", "")]
    weeks = [r[2] for r in recorded(service.store) if r[:2] == ("week", "")]
    assert days == [date(2026, 12, 1), date(2026, 12, 11), date(2026, 12, 12)]
    assert weeks == [date(2026, 11, 23), date(2026, 11, 30)]


def test_a_new_desk_reports_no_period_before_its_first_mail(make_config: ConfigFactory) -> None:
    """The first start of a new desk sends nobody last week's nothing; once mail came in,
    the next periods are reported (an empty one in one line)."""
    cfg = make_config(extra=PEOPLE)
    clock = TestClock(START)
    service = build_service(cfg, clock)
    daemon = Daemon(cfg, service, make_transport(cfg.outbox), clock=clock.now)
    assert "digests" in [name for name, _ in daemon._loops()]
    assert daemon.send_digests() == 0  # no mail ever: nothing is due yet
    assert service.ingest(FIRST_MAIL, "test").kind == "created"  # Wednesday 09:00
    assert daemon.send_digests() == 0  # yesterday and last week ended before it
    clock.advance(days=1)
    assert daemon.send_digests() == MAILS_PER_PERIOD  # Wednesday's digest, the real one
    assert [r[:2] for r in recorded(service.store)] == [("day", ""), ("day", "desktop"),
                                                         ("day", "network")]  # fmt: skip


# --- [digests] ---------------------------------------------------------------------------


def parse(section: str) -> Config:
    text = '[maildesk]\nsupport_address = "it-support@example.com"\n[digests]\n' + section
    return config_mod.parse(text, config_mod.find_path("/tmp/x/maildesk.toml"), env={})


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('daily_at = "8.30"', "digests.daily_at"),
        ('weekly_at = "24:00"', "digests.weekly_at"),
        ('weekly_on = "montag"', "digests.weekly_on"),
        ('monthly = "yes"', "digests.monthly"),
        ('extra_recipients = ["boss"]', "digests.extra_recipients[0]"),
        ("daily_hour = 8", "digests.daily_hour"),
    ],
)
def test_a_bad_value_names_the_key(line: str, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(line + "\n")
    assert str(error.value).startswith(f"{key}: ")


def test_the_section_as_written() -> None:
    from maildesk.digest.settings import DIGESTS

    got = parse('weekly_on = "Friday"\nmonthly = true\nmonthly_at = "7:05"\n'
                'extra_recipients = ["CIO@example.com"]\n').section(DIGESTS)  # fmt: skip
    assert (got.weekly_on, got.monthly, got.monthly_at.hour, got.monthly_at.minute) == (
        4,
        True,
        7,
        5,
    )
    assert got.extra_recipients == ("cio@example.com",)
