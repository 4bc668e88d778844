"""The sending edge: claim due outbox rows, hand them to a transport, record the result.

The transports (SMTP, .eml files) are in maildesk.transport, the relay's health in
maildesk.relay.  A failure is retried with exponential backoff; a permanent refusal
(5xx) or `max_attempts` failures mark the row failed, visible in `maildesk outbox list`
until `maildesk outbox retry`.  While the relay is unavailable nothing is claimed: it is
probed once per backoff step, and when it is back the mail it held up goes first.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from maildesk.config import Outbox as OutboxConfig
from maildesk.relay import NoConnection, RelayOutage, RelayUnavailable, backoff
from maildesk.store import ClaimedMail, HandOffTerms, Store, Tx, claims
from maildesk.store import outbox as outbox_rows
from maildesk.transport import FileTransport as FileTransport
from maildesk.transport import PermanentFailure as PermanentFailure
from maildesk.transport import SmtpTransport as SmtpTransport
from maildesk.transport import Transport as Transport
from maildesk.transport import make_transport as make_transport

log = logging.getLogger("maildesk.outbox")


# Sent mail is recorded in the transaction that claims the next batch (one wait for the
# database's write lock per batch, not one per few mails: on SQLite the processor holds
# that lock for a whole chunk of messages), or once this many are unrecorded: a crash
# resends at most these, the same mails with the same Message-ID.
MARK_EVERY = 50
# After the relay refused some of the connections, how long to keep to the ones it took.
LANE_CAP_SECONDS = 600


RELAY_ERROR = "relay unavailable: "  # how last_error starts for mail the relay held up
# ...and how it started before (woken too, so a backlog left by an older run goes first)
RELAY_ERRORS = (RELAY_ERROR, "ConnectionRefusedError:", "ConnectionResetError:",
                "SMTPServerDisconnected:", "SMTPConnectError:", "TimeoutError:")  # fmt: skip


class Sender:
    """Sends due mail.  While the relay is down it is probed once per backoff step and no
    mail is claimed; when a probe succeeds the mail backed off for the relay is due again
    at once (`claims.wake`), so the backlog goes in order of creation."""

    def __init__(
        self,
        store: Store,
        transport: Transport,
        cfg: OutboxConfig,
        holder: str,
        clock: Callable[[], datetime],
        spare: Callable[[], Transport] | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        # more connections to the relay, opened as a batch needs them (cfg.connections)
        self.spare = spare
        self.lanes: list[Transport] = [transport]
        self.pool: ThreadPoolExecutor | None = None
        self.cfg = cfg
        self.holder = holder
        self.clock = clock
        self.relay = RelayOutage(cfg, self._waiting)
        self.wake_due = True  # at start too: mail an earlier run backed off goes first
        self.unmarked: list[ClaimedMail] = []  # sent, not yet recorded (at most MARK_EVERY)
        self.lane_cap = cfg.connections  # fewer for a while when the relay refuses some
        self.idle = False  # the last claim found nothing: the processor may hand mail over
        self.finished = False
        self.handed: deque[ClaimedMail] = deque()  # claimed for it by the processor
        self.cap_until: datetime | None = None

    def flush(self) -> int:
        """Send one batch of due mail; returns how many rows were handled.

        Claims last `hold` (two send timeouts) and are renewed while the batch is
        worked through, so a daemon that dies leaves its rows to the others soon.
        A full batch's sent mail is recorded in the same transaction as the next claim
        (a backlog: it follows at once), a smaller one's at its end; within a batch,
        once MARK_EVERY are unrecorded or the claims are due for renewal.  A crash
        before that commit resends at most MARK_EVERY mails.
        """
        handed = self._take_handed()
        if not self._relay_ready():
            self._give_back(handed)
            self.record_sent()
            return 0
        hold = self._hold()
        if handed:  # claimed for this sender by the processor's transaction
            self._send_batch(handed, hold)
            return len(handed)  # their marks ride on the claim that follows at once
        with self.store.transaction() as tx:
            marked = self._mark(tx, hold)
            batch = claims.claim(
                tx, self.clock(), self.cfg.batch_size, self.holder, hold,
                per_domain=self.cfg.max_per_domain,
            )  # fmt: skip
        self._recorded(marked)
        self.idle = not batch
        self._send_batch(batch, hold)
        if len(batch) < self.cfg.batch_size:  # the queue is drained: no claim follows soon
            self.record_sent()
        return len(batch)

    def hand_off_terms(self) -> HandOffTerms | None:
        """While this sender has nothing to send and the relay is up, the processor may
        claim the mail it queues for this sender in its own transaction (one batch at
        most) and hand it over after the commit (`take`)."""
        if self.idle and not self.finished and not self.relay.down:
            return HandOffTerms(self.holder, self._hold(), self.cfg.batch_size)
        return None

    def take(self, mails: list[ClaimedMail]) -> None:
        """Mail claimed for this sender by another thread's committed transaction; once
        this sender has finished, it is given back at once (it would wait for its claim
        to expire)."""
        self.idle = False
        self.handed.extend(mails)
        if self.finished:
            self._give_back(self._take_handed())

    def finish(self) -> None:
        """At a stop: record what was sent, give back what was handed over unsent."""
        self.finished = True
        try:
            self.record_sent()
        finally:
            self._give_back(self._take_handed())

    def _take_handed(self) -> list[ClaimedMail]:
        taken: list[ClaimedMail] = []
        while self.handed:
            taken.append(self.handed.popleft())
        return taken

    def _hold(self) -> timedelta:
        """How long a claim holds: two send timeouts (renewed while a batch goes)."""
        return timedelta(seconds=self.cfg.timeout * 2 + 5)

    def record_sent(self, *, renew: bool = False) -> None:
        """Record the mail sent but not yet recorded (at a stop, before a pause, or once
        MARK_EVERY are), and renew this sender's claims if asked."""
        if self.unmarked or renew:
            hold = self._hold()
            with self.store.transaction() as tx:
                marked = self._mark(tx, hold, renew=renew)
            self._recorded(marked)

    def _send_batch(self, batch: list[ClaimedMail], hold: timedelta) -> None:
        """Send a batch over the open connections, one mail on each at a time, and record
        what failed.  On an outage, or if this stops for any other reason, the mail not
        yet tried is given back at once (it would wait for its claim to expire)."""
        renew_at = time.monotonic() + hold.total_seconds() / 2
        waiting = deque(batch)
        try:
            while waiting:
                renew = time.monotonic() > renew_at
                if len(self.unmarked) >= MARK_EVERY or renew:
                    self.record_sent(renew=renew)
                    renew_at = time.monotonic() + hold.total_seconds() / 2
                lanes = self._lanes(len(waiting))
                tried = [(waiting.popleft(), lane) for lane in lanes]
                outage = self._apply(tried, self._attempt_all(tried), waiting)
                if outage is not None:
                    self._relay_failed(outage)
                    break
        finally:
            self._give_back(list(waiting))

    def _lanes(self, mails: int) -> list[Transport]:
        """The connections to use for this many mails: more are opened (up to
        `connections`, or fewer for a while after the relay refused some) only when
        there is mail for them."""
        if self.cap_until is not None and self.clock() >= self.cap_until:
            self.lane_cap, self.cap_until = self.cfg.connections, None
        wanted = max(1, min(self.lane_cap, mails) if self.spare else 1)
        while len(self.lanes) < wanted and self.spare is not None:
            self.lanes.append(self.spare())
        return self.lanes[:wanted]

    def _attempt_all(self, tried: list[tuple[ClaimedMail, Transport]]) -> list[Attempt]:
        if len(tried) == 1:
            return [attempt(*tried[0])]
        if self.pool is None:
            self.pool = ThreadPoolExecutor(self.cfg.connections, thread_name_prefix="smtp")
        return list(self.pool.map(attempt, *zip(*tried, strict=True)))

    def _apply(
        self, tried: list[tuple[ClaimedMail, Transport]], results: list[Attempt],
        waiting: deque[ClaimedMail],
    ) -> RelayUnavailable | None:  # fmt: skip
        """Note what was sent (first: nothing below may lose it), then record what was
        refused.  When no connection of the round got through, the relay is down: the
        outage is returned, charged to one mail, and the round's others wait again.
        Otherwise a connection the relay would not open is closed for a while and its
        mail goes again at once, uncharged (`_fewer_lanes`); a connection dropped while
        its mail went costs that mail an attempt."""
        kinds = sort_attempts([mail for mail, _ in tried], results)
        self.unmarked.extend(kinds.sent)
        for mail, (error, retry) in kinds.refused:
            self._record_failure(mail, error, retry=retry)
        if not (kinds.sent or kinds.refused):
            (first, outage), *others = sorted(kinds.not_opened + kinds.dropped, key=by_id)
            self._record_failure(first, f"{RELAY_ERROR}{outage}", retry=True)
            waiting.extendleft(reversed([m for m, _ in others]))
            return outage
        for mail, exc in kinds.dropped:
            self._record_failure(mail, f"{type(exc).__name__}: {exc}", retry=True)
        if kinds.not_opened:
            self._fewer_lanes(tried, results, str(kinds.not_opened[0][1]))
            waiting.extendleft(reversed([m for m, _ in kinds.not_opened]))
        return None

    def _fewer_lanes(
        self, tried: list[tuple[ClaimedMail, Transport]], results: list[Attempt], cause: str
    ) -> None:
        """The relay opened only some connections (e.g. `421 too many connections`):
        keep the ones that work, close the rest, and open no more for LANE_CAP_SECONDS."""
        refused = {id(lane) for (_, lane), r in zip(tried, results, strict=True)
                   if isinstance(r, NoConnection)}  # fmt: skip
        kept = [lane for lane in self.lanes if id(lane) not in refused]
        for lane in self.lanes:
            if id(lane) in refused:
                _close(lane)
        self.lanes = kept
        self.lane_cap = len(kept)
        self.cap_until = self.clock() + timedelta(seconds=LANE_CAP_SECONDS)
        log.warning(
            "outbox: the relay opened %s of %s connection(s) (%s); using %s for %s min",
            len(tried) - len(refused), len(tried), cause, len(kept), LANE_CAP_SECONDS // 60,
        )  # fmt: skip

    def _mark(self, tx: Tx, hold: timedelta, *, renew: bool = False) -> list[ClaimedMail]:
        """Record the unrecorded sent mail in this transaction (and renew the claims);
        they stay unrecorded here until it commits (`_recorded`)."""
        marked = list(self.unmarked)
        now = self.clock()
        if marked:
            claims.mark_sent(tx, [m.id for m in marked], now)
        if marked or renew:
            claims.renew_claims(tx, self.holder, now + hold)
        return marked

    def _recorded(self, marked: list[ClaimedMail]) -> None:
        del self.unmarked[: len(marked)]
        for mail in marked:
            log.info("outbox #%s: sent to %s", mail.id, ", ".join(mail.recipients))

    def _relay_ready(self) -> bool:
        """Whether to claim mail now: the relay is up, or a probe found it back."""
        now = self.clock()
        if self.relay.down:
            if not self.relay.probe_due(now):
                return False
            try:
                self.lanes[0].probe()
            except RelayUnavailable as exc:
                self.relay.failed(now, str(exc))
                return False
            self.relay.ended(now)
            self.wake_due = True
        if self.wake_due:
            self._wake(now)
        return True

    def _wake(self, now: datetime) -> None:
        with self.store.transaction() as tx:
            woken = claims.wake(tx, now, RELAY_ERRORS)
        self.wake_due = False
        if woken:
            log.info("outbox: %s mail(s) held up by the relay are due again", woken)

    def _relay_failed(self, exc: RelayUnavailable) -> None:
        """The relay is down: the mail it failed is retried later (`_apply`), the rest of
        the batch is given back untried (`_give_back`), and nothing more is claimed until
        a probe finds the relay back."""
        self.relay.failed(self.clock(), str(exc))

    def _give_back(self, untried: list[ClaimedMail]) -> None:
        if not untried:
            return
        try:
            with self.store.transaction() as tx:
                claims.release(tx, [m.id for m in untried])
        except Exception:  # the database is away too: the claims expire instead
            log.exception("outbox: could not give back %s untried mail(s)", len(untried))

    def _waiting(self) -> int:
        with self.store.transaction() as tx:
            counts = outbox_rows.counts(tx)
        return counts.get("pending", 0) + counts.get("sending", 0)

    def close(self) -> None:
        """Close every connection to the relay."""
        if self.pool is not None:
            self.pool.shutdown()
        for lane in self.lanes:
            _close(lane)

    def _record_failure(self, mail: ClaimedMail, error: str, retry: bool) -> None:
        attempts = mail.attempts + 1
        retry_at = None
        if retry and attempts < self.cfg.max_attempts:
            retry_at = self.clock() + backoff(self.cfg, attempts)
        with self.store.transaction() as tx:
            claims.mark_failed_attempt(tx, mail.id, error[:2000], retry_at, attempts)
        if not retry_at:
            log.error("outbox #%s: FAILED after %s attempt(s): %s", mail.id, attempts, error)
        elif not error.startswith(RELAY_ERROR):  # the outage has its own log lines
            log.warning(
                "outbox #%s: attempt %s failed (%s); retry at %s",
                mail.id, attempts, error, retry_at.isoformat(),
            )  # fmt: skip


# What sending one mail came to: None (sent), the relay unavailable, or a refusal to
# record: (error, whether to retry).
Attempt = RelayUnavailable | tuple[str, bool] | None


@dataclass
class Round:
    """A round's mail by what came of it."""

    sent: list[ClaimedMail] = field(default_factory=list)
    refused: list[tuple[ClaimedMail, tuple[str, bool]]] = field(default_factory=list)
    dropped: list[tuple[ClaimedMail, RelayUnavailable]] = field(default_factory=list)
    not_opened: list[tuple[ClaimedMail, RelayUnavailable]] = field(default_factory=list)


def by_id(tried: tuple[ClaimedMail, object]) -> int:
    return tried[0].id


def sort_attempts(mails: list[ClaimedMail], results: list[Attempt]) -> Round:
    kinds = Round()
    for mail, result in zip(mails, results, strict=True):
        if result is None:
            kinds.sent.append(mail)
        elif isinstance(result, NoConnection):
            kinds.not_opened.append((mail, result))
        elif isinstance(result, RelayUnavailable):
            kinds.dropped.append((mail, result))
        else:
            kinds.refused.append((mail, result))
    return kinds


def attempt(mail: ClaimedMail, transport: Transport) -> Attempt:
    """Hand one mail to one connection; nothing is recorded here (this may run on a
    connection's own thread)."""
    try:
        transport.send(mail)
    except RelayUnavailable as exc:
        return exc
    except PermanentFailure as exc:
        return (f"permanent: {exc}", False)
    except UnicodeError as exc:  # an address smtplib cannot write for this server
        return (f"permanent: {type(exc).__name__}: {exc}", False)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        return (f"{type(exc).__name__}: {exc}", True)
    except Exception as exc:  # a fault of ours, not the relay's: this mail, retried
        log.exception("outbox #%s: sending raised", mail.id)
        return (f"{type(exc).__name__}: {exc}", True)
    return None


def _close(lane: Transport) -> None:
    try:
        lane.close()
    except Exception:  # one connection that will not close must not keep the others open
        log.exception("outbox: closing a connection to the relay raised")
