"""The sending edge: claim due outbox rows, hand them to a transport, record the result.

This is the only module that talks SMTP outward.  A failure is retried with
exponential backoff; a permanent refusal (5xx) or `max_attempts` failures mark
the row failed, visible in `maildesk outbox list` until `maildesk outbox retry`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from maildesk.config import Outbox as OutboxConfig
from maildesk.store import ClaimedMail, Store, claims

log = logging.getLogger("maildesk.outbox")


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying will not help."""


class Transport(Protocol):
    def send(self, mail: ClaimedMail) -> None: ...

    def close(self) -> None: ...


class FileTransport:
    """Writes each mail as an .eml file: the embedded default, no SMTP server needed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, mail: ClaimedMail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{mail.id:08d}.eml"
        partial = self.folder / f".{mail.id:08d}.eml.tmp"
        with partial.open("wb") as handle:
            handle.write(mail.raw)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(final)

    def close(self) -> None:
        pass


class SmtpTransport:
    """One reused SMTP connection; STARTTLS, implicit TLS or plain; optional login."""

    def __init__(self, cfg: OutboxConfig) -> None:
        self.cfg = cfg
        self.conn: smtplib.SMTP | None = None

    def send(self, mail: ClaimedMail) -> None:
        conn = self.connection()
        try:
            refused = conn.sendmail(mail.mail_from, list(mail.recipients), mail.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _classify(exc.recipients) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        except (smtplib.SMTPException, OSError):
            self._drop()
            raise
        if refused:
            log.warning("outbox #%s: some recipients refused: %s", mail.id, refused)

    def connection(self) -> smtplib.SMTP:
        if self.conn is not None:
            return self.conn
        cfg = self.cfg
        context = ssl.create_default_context()
        if not cfg.verify_certificate:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn: smtplib.SMTP
        if cfg.security == "tls":
            conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
        else:
            conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.security == "starttls":
                conn.starttls(context=context)
        if cfg.username:
            conn.login(cfg.username, cfg.password)
        self.conn = conn
        return conn

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.conn.quit()
            self._drop()


def _classify(recipients: dict[str, tuple[int, bytes]]) -> Exception:
    codes = [code for code, _ in recipients.values()]
    text = "; ".join(f"{rcpt}: {code} {msg!r}" for rcpt, (code, msg) in recipients.items())
    if all(500 <= c < 600 for c in codes):
        return PermanentFailure(f"all recipients refused: {text}")
    return smtplib.SMTPException(f"recipients refused for now: {text}")


def make_transport(cfg: OutboxConfig) -> Transport:
    if cfg.transport == "file":
        return FileTransport(cfg.folder)
    return SmtpTransport(cfg)


MARK_EVERY = 10  # sent mails recorded per commit at most...
MARK_WINDOW_SECONDS = 0.05  # ...and never later than this after the first of them


def backoff(cfg: OutboxConfig, attempts: int) -> timedelta:
    seconds = cfg.backoff_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, cfg.backoff_max_seconds))


class Sender:
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

    def flush(self) -> int:
        """Send one batch of due mail; returns how many rows were handled.

        Claims last `hold` (two send timeouts) and are renewed while the batch is
        worked through, so a daemon that dies leaves its rows to the others soon.
        Sent mail is recorded at most MARK_EVERY at a time and within 50 ms: a crash
        before that commit resends at most those mails (same ones, same Message-ID).
        """
        hold = timedelta(seconds=self.cfg.timeout * 2 + 5)
        with self.store.transaction() as tx:
            batch = claims.claim(
                tx, self.clock(), self.cfg.batch_size, self.holder, hold,
                per_domain=self.cfg.max_per_domain,
            )  # fmt: skip
        sent: list[ClaimedMail] = []
        renew_at = time.monotonic() + hold.total_seconds() / 2
        first_unmarked = 0.0
        for mail in batch:
            if self._send_one(mail):
                first_unmarked = first_unmarked or time.monotonic()
                sent.append(mail)
            overdue = bool(sent) and time.monotonic() - first_unmarked > MARK_WINDOW_SECONDS
            if len(sent) >= MARK_EVERY or overdue or time.monotonic() > renew_at:
                first_unmarked = 0.0
                self._record_sent(sent, hold)
                sent = []
                renew_at = time.monotonic() + hold.total_seconds() / 2
        if sent:
            self._record_sent(sent, hold)
        return len(batch)

    def _send_one(self, mail: ClaimedMail) -> bool:
        try:
            self.transport.send(mail)
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
        if retry_at:
            log.warning(
                "outbox #%s: attempt %s failed (%s); retry at %s",
                mail.id,
                attempts,
                error,
                retry_at.isoformat(),
            )
        else:
            log.error("outbox #%s: FAILED after %s attempt(s): %s", mail.id, attempts, error)
