"""A throwaway PostgreSQL 15 cluster for integration tests.

    with PostgresCluster() as pg:
        pg.create_database("maildesk")
        engine = sqlalchemy.create_engine(pg.url("maildesk"))

The cluster lives in its own temp dir, listens on 127.0.0.1 on a free port
(its unix socket is inside the temp dir), trusts every local connection and
trades durability for speed. PostgreSQL refuses to run as root, so when the
tests run as root the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from .common import HOST, free_port, tail

PG_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
PG_BINARIES = ("initdb", "pg_ctl", "postgres")
SUPERUSER = "postgres"
RUN_AS_WHEN_ROOT = "postgres"
START_TIMEOUT = 30
PORT_ATTEMPTS = 3

SERVER_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}

_running: set[PostgresCluster] = set()


def postgres_available(bin_dir: Path | str | None = None) -> str | None:
    """Return None if a PostgreSQL 15 cluster can be started here, else what is missing."""
    bin_dir = Path(bin_dir or PG_BIN_DIR)
    for name in PG_BINARIES:
        if not os.access(bin_dir / name, os.X_OK):
            return f"PostgreSQL binary {bin_dir / name} not found: install postgresql-15"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS_WHEN_ROOT)
        except KeyError:
            return f"running as root but system user {RUN_AS_WHEN_ROOT!r} does not exist"
    return None


class PostgresError(RuntimeError):
    """The cluster could not be created, started or stopped."""


class PostgresCluster:
    """A private PostgreSQL cluster on 127.0.0.1 with trust auth for user ``postgres``."""

    host = HOST
    user = SUPERUSER

    def __init__(self, bin_dir: Path | str | None = None) -> None:
        self.bin_dir = Path(bin_dir or PG_BIN_DIR)
        self.port = 0
        self._tmp: Path | None = None
        self._started = False

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """initdb a fresh cluster and start it, waiting until it accepts connections."""
        if self._tmp is not None:
            raise PostgresError("cluster already started")
        missing = postgres_available(self.bin_dir)
        if missing:
            raise PostgresError(missing)
        self._tmp = self._make_tmp()
        _running.add(self)
        try:
            self._initdb()
            self._start_on_free_port()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server immediately (no checkpoint) and remove the temp dir."""
        if self._started:
            self._started = False
            self._pg_ctl_stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        _running.discard(self)

    def halt(self, fast: bool) -> None:
        """Stop the server but keep its data: `pg_ctl stop -m fast`, or (crash) SIGKILL
        the postmaster and wait until it and its backends are gone."""
        if fast:
            args = ["pg_ctl", "stop", "-m", "fast", "-w", "-t", "30", "-D", str(self.data_dir)]
            self._run_checked(args, timeout=60)
        else:
            pid = self._kill_postmaster()
            deadline = time.monotonic() + 30
            while pid and _alive_here(pid, self.data_dir) and time.monotonic() < deadline:
                time.sleep(0.05)
        self._started = False

    def resume(self) -> None:
        """Start a halted server again on the same port and data dir.  After a crash the
        old backends may hold shared memory for a moment: retry for a bounded time."""
        args = ["pg_ctl", "start", "-w", "-t", str(START_TIMEOUT), "-D", str(self.data_dir)]
        deadline = time.monotonic() + 30
        while True:
            result = self._run([*args, "-l", str(self.log_path)], 60)
            if result.returncode == 0:
                self._started = True
                return
            if time.monotonic() > deadline:
                raise PostgresError(f"pg_ctl start failed:\n{result.stderr}\n{self.logtail()}")
            time.sleep(0.2)

    def restart(self, fast: bool) -> None:
        self.halt(fast)
        self.resume()

    @property
    def data_dir(self) -> Path:
        return self._path("data")

    @property
    def log_path(self) -> Path:
        return self._path("postgres.log")

    def logtail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)

    # -- databases ---------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for ``dbname``."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection URI for ``dbname`` (for psycopg.connect, psql, ...)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self, name: str, template: str | None = None) -> None:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        self._execute(query)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, disconnecting any remaining sessions."""
        self._execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def _execute(self, query: sql.Composed) -> None:
        if not self._started:
            raise PostgresError("cluster is not running: call start() first")
        with psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(query)

    # -- internals ---------------------------------------------------------

    def _path(self, *parts: str) -> Path:
        if self._tmp is None:
            raise PostgresError("cluster temp dir does not exist: call start() first")
        return self._tmp.joinpath(*parts)

    @staticmethod
    def _make_tmp() -> Path:
        # Under /tmp (not $TMPDIR): short unix socket path, reachable by the postgres user.
        tmp = Path(tempfile.mkdtemp(prefix="maildesk-pg-", dir="/tmp"))  # mode 0700
        if os.geteuid() == 0:
            account = pwd.getpwnam(RUN_AS_WHEN_ROOT)
            os.chown(tmp, account.pw_uid, account.pw_gid)
        return tmp

    def _run(self, args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL binary, as the postgres system user when we are root."""
        kwargs: dict[str, Any] = {}
        if os.geteuid() == 0:
            kwargs = {"user": RUN_AS_WHEN_ROOT, "group": RUN_AS_WHEN_ROOT, "extra_groups": []}
        try:
            return subprocess.run(
                [str(self.bin_dir / args[0]), *args[1:]],
                cwd=self._path(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                **kwargs,
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresError(
                f"{args[0]} timed out after {timeout:.0f}s; log tail:\n{self.logtail()}"
            ) from exc

    def _run_checked(self, args: Sequence[str], timeout: float) -> None:
        result = self._run(args, timeout)
        if result.returncode != 0:
            raise PostgresError(
                f"{' '.join(args)} failed with status {result.returncode}:\n"
                f"{result.stdout}{result.stderr}\nlog tail:\n{self.logtail()}"
            )

    def _initdb(self) -> None:
        self._run_checked(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            timeout=120,
        )

    def _write_config(self) -> None:
        settings = {
            **SERVER_SETTINGS,
            "port": str(self.port),
            "unix_socket_directories": f"'{self._path()}'",
        }
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        # Appending keeps the file's owner (postgres) even when we are root.
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# tests/servers/postgres.py\n{lines}")

    def _start_on_free_port(self) -> None:
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = free_port()
            self._write_config()
            args = ["pg_ctl", "start", "-w", "-t", str(START_TIMEOUT)]
            result = self._run([*args, "-D", str(self.data_dir), "-l", str(self.log_path)], 60)
            if result.returncode == 0:
                self._started = True
                return
            # pg_ctl -w may give up while the postmaster still runs: make sure it is gone.
            self._pg_ctl_stop()
            if "Address already in use" not in self.logtail() or attempt == PORT_ATTEMPTS:
                raise PostgresError(
                    f"pg_ctl start failed with status {result.returncode}:\n"
                    f"{result.stdout}{result.stderr}\nlog tail:\n{self.logtail()}"
                )

    def _pg_ctl_stop(self) -> None:
        args = ["pg_ctl", "stop", "-m", "immediate", "-w", "-t", "30", "-D", str(self.data_dir)]
        with contextlib.suppress(PostgresError):
            self._run(args, timeout=60)
        self._kill_postmaster()

    def _kill_postmaster(self) -> int | None:
        """Safety net: SIGKILL a postmaster that pg_ctl failed to stop; its pid, if killed."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None  # no pid file: the server is not running
        if not _alive_here(pid, self.data_dir):  # never kill a recycled, unrelated pid
            return None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return pid


def _alive_here(pid: int, data_dir: Path) -> bool:
    """Is `pid` a live process of the cluster in `data_dir` (a postmaster or a backend)?"""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return status != "Z" and str(data_dir).encode() in cmdline


def _stop_all(instances: Iterable[PostgresCluster] = _running) -> None:
    for instance in list(instances):
        instance.stop()


atexit.register(_stop_all)
