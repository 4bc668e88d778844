"""`maildesk tickets list --overdue | --due-within 1h` and the targets `tickets show`
prints: every time in the configured zone with its offset."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from maildesk.cli import EX_OK, CommandError, print_json, print_table
from maildesk.clock import SystemClock
from maildesk.config import Config
from maildesk.sla.targets import Target, state
from maildesk.store import Tx
from maildesk.store import sla as rows
from maildesk.vocab import local_time

NOW: Callable[[], datetime] = SystemClock().now  # tests set a TestClock's
SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")
UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days"}


def span(text: str) -> timedelta:
    """`30m`, `1h`, `1.5h`, `2d` (wall-clock time from now)."""
    found = SPAN.match(text)
    if not found:
        raise argparse.ArgumentTypeError(f"expected a time like 30m, 1h or 2d, got {text!r}")
    return timedelta(**{UNITS[found.group(2)]: float(found.group(1))})


def add_arguments(lst: argparse.ArgumentParser) -> None:
    lst.add_argument("--overdue", action="store_true", help="tickets with a target breached")
    within = "tickets with a target due within TIME (30m, 1h, 2d), or overdue"
    lst.add_argument("--due-within", type=span, metavar="TIME", help=within)


def wanted(args: argparse.Namespace) -> bool:
    return bool(args.overdue or args.due_within)


def cmd_list_due(args: argparse.Namespace, cfg: Config, tx: Tx) -> int:
    now = NOW()
    until = now if args.overdue else now + args.due_within
    found = rows.due_before(tx, until, args.limit)
    zone = cfg.tickets.timezone
    if args.json:
        print_json([{"number": n, **asdict(t), "state": state(t, now)} for n, t in found], zone)
    elif not found:
        print("no ticket overdue" if args.overdue else "no ticket due by then")
    else:
        headers = ("NUMBER", "TARGET", "DUE", "STATE", "CALENDAR")
        print_table(headers, [(n, t.target, local_time(t.due_at, zone), _state(t, now),
                               t.calendar) for n, t in found])  # fmt: skip
    return EX_OK


def _state(t: Target, now: datetime) -> str:
    return state(t, now) + (", provisional" if t.provisional else "")


def target_lines(tx: Tx, ticket_id: int, now: datetime, zone: str) -> list[str]:
    """One line per target: due time, paused time, state."""
    out = []
    for t in rows.of_ticket(tx, ticket_id).values():
        paused = f"paused {t.paused_minutes:g} min"
        if t.paused_since is not None and t.met_at is None:
            paused += f", paused since {local_time(t.paused_since, zone)}"
        met = f", met {local_time(t.met_at, zone)}" if t.met_at else ""
        if t.target == "update":  # a cycle runs from the last reply to the requester
            paused = f"since the reply of {local_time(t.started_at, zone)}, {paused}"
        out.append(f"{t.target:>18}: due {local_time(t.due_at, zone)} ({t.minutes:g} min, "
                   f"{t.calendar}), {paused}{met}: {_state(t, now)}")  # fmt: skip
    return out


def targets_json(tx: Tx, ticket_id: int, now: datetime) -> list[dict[str, Any]]:
    return [{**asdict(t), "state": state(t, now)} for t in rows.of_ticket(tx, ticket_id).values()]


def check(args: argparse.Namespace) -> None:
    if args.overdue and args.due_within:
        raise CommandError("--overdue or --due-within, not both")
