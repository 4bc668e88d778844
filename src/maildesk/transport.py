"""The SMTP edge: transports that hand a claimed mail over (SMTP, or .eml files), and
how an SMTP failure is told apart: refused for good (5xx), for now (4xx), or the relay
unavailable (no connection, dropped, 421), which stops sending until it is back."""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import ssl
from pathlib import Path
from typing import Protocol

from maildesk.config import Outbox as OutboxConfig
from maildesk.relay import NoConnection, RelayUnavailable
from maildesk.store import ClaimedMail

log = logging.getLogger("maildesk.outbox")


class PermanentFailure(Exception):
    """The server refused the mail for good (5xx): retrying will not help."""


class Transport(Protocol):
    def probe(self) -> None:
        """Raises RelayUnavailable when no mail could be handed over now."""

    def send(self, mail: ClaimedMail) -> None: ...

    def close(self) -> None: ...


class FileTransport:
    """Writes each mail as an .eml file: the embedded default, no SMTP server needed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def probe(self) -> None:
        pass

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
    """One reused SMTP connection; STARTTLS, implicit TLS or plain; optional login.

    The SSL context is built once, here (loading the CA certificates costs ~40 ms of CPU:
    per connection, an outage with thousands of mails queued kept a core busy).
    """

    def __init__(self, cfg: OutboxConfig) -> None:
        self.cfg = cfg
        self.context = ssl_context(cfg)
        self.conn: smtplib.SMTP | None = None

    def probe(self) -> None:
        """Whether mail could be handed over now: an open connection must still answer
        NOOP, else a new one is opened (and logged in).  RelayUnavailable when that fails."""
        if self.conn is not None and not self._answers():
            self._drop()
        self.connection()

    def _answers(self) -> bool:
        assert self.conn is not None
        try:
            code, _ = self.conn.noop()
        except (smtplib.SMTPException, OSError):
            return False
        return code == 250

    def send(self, mail: ClaimedMail) -> None:
        reused = self.conn is not None
        try:
            self._send(mail)
        except RelayUnavailable:
            if not reused:
                raise
            self._send(mail)  # the relay closed an idle connection: once more, on a new one

    def _send(self, mail: ClaimedMail) -> None:
        conn = self.connection()
        try:
            refused = conn.sendmail(mail.mail_from, list(mail.recipients), mail.raw,
                                    mail_options=_utf8_options(conn, mail))  # fmt: skip
        except smtplib.SMTPRecipientsRefused as exc:
            raise _classify(exc.recipients) from exc
        except smtplib.SMTPResponseException as exc:
            self._drop()
            raise _refusal(exc) from exc
        except (smtplib.SMTPServerDisconnected, TimeoutError) as exc:
            self._drop()
            raise RelayUnavailable(_cause(exc)) from exc
        except smtplib.SMTPException:
            self._drop()
            raise
        except OSError as exc:
            self._drop()
            raise RelayUnavailable(_cause(exc)) from exc
        if refused:
            log.warning("outbox #%s: some recipients refused: %s", mail.id, refused)

    def connection(self) -> smtplib.SMTP:
        if self.conn is None:
            try:
                self.conn = self._open()
            except OSError as exc:  # smtplib.SMTPException is an OSError
                raise NoConnection(_cause(exc)) from exc
        return self.conn

    def _open(self) -> smtplib.SMTP:
        cfg = self.cfg
        conn: smtplib.SMTP
        if cfg.security == "tls":
            conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=self.context)
        else:
            conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            if cfg.security == "starttls":
                conn.starttls(context=self.context)
            if cfg.username:
                conn.login(cfg.username, cfg.password)
        except BaseException:
            conn.close()
            raise
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


def ssl_context(cfg: OutboxConfig) -> ssl.SSLContext | None:
    """The context for `tls` and `starttls`; none for `plain`."""
    if cfg.security == "plain":
        return None
    context = ssl.create_default_context()
    if not cfg.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _utf8_options(conn: smtplib.SMTP, mail: ClaimedMail) -> list[str]:
    """SMTPUTF8 for an internationalized address (用户@例子.中国) when the server takes
    it; without it smtplib cannot write the address and the mail is refused for good."""
    if mail.mail_from.isascii() and all(r.isascii() for r in mail.recipients):
        return []
    conn.ehlo_or_helo_if_needed()
    return ["SMTPUTF8"] if conn.has_extn("smtputf8") else []


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _refusal(exc: smtplib.SMTPResponseException) -> Exception:
    """5xx: refused for good; 421: the relay is closing; any other 4xx: this mail, later."""
    if 500 <= exc.smtp_code < 600:
        return PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}")
    if exc.smtp_code == 421:
        return RelayUnavailable(f"{exc.smtp_code} {exc.smtp_error!r}")
    return exc


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
