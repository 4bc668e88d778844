"""`maildesk status`: is this daemon working?  Read from the database alone: the
heartbeats of the supervised loops, the mailboxes' leases and positions, the journal's
backlog, the outbox by state and quarantined mail.

A loop is "stale" when its last heartbeat (success or error) is older than
`heartbeat_stale_seconds`: the daemon is hung or stopped.  Otherwise it is "error" when
its last error is newer than its last success (it is failing and retrying), else "ok";
"missing" when it never wrote a heartbeat.  Anything but "ok" makes the report
unhealthy; `hung` says whether a loop is stale (a restart may help).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from maildesk.config import Config
from maildesk.store import heartbeats
from maildesk.store import outbox as outbox_rows
from maildesk.store.base import Tx
from maildesk.store.health import (
    journal_backlog,
    lease_holders,
    mailbox_positions,
    oldest_pending_mail,
    quarantine_count,
)
from maildesk.store.heartbeats import HeartbeatRow

DAEMON_LOOPS = ("processor", "sender", "summaries", "timers", "digests")


@dataclass(frozen=True)
class LoopState:
    name: str
    node: str
    state: str
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class MailboxState:
    name: str
    state: str
    holder: str
    lease_expires_at: datetime | None
    last_uid: int


@dataclass(frozen=True)
class Report:
    checked_at: datetime
    node: str
    healthy: bool
    hung: bool
    problems: list[str]
    loops: list[LoopState]
    mailboxes: list[MailboxState]
    journal_pending: int
    oldest_unprocessed_at: datetime | None
    lag_seconds: float
    outbox: dict[str, int] = field(default_factory=dict)
    oldest_pending_mail_at: datetime | None = None
    quarantined: int = 0


def loop_state(row: HeartbeatRow, now: datetime, stale: timedelta) -> str:
    success, error = row.last_success_at, row.last_error_at
    latest = max((t for t in (success, error) if t is not None), default=None)
    if latest is None or now - latest > stale:
        return "stale"
    if error is not None and (success is None or error >= success):
        return "error"
    return "ok"


def expected_loops(cfg: Config) -> list[str]:
    listener = ["listener"] if cfg.smtp_intake.enabled else []
    return [*DAEMON_LOOPS, *listener, *(f"imap-{mb.name}" for mb in cfg.imap)]


def gather(tx: Tx, cfg: Config, node: str | None, now: datetime) -> Report:
    """The report for one node's loops (None: every node's)."""
    loops = _loops(tx, cfg, node, now)
    pending, oldest = journal_backlog(tx)
    problems = [f"loop {s.name} on {s.node or '?'}: {_why(s)}" for s in loops if s.state != "ok"]
    return Report(
        checked_at=now,
        node=node or "*",
        healthy=not problems,
        hung=any(s.state == "stale" for s in loops),
        problems=problems,
        loops=loops,
        mailboxes=_mailboxes(tx, cfg, loops),
        journal_pending=pending,
        oldest_unprocessed_at=oldest,
        lag_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        outbox=outbox_rows.counts(tx),
        oldest_pending_mail_at=oldest_pending_mail(tx),
        quarantined=quarantine_count(tx),
    )


def _loops(tx: Tx, cfg: Config, node: str | None, now: datetime) -> list[LoopState]:
    stale = timedelta(seconds=cfg.supervision.heartbeat_stale_seconds)
    rows = [r for r in heartbeats.listing(tx) if node is None or r.node == node]
    states = [
        LoopState(r.name, r.node, loop_state(r, now, stale), *_times(r), r.last_error) for r in rows
    ]
    seen = {s.name for s in states}
    missing = [n for n in expected_loops(cfg) if n not in seen]
    return states + [LoopState(n, node or "", "missing", None, None, "") for n in missing]


def _times(row: HeartbeatRow) -> tuple[datetime | None, datetime | None]:
    return row.last_success_at, row.last_error_at


def _why(state: LoopState) -> str:
    if state.state == "error":
        return f"failing: {state.last_error}"
    if state.state == "missing":
        return "no heartbeat: is `maildesk run` running?"
    return "no heartbeat recently: hung or stopped?"


def _mailboxes(tx: Tx, cfg: Config, loops: list[LoopState]) -> list[MailboxState]:
    holders = lease_holders(tx)
    positions = mailbox_positions(tx)
    result = []
    for mb in cfg.imap:
        states = [s.state for s in loops if s.name == f"imap-{mb.name}"]
        holder, expires = holders.get(f"imap:{mb.name}", ("", None))
        state = "ok" if "ok" in states else (states[0] if states else "missing")
        result.append(MailboxState(mb.name, state, holder, expires, positions.get(mb.name, 0)))
    return result
