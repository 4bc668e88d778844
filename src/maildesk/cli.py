"""The `maildesk` command: argument parsing and wiring.  No decisions here."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import secrets
import shlex
import shutil
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from maildesk import config as config_mod
from maildesk import db, private_files
from maildesk.config import Config, ConfigError
from maildesk.domain import Status, TicketView
from maildesk.redact import RedactingFormatter, config_secrets, mask_urls
from maildesk.resources import shipped
from maildesk.service import Service
from maildesk.store import events, ignored, journal, participants, tickets
from maildesk.store import outbox as outbox_rows
from maildesk.store import timers as timer_rows
from maildesk.store.base import Tx, ct
from maildesk.vocab import local_time

EX_OK, EX_FAIL, EX_CONFIG, EX_TEMPFAIL = 0, 1, 2, 75
EX_HUNG = 3  # `status`: a loop's heartbeat is stale
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # secrets masked (redact.py)
Handler = Callable[[argparse.Namespace], int]
# Every state an outbox row can be in: store/outbox.py writes all but bounced, which
# store/bounces.py writes; held is mail a limit held back (outbox retry ID releases it).
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "bounced", "held", "summarised")


class CommandError(Exception):
    """A problem to report to the user with an exit code."""

    def __init__(self, message: str, code: int = EX_FAIL) -> None:
        super().__init__(message)
        self.code = code


# --- wiring helpers --------------------------------------------------------------------


def load_config(args: argparse.Namespace, *, secrets: bool = True) -> Config:
    """The config; read-only commands pass secrets=False, so they run without the
    environment variables that hold passwords and the signing secret."""
    path = config_mod.find_path(args.config)
    cfg = config_mod.load(path, secrets=secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, config_secrets(cfg)))
    logging.basicConfig(level=cfg.log_level, handlers=[handler])
    if cfg.log_level != "DEBUG":  # library chatter: one line per SMTP command, per migration
        for noisy in ("mail.log", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return cfg


def open_store(cfg: Config, require_schema: bool = True) -> Any:
    from maildesk.store import Store

    engine = db.make_engine(cfg.database_url, cfg.sqlite_synchronous)
    if require_schema:
        _require_schema(engine)
    return Store(engine)


def _require_schema(engine: Any) -> None:
    try:
        current = db.current_revision(engine)
    except Exception as exc:
        raise CommandError(f"database unreachable: {mask_urls(str(exc))}", EX_TEMPFAIL) from exc
    head = db.head_revision()
    if current != head:
        raise CommandError(
            f"database schema is at {current or 'nothing'}, expected {head}: "
            "run `maildesk db upgrade` (or `maildesk init`)",
            EX_CONFIG,
        )


def make_service(cfg: Config, store: Any) -> Service:
    from maildesk import directory
    from maildesk.kb.flow import Desk
    from maildesk.kb.settings import KB_SECTION
    from maildesk.kb.usecases import open_kb
    from maildesk.render import make_renderer

    kb = Desk(open_kb(cfg), cfg.section(KB_SECTION))  # built once per process
    return Service(cfg, store, make_renderer(cfg), directory.load(cfg.directory_csv),
                   rules=load_routing(cfg), kb=kb)  # fmt: skip


def load_routing(cfg: Config) -> Any:
    from maildesk.rules import load_rules

    return load_rules(cfg.rules_file or shipped("config") / "rules.toml")


# --- printing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """How a list command shows one row: the column headers, and a row's cells in a zone."""

    headers: tuple[str, ...]
    cells: Callable[[Any, str], tuple[str, ...]]


def print_json(value: Any, zone: str) -> None:
    """JSON for scripts; times in ISO 8601 with the offset of `zone`."""

    def default(item: Any) -> Any:
        return _json_value(item, zone)

    print(json.dumps(value, ensure_ascii=False, indent=2, default=default))


def _json_value(value: Any, zone: str) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(zone)).isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(type(value).__name__)


def print_rows(
    as_json: bool, zone: str, rows: Sequence[Any], columns: Columns, nothing: str
) -> int:
    """Rows as a JSON list (for scripts), else a table, else the sentence `nothing`."""
    if as_json:
        print_json([asdict(r) for r in rows], zone)
    elif not rows:
        print(nothing)
    else:
        print_table(columns.headers, [columns.cells(row, zone) for row in rows])
    return EX_OK


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the last column runs free."""
    lines = [headers, *rows]
    widths = [max(_width(line[i]) for line in lines) for i in range(len(headers) - 1)]
    for line in lines:
        padded = [
            cell + " " * (width - _width(cell))
            for cell, width in zip(line[:-1], widths, strict=True)
        ]
        print("  ".join([*padded, line[-1]]).rstrip())


def _width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _none_found(what: str, status: str | None) -> str:
    return f"no {what} with status {status}" if status else f"no {what}"


def shown_path(path: Path, *, command: bool = False) -> str:
    """`path` as typed from the current folder: relative when inside it, else absolute.
    A command in the current folder itself gets `./`, or the shell would search PATH."""
    absolute = path.absolute()
    if not absolute.is_relative_to(Path.cwd()):
        return str(absolute)
    relative = str(absolute.relative_to(Path.cwd()))
    return f"./{relative}" if command and "/" not in relative else relative


def maildesk_command() -> list[str]:
    """The words that start this same maildesk from the current folder: the running
    `maildesk` script, else the one installed beside this Python, else `python -m`."""
    script = Path(sys.argv[0])
    if script.name == "maildesk" and script.is_file():
        return [shown_path(script.resolve(), command=True)]
    beside = Path(sys.executable).parent / "maildesk"
    if beside.is_file():
        return [shown_path(beside, command=True)]
    return [shown_path(Path(sys.executable), command=True), "-m", "maildesk"]


# --- commands ----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    target = folder / "maildesk.toml"
    if target.exists() and not args.force:
        raise CommandError(f"{target} exists already (use --force to overwrite)")
    folder.mkdir(parents=True, exist_ok=True)
    starter = (shipped("config") / "maildesk.example.toml").read_text(encoding="utf-8")
    secret = f'secret = "{secrets.token_urlsafe(32)}"'  # signs notification Message-IDs
    starter = own_kb_folder(starter.replace('secret = ""', secret, 1), folder)
    private_files.write_private_text(target, starter)
    cfg = config_mod.load(target)
    _make_data_folders(cfg)
    engine = db.make_engine(cfg.database_url, cfg.sqlite_synchronous)
    db.upgrade(engine)
    config = shown_path(target)
    run = shlex.join([*maildesk_command(), "--config", config, "run"])
    print(f"wrote {config}")
    print(f"database ready: {mask_urls(cfg.database_url)}")
    print(f"next: edit {config}, then run: {run}")
    return EX_OK


def own_kb_folder(config_text: str, folder: Path) -> str:
    """The shipped articles copied to `folder`/kb (kept if there already), for the desk
    to adapt (their placeholders: kb/README.md), and [kb] folder pointed at the copy."""
    kb = folder / "kb"
    if not kb.exists():
        shutil.copytree(shipped("kb"), kb, ignore=shutil.ignore_patterns("drafts"))
    head, mark, rest = config_text.partition("\n[kb]\n")
    return head + mark + rest.replace('folder = ""', 'folder = "kb"', 1) if mark else config_text


def _make_data_folders(cfg: Config) -> None:
    """The data folder 0700 (also when it existed), and the folders in it 0700 if new."""
    private_files.make_private_folder(cfg.data_dir)
    cfg.data_dir.chmod(private_files.PRIVATE_FOLDER)
    for folder in (cfg.attachments.folder, cfg.outbox.folder):
        private_files.make_private_folder(folder)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    engine = db.make_engine(cfg.database_url, cfg.sqlite_synchronous)
    db.upgrade(engine)
    print(f"database at revision {db.current_revision(engine)}")
    return EX_OK


def cmd_run(args: argparse.Namespace) -> int:
    from maildesk.daemon import Daemon, fewer_malloc_arenas
    from maildesk.outbox import make_transport

    fewer_malloc_arenas()
    cfg = load_config(args)
    store = open_store(cfg)
    daemon = Daemon(cfg, make_service(cfg, store), make_transport(cfg.outbox))
    if args.once:
        daemon.run_once()
        return EX_OK
    return daemon.run()


def cmd_deliver(args: argparse.Namespace) -> int:
    """For an MTA pipe: 0 once stored, 75 (EX_TEMPFAIL) when it could not be stored."""
    try:
        cfg = load_config(args)
        service = make_service(cfg, open_store(cfg))
        raw = sys.stdin.buffer.read()
        entry = service.receive(raw, "deliver:stdin")
    except Exception as exc:  # config, schema or database: the MTA keeps the mail and retries
        kind = "config error" if isinstance(exc, ConfigError) else "could not store the message"
        print(f"maildesk deliver: {kind}: {exc}", file=sys.stderr)
        return EX_TEMPFAIL
    if not entry.duplicate:
        try:
            service.process(entry.id)
        except Exception as exc:  # stored: the daemon's journal sweep finishes it later
            logging.getLogger("maildesk").warning("stored #%s, processing later: %s", entry.id, exc)
    return EX_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from maildesk import replay

    cfg = load_config(args)
    service = make_service(cfg, open_store(cfg))
    counts: dict[str, int] = {}
    for path in map(Path, args.paths):
        try:
            total = replay.count(path)
        except (replay.ReplayError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        bar = tqdm(total=total, unit="msg", desc=path.name, disable=total < 50 or args.quiet)
        for raw, source in replay.messages(path):
            outcome = service.ingest(raw, source)
            counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
            bar.update(1)
        bar.close()
    print(", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no messages")
    return EX_OK


def cmd_check(args: argparse.Namespace) -> int:
    """One line per check: ok, WARN or FAIL.  Exit 1 when something FAILed, else 0."""
    from maildesk import checks

    cfg = load_config(args)
    results = checks.run_all(cfg)
    for result in results:
        print(result.line())
    return EX_FAIL if checks.failed(results) else EX_OK


def cmd_rules_test(args: argparse.Namespace) -> int:
    from maildesk.pipeline import routing
    from maildesk.pipeline.parse import ParseError, parse

    cfg = load_config(args, secrets=False)
    rules = load_routing(cfg)
    try:
        inbound = parse(Path(args.file).read_bytes())
    except (OSError, ParseError) as exc:
        raise CommandError(f"{args.file}: {exc}") from exc
    for line in routing.explain(inbound, rules):
        print(line)
    return EX_OK


def _ticket_cells(t: TicketView, zone: str) -> tuple[str, ...]:
    created = local_time(t.created_at, zone)
    return (t.number, t.status, t.priority, created, t.requester_email, t.subject)


TICKET_COLUMNS = Columns(
    ("NUMBER", "STATUS", "PRIORITY", "CREATED", "REQUESTER", "SUBJECT"), _ticket_cells
)


def cmd_tickets_list(args: argparse.Namespace) -> int:
    from maildesk import cli_sla

    cfg = load_config(args, secrets=False)
    cli_sla.check(args)
    with open_read_store(cfg).transaction() as tx:
        if cli_sla.wanted(args):
            return cli_sla.cmd_list_due(args, cfg, tx)
        rows = tickets.listing(tx, args.status, args.limit)
    nothing = _none_found("tickets", args.status)
    return print_rows(args.json, cfg.tickets.timezone, rows, TICKET_COLUMNS, nothing)


def cmd_tickets_show(args: argparse.Namespace) -> int:
    from maildesk import cli_sla

    cfg = load_config(args, secrets=False)
    now = cli_sla.NOW()
    with open_read_store(cfg).transaction() as tx:
        ticket = _ticket_numbered(tx, args.number.upper())
        extra: dict[str, Any] = {
            "targets": cli_sla.targets_json(tx, ticket.id, now),
            "target_lines": cli_sla.target_lines(tx, ticket.id, now, cfg.tickets.timezone),
            "linked_from": _tickets_linked_to(tx, ticket.id),
            "watchers": participants.watchers(tx, ticket.id),
            "attachments": participants.attachments(tx, ticket.id),
            "events": [{**e, "at": datetime.fromisoformat(e["at"])}
                       for e in events.listing(tx, ticket.id)],
        }  # fmt: skip
    if args.json:
        extra.pop("target_lines")
        print_json({**asdict(ticket), **extra}, cfg.tickets.timezone)
    else:
        _print_ticket(ticket, extra, cfg)
    return EX_OK


def _ticket_numbered(tx: Tx, number: str) -> TicketView:
    """The ticket with its linked_number filled in (`tickets.view` leaves it empty)."""
    found = tickets.view(tx, number)
    if found is None:
        raise CommandError(f"no ticket {number}")
    return tickets.by_id(tx, found.id)


def _tickets_linked_to(tx: Tx, ticket_id: int) -> list[str]:
    """The numbers of the tickets opened as links to this one, oldest first."""
    query = select(ct.number).where(ct.linked_ticket_id == ticket_id).order_by(ct.id)
    return list(tx.c.scalars(query))


def _print_ticket(ticket: TicketView, extra: dict[str, Any], cfg: Config) -> None:
    zone = cfg.tickets.timezone
    fields = {
        **asdict(ticket), "assignee": _person(cfg, ticket.assignee),
        "linked_from": ", ".join(extra["linked_from"]), "watchers": ", ".join(extra["watchers"]),
    }  # fmt: skip
    for key, value in fields.items():
        if key not in ("id", "description", "targets"):
            print(f"{key:>18}: {_field_text(key, value, zone)}".rstrip())
    for line in extra["target_lines"]:
        print(line)
    print(f"\n{ticket.description}\n")
    for a in extra["attachments"]:
        print(f"  attachment {a['filename']} ({a['size']} bytes) {a['refused_reason'] or 'kept'}")
    for e in extra["events"]:
        change = f" {e['field']}: {e['old']} → {e['new']}" if e["field"] else ""
        text = f"\n      {e['text']}" if e["text"] else ""
        print(f"{local_time(e['at'], zone)}  {e['kind']:<16} {e['actor']}{change}{text}")


def _field_text(key: str, value: Any, zone: str) -> str:
    """A time (`…_at`, possibly not yet) in the zone with its offset; anything else as is."""
    return local_time(value, zone) if key.endswith("_at") else str(value)


def _person(cfg: Config, email: str) -> str:
    """`Name <address>` for someone in [[people]], else the address as stored."""
    person = cfg.person(email) if email else None
    return f"{person.name} <{person.email}>" if person else email


def _outbox_cells(r: outbox_rows.OutboxRow, zone: str) -> tuple[str, ...]:
    note = f"held: {r.held_reason}" if r.status == "held" else r.last_error
    subject = f"{r.subject}  [{note}]" if note else r.subject
    created = local_time(r.created_at, zone)
    to = ",".join(r.recipients)
    return (f"#{r.id}", r.status, str(r.attempts), created, r.ticket_number or "-", to, subject)


OUTBOX_COLUMNS = Columns(
    ("ID", "STATUS", "TRIES", "CREATED", "TICKET", "TO", "SUBJECT"), _outbox_cells
)


def cmd_outbox_list(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_read_store(cfg).transaction() as tx:
        rows = outbox_rows.listing(tx, args.status, args.limit)
    nothing = _none_found("outgoing mail", args.status)
    return print_rows(args.json, cfg.tickets.timezone, rows, OUTBOX_COLUMNS, nothing)


def _timer_cells(r: timer_rows.TimerRow, zone: str) -> tuple[str, ...]:
    held = f"leased to {r.lease_holder}" if r.lease_holder else ""
    return (f"#{r.id}", r.ticket_number, r.kind, str(r.step), local_time(r.due_at, zone), held)


TIMER_COLUMNS = Columns(("ID", "TICKET", "KIND", "STEP", "DUE", "NOTE"), _timer_cells)


def cmd_timers_list(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_read_store(cfg).transaction() as tx:
        rows = timer_rows.pending(tx, args.limit)
    return print_rows(args.json, cfg.tickets.timezone, rows, TIMER_COLUMNS, "no pending timers")


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from maildesk.clock import SystemClock

    if args.id is None and not args.all:
        raise CommandError("name a message: maildesk outbox retry ID, or --all", EX_CONFIG)
    cfg = load_config(args)
    with open_store(cfg).transaction() as tx:
        count = outbox_rows.retry(tx, SystemClock().now(), args.id)
    if args.id is None:
        print(f"{count} failed mail(s) queued again")
    else:
        print(f"#{args.id} queued again" if count else f"#{args.id}: no failed or held mail")
    return EX_OK if count else EX_FAIL


def _quarantine_cells(r: journal.QuarantineRow, zone: str) -> tuple[str, ...]:
    return (f"#{r.id}", local_time(r.received_at, zone), r.source, r.reason)


QUARANTINE_COLUMNS = Columns(("ID", "RECEIVED", "SOURCE", "REASON"), _quarantine_cells)


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_read_store(cfg).transaction() as tx:
        rows = journal.quarantined(tx)
    nothing = "no quarantined messages"
    return print_rows(args.json, cfg.tickets.timezone, rows, QUARANTINE_COLUMNS, nothing)


def cmd_quarantine_show(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_read_store(cfg).transaction() as tx:
        raw = journal.raw(tx, args.id)
    if raw is None:
        raise CommandError(f"no journal entry #{args.id}")
    sys.stdout.buffer.write(raw)
    return EX_OK


def cmd_quarantine_retry(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    service = make_service(cfg, open_store(cfg))
    with service.store.transaction() as tx:
        ids = [r.id for r in journal.quarantined(tx)] if args.all else [args.id]
        released = [i for i in ids if i is not None and journal.release_quarantined(tx, i)]
    if not released:
        raise CommandError("nothing to retry: name a quarantined message ID, or --all")
    again = 0
    for inbound_id in released:
        outcome = service.process(inbound_id)
        print(f"#{inbound_id}: {outcome.kind} {outcome.ticket_number} {outcome.detail}".strip())
        again += outcome.kind == "quarantined"
    if again:  # a script or an admin must see that the fix did not take
        print(f"{again} message(s) quarantined again", file=sys.stderr)
    return EX_FAIL if again else EX_OK


def _ignored_cells(r: ignored.IgnoredRow, zone: str) -> tuple[str, ...]:
    return (f"#{r.id}", local_time(r.received_at, zone), r.sender, r.subject, r.reason)


IGNORED_COLUMNS = Columns(("ID", "RECEIVED", "FROM", "SUBJECT", "REASON"), _ignored_cells)


def cmd_ignored(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_read_store(cfg).transaction() as tx:
        rows = ignored.listing(tx, args.limit)
    nothing = "no ignored messages"
    return print_rows(args.json, cfg.tickets.timezone, rows, IGNORED_COLUMNS, nothing)


def open_read_store(cfg: Config) -> Any:
    """A store for commands that only read: on SQLite no write lock is ever taken."""
    from maildesk.store import Store

    path = db.sqlite_path(cfg.database_url)
    if path is not None and not path.exists():
        raise CommandError(f"no database at {path}: run `maildesk init`", EX_CONFIG)
    engine = db.make_read_engine(cfg.database_url)
    _require_schema(engine)
    return Store(engine)


def cmd_status(args: argparse.Namespace) -> int:
    """Exit 0 when every loop of this node is healthy, 1 when not, 3 when a loop is hung
    (its heartbeat is stale): a health check, and a watchdog's signal to restart."""
    import socket

    from maildesk.clock import SystemClock
    from maildesk.status import gather

    cfg = load_config(args, secrets=False)
    node = None if args.all_nodes else (args.node or cfg.node_name or socket.gethostname())
    try:
        with open_read_store(cfg).transaction() as tx:
            report = gather(tx, cfg, node, SystemClock().now())
    except CommandError:
        raise
    except Exception as exc:  # the database is away: that is unhealthy too
        raise CommandError(f"database unreachable: {mask_urls(str(exc))}", EX_FAIL) from exc
    if args.json:
        print_json(asdict(report), cfg.tickets.timezone)
    else:
        _print_status(report, cfg.tickets.timezone)
    return EX_OK if report.healthy else EX_HUNG if report.hung else EX_FAIL


def _print_status(report: Any, zone: str) -> None:
    verdict = "healthy" if report.healthy else "UNHEALTHY"
    print(f"maildesk status (node {report.node}): {verdict}")
    when = functools.partial(local_time, zone=zone)
    loops = [
        (s.name, s.node, s.state, when(s.last_success_at), when(s.last_error_at), s.last_error)
        for s in report.loops
    ]
    print_table(("LOOP", "NODE", "STATE", "LAST SUCCESS", "LAST ERROR", "ERROR"), loops)
    if report.mailboxes:
        boxes = [
            (m.name, m.state, str(m.last_uid), f"{m.holder} until {when(m.lease_expires_at)}")
            for m in report.mailboxes
        ]
        print_table(("MAILBOX", "STATE", "LAST UID", "LEASE"), boxes)
    lag = f"{report.lag_seconds:.0f}s" if report.journal_pending else "none"
    print(f"journal: {report.journal_pending} unprocessed, lag {lag}")
    backlog = ", ".join(f"{k} {v}" for k, v in sorted(report.outbox.items())) or "empty"
    print(f"outbox: {backlog}; oldest pending mail: {when(report.oldest_pending_mail_at)}")
    print(f"quarantined: {report.quarantined}")
    for problem in report.problems:
        print(f"problem: {problem}")


# --- the parser --------------------------------------------------------------------------


def build_parser(report: Any = None) -> argparse.ArgumentParser:
    """Every command; `report` replaces the report's edges (tests give hand-built figures)."""
    parser = argparse.ArgumentParser(
        prog="maildesk", description="An email-driven IT helpdesk daemon."
    )
    parser.add_argument(
        "--config",
        help=f"config file (default: ${config_mod.CONFIG_ENV}, else ./maildesk.toml)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="write a starter maildesk.toml and create the database")
    init.add_argument("dir", nargs="?", default=".", help="folder for maildesk.toml")
    init.add_argument("--force", action="store_true", help="overwrite an existing maildesk.toml")
    init.set_defaults(func=cmd_init)

    run = sub.add_parser("run", help="run the daemon: intake, processing and sending")
    run.add_argument("--once", action="store_true", help="one pass over everything, then exit")
    run.set_defaults(func=cmd_run)

    sub.add_parser("check", help="check config, database, IMAP and SMTP").set_defaults(
        func=cmd_check
    )
    status = sub.add_parser(
        "status",
        help="health of loops, mailboxes, journal, outbox; exit 1 if unhealthy, 3 if hung",
    )
    status.add_argument("--json", action="store_true", help="JSON for scripts")
    status.add_argument("--node", help="the node whose loops count (default: this one)")
    status.add_argument("--all-nodes", action="store_true", help="every node's loops count")
    status.set_defaults(func=cmd_status)
    sub.add_parser(
        "deliver", help="store one message from stdin (MTA pipe); exit 75 to make the MTA retry"
    ).set_defaults(func=cmd_deliver)

    replay = sub.add_parser("replay", help="feed .eml / mbox / Maildir through the pipeline")
    replay.add_argument("paths", nargs="+", metavar="PATH")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.set_defaults(func=cmd_replay)

    rules = sub.add_parser("rules", help="routing rules")
    rsub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    test = rsub.add_parser("test", help="which rules match a message, and what they set")
    test.add_argument("file", metavar="FILE.eml")
    test.set_defaults(func=cmd_rules_test)

    _add_tickets(sub)
    _add_outbox(sub)
    timers = sub.add_parser("timers", help="what the clock owes tickets (auto-close, …)")
    tlist = timers.add_subparsers(dest="timers_command", required=True, metavar="ACTION")
    tl = tlist.add_parser("list", help="pending timers, soonest first, due in local time")
    tl.add_argument("--limit", type=int, default=100)
    tl.add_argument("--json", action="store_true")
    tl.set_defaults(func=cmd_timers_list)
    _add_quarantine(sub)
    from maildesk.cli_calendar import add_calendar  # imports this module: after it loaded

    add_calendar(sub)
    from maildesk.cli_surveys import add_surveys  # imports this module: after it loaded

    add_surveys(sub)
    from maildesk.cli_kb import add_kb  # imports this module: after it loaded
    from maildesk.cli_report import add_report, report_edges

    add_kb(sub)
    add_report(sub, report or report_edges())
    ignored_cmd = sub.add_parser(
        "ignored", help="messages journaled but ignored (auto-replies, list mail), with the reason"
    )
    ignored_cmd.add_argument("--limit", type=int, default=100, help="newest N (default 100)")
    ignored_cmd.add_argument("--json", action="store_true")
    ignored_cmd.set_defaults(func=cmd_ignored)

    dbp = sub.add_parser("db", help="database maintenance")
    dbsub = dbp.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    return parser


def _add_tickets(sub: Any) -> None:
    tickets = sub.add_parser("tickets", help="list and show tickets")
    tsub = tickets.add_subparsers(dest="tickets_command", required=True, metavar="ACTION")
    lst = tsub.add_parser("list", help="newest tickets first")
    lst.add_argument("--status", choices=[s.value for s in Status], help="only this status")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    from maildesk.cli_sla import add_arguments  # imports this module: after it loaded

    add_arguments(lst)
    lst.set_defaults(func=cmd_tickets_list)
    show = tsub.add_parser("show", help="one ticket with its event log")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_tickets_show)


def _add_outbox(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="outgoing mail: list, retry failed, release held")
    osub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    lst = osub.add_parser("list", help="newest first")
    lst.add_argument("--status", choices=OUTBOX_STATES, help="only this state")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_outbox_list)
    retry = osub.add_parser(
        "retry",
        help="queue failed mail again, or send held mail",
        description="Queue a failed mail again, or release a held one (a mail a limit held "
        "back: `outbox list --status held` shows why) so that it is sent. --all queues "
        "every failed mail; held mail is released one ID at a time.",
    )
    retry.add_argument("id", nargs="?", type=int, help="a failed or held mail (#ID in the list)")
    retry.add_argument("--all", action="store_true", help="every failed mail (not held ones)")
    retry.set_defaults(func=cmd_outbox_retry)


def _add_quarantine(sub: Any) -> None:
    quarantine = sub.add_parser("quarantine", help="messages that could not be processed")
    qsub = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="ACTION")
    lst = qsub.add_parser("list", help="each with the reason")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_quarantine_list)
    show = qsub.add_parser("show", help="print the raw message")
    show.add_argument("id", type=int)
    show.set_defaults(func=cmd_quarantine_show)
    retry = qsub.add_parser("retry", help="process again (after a fix)")
    retry.add_argument("id", nargs="?", type=int)
    retry.add_argument("--all", action="store_true")
    retry.set_defaults(func=cmd_quarantine_retry)


def main(argv: Sequence[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Run a command; `parser` replaces build_parser() (tests add commands to it)."""
    args = (parser or build_parser()).parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"maildesk: config error: {mask_urls(str(exc))}", file=sys.stderr)
        return EX_CONFIG
    except CommandError as exc:
        print(f"maildesk: {mask_urls(str(exc))}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EX_OK


if __name__ == "__main__":
    sys.exit(main())
