"""Where the daemon's threads spend their time, from py-spy's raw (collapsed) stacks.

Each sample is put in the first category of COSTS whose test its stack passes (the
costs issue 14 names, then the rest by library), per thread, and shown in ms per
message: samples / rate / N. Sampled with --idle, so a thread's waits count too (the
sender waiting for the database lock, the fetcher in IDLE); "idle" is a thread parked
on a queue, an event or a socket with nothing to do.

    python -m benchmarks.ingest.profile FILE N
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable

RATE = 250
Test = Callable[[list[str]], bool]
STATEMENT_LEAVES = ("do_execute ", "do_executemany ", "do_commit ", "do_execute_no_params ",
                    "do_rollback ", "do_begin ")  # fmt: skip
IDLE_LEAVES = ("wait (threading.py)", "_wait_for_tstate_lock", "select (selectors.py)",
               "idle_check", "get (queue.py)", "_poll_for_response")  # fmt: skip


def _any(*parts: str) -> Test:
    return lambda names: any(p in name for name in names for p in parts)


def _leaf(*parts: str) -> Test:
    return lambda names: any(names[-1].startswith(p) or p in names[-1] for p in parts)


IDLE = "idle (IMAP IDLE, queue, event, sleep)"
LOCK = "SQLite write lock: waiting for the other thread's transaction"
COSTS: tuple[tuple[str, Test], ...] = (
    (
        "SQLite write lock: waiting for the other thread's transaction",
        _any("FairLock.", "_on_begin (maildesk/db.py)"),
    ),
    (IDLE, lambda names: _idle(names)),
    ("SSL context built", _any("create_default_context", "load_default_certs")),
    ("SQL: COMMIT (with synchronous=full: the fsync)", _leaf("do_commit ")),
    ("SQL: the statement itself (in the driver)", _leaf(*STATEMENT_LEAVES)),
    ("SQL: SQLAlchemy per-statement overhead", _any("sqlalchemy/")),
    ("MIME written by email.generator", _any("(email/generator.py)")),
    ("MIME assembled by maildesk/render/mime.py", _any("(maildesk/render/mime.py)")),
    ("templates rendered (maildesk/render)", _any("(maildesk/render/")),
    ("email package: parsing (headers, bodies)", _any("(email/")),
    ("SMTP exchange (smtplib, socket)", _any("(smtplib.py)", "smtplib")),
    ("IMAP (imapclient, socket)", _any("imapclient/", "(imaplib.py)")),
)


def _idle(names: list[str]) -> bool:
    return any("Fetcher._idle" in n for n in names) or _leaf(*IDLE_LEAVES)(names)


def category(names: list[str]) -> str:
    for name, test in COSTS:
        if test(names):
            return name
    ours = [n for n in names if "maildesk/" in n]
    return f"other: {_module(ours[-1])}" if ours else f"other: {names[-1]}"


def _module(frame: str) -> str:
    return frame.split(" (", 1)[1].rstrip(")") if " (" in frame else frame


def frame_name(frame: str) -> str:
    """'func (sqlalchemy/sql/base.py:123)' → 'func (sqlalchemy/sql/base.py)' (py-spy
    already names files from their package: maildesk/…, sqlalchemy/…, email/…)."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})"


def thread_of(first: str) -> str:
    """'thread (23177): imap-support' → 'imap-support'."""
    return first.split("): ", 1)[1] if "): " in first else first


def read(path: str) -> list[tuple[str, list[str], int]]:
    samples = []
    with open(path, errors="replace") as handle:
        for line in handle:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            frames = [f for f in stack.split(";") if f]
            if not count.isdigit() or len(frames) < 2:
                continue
            start = next((i for i, f in enumerate(frames) if f.startswith("thread")), None)
            if start is None or start + 1 >= len(frames):
                continue
            names = [frame_name(f) for f in frames[start + 1 :]]
            samples.append((thread_of(frames[start]), names, int(count)))
    return samples


def breakdown(path: str, n: int) -> dict[str, Counter[str]]:
    per_thread: dict[str, Counter[str]] = {}
    for thread, names, count in read(path):
        per_thread.setdefault(thread, Counter())[category(names)] += count
    return per_thread


def callers(path: str, thread: str, prefix: str) -> Counter[str]:
    """Within the categories starting with `prefix`: which maildesk function it was for."""
    found: Counter[str] = Counter()
    for t, names, count in read(path):
        if t == thread and category(names).startswith(prefix):
            ours = [x for x in names if "maildesk/" in x and "maildesk/store/__init__" not in x]
            found[ours[-1] if ours else "-"] += count
    return found


SPLITS = (("email package", "email-package parsing"), ("SQL", "SQL (all three kinds)"))


def print_breakdown(path: str, n: int, top: int = 14) -> None:
    per_thread = breakdown(path, n)
    print(f"\npy-spy {path}: ms per message (samples/{RATE}/N, N={n}), by thread")
    for thread, counts in sorted(per_thread.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(counts.values())
        busy = total - counts.get(IDLE, 0) - counts.get(LOCK, 0)
        print(
            f"  thread {thread}: {1000 * total / RATE / n:.2f} ms/msg sampled, "
            f"{1000 * busy / RATE / n:.2f} working (not idle nor waiting for the lock)"
        )
        for name, count in counts.most_common(top):
            print(f"    {1000 * count / RATE / n:7.3f}  {100 * count / total:5.1f}%  {name}")
        for prefix, title in SPLITS:
            found = callers(path, thread, prefix)
            if sum(found.values()) >= total / 20:
                print(f"    {title}, by the maildesk function that asked:")
                for name, count in found.most_common(8):
                    print(f"      {1000 * count / RATE / n:7.3f}  {name}")


if __name__ == "__main__":
    print_breakdown(sys.argv[1], int(sys.argv[2]))
