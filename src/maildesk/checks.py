"""`maildesk check`: is everything the daemon needs valid and reachable?  Each check says
why not.

A result is ok, WARN or FAIL.  FAIL: `maildesk run` would not start or not work (a rule
file that cannot be loaded, an unreachable database or mailbox); `check` exits 1.  WARN:
it would run, but some mail would reach nobody or nobody in particular (a group that
rules route to and no one works, a group whose members are all away, no lead or
manager; a config file or SQLite database other users can read); `check` still exits 0.
No line shows a password or the signing secret: URLs show `user:***@host`.
"""

from __future__ import annotations

import enum
import errno
import functools
import smtplib
import socket
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from maildesk import db
from maildesk.calendar import changes, seed
from maildesk.calendar.settings import CALENDAR_SECTION
from maildesk.clock import SystemClock
from maildesk.config import Config, ConfigError, EngineerConfig, ImapMailbox
from maildesk.pipeline import assign
from maildesk.pipeline.routing import Rules
from maildesk.private_files import open_to_others
from maildesk.redact import config_secrets, mask_urls, redact
from maildesk.rules import load_rules, shipped_rules_path


class Status(enum.Enum):
    OK = "ok"
    WARN = "WARN"  # works, but some mail would reach nobody: does not fail the check
    FAIL = "FAIL"


class Result(NamedTuple):
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status.value:<4} {self.name}: {self.detail}"


def run_all(cfg: Config, now: datetime | None = None) -> list[Result]:
    """Every check, in order; no password or secret is in what they say.  `now` (default:
    the system clock) decides which years' calendars must be there."""
    guard = functools.partial(_guard, secrets=config_secrets(cfg))
    results = [check_config_file(cfg.path)]
    rules_result, rules = check_rules(cfg)
    results += [rules_result, *check_people(cfg.people, rules)]
    results.append(guard("database", lambda: _database(cfg)))
    results += check_database_files(cfg.database_url)
    results += check_calendar(cfg, now or SystemClock().now())
    for mb in cfg.imap:
        results.append(guard(f"imap {mb.name}", functools.partial(_imap, mb)))
    results.append(guard(f"outbox ({cfg.outbox.transport})", lambda: _outbox(cfg)))
    if cfg.smtp_intake.enabled:
        results.append(guard("smtp intake port", lambda: _port_free(cfg)))
    return results


def failed(results: Sequence[Result]) -> bool:
    """Warnings do not count."""
    return any(r.status is Status.FAIL for r in results)


# --- secrets at rest ---------------------------------------------------------------------


def check_config_file(path: Path) -> Result:
    """WARN when others may open the config: it holds the signing secret and passwords."""
    mode = open_to_others(path)
    if mode is None:
        return Result("config", Status.OK, str(path))
    return Result("config", Status.WARN, _open_file(path, mode, "its secrets and passwords"))


def check_database_files(url: str) -> list[Result]:
    """WARN for each SQLite file (database, -wal, -shm) others may open."""
    opened = [(path, open_to_others(path)) for path in db.sqlite_files(url)]
    return [
        Result("database file", Status.WARN, _open_file(path, mode, "every ticket and mail"))
        for path, mode in opened
        if mode is not None
    ]


def _open_file(path: Path, mode: int, holds: str) -> str:
    return f"{path} is mode {mode:04o}: other users can read {holds}; fix: chmod 600 {path}"


# --- routing rules and people ------------------------------------------------------------


def check_rules(cfg: Config) -> tuple[Result, Rules | None]:
    """Load the rule file as `maildesk run` does; the rules, unless that fails."""
    name = "routing.rules_file" if cfg.rules_file else "routing rules (shipped)"
    path = cfg.rules_file or shipped_rules_path()
    try:
        rules = load_rules(path)
    except ConfigError as exc:  # RuleError: names the file, line, rule and key
        return Result(name, Status.FAIL, str(exc)), None
    return Result(name, Status.OK, f"{path}: {len(rules.rules)} rules"), rules


def check_people(people: Sequence[EngineerConfig], rules: Rules | None) -> list[Result]:
    """Warnings about groups and roles; an ok line when there are none."""
    if not people:
        return [Result("people", Status.OK, "none configured: no engineer is notified")]
    warnings = [
        *_groups_nobody_works(people, rules),
        *_groups_all_away(people),
        *_no_lead_or_manager(people),
    ]
    groups = sorted({g for p in people for g in p.groups})
    summary = f"{len(people)} configured; groups: {', '.join(groups) or 'none'}"
    return warnings or [Result("people", Status.OK, summary)]


def _routed_groups(rules: Rules) -> dict[str, str]:
    """Each group a rule sets without an assignee -> the first such rule, for messages."""
    routed: dict[str, str] = {}
    for rule in rules.rules:
        group = rule.sets.get("group")
        if group and group not in routed and "assignee" not in rule.sets:
            routed[group] = f'rule "{rule.name}" (line {rule.line})'
    return routed


def _groups_nobody_works(people: Sequence[EngineerConfig], rules: Rules | None) -> Iterator[Result]:
    routed = _routed_groups(rules) if rules is not None else {}
    for group, rule in routed.items():
        if not assign.members(group, people):
            yield Result(
                f"group {group}",
                Status.WARN,
                f"{rule} routes tickets here, but no engineer or lead in [[people]] lists it in "
                "groups: they stay unassigned and notify nobody",
            )


def _groups_all_away(people: Sequence[EngineerConfig]) -> Iterator[Result]:
    for group in dict.fromkeys(g for p in people for g in p.groups):
        members = assign.members(group, people)
        if members and not any(p.available for p in members):
            yield Result(
                f"group {group}",
                Status.WARN,
                f"every member is available = false ({', '.join(p.email for p in members)}): "
                "its new tickets stay unassigned and notify only people who are away",
            )


def _no_lead_or_manager(people: Sequence[EngineerConfig]) -> Iterator[Result]:
    if not any(p.role in ("lead", "manager") for p in people):
        yield Result(
            "people",
            Status.WARN,
            'no one has role = "lead" or "manager": tickets no rule routes to a group '
            "notify every available engineer, and no one oversees the queue",
        )


# --- business calendar -------------------------------------------------------------------


def check_calendar(cfg: Config, now: datetime) -> list[Result]:
    """WARN for this year's schedule, and from 1 November next year's, when missing."""
    try:
        official = _official_years(cfg) | seed.official_years()  # seeded on first use
    except Exception:  # the database check above says what is wrong
        return []
    zone = cfg.section(CALENDAR_SECTION).zone
    missing = changes.missing_years(now, official, zone)
    return [_calendar_missing(year) for year in missing] or [
        Result("calendar", Status.OK, f"official schedule for {now.astimezone(zone).year}")
    ]


def _calendar_missing(year: int) -> Result:
    return Result(
        f"calendar {year}",
        Status.WARN,
        f"no official holiday schedule for {year}: its deadlines count Monday to Friday and "
        "are shown as provisional. When the State Council publishes it (late October or "
        "November), import it: maildesk calendar import FILE.ics (or FILE.yaml)",
    )


def _official_years(cfg: Config) -> set[int]:
    from maildesk.store import Store
    from maildesk.store import calendar as calendar_rows

    store = Store(db.make_read_engine(cfg.database_url))
    with store.transaction() as tx:
        return {r.year for r in calendar_rows.official_years(tx)}


# --- reachability ------------------------------------------------------------------------


def _guard(name: str, check: Callable[[], str], secrets: tuple[str, ...]) -> Result:
    """OK with what `check` says, or FAIL with its error, any secret in it masked."""
    try:
        return Result(name, Status.OK, check())
    except Exception as exc:
        return Result(name, Status.FAIL, redact(f"{type(exc).__name__}: {exc}", secrets))


def _database(cfg: Config) -> str:
    engine = db.make_engine(cfg.database_url, cfg.sqlite_synchronous)
    current = db.current_revision(engine)
    head = db.head_revision()
    if current != head:
        raise RuntimeError(
            f"schema at {current or 'nothing'}, expected {head}: run `maildesk db upgrade`"
        )
    return f"{mask_urls(cfg.database_url)} at revision {current}"


def _imap(mb: ImapMailbox) -> str:
    from maildesk.mailbox import connect

    client = connect(mb, timeout=15)
    try:
        info = client.select_folder(mb.folder, readonly=True)
        return f"{mb.username}@{mb.host}:{mb.port} {mb.folder}: {info.get(b'EXISTS', 0)} messages"
    finally:
        client.logout()


def _outbox(cfg: Config) -> str:
    out = cfg.outbox
    if out.transport == "file":
        out.folder.mkdir(parents=True, exist_ok=True)
        probe = out.folder / ".maildesk-check"
        probe.write_bytes(b"ok")
        probe.unlink()
        return f"writes .eml files to {out.folder}"
    from maildesk.outbox import SmtpTransport

    transport = SmtpTransport(out)
    conn = transport.connection()
    code, _ = conn.noop()
    transport.close()
    if code != 250:
        raise smtplib.SMTPException(f"NOOP answered {code}")
    return f"{out.host}:{out.port} ({out.security}) answers"


def _port_free(cfg: Config) -> str:
    intake = cfg.smtp_intake
    family = socket.AF_INET6 if ":" in intake.host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((intake.host, intake.port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or not _answers_smtp(intake.host, intake.port):
                raise
            return f"{intake.host}:{intake.port} answers SMTP already (maildesk running?)"
    return f"{intake.protocol} on {intake.host}:{intake.port} is free to listen on"


def _answers_smtp(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=5) as conn:
            return conn.recv(4).startswith(b"220")
    except OSError:
        return False
