"""`maildesk check`: is everything the daemon needs reachable?  Each check says why not."""

from __future__ import annotations

import errno
import functools
import smtplib
import socket
from collections.abc import Callable

from maildesk import db
from maildesk.config import Config, ImapMailbox

Result = tuple[str, bool, str]


def run_all(cfg: Config) -> list[Result]:
    results: list[Result] = [("config", True, str(cfg.path))]
    results.append(_guard("database", lambda: _database(cfg)))
    for mb in cfg.imap:
        results.append(_guard(f"imap {mb.name}", functools.partial(_imap, mb)))
    results.append(_guard(f"outbox ({cfg.outbox.transport})", lambda: _outbox(cfg)))
    if cfg.smtp_intake.enabled:
        results.append(_guard("smtp intake port", lambda: _port_free(cfg)))
    return results


def _guard(name: str, check: Callable[[], str]) -> Result:
    try:
        return (name, True, check())
    except Exception as exc:
        return (name, False, f"{type(exc).__name__}: {exc}")


def _database(cfg: Config) -> str:
    from alembic.script import ScriptDirectory

    engine = db.make_engine(cfg.database_url, cfg.sqlite_synchronous)
    current = db.current_revision(engine)
    head = ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    if current != head:
        raise RuntimeError(
            f"schema at {current or 'nothing'}, expected {head}: run `maildesk db upgrade`"
        )
    return f"{engine.url.render_as_string(hide_password=True)} at revision {current}"


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
