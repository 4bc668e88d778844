"""One size N: load the mailbox once, then interleaved rounds — the floor, then maildesk
(once per number of stored tickets) — and the medians over the rounds."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.servers.dovecot import Dovecot

from benchmarks import corpus
from benchmarks.ingest import daemon as dm
from benchmarks.ingest.backends import Backend, make_backend
from benchmarks.ingest.desk import PASSWORD, USER, AckSink, write_config

REPO = Path(__file__).resolve().parents[2]
APPEND_CHUNK_BYTES = 4 * 1024 * 1024
APPEND_CHUNK_MESSAGES = 250


def load_corpus(dovecot: Dovecot, n: int, seed: int) -> dict[str, Any]:
    """Generate the N messages and MULTIAPPEND them (not part of any result)."""
    kinds: Counter[str] = Counter()
    total = threaded = 0
    started = time.perf_counter()
    with dovecot.client(USER, timeout=300) as client:
        chunk: list[bytes] = []
        for mail in corpus.generate(n, seed):
            kinds[mail.kind] += 1
            total += len(mail.raw)
            threaded += mail.threads_onto is not None
            chunk.append(mail.raw)
            if len(chunk) >= APPEND_CHUNK_MESSAGES or sum(map(len, chunk)) >= APPEND_CHUNK_BYTES:
                client.multiappend("INBOX", chunk)
                chunk = []
        if chunk:
            client.multiappend("INBOX", chunk)
        client.select_folder("INBOX")
        last_uid = max(client.search(["ALL"]))
    if dovecot.count(USER) != n:
        raise dm.BenchError(f"Dovecot holds {dovecot.count(USER)} messages after loading {n}")
    return {
        "corpus_mb": round(total / 2**20, 1),
        "corpus_kinds": dict(sorted(kinds.items())),
        "threaded_replies": threaded,
        "load_s": round(time.perf_counter() - started, 1),
        "last_uid": last_uid,
    }


def reset_mailbox(dovecot: Dovecot, last_uid: int) -> None:
    """After a round: the latency probes expunged, the corpus unseen again."""
    with dovecot.client(USER, timeout=300) as client:
        client.select_folder("INBOX")
        probes = [u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid]
        if probes:
            client.delete_messages(probes, silent=True)
            client.uid_expunge(probes)
        client.remove_flags("1:*", [b"\\Seen"], silent=True)  # a range: 20,000 UIDs are too long


def run_floor(dovecot: Dovecot, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest.floor", "--host", dovecot.host,
         "--port", str(dovecot.port), "--user", USER, "--password", dovecot.password(USER)],
        cwd=REPO, capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise dm.BenchError(f"floor process failed: {proc.stderr[-2000:]}")
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    if got["messages"] != n:
        raise dm.BenchError(f"the floor fetched {got['messages']} of {n} messages")
    return {
        "floor_s": got["wall_s"],
        "floor_process_s": time.perf_counter() - started,
        "floor_cpu_s": got["cpu_s"],
        "floor_peak_rss_mb": got["peak_rss_mb"],
        "floor_ms_per_msg": 1000 * got["wall_s"] / n,
    }


def run_maildesk(
    ctx: dict[str, Any],
    stored: int,
    label: str,
    pyspy_out: Path | None = None,
    code: tuple[str, str] | None = None,
) -> dict[str, Any]:
    args, dovecot, sink, backend = ctx["args"], ctx["dovecot"], ctx["sink"], ctx["backend"]
    n, folder = ctx["n"], ctx["folder"]
    base = backend.template(stored)
    # a database's name, also in a URL: "stored=0@final" -> "stored0_final"
    url = backend.fresh(stored, re.sub(r"\W", "_", label.replace("=", "")))
    sink.reset()
    rundir = folder / label.replace(" ", "_").replace("=", "")
    rundir.mkdir(exist_ok=True)
    config = write_config(rundir, url, dovecot.port, dovecot.password(USER), sink.port)
    if stored:
        digests_already_sent(config)
    with ExitStack() as stack:
        version, src = code if code else ("", None)
        daemon = dm.start_daemon(config, rundir / "daemon.log", pyspy_out, idle=True, src=src)
        stack.callback(dm.kill_quietly, daemon)
        probe = dm.DbProbe(url, base)
        stack.callback(probe.close)
        here = time.process_time()  # this process: the SMTP sink's thread, the probe's polls
        bulk = dm.wait_bulk(daemon, probe, sink, n, label)
        sink_cpu = time.process_time() - here
        lat = dm.measure_latency(dovecot, sink, daemon, args.latency, args.seed, probe,
                                 offset=ctx["probe_offset"])  # fmt: skip
        ctx["probe_offset"] += args.latency
        peak = dm.proc_status(daemon.proc.pid).get("VmHWM", 0.0)
        code = dm.stop_daemon(daemon)
        result = _figures(bulk, n, stored)
        result["code"] = version
        result["sink_cpu_ms_per_msg"] = 1000 * sink_cpu / n
        result.update(_verify(probe, sink, n, args.latency, code))
        result.update(peak_rss_end_mb=peak, latency=lat.__dict__, exit_code=code)
        if code != 0 or not result["complete"]:
            result["daemon_log_tail"] = daemon.log_tail(20)
    backend.discard(url)
    reset_mailbox(dovecot, ctx["last_uid"])
    return result


def digests_already_sent(config: Path) -> int:
    """A desk with a year of tickets has sent its digests on schedule: record the periods
    due now as sent, so the run starts between two digests instead of computing a
    year-old desk's catch-up digests (several seconds of CPU) inside the measurement."""
    from maildesk import cli
    from maildesk import config as config_mod
    from maildesk.digest import schedule
    from maildesk.digest.settings import DIGESTS
    from maildesk.store import digests as runs

    cfg = config_mod.load(config)
    now = datetime.now(UTC)
    due = schedule.due(cfg.section(DIGESTS), cfg.people, now, cfg.tickets.timezone)
    store = cli.open_store(cfg)
    with store.transaction() as tx:
        recorded = sum(runs.record(tx, d.period, d.group, len(d.recipients), now) for d in due)
    store.engine.dispose()
    return recorded


def _figures(bulk: dm.Bulk, n: int, stored: int) -> dict[str, Any]:
    run_s = bulk.done_wall - bulk.running_wall
    processed = bulk.timeline.get("last_processed")
    return {
        # from taking the lease to the last message processed; the rest is the sender's
        "processing_s": None if processed is None else processed - bulk.running_wall,
        "stored_tickets": stored,
        "startup_s": bulk.startup_s,
        "e2e_s": bulk.e2e_s,
        "run_s": run_s,
        "ms_per_msg": 1000 * run_s / n,
        "cpu_s": bulk.cpu_s,
        "startup_cpu_s": bulk.startup_cpu_s,
        "cpu_ms_per_msg": 1000 * bulk.cpu_s / n,
        "peak_rss_mb": bulk.peak_rss_mb,
        "rss_after_startup_mb": bulk.rss_after_startup_mb,
        "tickets": bulk.final.get("tickets"),
        "mails_sent": bulk.final.get("mails"),
    }


def _verify(probe: dm.DbProbe, sink: AckSink, n: int, k: int, code: int) -> dict[str, Any]:
    final = probe.progress()
    acks = probe.ack_ids()
    accepted = sink.received(acks)
    unticketed = probe.unticketed()
    complete = (
        final["processed"] == n + k
        and final["quarantined"] == 0
        and final["pending"] == 0
        and unticketed == 0
        and final["outbox_failed"] == 0
        and final["outbox_open"] == 0
        and accepted == len(acks)
        and sink.count() == final["outbox_sent"]
        and code == 0
    )
    return {
        "processed": final["processed"],
        "quarantined": final["quarantined"],
        "unticketed": unticketed,
        "tickets_total": final["tickets"],
        "acks": len(acks),
        "acks_accepted": accepted,
        "outbox_kinds": probe.outbox_kinds(),
        "outbox_failed": final["outbox_failed"],
        "complete": complete,
    }


def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    stored_values: list[int] = args.stored_tickets
    codes: list[tuple[str, str] | None] = list(args.code or [None])
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="maildesk-bench-", dir=args.workdir))
        if not args.keep:
            stack.callback(shutil.rmtree, folder, True)
        print(f"[n={n}] Dovecot: generating and loading {n} messages", file=sys.stderr)
        dovecot = Dovecot(users={USER: PASSWORD})
        dovecot.start()
        stack.callback(dovecot.stop)
        loaded = load_corpus(dovecot, n, args.seed)
        backend: Backend = make_backend(args.backend, folder, args.cache)
        stack.callback(backend.close)
        for stored in stored_values:
            backend.template(stored)
        sink = AckSink()
        sink.controller.start()
        stack.callback(sink.controller.stop)
        ctx = {"args": args, "dovecot": dovecot, "sink": sink, "backend": backend, "n": n,
               "folder": folder, "last_uid": loaded["last_uid"], "probe_offset": 0}  # fmt: skip
        rounds: list[dict[str, Any]] = []
        for r in range(1, args.rounds + 1):
            print(f"[n={n}] round {r}: floor", file=sys.stderr, flush=True)
            one: dict[str, Any] = {"floor": run_floor(dovecot, n), "maildesk": {}}
            for stored in stored_values:
                for code in codes:
                    key = f"{stored}@{code[0]}" if code else str(stored)
                    label = f"n={n} r={r} stored={key}"
                    print(f"[{label}] maildesk ({backend.name})", file=sys.stderr, flush=True)
                    one["maildesk"][key] = run_maildesk(ctx, stored, label, code=code)
            rounds.append(one)
        profile = None
        if args.py_spy:
            out = Path(f"{args.py_spy}.n{n}.txt")
            print(f"[n={n}] profiled run (py-spy → {out})", file=sys.stderr, flush=True)
            profile = run_maildesk(ctx, stored_values[0], f"n={n} profiled", out, codes[-1])
            profile["py_spy_output"] = str(out)
    return {"n": n, "backend": args.backend, "seed": args.seed, "rounds": rounds,
            "profile": profile, "workdir": str(folder), **loaded}  # fmt: skip


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
