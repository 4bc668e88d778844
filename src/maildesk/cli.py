"""The `maildesk` command: argument parsing and wiring.  No decisions here."""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from maildesk import config as config_mod
from maildesk import db
from maildesk.config import Config, ConfigError
from maildesk.resources import shipped
from maildesk.service import Service
from maildesk.store import events, journal, participants, tickets
from maildesk.store import outbox as outbox_rows

EX_OK, EX_FAIL, EX_CONFIG, EX_TEMPFAIL = 0, 1, 2, 75
Handler = Callable[[argparse.Namespace], int]


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
    logging.basicConfig(
        level=cfg.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
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
    from alembic.script import ScriptDirectory

    try:
        current = db.current_revision(engine)
    except Exception as exc:
        raise CommandError(f"database unreachable: {exc}", EX_TEMPFAIL) from exc
    head = ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    if current != head:
        raise CommandError(
            f"database schema is at {current or 'nothing'}, expected {head}: "
            "run `maildesk db upgrade` (or `maildesk init`)",
            EX_CONFIG,
        )


def make_service(cfg: Config, store: Any) -> Service:
    from maildesk import directory
    from maildesk.render import make_renderer

    return Service(
        cfg, store, make_renderer(cfg), directory.load(cfg.directory_csv), rules=load_routing(cfg)
    )


def load_routing(cfg: Config) -> Any:
    from maildesk.rules import load_rules

    return load_rules(cfg.rules_file or shipped("config") / "rules.toml")


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def print_rows(as_json: bool, rows: Sequence[Any], line: Callable[[Any], str]) -> int:
    """Rows as a JSON list (for scripts) or one line each."""
    if as_json:
        print_json([asdict(r) for r in rows])
    else:
        for row in rows:
            print(line(row))
    return EX_OK


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(type(value).__name__)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


# --- commands ----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    target = folder / "maildesk.toml"
    if target.exists() and not args.force:
        raise CommandError(f"{target} exists already (use --force to overwrite)")
    folder.mkdir(parents=True, exist_ok=True)
    starter = (shipped("config") / "maildesk.example.toml").read_text(encoding="utf-8")
    secret = f'secret = "{secrets.token_urlsafe(32)}"'  # signs notification Message-IDs
    target.write_text(starter.replace('secret = ""', secret, 1), encoding="utf-8")
    cfg = config_mod.load(target)
    engine = db.make_engine(cfg.database_url, cfg.sqlite_synchronous)
    db.upgrade(engine)
    cfg.outbox.folder.mkdir(parents=True, exist_ok=True)
    print(f"wrote {target}")
    print(f"database ready: {cfg.database_url}")
    print(f"next: edit {target}, then run: maildesk run --config {target}")
    return EX_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    engine = db.make_engine(cfg.database_url, cfg.sqlite_synchronous)
    db.upgrade(engine)
    print(f"database at revision {db.current_revision(engine)}")
    return EX_OK


def cmd_run(args: argparse.Namespace) -> int:
    from maildesk.daemon import Daemon
    from maildesk.outbox import make_transport

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


def cmd_tickets_list(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_store(cfg).transaction() as tx:
        rows = tickets.listing(tx, args.status, args.limit)
    return print_rows(args.json, rows, _ticket_line)


def _ticket_line(t: Any) -> str:
    return (f"{t.number}  {t.status:<15} {t.priority:<7} {_when(t.created_at)}  "
            f"{t.requester_email}  {t.subject}")  # fmt: skip


def cmd_tickets_show(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_store(cfg).transaction() as tx:
        ticket = tickets.view(tx, args.number.upper())
        if ticket is None:
            raise CommandError(f"no ticket {args.number}")
        extra: dict[str, Any] = {
            "watchers": participants.watchers(tx, ticket.id),
            "attachments": participants.attachments(tx, ticket.id),
            "events": events.listing(tx, ticket.id),
        }
    if args.json:
        print_json({**asdict(ticket), **extra})
        return EX_OK
    for key, value in [*asdict(ticket).items(), ("watchers", ", ".join(extra["watchers"]))]:
        if key not in ("id", "description"):
            print(f"{key:>18}: {_when(value) if isinstance(value, datetime) else value}")
    print(f"\n{ticket.description}\n")
    for a in extra["attachments"]:
        print(f"  attachment {a['filename']} ({a['size']} bytes) {a['refused_reason'] or 'kept'}")
    for e in extra["events"]:
        change = f" {e['field']}: {e['old']} → {e['new']}" if e["field"] else ""
        text = f"\n      {e['text']}" if e["text"] else ""
        print(f"{e['at'][:16]}  {e['kind']:<16} {e['actor']}{change}{text}")
    return EX_OK


def cmd_outbox_list(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_store(cfg).transaction() as tx:
        rows = outbox_rows.listing(tx, args.status, args.limit)
    return print_rows(args.json, rows, _outbox_line)


def _outbox_line(r: Any) -> str:
    error = f"  [{r.last_error}]" if r.last_error else ""
    return (f"#{r.id:<6} {r.status:<8} tries={r.attempts} {r.ticket_number or '-'}  "
            f"{','.join(r.recipients)}  {r.subject}{error}")  # fmt: skip


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from maildesk.service import utcnow

    if args.id is None and not args.all:
        raise CommandError("name a message: maildesk outbox retry ID, or --all", EX_CONFIG)
    cfg = load_config(args)
    with open_store(cfg).transaction() as tx:
        count = outbox_rows.retry(tx, utcnow(), args.id)
    print(f"{count} failed mail(s) queued again")
    return EX_OK if count else EX_FAIL


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_store(cfg).transaction() as tx:
        rows = journal.quarantined(tx)
    return print_rows(
        args.json, rows, lambda r: f"#{r.id:<6} {_when(r.received_at)}  {r.source}  {r.reason}"
    )


def cmd_quarantine_show(args: argparse.Namespace) -> int:
    cfg = load_config(args, secrets=False)
    with open_store(cfg).transaction() as tx:
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
    for inbound_id in released:
        outcome = service.process(inbound_id)
        print(f"#{inbound_id}: {outcome.kind} {outcome.ticket_number} {outcome.detail}".strip())
    return EX_OK


# --- the parser --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
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
    _add_quarantine(sub)

    dbp = sub.add_parser("db", help="database maintenance")
    dbsub = dbp.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    return parser


def _add_tickets(sub: Any) -> None:
    tickets = sub.add_parser("tickets", help="list and show tickets")
    tsub = tickets.add_subparsers(dest="tickets_command", required=True, metavar="ACTION")
    lst = tsub.add_parser("list", help="newest tickets first")
    lst.add_argument("--status", help="only this status")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_tickets_list)
    show = tsub.add_parser("show", help="one ticket with its event log")
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_tickets_show)


def _add_outbox(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="outgoing mail: list, retry failed")
    osub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    lst = osub.add_parser("list", help="newest first")
    lst.add_argument("--status", choices=["pending", "sending", "sent", "failed"])
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_outbox_list)
    retry = osub.add_parser("retry", help="queue failed mail again")
    retry.add_argument("id", nargs="?", type=int)
    retry.add_argument("--all", action="store_true", help="every failed mail")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"maildesk: config error: {exc}", file=sys.stderr)
        return EX_CONFIG
    except CommandError as exc:
        print(f"maildesk: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EX_OK


if __name__ == "__main__":
    sys.exit(main())
