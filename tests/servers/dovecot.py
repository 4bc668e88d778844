"""A throwaway, real Dovecot IMAP server for integration tests.

Each :class:`Dovecot` instance runs ``dovecot -F -c <own config>`` in the
foreground, with every path (config, base_dir, state_dir, logs, mail) inside
its own temp dir, so several instances can run side by side and the system
configuration in /etc/dovecot and /run/dovecot is never touched.

    with Dovecot(users={"support": "secret"}) as imap:
        uid = imap.append("support", b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
        with imap.client("support") as client:
            client.select_folder("INBOX")
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from imapclient import IMAPClient

from .common import HOST, free_port, tail

DOVECOT_BIN = "/usr/sbin/dovecot"
IMAP_BIN = "/usr/lib/dovecot/imap"
# Mail is stored as this uid/gid when the tests run as root (Dovecot refuses
# to store mail as root).
ROOT_MAIL_USER = "nobody"
ROOT_MAIL_GROUP = "nogroup"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
PORT_ATTEMPTS = 3

_running: set[Dovecot] = set()


def dovecot_available() -> str | None:
    """Return None if Dovecot can be started here, else what is missing."""
    if not os.access(DOVECOT_BIN, os.X_OK):
        return f"dovecot binary {DOVECOT_BIN} not found: install dovecot-imapd"
    if not os.access(IMAP_BIN, os.X_OK):
        return f"dovecot imap binary {IMAP_BIN} not found: install dovecot-imapd"
    if os.geteuid() == 0:
        for user in ("dovecot", "dovenull", ROOT_MAIL_USER):
            if not _user_exists(user):
                return f"system user {user!r} missing: install dovecot-core"
        if not _group_exists(ROOT_MAIL_GROUP):
            return f"system group {ROOT_MAIL_GROUP!r} missing"
    return None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


class DovecotError(RuntimeError):
    """Dovecot could not be started or used."""


class Dovecot:
    """A private Dovecot IMAP server on 127.0.0.1 (plaintext, PLAIN passwords, Maildir)."""

    host = HOST

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        *,
        start_timeout: float = START_TIMEOUT,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        """`tls=(cert_pem, key_pem)` enables STARTTLS on `port` and implicit TLS on
        `tls_port`; plaintext login stays allowed on `port`."""
        self.port = 0
        self.tls_port = 0
        self.tls = tls
        self.start_timeout = start_timeout
        self._users: dict[str, str] = {}
        self._users_mtime = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._mail_uid, self._mail_gid = self._mail_ids()
        for name, password in (users or {}).items():
            self.add_user(name, password)

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> Dovecot:
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
        """Start Dovecot and wait until it greets IMAP clients on ``self.port``."""
        if self._proc is not None:
            raise DovecotError("Dovecot already started")
        missing = dovecot_available()
        if missing:
            raise DovecotError(missing)
        self._tmp = self._make_tmp()
        _running.add(self)
        try:
            self._start_on_free_port()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop Dovecot (TERM, then KILL of its process group) and remove the temp dir."""
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        _running.discard(self)

    def kill(self) -> None:
        """SIGKILL the whole server, as a crash would: no BYE, the clients' sockets just
        close.  The mail stays; restart() brings the server back on the same port."""
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=STOP_TIMEOUT)

    def freeze(self, frozen: bool = True) -> None:
        """SIGSTOP (or SIGCONT) the whole server: connections stay open, nothing answers,
        as with a hung server or a firewall dropping packets."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGSTOP if frozen else signal.SIGCONT)

    def restart(self) -> None:
        """Start again after kill(): same port, same config, same mail."""
        if self._proc is not None:
            raise DovecotError("Dovecot is running: kill() it first")
        self._spawn()
        self._wait_ready()

    @property
    def log_path(self) -> Path:
        return self._path("dovecot.log")

    def logtail(self, lines: int = 40) -> str:
        """The last lines of Dovecot's log and of its stdout/stderr."""
        return f"{tail(self.log_path, lines)}\n{tail(self._path('stdout.log'), lines)}"

    # -- users -------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Add (or replace) a mail user; works before and after start().

        On a running server this takes up to a second, until Dovecot rereads its users.
        """
        for value in (name, password):
            if not value or any(c in value for c in ":\r\n"):
                raise ValueError(
                    f"user name/password must be non-empty without ':' or newlines: {value!r}"
                )
        self._users[name] = password
        if self._tmp is not None:
            self._write_users()
        if self._proc is not None:
            _wait_for_next_second()

    def password(self, user: str) -> str:
        try:
            return self._users[user]
        except KeyError:
            raise KeyError(f"unknown Dovecot user {user!r}; add it with add_user()") from None

    # -- IMAP helpers ------------------------------------------------------

    def client(self, user: str, timeout: float = 10.0) -> IMAPClient:
        """A logged-in plaintext IMAPClient; use it as a context manager to log out."""
        if self._proc is None:
            raise DovecotError("Dovecot is not running: call start() first")
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        try:
            client.login(user, self.password(user))
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[str | bytes] = (),
    ) -> int | None:
        """IMAP APPEND ``raw`` to ``folder``; return its UID (from APPENDUID) if known."""
        with self.client(user) as client:
            response = client.append(folder, raw, flags=tuple(flags))
        match = re.search(rb"APPENDUID \d+ (\d+)", response)
        return int(match.group(1)) if match else None

    def count(self, user: str, folder: str = "INBOX", criteria: str | list[str] = "ALL") -> int:
        """Number of messages in ``folder`` matching the IMAP SEARCH ``criteria``."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            return len(client.search(criteria))

    def create_folder(self, user: str, name: str) -> None:
        """Create and subscribe to ``name``."""
        with self.client(user) as client:
            client.create_folder(name)
            client.subscribe_folder(name)

    # -- internals ---------------------------------------------------------

    def _path(self, *parts: str) -> Path:
        if self._tmp is None:
            raise DovecotError("Dovecot temp dir does not exist: call start() first")
        return self._tmp.joinpath(*parts)

    @staticmethod
    def _mail_ids() -> tuple[int, int]:
        if os.geteuid() != 0:
            return os.getuid(), os.getgid()
        try:
            return pwd.getpwnam(ROOT_MAIL_USER).pw_uid, grp.getgrnam(ROOT_MAIL_GROUP).gr_gid
        except KeyError:
            return -1, -1  # start() reports what is missing via dovecot_available()

    def _make_tmp(self) -> Path:
        # Under /tmp (not $TMPDIR) to keep unix socket paths short.
        tmp = Path(tempfile.mkdtemp(prefix="maildesk-dovecot-", dir="/tmp"))
        # Dovecot's auth (dovecot user) and imap (mail user) processes must traverse it.
        tmp.chmod(0o711)
        for sub in ("run", "state", "mail"):
            (tmp / sub).mkdir(mode=0o755)
        return tmp

    def _start_on_free_port(self) -> None:
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = free_port()
            self.tls_port = free_port() if self.tls else 0
            self._write_users()
            self._path("dovecot.conf").write_text(self._config())
            self._spawn()
            try:
                self._wait_ready()
                return
            except DovecotError:
                in_use = "Address already in use" in self.logtail()
                if not in_use or attempt == PORT_ATTEMPTS:
                    raise
                self._kill_and_reset_logs()

    def _spawn(self) -> None:
        with self._path("stdout.log").open("wb") as out:
            self._proc = subprocess.Popen(
                [DOVECOT_BIN, "-F", "-c", str(self._path("dovecot.conf"))],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self._tmp,
                start_new_session=True,  # own process group: stop() can kill all children
            )

    def _kill_and_reset_logs(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)
        for name in ("dovecot.log", "stdout.log"):
            self._path(name).unlink(missing_ok=True)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise DovecotError(
                    f"dovecot exited with status {self._proc.returncode} during startup; "
                    f"log tail:\n{self.logtail()}"
                )
            if self._greets():
                return
            time.sleep(0.05)
        raise DovecotError(
            f"dovecot did not accept IMAP connections on {self.host}:{self.port} within "
            f"{self.start_timeout:.0f}s; log tail:\n{self.logtail()}"
        )

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                return sock.recv(256).startswith(b"* OK")
        except OSError:
            return False

    def _write_users(self) -> None:
        home = self._path("mail")
        lines = []
        for name, password in self._users.items():
            user_home = home / name
            user_home.mkdir(exist_ok=True)
            os.chown(user_home, self._mail_uid, self._mail_gid)
            lines.append(
                f"{name}:{{PLAIN}}{password}:{self._mail_uid}:{self._mail_gid}::{user_home}::\n"
            )
        staging = self._path("users.new")
        staging.write_text("".join(lines))
        staging.chmod(0o644)  # read by the auth process (dovecot user); test passwords only
        # Dovecot reloads a passwd-file when its mtime (whole seconds) or size changed:
        # make every version's mtime distinct, even for several writes within a second.
        self._users_mtime = max(int(time.time()), self._users_mtime + 1)
        os.utime(staging, (self._users_mtime, self._users_mtime))
        staging.replace(self._path("users"))

    def _config(self) -> str:
        tmp = self._path()
        return _CONFIG_TEMPLATE.format(
            base_dir=tmp / "run",
            state_dir=tmp / "state",
            log_path=tmp / "dovecot.log",
            instance_name=f"maildesk-test-{tmp.name}",
            host=self.host,
            port=self.port,
            users=tmp / "users",
            first_valid_uid=max(self._mail_uid, 1),
            privileges=_privileges_config(),
            ssl=_ssl_config(self.tls),
            tls_port=self.tls_port,
        )


_CONFIG_TEMPLATE = """\
# Generated by tests/servers/dovecot.py: a private, throwaway test instance.
base_dir = {base_dir}
state_dir = {state_dir}
instance_name = {instance_name}
log_path = {log_path}
info_log_path = {log_path}
debug_log_path = {log_path}

protocols = imap
listen = {host}
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests log in with wrong passwords on purpose: answer at once instead of after 2s.
auth_failure_delay = 0

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {users}
}}

mail_location = maildir:~/Maildir
first_valid_uid = {first_valid_uid}
namespace inbox {{
  inbox = yes
}}

# New-mail notifications during IDLE: poll every second when inotify does not fire
# and send the "still here" keepalive every second.
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 secs
# Daemon + test helpers open many parallel sessions for one user (default limit: 10).
protocol imap {{
  mail_max_userip_connections = 200
}}

service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
}}
# The mail user is not in the dovecot group; let imap processes report stats.
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
{privileges}
"""


def _ssl_config(tls: tuple[Path, Path] | None) -> str:
    if tls is None:
        return "ssl = no"
    cert, key = tls
    return f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost / 127.0.0.1 (openssl), as (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    cert.chmod(0o644)
    return cert, key


def _privileges_config() -> str:
    if os.geteuid() == 0:
        return "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    # Non-root: every service runs as us, and nothing can chroot.
    return f"""\
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


def _wait_for_next_second() -> None:
    """Dovecot stats a passwd-file at most once per (whole) second: wait for the next one."""
    time.sleep(1.05 - time.time() % 1.0)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    """TERM the dovecot master (it stops its children), then KILL its whole group."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_TIMEOUT)
    # Children share the master's process group (start_new_session); reap stragglers.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_TIMEOUT)


def _stop_all(instances: Iterable[Dovecot] = _running) -> None:
    for instance in list(instances):
        instance.stop()


atexit.register(_stop_all)
