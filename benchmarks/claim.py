"""Outbox claim cost: one claim of --batch rows from a queue of --rows due mails (SQLite).

Three queues, each in a fresh database file, filled through store/outbox.enqueue with
mails of --size bytes:

- one-domain: every mail but the last to one domain (a reply to a ticket with thousands
  of watchers), the last an acknowledgment to another domain;
- 20-domains and N-domains (--domains): the mails spread round over that many domains.

Each claim runs in a transaction that is rolled back, so every repetition sees the same
queue; the median and the slowest of --repeat claims are printed in milliseconds.

    .venv/bin/python -m benchmarks.claim --rows 20000 --batch 50
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from maildesk import db
from maildesk.domain import OutgoingMail
from maildesk.store import Store, Tx
from maildesk.store import claims as claims_rows
from maildesk.store import outbox as outbox_rows


def fill(store: Store, addresses: list[str], size: int, now: datetime) -> None:
    raw = b"x" * size
    with store.transaction() as tx:
        for i, to in enumerate(addresses):
            mail = OutgoingMail("notification", "it@example.com", (to,), "s", f"<{i}@b>", raw)
            outbox_rows.enqueue(tx, mail, None, None, now)


def claim_once(store: Store, now: datetime, batch: int, per_domain: int) -> tuple[float, int]:
    extra: dict[str, Any] = {}
    if "per_domain" in inspect.signature(outbox_rows.claim).parameters:
        extra["per_domain"] = per_domain
    with store.engine.connect() as conn:
        conn.begin()
        started = time.perf_counter()
        claimed = claims_rows.claim(Tx(conn), now, batch, "bench:1", timedelta(minutes=5), **extra)
        took = time.perf_counter() - started
        conn.rollback()
    return took * 1000, len(claimed)


def measure(name: str, addresses: list[str], args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(f"sqlite:///{Path(folder) / 'bench.db'}", "normal")
        db.upgrade(engine)
        store = Store(engine)
        now = datetime.now(UTC)
        fill(store, addresses, args.size, now - timedelta(minutes=1))
        times = []
        for _ in range(args.repeat):
            ms, n = claim_once(store, now, args.batch, args.per_domain)
            times.append(ms)
        print(
            f"{name:13} rows={len(addresses)} claimed={n} "
            f"median={statistics.median(times):.2f} ms  max={max(times):.2f} ms"
        )
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--per-domain", type=int, default=10)
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--size", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    one = [f"w{i}@big.example" for i in range(args.rows - 1)] + ["zhang.wei@other.example"]
    measure("one-domain", one, args)
    for domains in (20, args.domains):
        spread = [f"u{i}@d{i % domains}.example" for i in range(args.rows)]
        measure(f"{domains}-domains", spread, args)


if __name__ == "__main__":
    main()
