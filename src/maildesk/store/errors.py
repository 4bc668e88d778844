"""Database errors sorted: an outage to wait out, or a message the database refuses.

Pure functions of the exception, the same on SQLite and PostgreSQL.  "transient"
(connection lost, server restarting, lock timeout, disk full) rolls the batch back to
be retried; "message" (a value too long for an index, a NUL byte, an encoding the
database refuses, an integrity error, a bug) quarantines that message alone."""

from __future__ import annotations

import errno
from typing import Literal

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    InternalError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

Kind = Literal["transient", "message"]

# SQLSTATE classes caused by the values sent: data exception, integrity constraint
# violation, program limit exceeded (an index row too big).  Any other class reported
# by the server (connection, rollback, resources, operator intervention) is an outage.
MESSAGE_CLASSES = frozenset({"22", "23", "54"})
# SQLite primary result codes caused by the values: TOOBIG, CONSTRAINT, MISMATCH, RANGE.
SQLITE_MESSAGE_CODES = frozenset({18, 19, 20, 25})
TRANSIENT_CLASSES = (OperationalError, InterfaceError, InternalError, DisconnectionError,
                     PoolTimeout)  # fmt: skip
FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
MAX_REASON = 160


def classify(exc: BaseException) -> Kind:
    """Is this error an outage to retry, or caused by the message being processed?"""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "transient"
    driver = _driver(exc)
    state = getattr(driver, "sqlstate", None)
    if isinstance(state, str) and state:
        return "message" if state[:2] in MESSAGE_CLASSES else "transient"
    code = getattr(driver, "sqlite_errorcode", None)
    if isinstance(code, int):
        return "message" if (code & 0xFF) in SQLITE_MESSAGE_CODES else "transient"
    if isinstance(exc, TRANSIENT_CLASSES):
        return "transient"
    if isinstance(exc, OSError) and exc.errno in FULL:  # the attachment folder is full
        return "transient"
    return "message"


def reason(exc: BaseException) -> str:
    """A short quarantine reason: one line, capped, never the SQL statement."""
    if isinstance(exc, StatementError):
        text = f"the database refused a value: {_first_line(_driver(exc))}"
    else:
        text = f"internal error: {type(exc).__name__}: {_first_line(exc)}"
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _driver(exc: BaseException) -> BaseException:
    """The database driver's own exception (SQLAlchemy wraps it with the statement)."""
    orig = getattr(exc, "orig", None) if isinstance(exc, StatementError) else None
    return orig if isinstance(orig, BaseException) else exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__
