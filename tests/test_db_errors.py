"""Database errors sorted: an outage is retried with nothing quarantined; an error the
message causes quarantines that message alone, with a short reason."""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

import psycopg.errors as pg
import pytest
import sqlalchemy.exc as sa

from maildesk.store import errors, values


def _wrapped(cls: type[sa.DBAPIError], orig: BaseException) -> sa.DBAPIError:
    return cls("INSERT INTO tickets (subject) VALUES (%(subject)s)", {"subject": "x"}, orig)


def _sqlite(code: int, text: str, cls: type[sqlite3.Error]) -> sqlite3.Error:
    exc = cls(text)
    exc.sqlite_errorcode = code  # type: ignore[attr-defined]  # set by the sqlite3 module
    return exc


CASES: list[tuple[str, BaseException, str]] = [
    (
        "sqlite disk full",
        _wrapped(
            sa.OperationalError, _sqlite(13, "database or disk is full", sqlite3.OperationalError)
        ),
        "transient",
    ),
    (
        "sqlite locked",
        _wrapped(sa.OperationalError, _sqlite(5, "database is locked", sqlite3.OperationalError)),
        "transient",
    ),
    (
        "sqlite no code",
        _wrapped(sa.OperationalError, sqlite3.OperationalError("disk I/O error")),
        "transient",
    ),
    (
        "sqlite unique",
        _wrapped(
            sa.IntegrityError, _sqlite(2067, "UNIQUE constraint failed", sqlite3.IntegrityError)
        ),
        "message",
    ),
    (
        "sqlite too big",
        _wrapped(sa.DataError, _sqlite(18, "string or blob too big", sqlite3.DataError)),
        "message",
    ),
    (
        "pg admin shutdown",
        _wrapped(sa.OperationalError, pg.AdminShutdown("terminating connection")),
        "transient",
    ),
    (
        "pg lock timeout",
        _wrapped(sa.OperationalError, pg.LockNotAvailable("lock timeout")),
        "transient",
    ),
    (
        "pg deadlock",
        _wrapped(sa.OperationalError, pg.DeadlockDetected("deadlock detected")),
        "transient",
    ),
    (
        "pg connection lost",
        _wrapped(sa.OperationalError, pg.OperationalError("server closed the connection")),
        "transient",
    ),
    (
        "pg interface",
        _wrapped(sa.InterfaceError, pg.InterfaceError("connection already closed")),
        "transient",
    ),
    (
        "pg disk full",
        _wrapped(sa.OperationalError, pg.DiskFull("could not extend file")),
        "transient",
    ),
    (
        "pg index row too big",
        _wrapped(
            sa.OperationalError,
            pg.ProgramLimitExceeded("index row size 3616 exceeds btree version 4 maximum 2704"),
        ),
        "message",
    ),
    (
        "pg too long",
        _wrapped(
            sa.DataError,
            pg.StringDataRightTruncation("value too long for type character varying(1000)"),
        ),
        "message",
    ),
    (
        "pg NUL",
        _wrapped(
            sa.DataError, pg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        ),
        "message",
    ),
    (
        "pg encoding",
        _wrapped(sa.DataError, pg.CharacterNotInRepertoire("invalid byte sequence")),
        "message",
    ),
    (
        "pg unique",
        _wrapped(sa.IntegrityError, pg.UniqueViolation("duplicate key value")),
        "message",
    ),
    (
        "NUL ValueError",
        ValueError("A string literal cannot contain NUL (0x00) characters."),
        "message",
    ),
    ("encoding", UnicodeEncodeError("utf-8", "\udce9", 0, 1, "surrogates not allowed"), "message"),
    ("a bug", TypeError("'NoneType' object is not subscriptable"), "message"),
    ("attachments full", OSError(errno.ENOSPC, "No space left on device"), "transient"),
    ("attachments denied", OSError(errno.EACCES, "Permission denied"), "message"),
    ("pool timeout", sa.TimeoutError("QueuePool limit reached"), "transient"),
]


@pytest.mark.parametrize(("exc", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_errors_are_sorted(exc: BaseException, kind: str) -> None:
    assert errors.classify(exc) == kind


def test_a_lost_connection_is_transient_whatever_the_driver_said() -> None:
    exc = _wrapped(sa.DataError, pg.DataError("x"))
    exc.connection_invalidated = True
    assert errors.classify(exc) == "transient"


def test_the_reason_is_short_and_never_sql() -> None:
    long = pg.ProgramLimitExceeded("index row size 3616 exceeds maximum\nDETAIL: " + "x" * 2000)
    reason = errors.reason(_wrapped(sa.OperationalError, long))
    assert reason == "the database refused a value: index row size 3616 exceeds maximum"
    text = errors.reason(ValueError("bad " * 100))
    assert text.startswith("internal error: ValueError: bad") and len(text) <= 160


@pytest.mark.parametrize(
    ("given", "stored"),
    [("a\x00b", "ab"), ("caf\udce9", "caf"), ("日本語 ok", "日本語 ok"), ("", "")],
)
def test_text_is_made_storable(given: str, stored: str) -> None:
    assert values.text(given) == stored


def test_message_ids_are_bounded_and_stable() -> None:
    assert values.message_id(" <x> ".strip(" ")) == "<x>"
    assert values.message_id("  abc@example.com ") == "abc@example.com"
    long = "\U0001f600" * 900 + "@evil.example"
    hashed = values.message_id(long)
    assert hashed == values.message_id(long) and hashed.endswith("@maildesk.invalid")
    assert len(hashed) < 100 and hashed.isascii()
    assert values.message_id("caf\udce9@x").startswith("sha256:")
    assert values.message_id("a" * 250) == "a" * 250
    assert values.message_id("a" * 251) != values.message_id("a" * 252)


def test_rows_keep_their_non_text_values() -> None:
    row: dict[str, Any] = {"n": 1, "s": "x\x00", "none": None}
    assert values.row(row) == {"n": 1, "s": "x", "none": None}


def test_ids_stored_before_they_were_bounded_are_still_looked_up() -> None:
    long, wide = "a" * 400, "日" * 300
    assert values.lookup_ids([long, wide, "x\x00"]) == [
        values.message_id(long), values.message_id(wide), values.message_id("x\x00"), long, wide
    ]  # fmt: skip
