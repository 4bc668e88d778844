"""`maildesk report --period day|week|month|FROM..TO [--group G] --format
text|html|csv|json [--send-to ADDR]`: a digest's figures on demand, or mailed.

The period's parse, the figures and the HTML/mail are edges passed to `add_report`
(digest/period, digest/collect, digest/render): the command itself decides only how
the input is checked and where the output goes.  Reading opens the store read-only;
`--send-to` writes the digest mail into the outbox (the daemon sends it).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from maildesk.cli import EX_OK, CommandError, load_config, open_read_store, open_store
from maildesk.clock import SystemClock
from maildesk.config import Config, ConfigError
from maildesk.config.values import email
from maildesk.digest import formats
from maildesk.digest.model import Figures, Period
from maildesk.digest.usecases import FiguresOf, WriteMail
from maildesk.domain import Address
from maildesk.render import Renderer, make_renderer
from maildesk.store import outbox as outbox_rows

NOW: Callable[[], datetime] = SystemClock().now  # tests set a TestClock's
EX_USAGE = 2  # as argparse exits on a bad argument
FORMATS = ("text", "html", "csv", "json")
PERIOD_HELP = "day, week or month (the one that has just ended), or FROM..TO (dates, inclusive)"


@dataclass(frozen=True)
class ReportEdges:
    parse_period: Callable[[str, str, datetime], Period]  # (text, zone, now); ValueError
    figures: FiguresOf  # (store, cfg, period, group, now)
    report_html: Callable[[Renderer, Figures], str]
    digest_mail: WriteMail  # (renderer, figures, to, now)


def add_report(sub: Any, edges: ReportEdges) -> None:
    report = sub.add_parser(
        "report",
        help="a period's figures: tickets, backlog, SLA, times, satisfaction",
        description="The figures of a digest, on demand: printed as text (for a terminal), "
        "HTML, CSV or JSON, or mailed with --send-to (queued in the outbox; the daemon "
        "sends it). Days are in [tickets] timezone.",
    )
    report.add_argument("--period", required=True, metavar="PERIOD", help=PERIOD_HELP)
    report.add_argument("--group", default="", help="one group's figures (default: whole desk)")
    report.add_argument("--format", choices=FORMATS, default="text", help="default: text")
    report.add_argument("--send-to", metavar="ADDR", help="mail the digest to ADDR instead")
    report.set_defaults(func=functools.partial(cmd_report, edges=edges))


def cmd_report(args: argparse.Namespace, edges: ReportEdges) -> int:
    cfg = load_config(args, secrets=False)
    now = NOW()
    period = _period(edges, args.period, cfg, now)
    group = _group(args.group, cfg)
    if args.send_to:
        return _send(cfg, edges, period, group, _address(args.send_to), now)
    figures = edges.figures(open_read_store(cfg), cfg, period, group, now)
    sys.stdout.write(_formatted(args.format, figures, cfg, edges))
    return EX_OK


def _period(edges: ReportEdges, text: str, cfg: Config, now: datetime) -> Period:
    try:
        return edges.parse_period(text, cfg.tickets.timezone, now)
    except (ValueError, OverflowError) as exc:  # OverflowError: a date at year 1 or 9999
        raise CommandError(f"--period {text!r}: {exc} (expected {PERIOD_HELP})", EX_USAGE) from exc


def _group(group: str, cfg: Config) -> str:
    """ "" (the whole desk) or a group some [[people]] belong to."""
    known = sorted({g for p in cfg.people for g in p.groups})
    if group and group not in known:
        listed = ", ".join(known) or "none: no [[people]] have groups"
        raise CommandError(f"--group {group!r}: unknown group (known: {listed})", EX_USAGE)
    return group


def _address(text: str) -> Address:
    try:
        address = email("--send-to", text.strip()).lower()
    except ConfigError as exc:
        raise CommandError(str(exc), EX_USAGE) from exc
    if parseaddr(address)[1] != address or any(c in address for c in ',;"()<>'):
        raise CommandError(f"--send-to {text!r}: one plain address, like boss@example.com",
                           EX_USAGE)  # fmt: skip
    return Address("", address)


def _formatted(kind: str, figures: Figures, cfg: Config, edges: ReportEdges) -> str:
    if kind == "html":
        return edges.report_html(make_renderer(cfg), figures)
    if kind == "csv":
        return formats.as_csv(figures)
    if kind == "json":
        return formats.as_json(figures)
    return formats.as_text(figures, cfg.locale)


def _send(
    cfg: Config, edges: ReportEdges, period: Period, group: str, to: Address, now: datetime
) -> int:
    store = open_store(cfg)
    figures = edges.figures(store, cfg, period, group, now)
    mail = edges.digest_mail(make_renderer(cfg), figures, to, now)
    with store.transaction() as tx:
        outbox_rows.enqueue(tx, mail, None, None, now)
    days = f"{period.first_day}" if period.days == 1 else f"{period.first_day}..{period.last_day}"
    whose = f"group {group}" if group else "the whole desk"
    print(f"queued the {period.kind} digest {days} of {whose} for {to.email} "
          f"(Message-ID {mail.message_id}): the daemon sends it")  # fmt: skip
    return EX_OK


def report_edges() -> ReportEdges:
    """The real figures, period parser and mail of `maildesk report`."""
    from maildesk.digest import collect, render
    from maildesk.digest import period as periods

    return ReportEdges(
        parse_period=lambda text, zone, now: periods.parse(text, now, zone),
        figures=collect.figures,
        report_html=render.report_html,
        digest_mail=render.digest_mail,
    )
