"""Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from maildesk import db
from maildesk.intake import with_return_path
from maildesk.service import quick_message_id
from maildesk.store import JournalEntry
from maildesk.store.base import T_INBOUND

from .conftest import ConfigFactory, build_service
from .servers.postgres import PostgresCluster

FIXTURES = Path(__file__).parent / "fixtures" / "dedup"


def test_migrations_match_models(db_url: str) -> None:
    engine = db.make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []
    head = ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    assert db.head_revision() == head  # read from the files' text, as Alembic reads them
    assert db.current_revision(engine) == head
    with engine.connect() as conn:
        alembic_says = MigrationContext.configure(conn).get_current_revision()
    assert db.current_revision(engine) == alembic_says
    db.upgrade(engine)  # a second upgrade is a no-op
    assert db.current_revision(engine) == head


def test_the_head_is_found_past_a_merge_migration(tmp_path: Path) -> None:
    def migration(name: str, down: str) -> None:
        text = f'"""{name}"""\nrevision: str = "{name}"\ndown_revision: Any = {down}\n'
        (tmp_path / f"{name}_x.py").write_text(text, encoding="utf-8")

    migration("0001", "None")
    migration("0002", '"0001"')
    migration("0002b", "'0001'")
    with pytest.raises(RuntimeError, match="2 heads"):
        db.head_revision(tmp_path)
    migration("0003", '("0002", "0002b")')  # what `alembic merge` writes
    assert db.head_revision(tmp_path) == "0003"


def test_a_database_with_no_schema_has_no_revision(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path}/empty.db")
    assert db.current_revision(engine) is None


def test_the_daemon_checks_the_schema_without_importing_alembic(tmp_path: Path) -> None:
    """Alembic costs a long-running daemon ~11 MB of memory for one comparison at start,
    and SQLAlchemy's ORM ~6.6 MB for nothing (the tables are Core tables)."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path}/m.db"
    db.upgrade(db.make_engine(url))
    code = (
        "import sys; from maildesk import cli, db; from maildesk.store import Store; "
        f"cli._require_schema(db.make_engine({url!r})); "
        "import maildesk.daemon; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic' "
        "or m.startswith('sqlalchemy.orm')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet, to upgrade step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    name = f"m_{uuid.uuid4().hex[:12]}"
    cluster.create_database(name)
    yield cluster.url(name)
    cluster.drop_database(name)


def upgrade_to(engine: sa.Engine, revision: str) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def journal_as_before_0006(engine: sa.Engine, raw: bytes, key: str) -> None:
    """A journal row as the code before 0006 wrote it, processed."""
    row = {
        "dedupe_key": key, "message_id": quick_message_id(raw), "sha256": "0" * 64,
        "source": "imap:INBOX", "size": len(raw), "raw": raw, "status": "processed",
        "received_at": datetime(2026, 11, 30, tzinfo=UTC), "outcome": "created IT-1",
        "quarantine_reason": "",
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(sa.insert(T_INBOUND), row)


def test_mail_journaled_before_0006_is_a_duplicate_after(empty_db_url: str, tmp_path: Path) -> None:
    """Keys written before the upgrade still match a redelivery by another route, with
    or without a Message-ID; a different mail reusing an old entry's ID is new."""
    engine = db.make_engine(empty_db_url)
    upgrade_to(engine, "0005")
    no_id = b"From: li.na@example.com\r\nSubject: no id\r\n\r\nbody\r\n"
    with_id = (FIXTURES / "reused-id-1.eml").read_bytes()
    journal_as_before_0006(engine, no_id, f"sha256:{hashlib.sha256(no_id).hexdigest()}")
    journal_as_before_0006(engine, with_id, f"mid:{quick_message_id(with_id)}")
    upgrade_to(engine, "head")
    service = build_service(ConfigFactory(tmp_path, empty_db_url)())
    by_smtp = [with_return_path(raw.replace(b"\r\n", b"\n"), "li.na@example.com")
               for raw in (no_id, with_id)]  # fmt: skip
    assert [service.receive(raw, "smtp") for raw in by_smtp] == [
        JournalEntry(1, duplicate=True),
        JournalEntry(2, duplicate=True),
    ]
    other = (FIXTURES / "reused-id-2.eml").read_bytes()
    entry = service.receive(other, "smtp")  # PostgreSQL's ids skip the conflicting tries
    assert (entry.id > 2, entry.duplicate, entry.reuses) == (True, False, 2)
