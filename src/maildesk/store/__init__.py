"""The only package that queries the database.  Returns and takes domain values.

`Store.transaction()` yields a `Tx`; everything done through one Tx commits or
rolls back together — a ticket change and the outbox rows it causes, always.
The queries are functions in one module per concept, each taking the Tx first:
`journal`, `tickets`, `events`, `participants`, `threads`, `outbox` (queueing),
`claims` (sending), `held`, `bounces`, `leases` (e.g. `tickets.by_number(tx, number)`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine

from maildesk.store.base import Tx
from maildesk.store.claims import ClaimedMail, HandOffTerms
from maildesk.store.journal import JournalEntry, PendingMessage, QuarantineRow, dedupe_key
from maildesk.store.outbox import OutboxRow

__all__ = [
    "ClaimedMail",
    "FairLock",
    "HandOffTerms",
    "JournalEntry",
    "OutboxRow",
    "PendingMessage",
    "QuarantineRow",
    "Store",
    "Tx",
    "dedupe_key",
]


class FairLock:
    """First come, first served: a thread that releases and at once asks again waits
    behind those already waiting (threading.Lock lets it jump the queue)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._serving:
                self._cond.wait()

    def __exit__(self, *_: object) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time and its busy handler sleeps and retries, so a
        # thread waiting for the lock can starve; an in-process lock hands it over at once.
        self._lock: AbstractContextManager[Any] = (
            FairLock() if engine.dialect.name == "sqlite" else nullcontext()
        )
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        if getattr(self._local, "open", False):
            raise RuntimeError("a transaction is already open in this thread: nest work in it")
        self._local.open = True
        try:
            with self._lock, self.engine.begin() as conn:
                yield Tx(conn)
        finally:
            self._local.open = False
