"""The IMAP intake edge (imapclient): IDLE when offered, polling otherwise.

Messages are addressed by UID under UIDVALIDITY, fetched with BODY.PEEK[] (so
fetching never sets \\Seen), journaled, processed, and only then flagged or
moved.  The last UID done is stored per mailbox, so a restart resumes where it
stopped; a message fetched twice is caught by the journal.  One daemon at a
time holds a mailbox, through a lease row in the database.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from maildesk.config import ImapMailbox
from maildesk.service import Outcome, Service
from maildesk.store import Store, leases
from maildesk.supervise import Explained, Heartbeat

log = logging.getLogger("maildesk.imap")
IDLE_CHECK_SECONDS = 1.0  # idle_check() returning sooner with nothing, ...
EOF_CHECKS = 3  # ... this often in a row, means the server closed the connection
BODY_ATTEMPTS = 2  # a message returned without a body is fetched this often
PROCESS_CHUNK = 25  # messages per transaction: fewer commits, yet the sender gets its turn


class LeaseLost(Exception):
    """Another daemon took over this mailbox."""


class ConnectionProblem(Explained):
    """The IMAP connection failed or went silent: the supervisor reconnects."""


def connect(mb: ImapMailbox, timeout: float = 60) -> IMAPClient:
    context = ssl.create_default_context(cafile=mb.ca_file or None)
    if not mb.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    client = IMAPClient(
        mb.host, port=mb.port, ssl=mb.security == "tls", ssl_context=context, timeout=timeout
    )
    if mb.security == "starttls":
        client.starttls(context)
    client.login(mb.username, mb.password)
    return client


def chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class Fetcher:
    def __init__(
        self,
        mb: ImapMailbox,
        service: Service,
        holder: str,
        lease_seconds: float,
        on_processed: Callable[[list[Outcome]], None],
        clock: Callable[[], datetime],
        *,
        timeout: float = 30.0,
        idle_refresh: float = 60.0,
    ) -> None:
        self.mb = mb
        self.timeout = timeout
        self.idle_refresh = idle_refresh
        self.service = service
        self.store: Store = service.store
        self.holder = holder
        self.lease = timedelta(seconds=lease_seconds)
        self.on_processed = on_processed
        self.clock = clock
        self.lease_name = f"imap:{mb.name}"
        self.lease_renewed = 0.0

    # --- the loop ----------------------------------------------------------------------

    def run(self, stop: threading.Event, beat: Heartbeat) -> None:
        """Hold the lease, sync, wait (IDLE or poll) until `stop`.  Errors propagate:
        the supervisor (supervise.py) logs them and calls this again after a backoff."""
        while not stop.is_set():
            if not self._renew_lease():  # another daemon holds the mailbox: healthy
                beat.ok()
                stop.wait(self.lease.total_seconds() / 3)
                continue
            try:
                self._session(stop, beat)
            except LeaseLost:
                log.warning("mailbox %s: lease taken over by another daemon", self.mb.name)
        self._release_lease()

    def _session(self, stop: threading.Event, beat: Heartbeat) -> None:
        try:
            client = connect(self.mb, self.timeout)
        except (IMAPClientError, OSError, ssl.SSLError) as exc:
            raise self._problem(exc) from exc
        try:
            self._serve(client, stop, beat)
        except (IMAPClientError, OSError, ssl.SSLError) as exc:
            raise self._problem(exc) from exc
        finally:
            _logout(client)

    def _problem(self, exc: BaseException) -> ConnectionProblem:
        if isinstance(exc, ConnectionProblem):
            return exc
        cause = f"{type(exc).__name__}: {exc}".strip()
        return ConnectionProblem(f"mailbox {self.mb.name}: connection problem ({cause})")

    def _serve(self, client: IMAPClient, stop: threading.Event, beat: Heartbeat) -> None:
        self._prepare(client)
        idle = self.mb.idle and b"IDLE" in client.capabilities()
        log.info("mailbox %s: connected (%s)", self.mb.name, "IDLE" if idle else "polling")
        while not stop.is_set():
            self.sync(client)
            beat.ok()
            if idle:
                self._idle(client, stop, beat)
            else:
                self._poll_wait(stop, beat)

    def _prepare(self, client: IMAPClient) -> None:
        if self.mb.on_done == "move" and not client.folder_exists(self.mb.move_to):
            client.create_folder(self.mb.move_to)

    def _idle(self, client: IMAPClient, stop: threading.Event, beat: Heartbeat) -> None:
        """IDLE until news, `stop`, or every idle_refresh seconds: then DONE, and the
        next sync (SELECT, SEARCH) proves within the timeout that the server is there."""
        client.idle()
        deadline = time.monotonic() + self.idle_refresh
        quick = 0  # idle_check() back at once with nothing, in a row: EOF
        while not stop.is_set() and time.monotonic() < deadline:
            asked = time.monotonic()
            if client.idle_check(timeout=IDLE_CHECK_SECONDS):
                break
            quick = quick + 1 if time.monotonic() - asked < IDLE_CHECK_SECONDS / 2 else 0
            if quick >= EOF_CHECKS:  # readable, yet never a whole line
                raise ConnectionProblem(
                    f"mailbox {self.mb.name}: the server closed the connection while idling"
                )
            self._keep_lease()
            beat.ok()
        client.idle_done()

    def _poll_wait(self, stop: threading.Event, beat: Heartbeat) -> None:
        deadline = time.monotonic() + self.mb.poll_interval
        while not stop.is_set() and time.monotonic() < deadline:
            stop.wait(min(1.0, max(0.0, deadline - time.monotonic())))
            self._keep_lease()
            beat.ok()

    # --- one pass over the mailbox ------------------------------------------------------

    def sync(self, client: IMAPClient) -> int:
        """Fetch, journal, process and mark every message above the last UID done."""
        info = client.select_folder(self.mb.folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        last_uid = self._last_uid(uidvalidity)
        found = client.search(["UID", f"{last_uid + 1}:*", "NOT", "DELETED"])
        uids = sorted(u for u in found if u > last_uid)
        for batch in chunks(uids, self.mb.batch_size):
            self._keep_lease()
            self._handle_batch(client, uidvalidity, batch)
        return len(uids)

    def _last_uid(self, uidvalidity: int) -> int:
        with self.store.transaction() as tx:
            state = leases.mailbox_state(tx, self.mb.name)
        if state is None:
            return 0
        if state[0] != uidvalidity:
            log.warning(
                "mailbox %s: UIDVALIDITY changed (%s → %s); rescanning, the journal drops "
                "messages already seen",
                self.mb.name, state[0], uidvalidity,
            )  # fmt: skip
            return 0
        return state[1]

    def _handle_batch(self, client: IMAPClient, uidvalidity: int, batch: list[int]) -> None:
        bodies = self._fetch_bodies(client, batch)
        present = [u for u in batch if u in bodies]
        source = f"imap:{self.mb.name}:{uidvalidity}"
        entries = self.service.receive_many([(bodies[u], f"{source}:{u}") for u in present])
        for chunk in chunks([e.id for e in entries], PROCESS_CHUNK):
            self.on_processed(self.service.process_many(chunk))
        self._mark_done(client, present)
        with self.store.transaction() as tx:
            leases.save_mailbox_state(tx, self.mb.name, uidvalidity, batch[-1])

    def _fetch_bodies(self, client: IMAPClient, batch: list[int]) -> dict[int, bytes]:
        """The bodies of `batch`; a message expunged meanwhile is logged as vanished, one
        returned without a body is fetched again, then logged and skipped."""
        bodies = _fetch(client, batch)
        missing = [u for u in batch if u not in bodies]
        for _ in range(BODY_ATTEMPTS - 1):
            if not missing:
                break
            client.noop()  # the server tells of expunges
            there = set(client.search(["UID", ",".join(map(str, missing))]))
            if vanished := [u for u in missing if u not in there]:
                log.warning("mailbox %s: UIDs %s vanished before FETCH", self.mb.name, vanished)
            bodies.update(_fetch(client, [u for u in missing if u in there]))
            missing = [u for u in missing if u in there and u not in bodies]
        if missing:
            log.error(
                "mailbox %s: UIDs %s came without a body %s times; skipped (left on the server)",
                self.mb.name, missing, BODY_ATTEMPTS,
            )  # fmt: skip
        return bodies

    def _mark_done(self, client: IMAPClient, uids: list[int]) -> None:
        if not uids:
            return
        if self.mb.on_done == "seen":
            client.add_flags(uids, [b"\\Seen"], silent=True)
        elif b"MOVE" in client.capabilities():
            client.move(uids, self.mb.move_to)
        else:
            client.copy(uids, self.mb.move_to)
            client.delete_messages(uids, silent=True)
            client.uid_expunge(uids)

    # --- the lease ---------------------------------------------------------------------

    def _renew_lease(self) -> bool:
        with self.store.transaction() as tx:
            held = leases.take_lease(tx, self.lease_name, self.holder, self.clock(), self.lease)
        if held:
            self.lease_renewed = time.monotonic()
        return held

    def _keep_lease(self) -> None:
        if time.monotonic() - self.lease_renewed < self.lease.total_seconds() / 3:
            return
        if not self._renew_lease():
            raise LeaseLost(self.lease_name)

    def _release_lease(self) -> None:
        try:
            with self.store.transaction() as tx:
                leases.release_lease(tx, self.lease_name, self.holder)
        except Exception:  # it expires by itself anyway
            log.warning("mailbox %s: could not release the lease", self.mb.name)


def _fetch(client: IMAPClient, uids: list[int]) -> dict[int, bytes]:
    """BODY[] per UID; none for a message the server returns without one (or NIL, as
    Dovecot does for a message another session expunged)."""
    if not uids:
        return {}
    try:
        fetched = client.fetch(uids, ["BODY.PEEK[]"])
    except IMAPClient.Error as exc:  # NO: some of the messages no longer exist
        if "exist" not in str(exc) and "EXPUNGE" not in str(exc).upper():
            raise
        return {}
    return {
        uid: bytes(data[b"BODY[]"])
        for uid, data in fetched.items()
        if isinstance(data.get(b"BODY[]"), bytes | bytearray)
    }


def _logout(client: IMAPClient) -> None:
    with contextlib.suppress(IMAPClientError, OSError):
        client.logout()
