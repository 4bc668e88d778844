"""Shared fixtures: configs, databases (SQLite and a real PostgreSQL), a real Dovecot,
a real SMTP sink (aiosmtpd).  Servers skip only outside CI, saying what is missing."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from maildesk import config as config_mod
from maildesk import db
from maildesk.cli import make_service
from maildesk.clock import Clock
from maildesk.service import Service
from maildesk.store import Store

from .servers.dovecot import Dovecot, dovecot_available
from .servers.postgres import PostgresCluster, postgres_available

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IN_CI = os.environ.get("CI") == "true"


def require(problem: str | None) -> None:
    """Skip outside CI when something is missing; in CI, fail loudly instead."""
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def corpus() -> Path:
    folder = SHARED / "corpus"
    require(None if folder.is_dir() else f"{folder} is absent (the shared test corpus)")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- configs ------------------------------------------------------------------------------

BASE_CONFIG = """
[maildesk]
support_address = "it-support@example.com"
locale = "{locale}"
node_name = "{node}"
lease_seconds = {lease}
directory_csv = "{directory}"

[database]
url = "{db_url}"
sqlite_synchronous = "normal"

[limits]
# most tests send many mails from one address; the flood tests set their own limit
new_tickets_per_sender = {flood_limit}
coalesce_seconds = {coalesce}

[smtp_intake]
enabled = {intake}
port = {intake_port}
protocol = "{protocol}"

[outbox]
transport = "{transport}"
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
backoff_seconds = {backoff}
max_attempts = {max_attempts}
poll_interval = 0.2
timeout = 5
"""

IMAP_CONFIG = """
[[imap]]
name = "support"
host = "127.0.0.1"
port = {port}
security = "plain"
username = "support"
password = "secret"
poll_interval = {poll}
idle = {idle}
on_done = "{on_done}"
move_to = "{move_to}"
batch_size = {batch}
"""


@dataclass
class ConfigFactory:
    folder: Path
    db_url: str
    counter: int = 0
    written: list[Path] = field(default_factory=list)

    def __call__(self, **opts: Any) -> config_mod.Config:
        return config_mod.load(self.write(**opts))

    def write(self, **opts: Any) -> Path:
        values: dict[str, Any] = {
            "locale": "zh-CN", "node": "test", "lease": 30, "db_url": self.db_url,
            "intake": "false", "intake_port": 8025, "protocol": "smtp", "transport": "file",
            "smtp_port": 25, "backoff": 0.2, "max_attempts": 3, "directory": "",
            "flood_limit": 100000, "coalesce": 60,
        }  # fmt: skip
        imap = opts.pop("imap", None)
        extra = opts.pop("extra", "")
        values.update(opts)
        text = BASE_CONFIG.format(**values) + extra
        if imap:
            imap_values = {"poll": 1, "idle": "true", "on_done": "seen", "move_to": ""}
            imap_values.update({"batch": 100, **imap})
            text += IMAP_CONFIG.format(**imap_values)
        self.counter += 1
        path = self.folder / f"maildesk-{self.counter}.toml"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)  # as `maildesk init` writes it: `check` warns about a wider mode
        self.written.append(path)
        return path


# --- databases ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    require(postgres_available())
    with PostgresCluster() as cluster:
        cluster.create_database("template_maildesk")
        engine = db.make_engine(cluster.url("template_maildesk"))
        db.upgrade(engine)
        engine.dispose()  # a template must have no open sessions
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_cluster.create_database(name, template="template_maildesk")
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'maildesk.db'}"
        db.upgrade(db.make_engine(url))
        return url
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'maildesk.db'}"
    db.upgrade(db.make_engine(url))
    return url


@pytest.fixture
def make_config(tmp_path: Path, db_url: str) -> ConfigFactory:
    return ConfigFactory(tmp_path, db_url)


@pytest.fixture
def make_sqlite_config(tmp_path: Path, sqlite_url: str) -> ConfigFactory:
    return ConfigFactory(tmp_path, sqlite_url)


def build_service(cfg: config_mod.Config, clock: Clock | None = None) -> Service:
    """Wired as `maildesk run` wires it: directory, routing rules, attachment store."""
    store = Store(db.make_engine(cfg.database_url, cfg.sqlite_synchronous))
    service: Service = make_service(cfg, store)
    if clock is not None:  # the same Service, on time the test advances
        service.clock = clock.now
    return service


# --- servers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecot_server() -> Iterator[Dovecot]:
    require(dovecot_available())
    with Dovecot(users={"support": "secret"}) as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """A Dovecot with an empty INBOX for each test."""
    with dovecot_server.client("support") as client:
        client.select_folder("INBOX")
        uids = client.search("ALL")
        if uids:
            client.delete_messages(uids)
            client.expunge()
        for folder in client.list_folders():
            name = folder[2]
            if name != "INBOX":
                client.delete_folder(name)
    return dovecot_server


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()
        self.refuse_with: str | None = None
        self.delay = 0.0  # seconds a slow server takes per message
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 30) -> list[tuple[str, list[str], bytes]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails at the SMTP sink, got {len(self.messages)}")


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


def wait_until(check: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
