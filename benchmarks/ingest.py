"""End-to-end ingest benchmark: N messages in a real Dovecot → tickets → acks at an SMTP sink.

For each N (fresh Dovecot, fresh SQLite database):

1. generate N realistic messages (benchmarks/corpus.py, seeded) and APPEND them to the
   test Dovecot over one connection (MULTIAPPEND, pipelined with LITERAL+); the load
   time is printed but is not part of any result;
2. the floor, measured in this process on the same messages: one imaplib connection,
   UID SEARCH, UID FETCH BODY.PEEK[] in batches of 100, email.message_from_bytes and a
   walk decoding every text part (standard library only);
3. end to end: `python -m maildesk --config … run` as a subprocess (SQLite, IMAP IDLE,
   acknowledgments over SMTP to an aiosmtpd sink in this process, log level WARNING).
   The clock starts when the process is started and stops when every message is
   journaled and processed, the outbox is drained, and the sink holds every ack;
   "startup" ends when the daemon takes its IMAP lease (first thing its fetcher does);
4. latency: with the daemon idle in IMAP IDLE, K single messages are appended one at a
   time; each is timed from APPEND to its acknowledgment arriving at the sink, and split
   at the journal's received_at (Dovecot's IDLE notification + FETCH | maildesk's work);
5. SIGTERM, exit code 0 expected; peak RSS is the daemon's VmHWM just before.

    cd /work/main && /work/venv/bin/python -m benchmarks.ingest --n 2000
    /work/venv/bin/python -m benchmarks.ingest --sizes 500,2000,20000 --synchronous normal

Output: a table, then one JSON line per N with every figure (the last line for --n).
Exit status 0 when every run completed and every message was processed, else 1.
`--diagnose` adds: the floor fetched with IMAPClient, stdlib and maildesk parse() alone,
and smtplib → sink per ack.  `--py-spy FILE` samples the daemon with py-spy (if
installed; `--py-spy-idle` includes waiting threads) and prints where its threads spend
their time; a profiled run is slower, so do not read its throughput as the result.
Run from the repository root: it imports `tests.servers.dovecot` and `tests.conftest`.
"""

from __future__ import annotations

import argparse
import codecs
import email
import email.header
import email.message
import imaplib
import json
import os
import re
import shutil
import signal
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import SmtpSink
from tests.servers.dovecot import Dovecot, dovecot_available

from benchmarks import corpus
from maildesk import db

USER, PASSWORD = "support", "secret"
FETCH_BATCH = 100
APPEND_CHUNK_BYTES = 4 * 1024 * 1024
APPEND_CHUNK_MESSAGES = 250
POLL_SECONDS = 0.2
STARTUP_POLL_SECONDS = 0.02
STALL_SECONDS = 120.0
ACK_TIMEOUT_SECONDS = 30.0
LATENCY_PAUSE_SECONDS = 0.3
STOP_TIMEOUT_SECONDS = 60.0
PROGRESS_EVERY_SECONDS = 10.0
WATCHDOG_GRACE_SECONDS = 30.0
TARGET_RATIO, TARGET_RSS_MB, TARGET_LATENCY_S = 0.5, 100.0, 1.0
IN_REPLY_TO = re.compile(rb"^In-Reply-To:\s*<([^>\s]+)>", re.IGNORECASE | re.MULTILINE)

CONFIG = """\
[maildesk]
support_address = "it-support@example.com"
node_name = "bench"
log_level = "{log_level}"
data_dir = "{folder}/data"

[database]
url = "sqlite:///{db_path}"
sqlite_synchronous = "{synchronous}"

[smtp_intake]
enabled = false

[outbox]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "plain"

[[imap]]
name = "support"
host = "127.0.0.1"
port = {imap_port}
security = "plain"
username = "{user}"
password = "{password}"
idle = true
"""


class BenchError(Exception):
    """A run could not complete (timeout, stall, daemon died); the text says why."""


# --- time limits ---------------------------------------------------------------------------


class Deadline:
    """The global time limit, checked by every wait loop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, doing: str) -> None:
        if self.remaining() <= 0:
            raise BenchError(f"global timeout ({self.seconds:.0f}s) while {doing}")


class Watchdog:
    """Hard stop if something blocks past the deadline: kill what we started, exit 3."""

    def __init__(self, seconds: float) -> None:
        self.cleanups: list[Callable[[], None]] = []
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def register(self, cleanup: Callable[[], None]) -> Callable[[], None]:
        with self.lock:
            self.cleanups.append(cleanup)
        return cleanup

    def unregister(self, cleanup: Callable[[], None]) -> None:
        with self.lock, suppress(ValueError):
            self.cleanups.remove(cleanup)

    def _fire(self) -> None:
        print("benchmark: watchdog: hard timeout, killing what it started", file=sys.stderr)
        with self.lock:
            cleanups = list(reversed(self.cleanups))
        for cleanup in cleanups:
            with suppress(Exception):
                cleanup()
        os._exit(3)

    def cancel(self) -> None:
        self.timer.cancel()


# --- the SMTP sink ---------------------------------------------------------------------------


class AckSink(SmtpSink):
    """tests.conftest.SmtpSink that keeps only arrival times, keyed by In-Reply-To."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition(self.lock)
        self.arrivals: list[float] = []
        self.by_reply_to: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        content = envelope.original_content or b""
        head = content.split(b"\r\n\r\n", 1)[0]
        found = IN_REPLY_TO.search(head)
        with self.cond:
            self.arrivals.append(now)
            if found:
                self.by_reply_to[found.group(1).decode("ascii", "replace")] = now
            self.cond.notify_all()
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def last_arrival(self) -> float | None:
        with self.lock:
            return max(self.arrivals) if self.arrivals else None

    def wait_for_reply_to(self, message_id: str, timeout: float) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: message_id in self.by_reply_to, timeout=timeout)
            return self.by_reply_to.get(message_id)


# --- loading ---------------------------------------------------------------------------------


@dataclass
class Loaded:
    n: int
    kinds: Counter[str]
    total_bytes: int
    threaded: int
    gen_s: float
    load_s: float


def load_corpus(dovecot: Dovecot, n: int, seed: int, deadline: Deadline) -> Loaded:
    """Generate and MULTIAPPEND; generation and loading are timed separately."""
    kinds: Counter[str] = Counter()
    total = threaded = 0
    gen_s = load_s = 0.0
    with dovecot.client(USER, timeout=120) as client:
        chunk: list[bytes] = []
        chunk_bytes = 0
        mails = corpus.generate(n, seed)
        while True:
            deadline.check("loading messages into Dovecot")
            started = time.perf_counter()
            mail = next(mails, None)
            gen_s += time.perf_counter() - started
            if mail is not None:
                kinds[mail.kind] += 1
                total += len(mail.raw)
                threaded += mail.threads_onto is not None
                chunk.append(mail.raw)
                chunk_bytes += len(mail.raw)
            full = chunk_bytes >= APPEND_CHUNK_BYTES or len(chunk) >= APPEND_CHUNK_MESSAGES
            if chunk and (full or mail is None):
                started = time.perf_counter()
                client.multiappend("INBOX", chunk)
                load_s += time.perf_counter() - started
                chunk, chunk_bytes = [], 0
            if mail is None:
                break
    stored = dovecot.count(USER)
    if stored != n:
        raise BenchError(f"Dovecot holds {stored} messages after loading {n}")
    return Loaded(n, kinds, total, threaded, gen_s, load_s)


# --- the floor -------------------------------------------------------------------------------


def _codec(charset: str | None) -> str:
    try:
        return codecs.lookup(charset or "utf-8").name
    except LookupError:
        return "utf-8"


def _header_text(value: object) -> str:
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (LookupError, ValueError, UnicodeDecodeError):
        return str(value)


def stdlib_parse(raw: bytes) -> int:
    """The least any ingester must do: parse, decode the subject and every text part."""
    msg = email.message_from_bytes(raw)
    chars = len(_header_text(msg.get("Subject"))) + len(_header_text(msg.get("From")))
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            chars += len(payload.decode(_codec(part.get_content_charset()), "replace"))
    return chars


@dataclass
class Floor:
    messages: int
    seconds: float
    fetched_bytes: int

    @property
    def ms_per_msg(self) -> float:
        return 1000 * self.seconds / max(1, self.messages)

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def measure_floor(dovecot: Dovecot, keep: list[bytes] | None = None) -> Floor:
    """imaplib: UID SEARCH, UID FETCH BODY.PEEK[] in batches of 100, parse each message."""
    started = time.perf_counter()
    conn = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=120)
    count = size = 0
    try:
        conn.login(USER, dovecot.password(USER))
        conn.select("INBOX", readonly=True)
        _, data = conn.uid("SEARCH", "ALL")
        uids = data[0].split() if data and data[0] else []
        for start in range(0, len(uids), FETCH_BATCH):
            batch = b",".join(uids[start : start + FETCH_BATCH]).decode()
            _, items = conn.uid("FETCH", batch, "(BODY.PEEK[])")
            for item in items:
                if isinstance(item, tuple):
                    raw = item[1]
                    stdlib_parse(raw)
                    count += 1
                    size += len(raw)
                    if keep is not None:
                        keep.append(raw)
    finally:
        with suppress(Exception):
            conn.logout()
    return Floor(count, time.perf_counter() - started, size)


def measure_imapclient_floor(dovecot: Dovecot) -> Floor:
    """Diagnostic: the same with IMAPClient, the library the daemon fetches with."""
    started = time.perf_counter()
    count = size = 0
    with dovecot.client(USER, timeout=120) as client:
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search(["ALL"]))
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw = bytes(fetched[uid][b"BODY[]"])
                stdlib_parse(raw)
                count += 1
                size += len(raw)
    return Floor(count, time.perf_counter() - started, size)


def measure_maildesk_parse(raws: list[bytes]) -> float:
    """Diagnostic: maildesk.pipeline.parse.parse in this process, ms per message."""
    from maildesk.pipeline.parse import parse

    started = time.perf_counter()
    for raw in raws:
        parse(raw)
    return 1000 * (time.perf_counter() - started) / max(1, len(raws))


# --- the daemon ------------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MB; empty once it is gone."""
    values: dict[str, float] = {}
    with suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values


def _wall(value: str | None) -> float | None:
    """A timestamp column (SQLAlchemy on SQLite: naive UTC text) as epoch seconds."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class DbProbe:
    """Polls the daemon's SQLite database from this process, read only."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path), timeout=10, isolation_level=None)
        self.conn.execute("PRAGMA query_only=ON")

    def one(self, sql: str) -> Any:
        return self.conn.execute(sql).fetchone()[0]

    def has_lease(self) -> bool:
        return bool(self.one("SELECT count(*) FROM leases"))

    def progress(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT status, count(*) FROM inbound_messages GROUP BY status"
        ).fetchall()
        by_status = {status: int(n) for status, n in rows}
        outbox = self.conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        out = {status: int(n) for status, n in outbox.fetchall()}
        return {
            "journaled": sum(by_status.values()),
            "pending": by_status.get("pending", 0),
            "processed": by_status.get("processed", 0),
            "quarantined": by_status.get("quarantined", 0),
            "tickets": int(self.one("SELECT count(*) FROM tickets")),
            "outbox_open": out.get("pending", 0) + out.get("sending", 0),
            "outbox_sent": out.get("sent", 0),
            "outbox_failed": out.get("failed", 0),
        }

    def timeline(self) -> dict[str, float | None]:
        row = self.conn.execute(
            "SELECT min(received_at), max(received_at), max(processed_at) FROM inbound_messages"
        ).fetchone()
        first_ticket = self.one("SELECT min(created_at) FROM tickets")
        return {
            "first_journaled": _wall(row[0]),
            "last_journaled": _wall(row[1]),
            "last_processed": _wall(row[2]),
            "first_ticket": _wall(first_ticket),
        }

    def received_at(self, message_id: str) -> float | None:
        row = self.conn.execute(
            "SELECT received_at FROM inbound_messages WHERE dedupe_key = ?", (f"mid:{message_id}",)
        ).fetchone()
        return _wall(row[0]) if row else None

    def mojibake_tickets(self) -> int:
        return int(
            self.one(
                "SELECT count(*) FROM tickets WHERE instr(subject, char(65533)) > 0 "
                "OR instr(requester_name, char(65533)) > 0 "
                "OR instr(description, char(65533)) > 0"
            )
        )

    def close(self) -> None:
        self.conn.close()


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
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no daemon log)"
        return "\n".join(text.splitlines()[-lines:]) or "(daemon log is empty)"


def write_config(folder: Path, dovecot: Dovecot, sink: AckSink, synchronous: str) -> Path:
    path = folder / "maildesk.toml"
    path.write_text(
        CONFIG.format(
            log_level="WARNING",
            folder=folder,
            db_path=folder / "maildesk.db",
            synchronous=synchronous,
            smtp_port=sink.port,
            imap_port=dovecot.port,
            user=USER,
            password=dovecot.password(USER),
        ),
        encoding="utf-8",
    )
    return path


def start_daemon(config: Path, log: Path, pyspy_out: Path | None, idle: bool = False) -> Daemon:
    handle = log.open("ab")
    started = time.time()
    proc = subprocess.Popen(
        [sys.executable, "-m", "maildesk", "--config", str(config), "run"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    handle.close()
    pyspy = None
    if pyspy_out is not None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        pyspy = subprocess.Popen(
            [
                exe,
                "record",
                "--pid",
                str(proc.pid),
                "--rate",
                "250",
                "--format",
                "raw",
                "--threads",
                "--nonblocking",
                *(["--idle"] if idle else []),
                "--output",
                str(pyspy_out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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


@dataclass
class Bulk:
    startup_s: float
    e2e_s: float
    done_wall: float
    running_wall: float
    rss_after_startup_mb: float
    peak_rss_bulk_mb: float
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    timeline: dict[str, float | None] = field(default_factory=dict)
    final: dict[str, int] = field(default_factory=dict)


def wait_running(daemon: Daemon, probe: DbProbe, deadline: Deadline) -> float:
    """Until the daemon holds its IMAP lease (its fetcher thread is up); wall time."""
    while True:
        deadline.check("waiting for the daemon to start")
        if not daemon.alive():
            raise BenchError(f"daemon exited during startup:\n{daemon.log_tail()}")
        if probe.has_lease():
            return time.time()
        if time.time() - daemon.started_wall > STALL_SECONDS:
            raise BenchError(f"daemon not running after {STALL_SECONDS:.0f}s")
        time.sleep(STARTUP_POLL_SECONDS)


def wait_bulk(
    daemon: Daemon, probe: DbProbe, sink: AckSink, n: int, deadline: Deadline, label: str
) -> Bulk:
    running = wait_running(daemon, probe, deadline)
    rss_start = proc_status(daemon.proc.pid).get("VmRSS", 0.0)
    samples: list[tuple[float, float]] = []
    last_change, last_key = time.monotonic(), (-1, -1, -1)
    next_report = time.monotonic() + PROGRESS_EVERY_SECONDS
    while True:
        deadline.check(f"waiting for {n} messages to be ticketed and acknowledged")
        if not daemon.alive():
            raise BenchError(f"daemon exited with {daemon.proc.returncode}:\n{daemon.log_tail()}")
        state = probe.progress()
        acks = sink.count()
        status = proc_status(daemon.proc.pid)
        elapsed = time.time() - daemon.started_wall
        samples.append((round(elapsed, 2), round(status.get("VmRSS", 0.0), 1)))
        finished = (
            state["journaled"] >= n
            and state["pending"] == 0
            and state["outbox_open"] == 0
            and acks >= state["outbox_sent"]
        )
        if finished:
            break
        key = (state["journaled"], state["processed"] + state["quarantined"], acks)
        if key != last_key:
            last_change, last_key = time.monotonic(), key
        elif time.monotonic() - last_change > STALL_SECONDS:
            raise BenchError(f"no progress for {STALL_SECONDS:.0f}s: {state}, acks={acks}")
        if time.monotonic() >= next_report:
            next_report += PROGRESS_EVERY_SECONDS
            print(
                f"  [{label}] {elapsed:6.1f}s journaled={state['journaled']} "
                f"done={state['processed'] + state['quarantined']} tickets={state['tickets']} "
                f"acks={acks} rss={status.get('VmRSS', 0.0):.0f}MB",
                file=sys.stderr,
                flush=True,
            )
        time.sleep(POLL_SECONDS)
    peak = proc_status(daemon.proc.pid).get("VmHWM", 0.0)
    timeline = probe.timeline()
    ends = [t for t in (sink.last_arrival(), timeline["last_processed"]) if t is not None]
    done = max(ends) if ends else time.time()
    return Bulk(
        startup_s=running - daemon.started_wall,
        e2e_s=done - daemon.started_wall,
        done_wall=done,
        running_wall=running,
        rss_after_startup_mb=rss_start,
        peak_rss_bulk_mb=peak,
        rss_samples=samples,
        timeline=timeline,
        final={**probe.progress(), "acks": sink.count()},
    )


@dataclass
class Latency:
    total: list[float] = field(default_factory=list)  # APPEND → ack at the sink
    to_journal: list[float] = field(default_factory=list)  # APPEND → journaled (IDLE + FETCH)
    to_ack: list[float] = field(default_factory=list)  # journaled → ack (process + send)


def measure_latency(
    dovecot: Dovecot,
    sink: AckSink,
    daemon: Daemon,
    k: int,
    seed: int,
    deadline: Deadline,
    probe: DbProbe,
) -> Latency:
    """APPEND one message at a time, each timed until its ack reaches the sink.

    The journal's received_at splits each wait in two: APPEND → journaled is Dovecot
    telling the IDLE session (it delays notifications by 500 ms: NOTIFY_DELAY_MSECS in
    its mailbox-watch.c) plus the FETCH; journaled → ack is maildesk's own work.
    """
    result = Latency()
    if k <= 0:
        return result
    time.sleep(1.0)  # let the daemon settle into IDLE after the bulk run
    with dovecot.client(USER, timeout=30) as client:
        for i in range(k):
            deadline.check("measuring latency")
            if not daemon.alive():
                raise BenchError(f"daemon exited during the latency probe:\n{daemon.log_tail()}")
            mail = corpus.latency_mail(i, seed)
            sent = time.time()
            client.append("INBOX", mail.raw)
            wait = min(ACK_TIMEOUT_SECONDS, max(0.1, deadline.remaining()))
            arrived = sink.wait_for_reply_to(mail.message_id, timeout=wait)
            if arrived is None:
                raise BenchError(f"latency probe {i}: no acknowledgment within {wait:.0f}s")
            result.total.append(arrived - sent)
            journaled = probe.received_at(mail.message_id)
            if journaled is not None:
                result.to_journal.append(journaled - sent)
                result.to_ack.append(arrived - journaled)
            time.sleep(LATENCY_PAUSE_SECONDS)
    return result


def measure_smtp_floor(raw: bytes, count: int) -> float:
    """Diagnostic: smtplib → a fresh sink, one connection, `count` copies of one ack; ms each."""
    sink = AckSink()
    sink.controller.start()
    try:
        started = time.perf_counter()
        conn = smtplib.SMTP("127.0.0.1", sink.port, timeout=30)
        try:
            for _ in range(count):
                conn.sendmail("it-support@example.com", ["someone@example.com"], raw)
        finally:
            with suppress(smtplib.SMTPException, OSError):
                conn.quit()
        return 1000 * (time.perf_counter() - started) / max(1, count)
    finally:
        sink.controller.stop()


# --- one size --------------------------------------------------------------------------------


def _pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def run_size(n: int, args: argparse.Namespace, deadline: Deadline, dog: Watchdog) -> dict[str, Any]:
    label = f"n={n}"
    result: dict[str, Any] = {
        "n": n,
        "seed": args.seed,
        "synchronous": args.synchronous,
        "code": code_version(),
    }
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="maildesk-bench-", dir=args.workdir))
        if not args.keep:
            stack.callback(shutil.rmtree, folder, True)
        result["workdir"] = str(folder)

        print(f"[{label}] starting Dovecot, generating and loading {n} messages", file=sys.stderr)
        dovecot = Dovecot(users={USER: PASSWORD})
        dovecot.start()
        stack.callback(dog.unregister, dog.register(dovecot.stop))
        stack.callback(dovecot.stop)
        loaded = load_corpus(dovecot, n, args.seed, deadline)
        result.update(
            corpus_mb=_r(loaded.total_bytes / 2**20, 1),
            corpus_kinds=dict(sorted(loaded.kinds.items())),
            threaded_replies=loaded.threaded,
            expected_tickets=n - loaded.threaded,
            gen_s=_r(loaded.gen_s, 2),
            load_s=_r(loaded.load_s, 2),
            load_msgs_per_s=_r(n / loaded.load_s if loaded.load_s else 0.0, 1),
        )

        print(f"[{label}] floor: imaplib FETCH + stdlib parse", file=sys.stderr)
        deadline.check("measuring the floor")
        keep: list[bytes] | None = [] if args.diagnose else None
        floor = measure_floor(dovecot, keep)
        if floor.messages != n:
            raise BenchError(f"the floor fetched {floor.messages} of {n} messages")
        result.update(
            floor_s=_r(floor.seconds, 2),
            floor_ms_per_msg=_r(floor.ms_per_msg),
            floor_msgs_per_s=_r(floor.msgs_per_s, 1),
        )
        if args.diagnose and keep is not None:
            deadline.check("diagnostics")
            client_floor = measure_imapclient_floor(dovecot)
            result["floor_imapclient_ms_per_msg"] = _r(client_floor.ms_per_msg)
            result["maildesk_parse_ms_per_msg"] = _r(measure_maildesk_parse(keep))
            result["stdlib_parse_only_ms_per_msg"] = _r(_stdlib_only(keep))
            keep.clear()

        print(
            f"[{label}] end to end: maildesk run (synchronous={args.synchronous})", file=sys.stderr
        )
        db_path = folder / "maildesk.db"
        engine = db.make_engine(f"sqlite:///{db_path}", args.synchronous)
        db.upgrade(engine)
        engine.dispose()
        sink = AckSink()
        sink.controller.start()
        stack.callback(sink.controller.stop)
        config = write_config(folder, dovecot, sink, args.synchronous)
        pyspy_out = Path(args.py_spy).with_suffix(f".n{n}.txt") if args.py_spy else None
        daemon = start_daemon(config, folder / "daemon.log", pyspy_out, args.py_spy_idle)
        kill = dog.register(daemon.proc.kill)
        stack.callback(dog.unregister, kill)
        stack.callback(_kill_quietly, daemon)
        probe = DbProbe(db_path)
        stack.callback(probe.close)

        bulk = wait_bulk(daemon, probe, sink, n, deadline, label)
        result.update(_bulk_figures(bulk, n, floor))
        print(f"[{label}] latency: {args.latency} single messages under IDLE", file=sys.stderr)
        lat = measure_latency(dovecot, sink, daemon, args.latency, args.seed, deadline, probe)
        peak = proc_status(daemon.proc.pid).get("VmHWM", 0.0)
        code = stop_daemon(daemon)
        final = probe.progress()
        latencies = lat.total
        result.update(
            latency_n=len(latencies),
            latency_median_s=_r(statistics.median(latencies) if latencies else None, 4),
            latency_p90_s=_r(_pct(latencies, 90), 4),
            latency_max_s=_r(max(latencies) if latencies else None, 4),
            latency_to_journal_median_s=_r(_median(lat.to_journal), 4),
            latency_journal_to_ack_median_s=_r(_median(lat.to_ack), 4),
            latency_journal_to_ack_p90_s=_r(_pct(lat.to_ack, 90), 4),
            peak_rss_mb=_r(peak, 1),
            exit_code=code,
            tickets=final["tickets"],
            acks=sink.count(),
            distinct_acks=len(sink.by_reply_to),
            processed=final["processed"],
            quarantined=final["quarantined"],
            pending=final["pending"],
            outbox_failed=final["outbox_failed"],
            outbox_open=final["outbox_open"],
            unseen_left=dovecot.count(USER, criteria="UNSEEN"),
            mojibake_tickets=probe.mojibake_tickets(),
        )
        if daemon.log.exists() and daemon.log.stat().st_size:
            result["daemon_log_tail"] = daemon.log_tail(30 if code else 10)
        result.update(_verdict(result, args.latency))
        if args.diagnose:
            ack = probe.one("SELECT raw FROM outbox ORDER BY id LIMIT 1")
            if ack:
                count = min(n, 2000)
                result["smtp_floor_ms_per_ack"] = _r(measure_smtp_floor(bytes(ack), count))
        if pyspy_out is not None:
            result["py_spy_output"] = str(pyspy_out)
    return result


def code_version() -> str:
    """The maildesk commit measured, with "+dirty" when src/ has uncommitted changes."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _stdlib_only(raws: list[bytes]) -> float:
    started = time.perf_counter()
    for raw in raws:
        stdlib_parse(raw)
    return 1000 * (time.perf_counter() - started) / max(1, len(raws))


def _kill_quietly(daemon: Daemon) -> None:
    for proc in (daemon.proc, daemon.pyspy):
        if proc is not None and proc.poll() is None:
            proc.kill()
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


def _bulk_figures(bulk: Bulk, n: int, floor: Floor) -> dict[str, Any]:
    excl = bulk.done_wall - bulk.running_wall
    rate = n / bulk.e2e_s if bulk.e2e_s > 0 else 0.0
    rate_excl = n / excl if excl > 0 else 0.0
    since = bulk.timeline
    start = bulk.running_wall - bulk.startup_s

    def rel(key: str) -> float | None:
        value = since.get(key)
        return None if value is None else round(value - start, 3)

    rss = [mb for _, mb in bulk.rss_samples]
    return {
        "startup_s": _r(bulk.startup_s),
        "e2e_s": _r(bulk.e2e_s, 2),
        "e2e_msgs_per_s": _r(rate, 1),
        "e2e_excl_startup_s": _r(excl, 2),
        "e2e_msgs_per_s_excl_startup": _r(rate_excl, 1),
        "e2e_ms_per_msg": _r(1000 * bulk.e2e_s / n),
        "e2e_ratio_to_floor": _r(rate / floor.msgs_per_s if floor.msgs_per_s else 0.0),
        "e2e_ratio_excl_startup": _r(rate_excl / floor.msgs_per_s if floor.msgs_per_s else 0.0),
        "t_first_journaled_s": rel("first_journaled"),
        "t_first_ticket_s": rel("first_ticket"),
        "t_last_journaled_s": rel("last_journaled"),
        "t_last_processed_s": rel("last_processed"),
        "t_last_ack_s": _r(bulk.done_wall - start),
        "rss_after_startup_mb": _r(bulk.rss_after_startup_mb, 1),
        "rss_median_during_run_mb": _r(statistics.median(rss) if rss else None, 1),
        "peak_rss_bulk_mb": _r(bulk.peak_rss_bulk_mb, 1),
        "bulk_tickets": bulk.final.get("tickets"),
        "bulk_acks": bulk.final.get("acks"),
    }


def _verdict(result: dict[str, Any], k: int) -> dict[str, Any]:
    expected = result["expected_tickets"] + result["latency_n"]
    complete = (
        result["processed"] == result["n"] + result["latency_n"]
        and result["quarantined"] == 0
        and result["pending"] == 0
        and result["tickets"] == expected
        and result["acks"] == expected
        and result["distinct_acks"] == expected
        and result["outbox_failed"] == 0
        and result["outbox_open"] == 0
        and result["unseen_left"] == 0
        and result["exit_code"] == 0
    )
    latency = result["latency_median_s"]
    return {
        "all_processed": complete,
        "target_ratio_met": result["e2e_ratio_to_floor"] >= TARGET_RATIO,
        "target_rss_met": result["peak_rss_mb"] <= TARGET_RSS_MB,
        "target_latency_met": None if not k else latency is not None and latency < TARGET_LATENCY_S,
    }


# --- output ----------------------------------------------------------------------------------

COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("n", "N", "{}"),
    ("corpus_mb", "MB", "{:.1f}"),
    ("load_s", "load s", "{:.1f}"),
    ("floor_ms_per_msg", "floor ms/msg", "{:.2f}"),
    ("floor_msgs_per_s", "floor msg/s", "{:.0f}"),
    ("startup_s", "startup s", "{:.2f}"),
    ("e2e_s", "e2e s", "{:.1f}"),
    ("e2e_msgs_per_s", "e2e msg/s", "{:.0f}"),
    ("e2e_msgs_per_s_excl_startup", "excl.start msg/s", "{:.0f}"),
    ("e2e_ratio_to_floor", "ratio", "{:.2f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.1f}"),
    ("tickets", "tickets", "{}"),
    ("acks", "acks", "{}"),
    ("quarantined", "quar.", "{}"),
    ("latency_median_s", "lat p50 s", "{:.3f}"),
    ("latency_p90_s", "lat p90 s", "{:.3f}"),
    ("exit_code", "exit", "{}"),
)


def _cell(result: dict[str, Any], key: str, fmt: str) -> str:
    value = result.get(key)
    return "-" if value is None else fmt.format(value)


def print_table(results: list[dict[str, Any]]) -> None:
    rows = [[title for _, title, _ in COLUMNS]]
    rows += [[_cell(r, key, fmt) for key, _, fmt in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for j, row in enumerate(rows):
        print("  ".join(cell.rjust(widths[i]) for i, cell in enumerate(row)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def print_details(result: dict[str, Any]) -> None:
    if "error" in result:
        print(f"\nN={result['n']}: FAILED: {result['error']}")
        return
    print(
        f"\nN={result['n']}  (sqlite_synchronous={result['synchronous']}, "
        f"seed={result['seed']}, code={result['code']}, workdir={result['workdir']})"
    )
    kinds = ", ".join(f"{k} {v}" for k, v in result["corpus_kinds"].items())
    print(f"  corpus: {result['corpus_mb']} MB; {kinds}")
    print(
        f"  generation {result['gen_s']}s, APPEND {result['load_s']}s "
        f"({result['load_msgs_per_s']} msg/s; not part of any result)"
    )
    print(
        f"  floor (imaplib + email.message_from_bytes): {result['floor_s']}s, "
        f"{result['floor_ms_per_msg']} ms/msg, {result['floor_msgs_per_s']} msg/s"
    )
    for key, text in (
        ("floor_imapclient_ms_per_msg", "floor with IMAPClient instead of imaplib"),
        ("stdlib_parse_only_ms_per_msg", "stdlib parse alone (no IMAP)"),
        ("maildesk_parse_ms_per_msg", "maildesk parse() alone (no IMAP, no DB)"),
        ("smtp_floor_ms_per_ack", "smtplib → sink, one connection, per ack"),
    ):
        if key in result:
            print(f"  diagnostic: {text}: {result[key]} ms/msg")
    print(
        f"  daemon timeline from process start (s): running {result['startup_s']}, "
        f"first journaled {result['t_first_journaled_s']}, first ticket "
        f"{result['t_first_ticket_s']}, last journaled {result['t_last_journaled_s']}, "
        f"last processed {result['t_last_processed_s']}, last ack {result['t_last_ack_s']}"
    )
    print(
        f"  end to end {result['e2e_s']}s = {result['e2e_msgs_per_s']} msg/s "
        f"({result['e2e_ms_per_msg']} ms/msg), ratio to floor {result['e2e_ratio_to_floor']}; "
        f"excluding startup {result['e2e_excl_startup_s']}s = "
        f"{result['e2e_msgs_per_s_excl_startup']} msg/s, ratio "
        f"{result['e2e_ratio_excl_startup']}"
    )
    print(
        f"  RSS: after startup {result['rss_after_startup_mb']} MB, median during run "
        f"{result['rss_median_during_run_mb']} MB, peak (VmHWM) after bulk "
        f"{result['peak_rss_bulk_mb']} MB, at exit {result['peak_rss_mb']} MB"
    )
    print(
        f"  outcome: {result['tickets']} tickets (expected {result['expected_tickets']} + "
        f"{result['latency_n']} latency probes; {result['threaded_replies']} replies threaded), "
        f"{result['acks']} acks ({result['distinct_acks']} distinct), "
        f"{result['processed']} processed, {result['quarantined']} quarantined, "
        f"{result['pending']} pending, {result['outbox_failed']} outbox failed, "
        f"{result['unseen_left']} left unseen in IMAP, exit code {result['exit_code']}"
    )
    print(f"  tickets with U+FFFD in subject/name/description: {result['mojibake_tickets']}")
    if result.get("latency_n"):
        print(
            f"  latency APPEND→ack (K={result['latency_n']}): median "
            f"{result['latency_median_s']}s, p90 {result['latency_p90_s']}s, "
            f"max {result['latency_max_s']}s; APPEND→journaled (Dovecot IDLE notify + "
            f"FETCH) median {result['latency_to_journal_median_s']}s, journaled→ack "
            f"median {result['latency_journal_to_ack_median_s']}s "
            f"(p90 {result['latency_journal_to_ack_p90_s']}s)"
        )
    print(
        f"  targets: all processed {result['all_processed']}, ratio ≥ {TARGET_RATIO} "
        f"{result['target_ratio_met']}, peak RSS ≤ {TARGET_RSS_MB:.0f} MB "
        f"{result['target_rss_met']}, latency median < {TARGET_LATENCY_S:.0f}s "
        f"{result['target_latency_met']}"
    )
    if result.get("daemon_log_tail"):
        print("  daemon log (tail):")
        for line in result["daemon_log_tail"].splitlines():
            print(f"    {line}")


def print_flatness(results: list[dict[str, Any]]) -> None:
    done = [r for r in results if "peak_rss_mb" in r]
    if len(done) < 2:
        return
    low, high = min(done, key=lambda r: r["n"]), max(done, key=lambda r: r["n"])
    delta = high["peak_rss_mb"] - low["peak_rss_mb"]
    print(
        f"\npeak RSS from N={low['n']} to N={high['n']}: {low['peak_rss_mb']} → "
        f"{high['peak_rss_mb']} MB ({delta:+.1f} MB)"
    )


# --- py-spy summary --------------------------------------------------------------------------


def summarize_pyspy(path: Path, top: int = 20) -> None:
    """From py-spy's collapsed stacks: per thread, where the samples fall.

    For each thread: the innermost maildesk frame and the leaf frame (what it was
    actually doing: computing, or waiting in a commit, a BEGIN, a socket read), then
    maildesk functions by inclusive share, and library functions by self share.
    """
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        print(f"\npy-spy: no output at {path}")
        return
    per_thread: Counter[str] = Counter()
    spots: Counter[tuple[str, str, str]] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        frames = [f for f in stack.split(";") if f]
        if len(frames) < 2 or not count_text.isdigit() or not frames[0].startswith("thread"):
            continue  # also skips the rare line broken by a newline inside a frame name
        count = int(count_text)
        thread = re.sub(r"\s*\(\d+\)", "", frames[0]).removeprefix("thread").strip(" :")
        names = [_frame_name(f) for f in frames[1:]]
        ours = [name for name in names if "maildesk/" in name]
        per_thread[thread] += count
        spots[(thread, ours[-1] if ours else "-", names[-1])] += count
        own[names[-1]] += count
        for name in set(ours):
            inclusive[name] += count
    total = sum(per_thread.values())
    if not total:
        print(f"\npy-spy: {path} holds no samples")
        return
    print(f"\npy-spy: {total} samples in {path} (250 Hz)")
    for thread, count in per_thread.most_common():
        print(f"  thread {thread or '?'}: {count / 250:.1f}s sampled")
        for (t, mine, leaf), n in spots.most_common():
            if t == thread and n >= max(2, count // 50):
                print(f"    {100 * n / count:5.1f}%  {mine}  →  {leaf}")
    print(f"  maildesk functions, inclusive, % of all samples (top {top}):")
    for name, count in inclusive.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {name}")
    print(f"  leaf functions, % of all samples (top {top}):")
    for name, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {name}")


def _frame_name(frame: str) -> str:
    """'func (path/to/file.py:123)' → 'func (…/pkg/file.py)'; drops the line number."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    parts = where.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else where
    return f"{name} ({short})"


# --- main ------------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers like 500,2000: {text!r}") from exc
    if not sizes or any(s < 1 or s > 1_000_000 for s in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be 1..1000000: {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ingest",
        description="maildesk end-to-end ingest benchmark against a real Dovecot.",
    )
    parser.add_argument("--n", type=int, default=2000, help="messages (default 2000)")
    parser.add_argument("--sizes", type=_sizes, help="several N in turn, e.g. 500,2000,20000")
    parser.add_argument(
        "--latency",
        type=int,
        default=20,
        metavar="K",
        help="single messages for the IDLE latency probe (default 20; 0: off)",
    )
    parser.add_argument(
        "--synchronous",
        choices=["full", "normal"],
        default="full",
        help="database.sqlite_synchronous (default full, maildesk's default)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1200, help="global time limit in seconds (default 1200)"
    )
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also time IMAPClient fetching and maildesk's parse() in-process",
    )
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="sample the daemon with py-spy into FILE.n<N>.txt (slows it)",
    )
    parser.add_argument(
        "--py-spy-idle",
        action="store_true",
        help="with --py-spy: also sample waiting threads (where the wall time goes)",
    )
    parser.add_argument("--workdir", default=None, help="parent of the temp dirs (default /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (DB, logs)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    missing = dovecot_available()
    if missing:
        print(f"benchmark: {missing}", file=sys.stderr)
        return 2
    if args.latency < 0:
        print("benchmark: --latency must be ≥ 0", file=sys.stderr)
        return 2
    sizes: list[int] = args.sizes or [args.n]
    deadline = Deadline(args.timeout)
    dog = Watchdog(args.timeout + WATCHDOG_GRACE_SECONDS)
    results: list[dict[str, Any]] = []
    try:
        for n in sizes:
            try:
                results.append(run_size(n, args, deadline, dog))
            except Exception as exc:  # report it with the other sizes' results, carry on
                results.append({"n": n, "synchronous": args.synchronous, "error": str(exc)})
                print(f"[n={n}] FAILED: {exc}", file=sys.stderr)
                if deadline.remaining() <= 0:
                    break
    finally:
        dog.cancel()
    print()
    print_table([r for r in results if "error" not in r])
    for result in results:
        print_details(result)
    print_flatness(results)
    for result in results:
        if result.get("py_spy_output"):
            summarize_pyspy(Path(result["py_spy_output"]))
    print()
    for result in results:
        print(json.dumps(_json_figures(result), ensure_ascii=False))
    ok = all("error" not in r and r.get("all_processed") for r in results)
    return 0 if ok else 1


def _json_figures(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("daemon_log_tail", "workdir")}


if __name__ == "__main__":
    sys.exit(main())
