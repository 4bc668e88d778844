"""Where each maildesk round's database comes from: a template written once (schema,
and the stored tickets), copied fresh for every round.

SQLite: a file (WAL checkpointed), copied; `--cache DIR` keeps templates across runs,
keyed by the migrations and the number of stored tickets. PostgreSQL: a throwaway
cluster (tests/servers/postgres.py: fsync and synchronous_commit off, as in the test
suite), a template database, CREATE DATABASE … TEMPLATE for each round.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from benchmarks.ingest import prefill
from maildesk import db
from maildesk.calendar.usecases import ensure_seeded
from maildesk.store import Store

TEMPLATE_VERSION = 2  # bump when prefill.py writes other rows: cached templates are stale


def schema_key() -> str:
    """Names the schema the code writes (a hash of its migration files) and the rows
    prefill.py writes (TEMPLATE_VERSION)."""
    versions = Path(db.MIGRATIONS) / "versions"
    digest = hashlib.sha256()
    for path in sorted(versions.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(str(TEMPLATE_VERSION).encode())
    return digest.hexdigest()[:12]


def _build(engine: Engine, stored: int) -> dict[str, Any]:
    """Schema, the official calendar (a desk that has run before has it: the daemon does
    not seed it and move every open ticket's deadlines at start), the stored tickets."""
    started = time.perf_counter()
    db.upgrade(engine)
    with Store(engine).transaction() as tx:
        ensure_seeded(tx, prefill.now_utc())
    counts = prefill.fill(engine, stored, prefill.now_utc()) if stored else {}
    base = prefill.max_ids(engine)
    print(f"  template with {stored} stored tickets: {time.perf_counter() - started:.1f}s "
          f"{counts}", file=sys.stderr, flush=True)  # fmt: skip
    return base


def _flush(path: Path) -> None:
    """On disk before the daemon starts, as a desk's database is: else its first fsync
    (a WAL checkpoint) would write out the whole fresh copy inside the measured run."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SqliteBackend:
    name = "sqlite"

    def __init__(self, folder: Path, cache: Path | None) -> None:
        self.folder = folder
        self.cache = cache
        self.templates: dict[int, tuple[Path, dict[str, int]]] = {}

    def template(self, stored: int) -> dict[str, int]:
        if stored in self.templates:
            return self.templates[stored][1]
        key = f"stored-{stored}-schema-{schema_key()}.db"
        path = (self.cache or self.folder) / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            building = path.with_suffix(".building")
            building.unlink(missing_ok=True)
            engine = db.make_engine(f"sqlite:///{building}", "full")
            _build(engine, stored)
            engine.dispose()
            conn = sqlite3.connect(building)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            building.rename(path)
        engine = db.make_read_engine(f"sqlite:///{path}")
        base = prefill.max_ids(engine)
        engine.dispose()
        self.templates[stored] = (path, base)
        return base

    def fresh(self, stored: int, name: str) -> str:
        """A database for one round, copied from the template; its URL."""
        source = self.templates[stored][0]
        target = self.folder / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, target)
        target.chmod(0o600)
        _flush(target)
        return f"sqlite:///{target}"

    def discard(self, url: str) -> None:
        path = db.sqlite_path(url)
        if path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        pass


class PostgresBackend:
    name = "postgresql"

    def __init__(self) -> None:
        from tests.servers.postgres import PostgresCluster, postgres_available

        missing = postgres_available()
        if missing:
            raise RuntimeError(missing)
        self.cluster = PostgresCluster()
        self.cluster.start()
        self.templates: dict[int, dict[str, int]] = {}

    def template(self, stored: int) -> dict[str, int]:
        if stored not in self.templates:
            name = f"template_{stored}"
            self.cluster.create_database(name)
            engine = db.make_engine(self.cluster.url(name))
            self.templates[stored] = _build(engine, stored)
            engine.dispose()
        return self.templates[stored]

    def fresh(self, stored: int, name: str) -> str:
        self.cluster.drop_database(name)
        self.cluster.create_database(name, template=f"template_{stored}")
        return self.cluster.url(name)

    def discard(self, url: str) -> None:
        self.cluster.drop_database(url.rsplit("/", 1)[1])

    def close(self) -> None:
        self.cluster.stop()


Backend = SqliteBackend | PostgresBackend


def make_backend(name: str, folder: Path, cache: Path | None) -> Backend:
    return PostgresBackend() if name == "postgresql" else SqliteBackend(folder, cache)
