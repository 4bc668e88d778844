"""One supervisor for every long-running loop of the daemon.

`supervise(name, body, stop, beat, policy, on_unhealthy)` runs `body(beat)` until
`stop` is set.  An exception anywhere in the body is logged as one line with its
cause (the traceback at DEBUG), recorded in the loop's heartbeat, and the body is
started again after a backoff that grows while it keeps failing and starts over once
it ran healthily for a while.  A loop that has not succeeded for
`policy.unhealthy_exit_seconds` calls `on_unhealthy(name)`: the daemon then exits
non-zero, for the service manager to restart it.

The body calls `beat.ok()` whenever it made progress or waited healthily; the
heartbeat row is written at most every HEARTBEAT_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from maildesk.store import Store, heartbeats
from maildesk.store.base import Tx

log = logging.getLogger("maildesk.supervise")
HEARTBEAT_SECONDS = 5.0
REMINDER_SECONDS = 300.0  # a loop still failing says so again this often


class Explained(Exception):
    """An error whose text already says what happened, in words for an operator."""


@dataclass(frozen=True)
class Policy:
    initial_backoff: float = 1.0
    max_backoff: float = 30.0
    healthy_seconds: float = 60.0  # ran this long before failing: backoff starts over
    unhealthy_exit_seconds: float = 600.0


def describe(exc: BaseException) -> str:
    """One line: what failed and why, never more than 300 characters."""
    text = str(exc) if isinstance(exc, Explained) else f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    if isinstance(exc, Explained) or cause is None:
        line = text
    else:
        line = f"{text} (caused by {type(cause).__name__}: {cause})"
    line = " ".join(line.split())
    return line if len(line) <= 300 else line[:297] + "..."


class Heartbeat:
    """A loop's health: in memory at once, in the heartbeats table every few seconds."""

    def __init__(self, store: Store, name: str, node: str, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.name = name
        self.node = node
        self.clock = clock
        self.last_ok = time.monotonic()
        self.failing_since: float | None = None
        self._written = 0.0

    def ok(self) -> None:
        now = time.monotonic()
        self.last_ok = now
        if self.failing_since is not None:
            log.info("%s: recovered after %.0fs", self.name, now - self.failing_since)
            self.failing_since = None
        elif now - self._written < HEARTBEAT_SECONDS:
            return
        self._written = now
        self._write(lambda tx: heartbeats.record_success(tx, self.name, self.node, self.clock()))

    def failed(self, error: str) -> None:
        if self.failing_since is None:
            self.failing_since = time.monotonic()
        self._write(
            lambda tx: heartbeats.record_error(tx, self.name, self.node, self.clock(), error)
        )

    def _write(self, record: Callable[[Tx], None]) -> None:
        try:
            with self.store.transaction() as tx:
                record(tx)
        except Exception as exc:  # the database may be what is failing: never fatal
            log.debug("%s: heartbeat not written (%s)", self.name, describe(exc))


class _Log:
    """One line per distinct error, a reminder while it lasts, the traceback at DEBUG."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.last = ""
        self.said_at = 0.0

    def failure(self, exc: Exception, delay: float) -> str:
        line = describe(exc)
        now = time.monotonic()
        if line != self.last or now - self.said_at >= REMINDER_SECONDS:
            log.warning("%s: %s; retrying in %.0fs", self.name, line, delay)
            self.last, self.said_at = line, now
        log.debug("%s: traceback", self.name, exc_info=exc)
        return line


def supervise(
    name: str,
    body: Callable[[Heartbeat], None],
    stop: threading.Event,
    beat: Heartbeat,
    policy: Policy,
    on_unhealthy: Callable[[str], None],
) -> None:
    delay = policy.initial_backoff
    said = _Log(name)
    while not stop.is_set():
        started = time.monotonic()
        try:
            body(beat)
            continue
        except Exception as exc:
            if time.monotonic() - started >= policy.healthy_seconds:
                delay = policy.initial_backoff
            beat.failed(said.failure(exc, delay))
        if time.monotonic() - beat.last_ok >= policy.unhealthy_exit_seconds:
            log.error("%s: no success for %.0fs; giving up", name, policy.unhealthy_exit_seconds)
            on_unhealthy(name)
            return
        stop.wait(delay)
        delay = min(delay * 2, policy.max_backoff)
