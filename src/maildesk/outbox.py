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
from collections.abc import Callable
from datetime import datetime, timedelta

from maildesk.config import Outbox as OutboxConfig
from maildesk.relay import RelayOutage, RelayUnavailable, backoff
from maildesk.store import ClaimedMail, Store, claims
from maildesk.store import outbox as outbox_rows
from maildesk.transport import FileTransport as FileTransport
from maildesk.transport import PermanentFailure as PermanentFailure
from maildesk.transport import SmtpTransport as SmtpTransport
from maildesk.transport import Transport as Transport
from maildesk.transport import make_transport as make_transport

log = logging.getLogger("maildesk.outbox")


MARK_EVERY = 10  # sent mails recorded per commit at most...
MARK_WINDOW_SECONDS = 0.05  # ...and never later than this after the first of them


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
    ) -> None:
        self.store = store
        self.transport = transport
        self.cfg = cfg
        self.holder = holder
        self.clock = clock
        self.relay = RelayOutage(cfg, self._waiting)
        self.wake_due = True  # at start too: mail an earlier run backed off goes first

    def flush(self) -> int:
        """Send one batch of due mail; returns how many rows were handled.

        Claims last `hold` (two send timeouts) and are renewed while the batch is
        worked through, so a daemon that dies leaves its rows to the others soon.
        Sent mail is recorded at most MARK_EVERY at a time and within 50 ms: a crash
        before that commit resends at most those mails (same ones, same Message-ID).
        """
        if not self._relay_ready():
            return 0
        hold = timedelta(seconds=self.cfg.timeout * 2 + 5)
        with self.store.transaction() as tx:
            batch = claims.claim(
                tx, self.clock(), self.cfg.batch_size, self.holder, hold,
                per_domain=self.cfg.max_per_domain,
            )  # fmt: skip
        self._send_batch(batch, hold)
        return len(batch)

    def _send_batch(self, batch: list[ClaimedMail], hold: timedelta) -> None:
        sent: list[ClaimedMail] = []
        renew_at = time.monotonic() + hold.total_seconds() / 2
        first_unmarked = 0.0
        for n, mail in enumerate(batch):
            try:
                if self._send_one(mail):
                    first_unmarked = first_unmarked or time.monotonic()
                    sent.append(mail)
            except RelayUnavailable as exc:
                self._relay_failed(mail, exc, batch[n + 1 :])
                break
            overdue = bool(sent) and time.monotonic() - first_unmarked > MARK_WINDOW_SECONDS
            if len(sent) >= MARK_EVERY or overdue or time.monotonic() > renew_at:
                first_unmarked = 0.0
                self._record_sent(sent, hold)
                sent = []
                renew_at = time.monotonic() + hold.total_seconds() / 2
        if sent:
            self._record_sent(sent, hold)

    def _relay_ready(self) -> bool:
        """Whether to claim mail now: the relay is up, or a probe found it back."""
        now = self.clock()
        if self.relay.down:
            if not self.relay.probe_due(now):
                return False
            try:
                self.transport.probe()
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

    def _relay_failed(
        self, mail: ClaimedMail, exc: RelayUnavailable, untried: list[ClaimedMail]
    ) -> None:
        """The relay is down: this mail is retried later, the rest of the batch is given
        back untried, and nothing more is claimed until a probe finds the relay back."""
        self._record_failure(mail, f"{RELAY_ERROR}{exc}", retry=True)
        with self.store.transaction() as tx:
            claims.release(tx, [m.id for m in untried])
        self.relay.failed(self.clock(), str(exc))

    def _waiting(self) -> int:
        with self.store.transaction() as tx:
            counts = outbox_rows.counts(tx)
        return counts.get("pending", 0) + counts.get("sending", 0)

    def _send_one(self, mail: ClaimedMail) -> bool:
        """Hand one mail to the transport: True once sent; a refusal is recorded (False);
        RelayUnavailable is left to the caller."""
        try:
            self.transport.send(mail)
        except RelayUnavailable:
            raise
        except PermanentFailure as exc:
            self._record_failure(mail, f"permanent: {exc}", retry=False)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._record_failure(mail, f"{type(exc).__name__}: {exc}", retry=True)
        else:
            return True
        return False

    def _record_sent(self, sent: list[ClaimedMail], hold: timedelta) -> None:
        now = self.clock()
        with self.store.transaction() as tx:
            claims.mark_sent(tx, [m.id for m in sent], now)
            claims.renew_claims(tx, self.holder, now + hold)
        for mail in sent:
            log.info("outbox #%s: sent to %s", mail.id, ", ".join(mail.recipients))

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
