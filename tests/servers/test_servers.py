"""Smoke tests for the throwaway Dovecot and PostgreSQL test servers.

They skip when a server is not installed, except with CI=true, where a missing
server is a failure: CI must never silently skip the integration tests.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from .dovecot import Dovecot, dovecot_available
from .postgres import PostgresCluster, postgres_available

USER, PASSWORD = "support", "s3cret"
CHINESE = "您好，我的打印机坏了。请帮忙！"
MESSAGE = (
    "From: Alice <alice@example.org>\r\n"
    "To: support@example.org\r\n"
    "Subject: =?UTF-8?B?5omT5Y2w5py6?=\r\n"
    "Message-ID: <roundtrip-1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    f"{CHINESE}\r\n"
).encode()


def require(missing: str | None) -> None:
    """Skip when a server is missing, but fail under CI=true."""
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{missing} (CI=true: integration servers must be available)")
    pytest.skip(missing)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    require(dovecot_available())
    with Dovecot(users={USER: PASSWORD}) as server:
        yield server


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    require(postgres_available())
    with PostgresCluster() as cluster:
        yield cluster


# -- Dovecot -----------------------------------------------------------------


def test_dovecot_utf8_message_roundtrip(dovecot: Dovecot) -> None:
    uid = dovecot.append(USER, MESSAGE)
    assert uid is not None
    with dovecot.client(USER) as client:
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch([uid], ["BODY.PEEK[]", "FLAGS"])
    assert fetched[uid][b"BODY[]"] == MESSAGE
    assert b"\\Seen" not in fetched[uid][b"FLAGS"]
    assert CHINESE in fetched[uid][b"BODY[]"].decode()


def test_dovecot_idle_capability_and_prompt_notification(dovecot: Dovecot) -> None:
    with dovecot.client(USER) as client:
        assert b"IDLE" in client.capabilities()
        client.select_folder("INBOX")
        client.idle()
        try:
            started = time.monotonic()
            dovecot.append(USER, MESSAGE)
            while not any(r[1:2] == (b"EXISTS",) for r in client.idle_check(timeout=1)):
                assert time.monotonic() - started < 5, "no EXISTS within 5s of IDLE"
        finally:
            client.idle_done()


def test_dovecot_folders_flags_and_count(dovecot: Dovecot) -> None:
    dovecot.create_folder(USER, "Tickets")
    dovecot.append(USER, MESSAGE, folder="Tickets", flags=["\\Seen"])
    dovecot.append(USER, MESSAGE, folder="Tickets")
    assert dovecot.count(USER, "Tickets") == 2
    assert dovecot.count(USER, "Tickets", "UNSEEN") == 1
    with dovecot.client(USER) as client:
        assert client.folder_exists("Tickets")


def test_dovecot_add_user_after_start_and_bad_password(dovecot: Dovecot) -> None:
    dovecot.add_user("late", "pw")
    assert dovecot.count("late") == 0
    dovecot.add_user("late", "changed")
    with dovecot.client("late") as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
    try:
        with pytest.raises(LoginError):
            client.login("late", "pw")
    finally:
        client.shutdown()


def test_two_dovecots_coexist_and_stop_cleanly() -> None:
    require(dovecot_available())
    with Dovecot(users={USER: PASSWORD}) as first, Dovecot(users={USER: PASSWORD}) as second:
        assert first.port != second.port
        first.append(USER, MESSAGE)
        assert first.count(USER) == 1
        assert second.count(USER) == 0
        tmp = first.log_path.parent
    assert not port_open(first.host, first.port)
    assert not port_open(second.host, second.port)
    assert not tmp.exists()


# -- PostgreSQL --------------------------------------------------------------


def select_one(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sqlalchemy.text("SELECT 1")).scalar_one())
    finally:
        engine.dispose()


def test_postgres_create_database_and_select_1(postgres: PostgresCluster) -> None:
    postgres.create_database("maildesk_smoke")
    url = postgres.url("maildesk_smoke")
    assert url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/maildesk_smoke"
    assert select_one(url) == 1


def test_postgres_template_and_drop(postgres: PostgresCluster) -> None:
    postgres.create_database("maildesk_tpl")
    engine = sqlalchemy.create_engine(postgres.url("maildesk_tpl"))
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE ticket (subject text)"))
        conn.execute(sqlalchemy.text("INSERT INTO ticket VALUES (:s)"), {"s": CHINESE})
    engine.dispose()
    postgres.create_database("maildesk_copy", template="maildesk_tpl")
    with psycopg.connect(postgres.dsn("maildesk_copy"), autocommit=True) as conn:
        assert conn.execute("SELECT subject FROM ticket").fetchone() == (CHINESE,)
        postgres.drop_database("maildesk_copy")  # WITH (FORCE): terminates this open session
    postgres.drop_database("maildesk_copy")  # IF EXISTS: dropping twice is fine
    with pytest.raises(sqlalchemy.exc.OperationalError):
        select_one(postgres.url("maildesk_copy"))


def test_two_postgres_clusters_coexist_and_stop_cleanly() -> None:
    require(postgres_available())
    with PostgresCluster() as first, PostgresCluster() as second:
        assert first.port != second.port
        first.create_database("only_in_first")
        assert select_one(first.url("only_in_first")) == 1
        with pytest.raises(sqlalchemy.exc.OperationalError):
            select_one(second.url("only_in_first"))
        data_dir: Path = first.data_dir
    assert not port_open(first.host, first.port)
    assert not port_open(second.host, second.port)
    assert not data_dir.exists()
