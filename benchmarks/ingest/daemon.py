"""One maildesk round: start `maildesk run`, wait until the mailbox is ticketed and
every acknowledgment is at the sink, probe the IDLE latency, stop it, verify.

The clock starts when the process starts and stops at the last mail accepted by the
sink (or the last message processed, if later); "startup" ends when the daemon takes
its IMAP lease (the first thing its fetcher thread does).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks import corpus
from benchmarks.ingest.desk import USER, AckSink
from maildesk import db

POLL_SECONDS = 0.2
STARTUP_POLL_SECONDS = 0.02
STALL_SECONDS = 180.0
ACK_TIMEOUT_SECONDS = 30.0
LATENCY_PAUSE_SECONDS = 0.3
STOP_TIMEOUT_SECONDS = 60.0
PROGRESS_EVERY_SECONDS = 10.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A run could not complete (timeout, stall, daemon died); the text says why."""


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process in MB, and its CPU seconds; {} once gone."""
    values: dict[str, float] = {}
    with suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    with suppress(OSError, IndexError, ValueError), open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
        values["cpu_s"] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return values


def _epoch(value: Any) -> float | None:
    """A timestamp column (SQLite: naive UTC text; PostgreSQL: aware) as epoch seconds."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class DbProbe:
    """Reads the daemon's database from this process: only rows after the stored ones."""

    def __init__(self, url: str, base: dict[str, int]) -> None:
        self.engine = db.make_read_engine(url)
        self.base = base

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), {**self.base_params(), **params}).all())

    def base_params(self) -> dict[str, int]:
        return {f"b_{k}": v for k, v in self.base.items()}

    def has_lease(self) -> bool:
        return bool(self._rows("SELECT count(*) FROM leases")[0][0])

    def progress(self) -> dict[str, int]:
        inbound = dict(
            self._rows(
                "SELECT status, count(*) FROM inbound_messages WHERE id > :b_inbound_messages "
                "GROUP BY status"
            )
        )
        outbox = dict(
            self._rows("SELECT status, count(*) FROM outbox WHERE id > :b_outbox GROUP BY status")
        )
        tickets = self._rows("SELECT count(*) FROM tickets WHERE id > :b_tickets")[0][0]
        return {
            "journaled": sum(int(v) for v in inbound.values()),
            "pending": int(inbound.get("pending", 0)),
            "processed": int(inbound.get("processed", 0)),
            "quarantined": int(inbound.get("quarantined", 0)),
            "tickets": int(tickets),
            "outbox_open": int(outbox.get("pending", 0)) + int(outbox.get("sending", 0)),
            "outbox_sent": int(outbox.get("sent", 0)),
            "outbox_failed": int(outbox.get("failed", 0)),
        }

    def timeline(self) -> dict[str, float | None]:
        row = self._rows(
            "SELECT min(received_at), max(received_at), max(processed_at) FROM inbound_messages "
            "WHERE id > :b_inbound_messages"
        )[0]
        return {"first_journaled": _epoch(row[0]), "last_journaled": _epoch(row[1]),
                "last_processed": _epoch(row[2])}  # fmt: skip

    def received_at(self, message_id: str) -> float | None:
        rows = self._rows(
            "SELECT received_at FROM inbound_messages WHERE dedupe_key = :k", k=f"mid:{message_id}"
        )
        return _epoch(rows[0][0]) if rows else None

    def unticketed(self) -> int:
        """Processed messages of this run neither ticketed nor threaded onto a ticket."""
        return int(
            self._rows(
                "SELECT count(*) FROM inbound_messages WHERE id > :b_inbound_messages "
                "AND (status != 'processed' OR ticket_id IS NULL)"
            )[0][0]
        )

    def ack_ids(self) -> list[str]:
        rows = self._rows(
            "SELECT message_id FROM outbox WHERE id > :b_outbox AND kind = 'ack'"
        )  # fmt: skip
        return [str(r[0]).strip("<>") for r in rows]

    def outbox_kinds(self) -> dict[str, int]:
        rows = self._rows("SELECT kind, count(*) FROM outbox WHERE id > :b_outbox GROUP BY kind")
        return {str(k): int(n) for k, n in rows}

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log: Path
    started_wall: float
    pyspy: subprocess.Popen[bytes] | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            content = self.log.read_text(errors="replace")
        except OSError:
            return "(no daemon log)"
        return "\n".join(content.splitlines()[-lines:]) or "(daemon log is empty)"


def start_daemon(
    config: Path, log: Path, pyspy_out: Path | None, idle: bool, src: str | None = None
) -> Daemon:
    """`maildesk run`, from the installed code or (src) from another source tree."""
    handle = log.open("ab")
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "maildesk", "--config", str(config), "run"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **({"PYTHONPATH": src} if src else {})},
    )
    handle.close()
    pyspy = None
    if pyspy_out is not None:
        exe = Path(sys.executable).with_name("py-spy")
        pyspy = subprocess.Popen(
            [str(exe), "record", "--pid", str(proc.pid), "--rate", "250", "--format", "raw",
             "--threads", "--nonblocking", *(["--idle"] if idle else []),
             "--output", str(pyspy_out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    return Daemon(proc, log, started, pyspy)


def stop_daemon(daemon: Daemon) -> int:
    if daemon.alive():
        daemon.proc.send_signal(signal.SIGTERM)
    try:
        code = daemon.proc.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        daemon.proc.kill()
        daemon.proc.wait(timeout=10)
        code = -9
    if daemon.pyspy is not None:
        try:
            daemon.pyspy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.pyspy.kill()
            daemon.pyspy.wait(timeout=10)
    return code


def kill_quietly(daemon: Daemon) -> None:
    for proc in (daemon.proc, daemon.pyspy):
        if proc is not None and proc.poll() is None:
            proc.kill()
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


@dataclass
class Bulk:
    startup_s: float
    e2e_s: float
    running_wall: float
    done_wall: float
    cpu_s: float  # the daemon's user + system CPU from taking its lease to the last ack
    startup_cpu_s: float  # … and before (imports, migrations check, calendar)
    rss_after_startup_mb: float
    peak_rss_mb: float
    timeline: dict[str, float | None] = field(default_factory=dict)
    final: dict[str, int] = field(default_factory=dict)


def wait_running(daemon: Daemon, probe: DbProbe, until: float) -> float:
    """Until the daemon holds its IMAP lease (its fetcher thread is up); wall time."""
    while True:
        if not daemon.alive():
            raise BenchError(f"daemon exited during startup:\n{daemon.log_tail()}")
        if probe.has_lease():
            return time.time()
        if time.time() > until:
            raise BenchError("daemon not running in time")
        time.sleep(STARTUP_POLL_SECONDS)


def wait_bulk(daemon: Daemon, probe: DbProbe, sink: AckSink, n: int, label: str) -> Bulk:
    running = wait_running(daemon, probe, daemon.started_wall + STALL_SECONDS)
    at_start = proc_status(daemon.proc.pid)
    rss_start = at_start.get("VmRSS", 0.0)
    last_change, last_key = time.monotonic(), (-1, -1, -1)
    next_report = time.monotonic() + PROGRESS_EVERY_SECONDS
    while True:
        if not daemon.alive():
            raise BenchError(f"daemon exited with {daemon.proc.returncode}:\n{daemon.log_tail()}")
        state = probe.progress()
        mails = sink.count()
        if (
            state["journaled"] >= n
            and state["pending"] == 0
            and state["outbox_open"] == 0
            and mails >= state["outbox_sent"]
        ):
            break
        key = (state["journaled"], state["processed"] + state["quarantined"], mails)
        if key != last_key:
            last_change, last_key = time.monotonic(), key
        elif time.monotonic() - last_change > STALL_SECONDS:
            raise BenchError(f"no progress for {STALL_SECONDS:.0f}s: {state}, mails={mails}")
        if time.monotonic() >= next_report:
            next_report += PROGRESS_EVERY_SECONDS
            print(f"  [{label}] {time.time() - daemon.started_wall:6.1f}s {state} mails={mails}",
                  file=sys.stderr, flush=True)  # fmt: skip
        time.sleep(POLL_SECONDS)
    status = proc_status(daemon.proc.pid)
    timeline = probe.timeline()
    ends = [t for t in (sink.last_arrival(), timeline["last_processed"]) if t is not None]
    done = max(ends) if ends else time.time()
    return Bulk(
        startup_s=running - daemon.started_wall,
        e2e_s=done - daemon.started_wall,
        running_wall=running,
        done_wall=done,
        cpu_s=status.get("cpu_s", 0.0) - at_start.get("cpu_s", 0.0),
        startup_cpu_s=at_start.get("cpu_s", 0.0),
        rss_after_startup_mb=rss_start,
        peak_rss_mb=status.get("VmHWM", 0.0),
        timeline=timeline,
        final={**probe.progress(), "mails": sink.count()},
    )


# --- IDLE latency ------------------------------------------------------------------------


@dataclass
class Latency:
    """Each probe's APPEND → acknowledgment at the sink, split at the journal's
    received_at: before it, the IMAP server's IDLE notification (Dovecot delays it by up
    to 500 ms, NOTIFY_DELAY_MSECS in its mailbox-watch.c) and the FETCH of one message;
    after it, maildesk's own work: journal commit, processing, rendering, SMTP."""

    total: list[float] = field(default_factory=list)
    imap_notify: list[float] = field(default_factory=list)  # APPEND → journaled
    maildesk: list[float] = field(default_factory=list)  # journaled → ack


def measure_latency(
    dovecot: Any, sink: AckSink, daemon: Daemon, k: int, seed: int, probe: DbProbe, offset: int
) -> Latency:
    """APPEND one message at a time (K of them), each timed until its ack is at the sink."""
    result = Latency()
    if k <= 0:
        return result
    time.sleep(1.0)  # let the daemon settle into IDLE after the bulk run
    with dovecot.client(USER, timeout=30) as client:
        for i in range(k):
            if not daemon.alive():
                raise BenchError(f"daemon exited during the latency probe:\n{daemon.log_tail()}")
            mail = corpus.latency_mail(offset + i, seed)
            sent = time.time()
            client.append("INBOX", mail.raw)
            arrived = sink.wait_for_ack(mail.message_id, timeout=ACK_TIMEOUT_SECONDS)
            if arrived is None:
                raise BenchError(f"latency probe {i}: no acknowledgment in time")
            result.total.append(arrived - sent)
            journaled = probe.received_at(mail.message_id)
            if journaled is not None:
                result.imap_notify.append(journaled - sent)
                result.maildesk.append(arrived - journaled)
            time.sleep(LATENCY_PAUSE_SECONDS)
    return result
