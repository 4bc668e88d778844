"""`maildesk run`: intake (IMAP fetchers, SMTP listener), the journal processor and
the outbox sender in one process, each on its own thread, stopped cleanly by
SIGTERM/SIGINT once the message in hand is finished.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from aiosmtpd.controller import Controller

from maildesk.config import Config
from maildesk.mailbox import Fetcher
from maildesk.outbox import Sender, Transport
from maildesk.service import Outcome, Service, utcnow
from maildesk.store import JournalEntry

log = logging.getLogger("maildesk.daemon")
SWEEP_SECONDS = 5.0
ERROR_BACKOFF_SECONDS = 2.0


def holder_name(cfg: Config) -> str:
    """This daemon's name in leases and outbox claims: node name plus pid."""
    return f"{cfg.node_name or socket.gethostname()}:{os.getpid()}"


class Daemon:
    def __init__(
        self,
        cfg: Config,
        service: Service,
        transport: Transport,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.cfg = cfg
        self.service = service
        self.store = service.store
        self.clock = clock
        self.holder = holder_name(cfg)
        self.stop = threading.Event()
        self.inbox_ready = threading.Event()
        self.outbox_ready = threading.Event()
        self.sender = Sender(self.store, transport, cfg.outbox, self.holder, clock)
        self.transport = transport

    # --- wiring ------------------------------------------------------------------------

    def run(self) -> int:
        self._install_signals()
        self._release_own_claims()
        listener = self._start_listener()
        threads = [self._thread("processor", self._processor_loop)]
        threads.append(self._thread("sender", self._sender_loop))
        for mb in self.cfg.imap:
            fetcher = Fetcher(
                mb, self.service, self.holder, self.cfg.lease_seconds, self._processed, self.clock
            )
            threads.append(
                self._thread(f"imap-{mb.name}", functools.partial(fetcher.run, self.stop))
            )
        log.info("maildesk running as %s; stop with SIGTERM or Ctrl-C", self.holder)
        self.stop.wait()
        log.info("stopping: finishing the message in hand")
        if listener is not None:
            listener.stop()
        for thread in threads:
            thread.join(timeout=60)
        self.transport.close()
        log.info("stopped")
        return 0

    def _thread(self, name: str, target: Callable[[], None]) -> threading.Thread:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        return thread

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        self.stop.set()
        self.inbox_ready.set()
        self.outbox_ready.set()

    def _start_listener(self) -> Controller | None:
        if not self.cfg.smtp_intake.enabled:
            return None
        from maildesk.intake import start_listener

        return start_listener(self.service, self.cfg.smtp_intake, self._stored)

    def _release_own_claims(self) -> None:
        node = self.holder.rsplit(":", 1)[0]
        with self.store.transaction() as tx:
            released = tx.release_stale_claims(f"{node}:", self.clock())
        if released:
            log.info("outbox: %s mail(s) claimed before a restart are queued again", released)

    # --- events between threads --------------------------------------------------------

    def _stored(self, _entry: JournalEntry) -> None:
        self.inbox_ready.set()

    def _processed(self, outcomes: list[Outcome]) -> None:
        if any(o.kind == "created" for o in outcomes):
            self.outbox_ready.set()

    # --- loops -------------------------------------------------------------------------

    def _processor_loop(self) -> None:
        """Process whatever the journal holds: SMTP intake, and leftovers from a crash."""
        while not self.stop.is_set():
            try:
                handled = self.process_journal()
            except Exception:
                log.exception("journal processing failed; retrying")
                self.stop.wait(ERROR_BACKOFF_SECONDS)
                continue
            if not handled:
                self.inbox_ready.wait(SWEEP_SECONDS)
                self.inbox_ready.clear()

    def process_journal(self) -> int:
        with self.store.transaction() as tx:
            ids = tx.pending_ids(100)
        outcomes = []
        for inbound_id in ids:
            if self.stop.is_set():
                break
            outcomes.append(self.service.process(inbound_id))
        self._processed(outcomes)
        return len(outcomes)

    def _sender_loop(self) -> None:
        while not self.stop.is_set():
            try:
                sent = self.sender.flush()
            except Exception:
                log.exception("outbox sending failed; retrying")
                self.stop.wait(ERROR_BACKOFF_SECONDS)
                continue
            if not sent:
                self.outbox_ready.wait(self.cfg.outbox.poll_interval)
                self.outbox_ready.clear()

    def run_once(self) -> None:
        """Process the journal, sync every mailbox once, send everything due (for tests)."""
        from maildesk.mailbox import connect

        while self.process_journal():
            pass
        for mb in self.cfg.imap:
            fetcher = Fetcher(
                mb, self.service, self.holder, self.cfg.lease_seconds, self._processed, self.clock
            )
            client = connect(mb)
            try:
                fetcher.sync(client)
            finally:
                client.logout()
        while self.sender.flush():
            pass
