"""`maildesk run`: intake (IMAP fetchers, SMTP listener), the journal processor and
the outbox sender in one process, each on its own thread, stopped cleanly by
SIGTERM/SIGINT once the message in hand is finished.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

import schedule
from aiosmtpd.controller import Controller

from maildesk.config import Config
from maildesk.digest import usecases as digests
from maildesk.digest.model import Figures
from maildesk.domain import Address, OutgoingMail
from maildesk.held import tick
from maildesk.mailbox import PROCESS_CHUNK, Fetcher, chunks
from maildesk.outbox import Sender, SmtpTransport, Transport
from maildesk.render import Renderer
from maildesk.service import Outcome, Service
from maildesk.sla.usecases import business_hours
from maildesk.store import ClaimedMail, HandOffTerms, JournalEntry, claims, journal
from maildesk.store import timers as timer_rows
from maildesk.supervise import Heartbeat, Policy, supervise
from maildesk.timers import tick as timer_tick
from maildesk.timers.model import WorkingTime

log = logging.getLogger("maildesk.daemon")
SWEEP_SECONDS = 5.0
STALE_SECONDS = 30.0  # a pending entry this old was not left to the thread that stored it
SUMMARY_SECONDS = 15  # how often held mail is checked for summaries that are due
TIMER_SECONDS = 60  # how often due timers are claimed (and once at start)
DIGEST_SECONDS = 60  # how often due digests are looked for (and once at start)
BEAT_SECONDS = 15  # a loop that waits longer says it is alive this often
LISTENER_CHECK_SECONDS = 2.0  # how often the SMTP/LMTP listener is checked
# How long a thread keeps the GIL while others wait (CPython's default is 5 ms).  The
# processor is CPU-bound; the sender and the fetcher wait on sockets, and after each SMTP
# or IMAP answer a thread waited up to the whole interval to run again: four waits per
# mail sent.  At 1 ms the sender kept up twice as fast beside a busy processor, and the
# processor lost nothing measurable (README "Performance").
GIL_SWITCH_SECONDS = 0.001


def holder_name(cfg: Config) -> str:
    """This daemon's name in leases and outbox claims: node name plus pid."""
    return f"{cfg.node_name or socket.gethostname()}:{os.getpid()}"


def listening(controller: Controller | None) -> bool:
    """Is the intake's event loop running and its server accepting connections?"""
    if controller is None:
        return False
    server = getattr(controller, "server", None)
    return bool(controller.loop.is_running() and server is not None and server.is_serving())


def more_connections(transport: Transport) -> Callable[[], Transport] | None:
    """How the sender opens more connections like this one (SMTP only)."""
    if isinstance(transport, SmtpTransport):
        return functools.partial(SmtpTransport, transport.cfg)
    return None


class ToSender:
    """The processor's mail handed straight to an idle sender (service.HandOff)."""

    def __init__(self, sender: Sender, ready: threading.Event) -> None:
        self.sender = sender
        self.ready = ready

    def terms(self) -> HandOffTerms | None:
        return self.sender.hand_off_terms()

    def take(self, mails: list[ClaimedMail]) -> None:
        self.sender.take(mails)
        self.ready.set()


def shipped_digest_edges() -> digests.Edges:
    from maildesk.digest import collect

    return digests.Edges(collect.figures, _digest_mail)


def _digest_mail(renderer: Renderer, figures: Figures, to: Address, now: datetime) -> OutgoingMail:
    """digest/render, imported when the first digest is written: its Pillow and
    css-inline (5.4 MB resident) stay out of a daemon that has written none."""
    from maildesk.digest import render

    return render.digest_mail(renderer, figures, to, now)


M_ARENA_MAX = -8  # glibc's mallopt parameter


def fewer_malloc_arenas(count: int = 2) -> bool:
    """Limit glibc's malloc to `count` arenas for this process (`maildesk run` does, at
    start).  By default each thread that allocates may get an arena of its own (up to 8
    per core), and what one frees is not reused by another; the daemon runs a dozen
    threads: 2.7 MB less at peak (benchmarks/ingest, N = 2,000), no slower.  False where
    the C library is not glibc."""
    import ctypes

    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, count))
    except (OSError, AttributeError):
        return False


class Daemon:
    def __init__(
        self,
        cfg: Config,
        service: Service,
        transport: Transport,
        clock: Callable[[], datetime] | None = None,
        working_time: WorkingTime | None = None,
        digest_edges: digests.Edges | None = None,  # None: the shipped ones
    ) -> None:
        self.cfg = cfg
        # the figures and the mail of a digest: by default digest/collect, digest/render
        self.digest_edges = digest_edges or shipped_digest_edges()
        # the next working instant: by default the business calendar, read at each tick
        self.working_time = working_time
        self.service = service
        self.store = service.store
        self.clock = clock or service.clock  # one time source for the whole daemon
        self.holder = holder_name(cfg)
        self.node = self.holder.rsplit(":", 1)[0]
        self.exit_code = 0
        self.stop = threading.Event()
        self.inbox_ready = threading.Event()
        self.outbox_ready = threading.Event()
        self.intake_queue: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.sender = Sender(self.store, transport, cfg.outbox, self.holder, self.clock,
                             spare=more_connections(transport))  # fmt: skip
        self.listener: Controller | None = None
        service.hand_off = ToSender(self.sender, self.outbox_ready)

    # --- wiring ------------------------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT (0), or until a loop stays unhealthy (1)."""
        self._install_signals()
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        try:
            return self._run()
        finally:
            sys.setswitchinterval(switch_interval)  # a daemon run inside tests leaves none

    def _run(self) -> int:
        self._release_own_claims()
        business_hours(self.store, self.cfg, self.clock())  # seeds the calendar first
        self.listener = self._start_listener()
        threads = [self._supervised(name, body) for name, body in self._loops()]
        log.info("maildesk running as %s; stop with SIGTERM or Ctrl-C", self.holder)
        self.stop.wait()
        log.info("stopping: finishing the message in hand")
        if self.listener is not None:
            self.listener.stop()
        for thread in threads:
            thread.join(timeout=60)
        self.sender.close()
        log.info("stopped" if not self.exit_code else "stopped: a loop was unhealthy")
        return self.exit_code

    def _loops(self) -> list[tuple[str, Callable[[Heartbeat], None]]]:
        loops: list[tuple[str, Callable[[Heartbeat], None]]] = [
            ("processor", self._processor_loop),
            ("sender", self._sender_loop),
            ("summaries", self._summaries_loop),
            ("timers", self._timers_loop),
        ]
        loops.append(("digests", self._digests_loop))
        if self.cfg.smtp_intake.enabled:
            loops.append(("listener", self._listener_loop))
        sv = self.cfg.supervision
        for mb in self.cfg.imap:
            fetcher = Fetcher(
                mb, self.service, self.holder, self.cfg.lease_seconds, self._processed,
                self.clock, timeout=sv.imap_timeout_seconds, idle_refresh=sv.idle_refresh_seconds,
            )  # fmt: skip
            loops.append((f"imap-{mb.name}", functools.partial(fetcher.run, self.stop)))
        return loops

    def _supervised(self, name: str, body: Callable[[Heartbeat], None]) -> threading.Thread:
        sv = self.cfg.supervision
        policy = Policy(
            max_backoff=sv.restart_backoff_max_seconds,
            unhealthy_exit_seconds=sv.unhealthy_exit_seconds,
        )
        beat = Heartbeat(self.store, name, self.node, self.clock)
        run = functools.partial(supervise, name, body, self.stop, beat, policy, self._unhealthy)
        return self._thread(name, run)

    def _unhealthy(self, name: str) -> None:
        log.error("loop %s cannot recover: stopping, for the service manager to restart", name)
        self.exit_code = 1
        self._wake_all()

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
        self._wake_all()

    def _wake_all(self) -> None:
        self.stop.set()
        self.inbox_ready.set()
        self.outbox_ready.set()

    def _listener_loop(self, beat: Heartbeat) -> None:
        """The SMTP/LMTP intake, watched: a listener that stopped serving is started
        again (a port still taken raises, and the supervisor backs off)."""
        while not self.stop.is_set():
            if not listening(self.listener):
                log.warning("smtp intake: the listener stopped serving; starting it again")
                self._replace_listener()
            beat.ok()
            self.stop.wait(LISTENER_CHECK_SECONDS)

    def _replace_listener(self) -> None:
        old, self.listener = self.listener, None
        if old is not None:
            with contextlib.suppress(Exception):  # it is already broken: stop what is left
                old.stop()
        self.listener = self._start_listener()

    def _start_listener(self) -> Controller | None:
        if not self.cfg.smtp_intake.enabled:
            return None
        from maildesk.intake import start_listener

        return start_listener(self.service, self.cfg.smtp_intake, self._stored)

    def _release_own_claims(self) -> None:
        node = self.holder.rsplit(":", 1)[0]
        with self.store.transaction() as tx:
            released = claims.release_stale_claims(tx, f"{node}:", self.clock())
        if released:
            log.info("outbox: %s mail(s) claimed before a restart are queued again (one sent "
                     "but not yet recorded goes again, same Message-ID)", released)  # fmt: skip
        with self.store.transaction() as tx:
            released = timer_rows.release_own(tx, f"{node}:")
        if released:
            log.info("timers: %s timer(s) claimed before a restart are due again", released)

    # --- events between threads --------------------------------------------------------

    def _stored(self, entry: JournalEntry) -> None:
        self.intake_queue.put(entry.id)
        self.inbox_ready.set()

    def _processed(self, outcomes: list[Outcome]) -> None:
        if any(o.kind == "created" for o in outcomes):
            self.outbox_ready.set()

    # --- loops -------------------------------------------------------------------------

    def _processor_loop(self, beat: Heartbeat) -> None:
        """Process what the SMTP intake stored, and every so often whatever the journal
        still holds from before (a crash, a database outage): at start, all of it."""
        stale_after = timedelta(0)
        next_sweep = 0.0
        while not self.stop.is_set():
            handled = self._process_ids(self._drain_intake())
            if time.monotonic() >= next_sweep:
                handled += self.process_journal(self.clock() - stale_after)
                stale_after = timedelta(seconds=STALE_SECONDS)
                next_sweep = time.monotonic() + SWEEP_SECONDS
            beat.ok()
            if not handled:
                self.inbox_ready.wait(SWEEP_SECONDS)
                self.inbox_ready.clear()

    def _drain_intake(self) -> list[int]:
        ids: list[int] = []
        while not self.intake_queue.empty() and len(ids) < 500:
            ids.append(self.intake_queue.get_nowait())
        return ids

    def process_journal(self, received_before: datetime | None = None) -> int:
        """Process pending journal entries (those received before a time, if given)."""
        with self.store.transaction() as tx:
            ids = journal.pending_ids(tx, 500, received_before)
        return self._process_ids(ids)

    def _process_ids(self, ids: list[int]) -> int:
        handled = 0
        for chunk in chunks(ids, PROCESS_CHUNK):
            if self.stop.is_set():
                break
            outcomes = self.service.process_many(chunk)
            self._processed(outcomes)
            handled += len(outcomes)
        return handled

    def _sender_loop(self, beat: Heartbeat) -> None:
        try:
            while not self.stop.is_set():
                sent = self.sender.flush()
                beat.ok()
                if not sent:
                    self.outbox_ready.wait(self.cfg.outbox.poll_interval)
                    self.outbox_ready.clear()
        finally:
            self.sender.finish()  # what this batch sent, before the claims are let go

    def _summaries_loop(self, beat: Heartbeat) -> None:
        """Held mail (floods, bursts, loops) becomes its summaries when they are due."""
        beat.ok()
        while not self.stop.wait(SUMMARY_SECONDS):
            self.summarise()
            beat.ok()

    def summarise(self) -> int:
        queued = tick.run(self.store, self.service.renderer, self.clock())
        if queued:
            log.info("held mail: %s summary mail(s) queued", queued)
            self.outbox_ready.set()
        return queued

    def _timers_loop(self, beat: Heartbeat) -> None:
        """Due timers, once at start (catching up on any missed while down: one run
        per timer, not one per missed tick) and then once a minute (`schedule`)."""
        jobs = schedule.Scheduler()
        jobs.every(TIMER_SECONDS).seconds.do(self.run_timers)
        self.run_timers()
        beat.ok()
        while not self.stop.wait(min(max(jobs.idle_seconds or 0.0, 0.0), BEAT_SECONDS)):
            jobs.run_pending()
            beat.ok()

    def run_timers(self) -> int:
        """One tick: claim the due timers and apply them; returns the mails queued."""
        now = self.clock()
        working = self.working_time or business_hours(self.store, self.cfg, now)
        report = timer_tick.run(self.store, self.service.renderer, now, self.holder,
                                working_time=working)  # fmt: skip
        if report.mails:
            self.outbox_ready.set()
        return report.mails

    def _digests_loop(self, beat: Heartbeat) -> None:
        """Due digests, once at start (catching up on the latest missed period of each
        kind, once) and then once a minute."""
        jobs = schedule.Scheduler()
        jobs.every(DIGEST_SECONDS).seconds.do(self.send_digests)
        self.send_digests()
        beat.ok()
        while not self.stop.wait(min(max(jobs.idle_seconds or 0.0, 0.0), BEAT_SECONDS)):
            jobs.run_pending()
            beat.ok()

    def send_digests(self) -> int:
        """One tick: queue the digests that are due; returns the mails queued."""
        edges = self.digest_edges
        report = digests.send_due(self.store, self.cfg, self.service.renderer, self.clock(),
                                  figures=edges.figures, write_mail=edges.write_mail)  # fmt: skip
        if report.mails:
            self.outbox_ready.set()
        return report.mails

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
        self.summarise()
        self.run_timers()
        self.send_digests()
        while self.sender.flush():
            pass
