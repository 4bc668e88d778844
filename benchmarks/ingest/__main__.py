"""End-to-end ingest benchmark (issue 14): the floor, then maildesk, in interleaved
rounds against a real Dovecot, acknowledgments delivered to an SMTP sink.

    .venv/bin/python -m benchmarks.ingest --n 2000 --stored-tickets 0,100000
    .venv/bin/python -m benchmarks.ingest --sizes 500,20000 --rounds 1
    .venv/bin/python -m benchmarks.ingest --n 2000 --backend postgresql
    .venv/bin/python -m benchmarks.ingest --n 2000 --rounds 0 --py-spy /tmp/prof

For each N: a private Dovecot gets the N messages of benchmarks/corpus.py (seeded).
Then, R times (default 3): the floor (benchmarks/ingest/floor.py, its own process:
UID FETCH in chunks of 200, BytesParser(policy=policy.default), subject, sender,
plain/HTML body, every attachment's content, nothing stored), then `maildesk run`
once per number of stored tickets, each on a fresh copy of a database that already
holds them (benchmarks/ingest/prefill.py). maildesk runs as a real desk: [[people]]
in six groups with leads and a manager, round robin, the shipped routing rules
(benchmarks/ingest/desk.py), SQLite with synchronous = full (or PostgreSQL).

A maildesk round ends when every message is journaled and processed, the outbox is
empty and the sink holds every mail; it is complete when every message is ticketed
or threaded, nothing quarantined or failed, every acknowledgment accepted by the
sink, exit code 0 after SIGTERM. Then K messages are appended one at a time while it
idles in IMAP IDLE (latency: APPEND → acknowledgment at the sink, split at the
journal's received_at: the IMAP server's IDLE notification delay and the FETCH, then
maildesk's part).

ratio = floor seconds / maildesk seconds, both from connecting to done (the floor
from its LOGIN to its last parse; maildesk from taking its IMAP lease to the last
mail at the sink); "incl. start" divides the floor process's whole life by maildesk's
from process start. CPU: the daemon's user + system seconds over the same span (its
start-up CPU shown apart), the floor process's from LOGIN on; peak RSS: VmHWM.
Medians over the rounds; latency pooled over the rounds.
`--code NAME=SRC` (repeatable) runs maildesk from another source tree (PYTHONPATH=SRC,
the same virtualenv): each round then runs every version in turn, for a before/after
measured in the same rounds.
`--py-spy FILE` adds one more (unmeasured) maildesk run sampled by py-spy, and prints
where each thread's time goes (benchmarks/ingest/profile.py).

Run from the repository root (it imports tests.servers and tests.conftest). Output: a
table, the rounds, the targets, then one JSON line per N. Exit 1 when a round was
incomplete.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from tests.servers.dovecot import dovecot_available

from benchmarks.ingest import report
from benchmarks.ingest.daemon import BenchError
from benchmarks.ingest.profile import print_breakdown
from benchmarks.ingest.rounds import run_size


def _numbers(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected numbers like 0,100000: {text!r}") from exc
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected numbers ≥ 0: {text!r}")
    return values


def _code(text: str) -> tuple[str, str]:
    name, sep, src = text.partition("=")
    if not sep or not name or not (Path(src) / "maildesk" / "__init__.py").is_file():
        raise argparse.ArgumentTypeError(f"expected NAME=SRC with SRC/maildesk/: {text!r}")
    return name, str(Path(src).resolve())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--n", type=int, default=2000, help="messages (default 2000)")
    p.add_argument("--sizes", type=_numbers, help="several N in turn, e.g. 500,20000")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--stored-tickets", type=_numbers, default=[0], metavar="N[,N…]",
                   help="tickets already stored before each run (default 0)")  # fmt: skip
    p.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--latency", type=int, default=20, metavar="K",
                   help="IDLE latency probes per maildesk round (default 20)")  # fmt: skip
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    p.add_argument("--cache", type=Path, help="keep SQLite templates (stored tickets) here")
    p.add_argument("--code", action="append", type=_code, metavar="NAME=SRC",
                   help="run maildesk from this src/ folder (e.g. a git worktree's) under "
                        "this name; repeat to compare versions in the same rounds "
                        "(default: the installed one)")  # fmt: skip
    p.add_argument("--py-spy", metavar="FILE", help="one more run sampled by py-spy")
    p.add_argument("--workdir", default=None, help="parent of the temp dirs (default /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the temp dirs (logs)")
    p.add_argument("--json", type=Path, help="also write every figure to this file")
    return p


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds: daemons, Dovecot, PostgreSQL stop


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    missing = dovecot_available()
    if missing:
        print(f"benchmark: {missing}", file=sys.stderr)
        return 2
    sizes: list[Any] = []
    failed = False
    for n in args.sizes or [args.n]:
        try:
            sizes.append(run_size(n, args))
        except (BenchError, RuntimeError, OSError) as exc:
            print(f"[n={n}] FAILED: {exc}", file=sys.stderr)
            failed = True
    rows = [row for size in sizes for row in (report.summarize(size) if size["rounds"] else [])]
    print()
    report.print_table(rows)
    for size in sizes:
        report.print_rounds(size)
    print("\ntargets (issue 14):")
    report.print_targets(rows)
    for size in sizes:
        if size.get("profile") and size["profile"].get("py_spy_output"):
            print_breakdown(size["profile"]["py_spy_output"], size["n"])
    print()
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "sizes": sizes}, ensure_ascii=False,
                                        default=str, indent=1))  # fmt: skip
    complete = all(r["complete"] for r in rows) and not failed
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
