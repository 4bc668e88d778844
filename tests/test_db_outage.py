"""Database errors while processing, on both databases: an outage leaves the batch
pending and quarantines nothing; an error the message causes quarantines it alone."""

from __future__ import annotations

import email
import email.policy
import errno
import random
import sqlite3
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc as sa
from sqlalchemy import event, insert

from maildesk.cli import main
from maildesk.service import Service
from maildesk.store import Tx, errors, journal, threads, tickets
from maildesk.store.base import T_MSGIDS

from .conftest import ConfigFactory, build_service
from .mails import make_mail

POISON_ID = "poison@client.example.com"
# 900 four-byte characters that do not compress: 3,600 bytes for one index row
_RNG = random.Random(9)
WIDE = "".join(chr(0x20000 + _RNG.randrange(0xA000)) for _ in range(900))


def _receive(service: Service) -> list[int]:
    mails = [make_mail(1), make_mail(2, message_id=POISON_ID), make_mail(3)]
    return [e.id for e in service.receive_many([(m, f"t:{i}") for i, m in enumerate(mails)])]


def _state(service: Service) -> tuple[int, int, int]:
    """(tickets, quarantined, pending)"""
    with service.store.transaction() as tx:
        pending = len(journal.pending_ids(tx, 100))
        return tickets.count(tx), len(journal.quarantined(tx)), pending


def test_disk_full_while_processing_leaves_the_batch_pending(
    make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = build_service(make_config())
    ids = _receive(service)
    real = threads.remember_message_id

    def full(tx: Tx, message_id: str, ticket_id: int, direction: str) -> None:
        if message_id == POISON_ID:
            orig = sqlite3.OperationalError("database or disk is full")
            raise sa.OperationalError("INSERT INTO message_ids …", {}, orig)
        real(tx, message_id, ticket_id, direction)

    monkeypatch.setattr(threads, "remember_message_id", full)
    with pytest.raises(sa.OperationalError):
        service.process_many(ids)
    assert _state(service) == (0, 0, 3)  # rolled back: nothing quarantined, all pending
    monkeypatch.setattr(threads, "remember_message_id", real)  # the disk has room again
    assert [o.kind for o in service.process_pending()] == ["created"] * 3


def test_an_error_the_message_causes_quarantines_it_alone(
    make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_config.write()
    service = build_service(make_config())
    ids = _receive(service)
    real = threads.remember_message_id

    def twice(tx: Tx, message_id: str, ticket_id: int, direction: str) -> None:
        if message_id == POISON_ID:  # a duplicate key: IntegrityError on both databases
            row = {"message_id": message_id, "ticket_id": ticket_id, "direction": direction}
            tx.c.execute(insert(T_MSGIDS), [row, row])
        real(tx, message_id, ticket_id, direction)

    monkeypatch.setattr(threads, "remember_message_id", twice)
    outcomes = service.process_many(ids)
    assert [o.kind for o in outcomes] == ["created", "quarantined", "created"]
    reason = outcomes[1].detail
    assert reason.startswith("the database refused a value: ") and len(reason) <= 160
    assert "INSERT" not in reason and "message_ids" not in reason.split(":", 1)[0]
    assert _state(service) == (2, 1, 0)
    monkeypatch.setattr(threads, "remember_message_id", real)
    assert main(["--config", str(path), "quarantine", "retry", "--all"]) == 0
    assert _state(service) == (3, 0, 0)


def test_an_index_row_too_large_on_postgresql_quarantines_the_message_alone(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error of the crafted mail in the issue, reached without the bounds on ids:
    PostgreSQL reports it as an OperationalError, but it is the message's fault."""
    service = build_service(ConfigFactory(tmp_path, pg_url)())
    ids = _receive(service)
    real = threads.remember_message_id

    def unbounded(tx: Tx, message_id: str, ticket_id: int, direction: str) -> None:
        if message_id == POISON_ID:
            row = {"message_id": WIDE, "ticket_id": ticket_id, "direction": "in"}
            tx.c.execute(insert(T_MSGIDS), row)
        real(tx, message_id, ticket_id, direction)

    monkeypatch.setattr(threads, "remember_message_id", unbounded)
    outcomes = service.process_many(ids)
    assert [o.kind for o in outcomes] == ["created", "quarantined", "created"]
    assert outcomes[1].detail.startswith("the database refused a value: index row")
    assert len(outcomes[1].detail) <= 160


def _busy_timeout(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA busy_timeout = 100")


def test_a_locked_sqlite_database_is_waited_out(make_sqlite_config: ConfigFactory) -> None:
    service = build_service(make_sqlite_config())
    event.listen(service.store.engine, "connect", _busy_timeout)
    service.store.engine.dispose()
    ids = _receive(service)
    other = sqlite3.connect(service.store.engine.url.database or "", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with pytest.raises(sa.OperationalError) as caught:
        service.process_many(ids)
    assert errors.classify(caught.value) == "transient"
    other.execute("ROLLBACK")  # the lock is gone
    other.close()
    assert _state(service) == (0, 0, 3)
    assert [o.kind for o in service.process_many(ids)] == ["created"] * 3


def test_a_full_attachment_folder_is_waited_out(
    make_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = build_service(make_config())
    msg = email.message_from_bytes(make_mail(4), _class=EmailMessage, policy=email.policy.SMTP)
    msg.add_attachment(b"boot log: fan on, screen black\n", "text", "plain", filename="boot.txt")
    ids = [e.id for e in service.receive_many([(make_mail(1), "t:1"), (msg.as_bytes(), "t:4")])]

    def full(data: bytes) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(service.files, "put", full)
        with pytest.raises(OSError):
            service.process_many(ids)
    assert _state(service) == (0, 0, 2)
    assert [o.kind for o in service.process_pending()] == ["created"] * 2
