"""What a recipient has seen of a ticket (store/threads.history, read for every mail
maildesk writes; histories for a timer batch) is found from the ticket, not from all
mail ever sent to that address: an engineer gets thousands of notifications a year, and
walking them cost 74 ms per message at 100,000 stored tickets (benchmarks/ingest,
issue 14). Checked with SQLite's query planner on the statements these functions run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from maildesk import db
from maildesk.store import Store, Tx, threads


def outbox_steps(sqlite_url: str, read: Callable[[Tx], object]) -> list[str]:
    store = Store(db.make_engine(sqlite_url))
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "outbox" in sql and sql.lstrip().upper().startswith("SELECT"):
            seen.append((sql, params))

    event.listen(store.engine, "before_cursor_execute", note)
    with store.transaction() as tx:
        read(tx)
    event.remove(store.engine, "before_cursor_execute", note)
    assert seen, "no statement read the outbox"
    steps = []
    with store.engine.connect() as conn:
        for sql, params in seen:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            steps += [str(row[-1]) for row in plan if "outbox" in str(row[-1])]
    return steps


def test_one_recipients_history_is_read_from_the_ticket(sqlite_url: str) -> None:
    steps = outbox_steps(sqlite_url, lambda tx: threads.history(tx, 7, "eng@example.com"))
    assert steps and all("(ticket_id=? AND to_address=?)" in s for s in steps), steps


def test_a_batchs_histories_read_no_outbox_from_end_to_end(sqlite_url: str) -> None:
    steps = outbox_steps(sqlite_url, lambda tx: threads.histories(tx, [1, 2, 3]))
    assert steps and not any(s.startswith("SCAN") for s in steps), steps
