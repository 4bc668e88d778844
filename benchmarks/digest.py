"""Digest: the figures of one week (then charts and rendering) on a desk of 200,000 tickets.

Generates --tickets tickets (default 200,000) over the two years before NOW with their
history (created, routed, status changes, first responses, some reopened), their SLA
targets (response and resolution, ~12 % missed), survey mails and answers (some
replaced, low scores opening reviews), ~1 % left open; bulk inserts, one transaction
per 5,000 tickets.  Then times `digest.collect.figures` for the week that has just
ended (whole desk, and one group), median of --repeat, and prints the figures' size.
The rendering steps (charts, mail, report) are timed by `time_rendering`.

Run from the repository root (it imports `tests.conftest` for a config and
`tests.servers.postgres` for a throwaway PostgreSQL cluster):

    .venv/bin/python -m benchmarks.digest [--backend sqlite|postgresql] [--url URL]
                                          [--file bench.db] [--tickets 200000] [--repeat 5]

A database that already has tickets (--file, --url) is timed as it is.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, insert, select
from tests.conftest import ConfigFactory
from tests.servers.postgres import PostgresCluster, postgres_available

from maildesk import db
from maildesk.calendar.usecases import ensure_seeded
from maildesk.config import Config
from maildesk.digest import period as periods
from maildesk.digest import recurring, render
from maildesk.digest.collect import figures
from maildesk.digest.model import Figures, PeriodKind
from maildesk.domain import Address
from maildesk.render import make_renderer
from maildesk.store import Store, ticket_texts
from maildesk.store.base import T_EVENTS, T_OUTBOX, T_SLA, T_SURVEY_ANSWERS, T_TICKETS

NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # a Wednesday morning in Shanghai
DAYS = 730
CHUNK = 5000
CATEGORIES = ("硬件故障", "软件安装", "网络问题", "账号权限", "邮件问题", "打印机", "其他")
PRIORITIES = ("urgent", "high", "medium", "low")
GROUPS = ("desktop", "network", "accounts")
ENGINEERS = tuple(f"eng{i}@example.com" for i in range(12))
RESPONSE_MIN = {"urgent": 60, "high": 120, "medium": 240, "low": 480}
RESOLUTION_MIN = {"urgent": 540, "high": 1080, "medium": 2700, "low": 5400}


def generate(store: Store, tickets: int, seed: int = 12) -> dict[str, int]:
    """Fill the database; returns how many rows of each table were written."""
    rng = random.Random(seed)
    written = {"tickets": 0, "events": 0, "sla_targets": 0, "outbox": 0, "survey_answers": 0}
    with store.transaction() as tx:
        ensure_seeded(tx, NOW)
    for first in range(1, tickets + 1, CHUNK):
        batch: dict[str, list[dict[str, Any]]] = {k: [] for k in written}
        for i in range(first, min(first + CHUNK, tickets + 1)):
            _ticket(rng, i, tickets, batch)
        with store.transaction() as tx:
            for name, table in (("tickets", T_TICKETS), ("events", T_EVENTS),
                                ("sla_targets", T_SLA), ("outbox", T_OUTBOX),
                                ("survey_answers", T_SURVEY_ANSWERS)):  # fmt: skip
                if batch[name]:
                    tx.c.execute(insert(table), batch[name])
                    written[name] += len(batch[name])
    return written


def _ticket(rng: random.Random, i: int, total: int, out: dict[str, list[dict[str, Any]]]) -> None:
    created = NOW - timedelta(days=DAYS) + timedelta(days=DAYS * (i - 1) / total)
    created += timedelta(seconds=rng.randrange(3600))
    priority = rng.choices(PRIORITIES, (1, 3, 10, 6))[0]
    group = rng.choice(GROUPS)
    assignee = rng.choice(ENGINEERS)
    responded = created + timedelta(minutes=rng.expovariate(1 / RESPONSE_MIN[priority]))
    resolved = responded + timedelta(minutes=rng.expovariate(1 / RESOLUTION_MIN[priority]))
    stale = rng.random() < 0.01
    finished = resolved < NOW and not stale
    reopened = finished and rng.random() < 0.05
    status = "closed" if finished and resolved + timedelta(days=7) < NOW else (
        "resolved" if finished else "in_progress")  # fmt: skip
    events = out["events"]

    def event(at: datetime, kind: str, old: str = "", new: str = "", field: str = "") -> None:
        events.append({"ticket_id": i, "at": at, "actor": assignee, "kind": kind,
                       "field": field, "old_value": old, "new_value": new, "text": "",
                       "inbound_id": None})  # fmt: skip

    event(created, "created")
    event(created, "routed", new=assignee, field="assignee")
    if responded < NOW:
        event(responded, "public_reply")
        event(responded, "changed", "assigned", "in_progress", "status")
    if finished:
        if reopened:
            first = responded + (resolved - responded) / 2
            event(first, "changed", "in_progress", "resolved", "status")
            event(first + timedelta(hours=2), "reopened", "resolved", "assigned", "status")
        event(resolved, "changed", "assigned" if reopened else "in_progress", "resolved",
              "status")  # fmt: skip
        if status == "closed":
            event(resolved + timedelta(days=7), "changed", "resolved", "closed", "status")
    out["tickets"].append({
        "id": i, "number": f"IT-{created:%Y%m%d}-{i:06d}", "subject": f"VPN 连不上 {i}",
        "description": "早上开始 VPN 一直连不上。", "requester_name": "张伟",
        "requester_email": f"user{i % 5000}@example.com", "department": "财务部",
        "employee_id": "", "status": status, "priority": priority,
        "category": rng.choice(CATEGORIES), "type": "incident", "assignee": assignee,
        "group_name": group, "created_at": created, "updated_at": created,
        "first_response_at": responded if responded < NOW else None,
        "resolved_at": resolved if finished else None,
        "closed_at": resolved + timedelta(days=7) if status == "closed" else None,
        "linked_ticket_id": None})  # fmt: skip
    _targets(rng, i, created, priority, responded, resolved if finished else None, out)
    if finished:
        _survey(rng, i, resolved, out)


def _targets(rng: random.Random, i: int, created: datetime, priority: str, responded: datetime,
             resolved: datetime | None, out: dict[str, list[dict[str, Any]]]) -> None:  # fmt: skip
    """Due times as wall-clock approximations of business time: the figures only
    compare them, and the breaches' lateness is computed in the calendar."""
    for target, minutes, met in (("response", RESPONSE_MIN[priority], responded),
                                 ("resolution", RESOLUTION_MIN[priority], resolved)):  # fmt: skip
        due = created + timedelta(minutes=minutes * (2.2 if rng.random() < 0.9 else 0.5))
        out["sla_targets"].append({
            "ticket_id": i, "target": target, "calendar": "business", "minutes": minutes,
            "started_at": created, "paused_minutes": 0.0, "paused_since": None,
            "due_at": due, "met_at": met if met is not None and met < NOW else None,
            "provisional": False})  # fmt: skip


def _survey(rng: random.Random, i: int, resolved: datetime,
            out: dict[str, list[dict[str, Any]]]) -> None:  # fmt: skip
    sent = resolved + timedelta(hours=1)
    if sent >= NOW:
        return
    out["outbox"].append({
        "ticket_id": i, "inbound_id": None, "kind": "survey", "mail_from": "it@example.com",
        "recipients": "user@example.com", "to_address": "user@example.com", "subject": "",
        "message_id": f"<survey-{i}@example.com>", "raw": b"", "status": "sent",
        "attempts": 1, "next_attempt_at": sent, "claimed_until": None, "claimed_by": "",
        "last_error": "", "created_at": sent, "sent_at": sent, "lane": "bulk",
        "to_domain": "example.com", "held_reason": ""})  # fmt: skip
    if rng.random() > 0.35:
        return
    answers = 2 if rng.random() < 0.1 else 1
    for n in range(answers):
        at = sent + timedelta(hours=3 + 20 * n)
        if at >= NOW:
            break
        score = rng.choices((1, 2, 3, 4, 5), (3, 4, 10, 30, 53))[0]
        review = "" if score > 2 else ("closed" if at + timedelta(days=2) < NOW else "open")
        out["survey_answers"].append({
            "ticket_id": i, "score": score, "comment": "", "via": "link",
            "sender": "user@example.com", "answered_at": at, "inbound_id": None,
            "replaced": n + 1 < answers, "review": review,
            "review_due_at": at + timedelta(days=1) if review else None,
            "review_closed_at": at + timedelta(days=2) if review == "closed" else None,
            "review_closed_by": "", "review_note": ""})  # fmt: skip


def analyze(store: Store) -> None:
    """PostgreSQL: table statistics, as autovacuum gathers them after a bulk insert."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def time_figures(
    store: Store, cfg: Config, group: str, repeat: int
) -> tuple[float, float, Figures]:
    """Median seconds of `figures()` for the week just ended at NOW: wall-clock, and
    this process's CPU (all of SQLite's work; PostgreSQL's server not included)."""
    period = periods.ended(PeriodKind.WEEK, NOW, cfg.tickets.timezone)
    times, cpu, found = [], [], None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        found = figures(store, cfg, period, group, NOW)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    assert found is not None
    return statistics.median(times), statistics.median(cpu), found


def slowest(store: Store, cfg: Config, count: int) -> None:
    """The `count` slowest statements of one `figures()` call (whole desk)."""
    took: list[tuple[float, str]] = []

    def before(conn: Any, *_: Any) -> None:
        conn.info["digest_started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        took.append((time.perf_counter() - conn.info["digest_started"], statement))

    event.listen(store.engine, "before_cursor_execute", before)
    event.listen(store.engine, "after_cursor_execute", after)
    try:
        figures(store, cfg, periods.ended(PeriodKind.WEEK, NOW, cfg.tickets.timezone), "", NOW)
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
        event.remove(store.engine, "after_cursor_execute", after)
    print(f"  {len(took)} statements, {sum(t for t, _ in took) * 1000:.0f} ms; the slowest:")
    for seconds, statement in sorted(took, reverse=True)[:count]:
        print(f"    {seconds * 1000:6.1f} ms  {' '.join(statement.split())[:110]}")


def _charts(found: Figures, cfg: Config) -> object:
    return render.chart_list(found)


def _mail(found: Figures, cfg: Config) -> object:
    """The weekly digest as the daemon queues it: charts, templates, CSS inlined, MIME."""
    return render.digest_mail(make_renderer(cfg), found, MANAGER, NOW)


def _report(found: Figures, cfg: Config) -> object:
    return render.report_html(make_renderer(cfg), found)


MANAGER = Address("赵经理", "zhao@example.com")
# The rendering steps, each timed on the figures: (name, step).  "mail" includes the
# charts (it draws them again), so figures + mail is the whole digest.
RENDER_STEPS: list[tuple[str, Callable[[Figures, Config], object]]] = [
    ("charts (2 PNG)", _charts),
    ("mail (charts + templates + CSS inlining + MIME)", _mail),
    ("report --format html", _report),
]


def time_recurring(store: Store, cfg: Config, group: str, repeat: int) -> tuple[float, float, int]:
    """Median seconds of the recurring problems inside `figures()`: reading the texts of
    the week and the week before (store/ticket_texts), and finding the terms
    (digest/recurring.find); and how many tickets' texts were read."""
    week = periods.ended(PeriodKind.WEEK, NOW, cfg.tickets.timezone)
    before = periods.previous(week)
    reading, finding, texts = [], [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        with store.transaction() as tx:
            current = ticket_texts.opened(tx, week.start, week.end, group)
            previous = ticket_texts.opened(tx, before.start, before.end, group)
        read = time.perf_counter()
        recurring.find(current, previous)
        reading.append(read - started)
        finding.append(time.perf_counter() - read)
        texts = len(current) + len(previous)
    return statistics.median(reading), statistics.median(finding), texts


def time_rendering(found: Figures, cfg: Config, repeat: int) -> dict[str, float]:
    """Median seconds of each rendering step in RENDER_STEPS."""
    out = {}
    for name, step in RENDER_STEPS:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            step(found, cfg)
            times.append(time.perf_counter() - started)
        out[name] = statistics.median(times)
    return out


def measure(name: str, url: str, folder: Path, args: argparse.Namespace) -> None:
    engine = db.make_engine(url, "normal")
    db.upgrade(engine)
    store = Store(engine)
    started = time.perf_counter()
    with store.transaction() as tx:
        stored = tx.c.scalar(select(func.count()).select_from(T_TICKETS))
    if stored:
        print(f"{name}: {stored:,} tickets already stored, not generated")
    else:
        written = generate(store, args.tickets)
        analyze(store)
        rows = ", ".join(f"{n:,} {table}" for table, n in written.items())
        print(f"{name}: {rows} (generated in {time.perf_counter() - started:.1f} s)")
    cfg = ConfigFactory(folder, url)()
    for group in ("", GROUPS[0]):
        took, cpu, found = time_figures(store, cfg, group, args.repeat)
        who = f"group {group}" if group else "whole desk"
        print(f"  figures, week {found.period.first_day}..{found.period.last_day}, {who}: "
              f"{took * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms (medians of {args.repeat}; load "
              f"average {os.getloadavg()[0]:.1f}); opened {found.counts.opened}, "
              f"resolved {found.counts.resolved}, backlog {found.backlog.open}, "
              f"breaches {len(found.breaches)}, answers {found.satisfaction.answers}")  # fmt: skip
    if args.statements:
        slowest(store, cfg, args.statements)
    read, find, texts = time_recurring(store, cfg, "", args.repeat)
    print(f"  of which recurring problems (whole desk, {texts:,} tickets' texts): read "
          f"{read * 1000:.0f} ms, find {find * 1000:.0f} ms")  # fmt: skip
    took, _, found = time_figures(store, cfg, "", 1)
    steps = time_rendering(found, cfg, args.repeat)
    for step, seconds in steps.items():
        print(f"  {step}: {seconds * 1000:.0f} ms")
    sizes = ", ".join(f"{c.name} {len(c.png):,} B" for c in render.chart_list(found))
    print(f"  PNG sizes: {sizes}")
    total = took + steps[RENDER_STEPS[1][0]]
    print(f"  weekly digest in total (figures + charts + rendering): {total * 1000:.0f} ms "
          f"(load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    engine.dispose()


@contextmanager
def postgres() -> Iterator[str]:
    with PostgresCluster() as cluster:
        cluster.create_database("bench_digest")
        yield cluster.url("bench_digest")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", help="an empty PostgreSQL database (else a throwaway cluster)")
    parser.add_argument(
        "--file",
        type=Path,
        help="SQLite: this database file, generated "
        "when it has no tickets, kept (to time again without generating)",
    )
    parser.add_argument("--tickets", type=int, default=200_000)
    parser.add_argument(
        "--statements",
        type=int,
        default=0,
        help="print this many of the slowest statements of one call",
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.backend == "sqlite":
            path = args.file or Path(folder) / "bench.db"
            measure("SQLite", f"sqlite:///{path}", Path(folder), args)
        elif args.url:
            measure("PostgreSQL", args.url, Path(folder), args)
        else:
            problem = postgres_available()
            if problem:
                raise SystemExit(f"PostgreSQL: {problem}")
            with postgres() as url:
                measure("PostgreSQL", url, Path(folder), args)


if __name__ == "__main__":
    main()
