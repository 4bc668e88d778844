"""Timers: the due query and one whole tick, on SQLite and PostgreSQL.

--tickets tickets (default 100,000): --due of them resolved with an auto-close timer
due now (default 10,000), the others open, each with a timer due next week (so the
timers table is as big as the tickets table and most of it is not due).  Then:

- the due query (store/timers.DUE_QUERY, the SELECT inside the claim) for 500 rows and
  for all --due rows, median of --repeat, in a transaction rolled back; and its plan
  (EXPLAIN QUERY PLAN / EXPLAIN): it must read ix_timers_due, never the tickets;
- one tick (timers/tick.run): claims every due timer, closes each ticket, renders each
  closing notice into the outbox, marks each timer done; the time and timer mails/s.

Run from the repository root (it imports `tests.conftest` and `tests.servers.postgres`
for a config and a throwaway PostgreSQL cluster):

    .venv/bin/python -m benchmarks.timers [--tickets 100000] [--due 10000] [--no-postgres]
                                          [--no-analyze]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from tests.conftest import ConfigFactory
from tests.servers.postgres import PostgresCluster, postgres_available

from maildesk import db
from maildesk.render import make_renderer
from maildesk.store import Store
from maildesk.store.base import T_TICKETS, T_TIMERS
from maildesk.store.timers import DUE_QUERY, key_of
from maildesk.timers import tick

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CHUNK = 5000


def fill(store: Store, tickets: int, due: int) -> None:
    """Tickets 1..tickets; the first `due` resolved with a timer due now, the others
    open with a timer due in a week."""
    for start in range(1, tickets + 1, CHUNK):
        ids = range(start, min(start + CHUNK, tickets + 1))
        with store.transaction() as tx:
            tx.c.execute(insert(T_TICKETS), [_ticket(i, i <= due) for i in ids])
            tx.c.execute(insert(T_TIMERS), [_timer(i, i <= due) for i in ids])


def analyze(store: Store) -> None:
    """PostgreSQL: table statistics, as autovacuum gathers them within a minute of a
    bulk insert.  Without them the planner takes `state = 'pending'` for selective and
    reads all of ix_timers_due (every pending row) for each timer cancelled by ticket
    (store/timers CANCEL), ~2 ms a timer.  SQLite is left as deployed: no ANALYZE."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def _ticket(i: int, resolved: bool) -> dict[str, Any]:
    created = NOW - timedelta(days=9)
    return {"id": i, "number": f"IT-20261123-{i:06d}", "subject": f"VPN 连不上 {i}",
            "description": "早上开始 VPN 一直连不上。", "requester_name": "张伟",
            "requester_email": f"user{i % 5000}@example.com", "department": "财务部",
            "employee_id": "", "status": "resolved" if resolved else "in_progress",
            "priority": "medium", "category": "网络问题", "type": "incident",
            "assignee": "wang.gong@example.com", "group_name": "network",
            "created_at": created, "updated_at": created, "first_response_at": None,
            "resolved_at": NOW - timedelta(days=7, minutes=1) if resolved else None,
            "closed_at": None, "linked_ticket_id": None}  # fmt: skip


def _timer(i: int, resolved: bool) -> dict[str, Any]:
    due = NOW - timedelta(minutes=1) if resolved else NOW + timedelta(days=7)
    return {"key": key_of(i, "auto_close", 1), "ticket_id": i, "kind": "auto_close", "step": 1,
            "due_at": due, "state": "pending", "lease_holder": "", "lease_until": None,
            "created_at": NOW - timedelta(days=7), "done_at": None, "outcome": ""}  # fmt: skip


def due_query_ms(store: Store, limit: int, repeat: int) -> float:
    query = DUE_QUERY[store.engine.dialect.name]
    times = []
    for _ in range(repeat):
        with store.engine.connect() as conn:
            conn.begin()
            started = time.perf_counter()
            found = conn.execute(query, {"now": NOW, "limit": limit}).all()
            times.append((time.perf_counter() - started) * 1000)
            conn.rollback()
        assert len(found) == limit, (len(found), limit)
    return statistics.median(times)


def plan(store: Store) -> str:
    """The due query's plan, as the database prints it."""
    with store.engine.connect() as conn:
        compiled = DUE_QUERY[conn.dialect.name].compile(dialect=conn.dialect)
        params = compiled.construct_params({"now": NOW, "limit": 500})
        if conn.dialect.name == "sqlite":
            args: Any = tuple(
                params[k].isoformat(" ") if isinstance(params[k], datetime) else params[k]
                for k in compiled.positiontup or ()
            )
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args).all()
            return "\n".join(f"    {r[-1]}" for r in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", params).all()
        return "\n".join(f"    {r[0]}" for r in rows)


def measure(name: str, url: str, folder: Path, args: argparse.Namespace) -> None:
    engine = db.make_engine(url, "normal")
    db.upgrade(engine)
    store = Store(engine)
    started = time.perf_counter()
    fill(store, args.tickets, args.due)
    if not args.no_analyze:
        analyze(store)
    print(f"{name}: {args.tickets} tickets, {args.due} timers due "
          f"(filled in {time.perf_counter() - started:.1f} s)")  # fmt: skip
    for limit in (500, args.due):
        print(f"  due query, {limit:>5} rows: {due_query_ms(store, limit, args.repeat):7.2f} ms")
    print(f"  plan:\n{plan(store)}")
    cfg = ConfigFactory(folder, url)(extra="[lifecycle]\nauto_close_days = 7\n")
    renderer = make_renderer(cfg)
    started, cpu = time.perf_counter(), time.process_time()
    report = tick.run(store, renderer, NOW, "bench:1", limit=args.due)
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert report.mails == args.due, report
    print(f"  one tick: {report.claimed} claimed, {report.mails} mails in {took:.2f} s "
          f"= {report.mails / took:,.0f} timer mails/s; this process's CPU {cpu:.2f} s "
          f"= {report.mails / cpu:,.0f} mails per CPU second; load average {_load()}")  # fmt: skip
    engine.dispose()


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


@contextmanager
def postgres() -> Iterator[str]:
    with PostgresCluster() as cluster:
        cluster.create_database("bench_timers")
        yield cluster.url("bench_timers")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-analyze", action="store_true", help="PostgreSQL without statistics")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", Path(folder), args)
    if args.no_postgres:
        return
    problem = postgres_available()
    if problem:
        print(f"PostgreSQL: skipped ({problem})")
        return
    with tempfile.TemporaryDirectory() as folder, postgres() as url:
        measure("PostgreSQL", url, Path(folder), args)


if __name__ == "__main__":
    main()
