"""What a run prints: per number of stored tickets, the medians over the rounds."""

from __future__ import annotations

import statistics
from typing import Any

TARGET_RATIO, TARGET_RSS_MB, TARGET_MAILDESK_LATENCY_S = 0.6, 100.0, 0.020


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarize(size: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per number of stored tickets: medians over the rounds (ranges kept)."""
    n, rounds = size["n"], size["rounds"]
    floors = [r["floor"] for r in rounds]
    rows = []
    for key in rounds[0]["maildesk"]:
        runs = [r["maildesk"][key] for r in rounds]
        stored = runs[0]["stored_tickets"]
        ratios = [f["floor_s"] / m["run_s"] for f, m in zip(floors, runs, strict=True)]
        ratios_e2e = [f["floor_process_s"] / m["e2e_s"] for f, m in zip(floors, runs, strict=True)]
        lat: dict[str, list[float]] = {}
        for m in runs:
            for key, values in m["latency"].items():
                lat.setdefault(key, []).extend(values)
        rows.append(
            {
                "n": n,
                "backend": size["backend"],
                "stored_tickets": stored,
                "code": runs[0].get("code", ""),
                "rounds": len(runs),
                "floor_ms_per_msg": _median([f["floor_ms_per_msg"] for f in floors]),
                "floor_msgs_per_s": _median([n / f["floor_s"] for f in floors]),
                "floor_cpu_s": _median([f["floor_cpu_s"] for f in floors]),
                "floor_peak_rss_mb": max(f["floor_peak_rss_mb"] for f in floors),
                "ms_per_msg": _median([m["ms_per_msg"] for m in runs]),
                "processing_s": _median([m["processing_s"] or 0.0 for m in runs]),
                "run_s": _median([m["run_s"] for m in runs]),
                "msgs_per_s": _median([n / m["run_s"] for m in runs]),
                "startup_s": _median([m["startup_s"] for m in runs]),
                "e2e_s": _median([m["e2e_s"] for m in runs]),
                "ratio": _median(ratios),
                "ratio_min": min(ratios),
                "ratio_max": max(ratios),
                "ratio_with_startup": _median(ratios_e2e),
                "cpu_s": _median([m["cpu_s"] for m in runs]),
                "cpu_ms_per_msg": _median([m["cpu_ms_per_msg"] for m in runs]),
                "sink_cpu_ms_per_msg": _median([m.get("sink_cpu_ms_per_msg", 0.0) for m in runs]),
                "startup_cpu_s": _median([m["startup_cpu_s"] for m in runs]),
                "peak_rss_mb": max(m["peak_rss_mb"] for m in runs),
                "latency_n": len(lat.get("total", [])),
                "latency_median_s": _median(lat.get("total", [])),
                "latency_p99_s": _pct(lat.get("total", []), 99),
                "imap_notify_median_s": _median(lat.get("imap_notify", [])),
                "maildesk_latency_median_s": _median(lat.get("maildesk", [])),
                "maildesk_latency_p99_s": _pct(lat.get("maildesk", []), 99),
                "complete": all(m["complete"] for m in runs),
                "tickets": runs[0]["tickets"],
                "acks": runs[0]["acks"],
                "outbox_kinds": runs[0]["outbox_kinds"],
            }
        )
    return rows


COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("n", "N", "{}"),
    ("backend", "db", "{}"),
    ("stored_tickets", "stored", "{}"),
    ("code", "code", "{}"),
    ("floor_ms_per_msg", "floor ms/msg", "{:.3f}"),
    ("ms_per_msg", "maildesk ms/msg", "{:.2f}"),
    ("msgs_per_s", "msg/s", "{:.0f}"),
    ("ratio", "ratio", "{:.3f}"),
    ("ratio_with_startup", "ratio incl.start", "{:.3f}"),
    ("floor_cpu_s", "floor CPU s", "{:.2f}"),
    ("cpu_s", "maildesk CPU s", "{:.1f}"),
    ("cpu_ms_per_msg", "CPU ms/msg", "{:.2f}"),
    ("sink_cpu_ms_per_msg", "sink CPU ms/msg", "{:.2f}"),
    ("peak_rss_mb", "peak RSS MB", "{:.1f}"),
    ("floor_peak_rss_mb", "floor RSS MB", "{:.1f}"),
    ("latency_median_s", "IDLE lat p50 s", "{:.3f}"),
    ("latency_p99_s", "p99 s", "{:.3f}"),
    ("imap_notify_median_s", "IMAP notify+fetch p50 s", "{:.3f}"),
    ("maildesk_latency_median_s", "maildesk p50 ms", "{:.4f}"),
    ("maildesk_latency_p99_s", "maildesk p99 ms", "{:.4f}"),
    ("complete", "all done", "{}"),
)
IN_MS = ("maildesk_latency_median_s", "maildesk_latency_p99_s")


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if key in IN_MS:
        return f"{1000 * value:.1f}"
    return fmt.format(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    table = [[title for _, title, _ in COLUMNS]]
    table += [[_cell(r, key, fmt) for key, _, fmt in COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    for j, line in enumerate(table):
        print("  ".join(cell.rjust(widths[i]) for i, cell in enumerate(line)))
        if j == 0:
            print("  ".join("-" * w for w in widths))


def print_rounds(size: dict[str, Any]) -> None:
    n = size["n"]
    kinds = ", ".join(f"{k} {v}" for k, v in size["corpus_kinds"].items())
    print(f"\nN={n} ({size['backend']}, seed {size['seed']}): {size['corpus_mb']} MB; {kinds}")
    for i, r in enumerate(size["rounds"], start=1):
        f = r["floor"]
        line = (
            f"  round {i}: floor {f['floor_s']:.2f}s ({f['floor_ms_per_msg']:.3f} ms/msg, "
            f"CPU {f['floor_cpu_s']:.2f}s, RSS {f['floor_peak_rss_mb']:.0f} MB)"
        )
        for key, m in r["maildesk"].items():
            line += (
                f"; stored {key}: run {m['run_s']:.2f}s (last processed at "
                f"{m['processing_s'] or 0:.2f}s) + startup {m['startup_s']:.2f}s, "
                f"ratio {f['floor_s'] / m['run_s']:.3f}, CPU {m['cpu_s']:.1f}s "
                f"(+{m['startup_cpu_s']:.1f}s starting), "
                f"RSS {m['peak_rss_mb']:.0f} MB, complete {m['complete']}"
            )
            if not m["complete"]:
                line += f" {_incomplete(m)}"
        print(line)


def _incomplete(m: dict[str, Any]) -> str:
    keys = ("processed", "quarantined", "unticketed", "acks", "acks_accepted", "outbox_failed",
            "exit_code")  # fmt: skip
    text = ", ".join(f"{k}={m.get(k)}" for k in keys)
    return f"({text})\n{m.get('daemon_log_tail', '')}"


def print_targets(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        lat = r["maildesk_latency_median_s"]
        print(
            f"  N={r['n']} {r['backend']} stored={r['stored_tickets']} {r['code']}: "
            f"ratio ≥ {TARGET_RATIO} "
            f"{r['ratio'] >= TARGET_RATIO} ({r['ratio_min']:.3f}–{r['ratio_max']:.3f}); "
            f"peak RSS ≤ {TARGET_RSS_MB:.0f} MB {r['peak_rss_mb'] <= TARGET_RSS_MB}; maildesk "
            f"latency < 20 ms {lat is not None and lat < TARGET_MAILDESK_LATENCY_S}; "
            f"every message ticketed or threaded and every ack at the sink {r['complete']} "
            f"(mail sent: {r['outbox_kinds']})"
        )
    groups: dict[tuple[int, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["n"], r["backend"], r["code"]), []).append(r)
    for (n, backend, _code), same in groups.items():
        if len(same) < 2:
            continue
        low, high = min(same, key=_stored), max(same, key=_stored)
        change = 100 * (high["ms_per_msg"] / low["ms_per_msg"] - 1)
        cpu = 100 * (high["cpu_ms_per_msg"] / low["cpu_ms_per_msg"] - 1)
        print(
            f"  N={n} {backend}: per-message cost at {high['stored_tickets']} stored tickets "
            f"against {low['stored_tickets']}: wall {change:+.1f} %, CPU {cpu:+.1f} % "
            f"(target: within 10 %)"
        )


def _stored(row: dict[str, Any]) -> int:
    return int(row["stored_tickets"])
