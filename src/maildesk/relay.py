"""The relay's health as the sender sees it: when it went down and why, when to probe it
again (one connection per backoff step, not one per queued mail), and the few log lines
an outage is worth: one when it starts, a reminder every few minutes, one when it ends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from maildesk.config import Outbox as OutboxConfig

log = logging.getLogger("maildesk.outbox")
REMIND_EVERY = timedelta(minutes=5)
LONG_AGO = datetime.min.replace(tzinfo=UTC)


class RelayUnavailable(ConnectionError):
    """The relay could not be reached, or dropped the connection: no mail can go now."""


class NoConnection(RelayUnavailable):
    """No connection could be opened: refused, no answer, or 421 at the greeting (a
    relay that takes fewer connections at once than `[outbox] connections`)."""


def backoff(cfg: OutboxConfig, attempts: int) -> timedelta:
    seconds = cfg.backoff_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, cfg.backoff_max_seconds))


def span(delta: timedelta) -> str:
    """A duration for a log line: 45s, 21m30s, 2h05m."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class RelayOutage:
    """Down since `since` (None while the relay is up); `waiting` counts the queued mail."""

    def __init__(self, cfg: OutboxConfig, waiting: Callable[[], int]) -> None:
        self.cfg = cfg
        self.waiting = waiting
        self.since: datetime | None = None
        self.cause = ""
        self.failures = 0
        self.next_probe = LONG_AGO
        self.next_reminder = LONG_AGO

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, now: datetime, cause: str) -> None:
        """A connection to the relay failed: the outage starts, or lasts a step longer."""
        self.failures += 1
        self.cause = cause
        self.next_probe = now + backoff(self.cfg, self.failures)
        if self.since is None:
            self.since = now
            self.next_reminder = now + REMIND_EVERY
            log.warning(
                "outbox: relay unavailable at %s:%s (%s); %s mail(s) waiting; "
                "trying again every %s at most",
                self.cfg.host, self.cfg.port, cause, self.waiting(),
                span(timedelta(seconds=self.cfg.backoff_max_seconds)),
            )  # fmt: skip
        else:
            log.debug("outbox: relay still unavailable (%s)", cause)

    def probe_due(self, now: datetime) -> bool:
        """Whether to try the relay now; a reminder is logged when one is due."""
        if self.since is not None and now >= self.next_reminder:
            self.next_reminder = now + REMIND_EVERY
            log.warning(
                "outbox: relay still unavailable after %s (%s); %s mail(s) waiting",
                span(now - self.since), self.cause, self.waiting(),
            )  # fmt: skip
        return now >= self.next_probe

    def ended(self, now: datetime) -> None:
        if self.since is not None:
            log.info(
                "outbox: relay is back after %s (%s failed connection(s)); waiting mail goes now",
                span(now - self.since), self.failures,
            )  # fmt: skip
        self.since = None
        self.failures = 0
