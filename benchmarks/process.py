"""The processing path alone, in this process: no IMAP, no SMTP, no other thread.

    .venv/bin/python -m benchmarks.process --n 2000
    .venv/bin/python -m benchmarks.process --n 2000 --cprofile /tmp/process.prof

It writes the ingest benchmark's desk (benchmarks/ingest/desk.py: [[people]] in six
groups, round robin, SQLite with synchronous = full) into a temporary folder, journals
the N messages of benchmarks/corpus.py (seeded), then processes them as the daemon
does (`Service.process_many`, 25 per transaction) and prints the wall and CPU time per
message of the processing alone, plus what was made of the mail (tickets, outbox rows
by kind). For comparing two versions of the code on a quiet machine, and for finding
where the processor's time goes (`--cprofile`); the end-to-end figures (IMAP, the
sender, the SMTP sink) are benchmarks/ingest's.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from benchmarks import corpus
from benchmarks.ingest import desk
from maildesk import cli, db
from maildesk import config as config_mod
from maildesk.mailbox import PROCESS_CHUNK, chunks


def run(n: int, seed: int, folder: Path, profile: Path | None) -> dict[str, object]:
    url = f"sqlite:///{folder}/maildesk.db"
    cfg = config_mod.load(desk.write_config(folder, url, 1, desk.PASSWORD, 1))
    engine = db.make_engine(url, "full")
    db.upgrade(engine)
    service = cli.make_service(cfg, cli.open_store(cfg))
    mails = list(corpus.generate(n, seed))
    entries = service.receive_many([(m.raw, f"bench:{m.index}") for m in mails])
    ids = [e.id for e in entries if not e.duplicate]
    service.process_many(ids[:1])  # first use: lazy imports, caches; not timed
    profiler = cProfile.Profile() if profile else None
    per_chunk: list[float] = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for chunk in chunks(ids[1:], PROCESS_CHUNK):
        t0 = time.perf_counter()
        service.process_many(chunk)
        per_chunk.append((time.perf_counter() - t0) / len(chunk))
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    with engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM outbox GROUP BY kind")).all())
        statuses = dict(
            conn.execute(
                text("SELECT status, count(*) FROM inbound_messages GROUP BY status")
            ).all()
        )
        tickets = conn.execute(text("SELECT count(*) FROM tickets")).scalar_one()
    done = len(ids) - 1
    return {
        "n": n, "processed": done, "wall_ms_per_msg": 1000 * wall / done,
        "cpu_ms_per_msg": 1000 * cpu / done,
        "chunk_median_ms_per_msg": 1000 * statistics.median(per_chunk),
        "tickets": tickets, "outbox": dict(Counter({str(k): int(v) for k, v in kinds.items()})),
        "journal": {str(k): int(v) for k, v in statuses.items()},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.process", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--cprofile", type=Path, help="write cProfile stats here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="maildesk-process-") as tmp:
        result = run(args.n, args.seed, Path(tmp), args.cprofile)
    print(json.dumps(result, ensure_ascii=False))
    bad = result["journal"] != {"processed": args.n}
    if bad:
        print(f"not every message was processed: {result['journal']}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
