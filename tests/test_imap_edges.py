"""IMAP edge cases against a real Dovecot: TLS and STARTTLS with certificate checks,
reconnecting after the server drops the connection."""

from __future__ import annotations

import logging
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from maildesk.config import ImapMailbox
from maildesk.mailbox import connect

from .conftest import ConfigFactory, SmtpSink, require, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot, dovecot_available, make_certificate
from .test_daemon import running


@pytest.fixture(scope="module")
def tls_dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dovecot, Path]]:
    require(dovecot_available())
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"))
    with Dovecot(users={"support": "secret"}, tls=(cert, key)) as server:
        yield server, cert


def mailbox(port: int, security: str, **changes: object) -> ImapMailbox:
    base = ImapMailbox(
        name="support", host="127.0.0.1", port=port, security=security, username="support",
        password="secret", folder="INBOX", on_done="seen", move_to="", idle=True,
        poll_interval=1, verify_certificate=True, ca_file="", batch_size=100,
    )  # fmt: skip
    return replace(base, **changes)


def test_implicit_tls_verifies_the_certificate(tls_dovecot: tuple[Dovecot, Path]) -> None:
    server, cert = tls_dovecot
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(mailbox(server.tls_port, "tls"), timeout=10)
    client = connect(mailbox(server.tls_port, "tls", ca_file=str(cert)), timeout=10)
    assert client.select_folder("INBOX")[b"UIDVALIDITY"]
    client.logout()
    unchecked = connect(mailbox(server.tls_port, "tls", verify_certificate=False), timeout=10)
    unchecked.logout()


def test_starttls_verifies_the_certificate(tls_dovecot: tuple[Dovecot, Path]) -> None:
    server, cert = tls_dovecot
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(mailbox(server.port, "starttls"), timeout=10)
    client = connect(mailbox(server.port, "starttls", ca_file=str(cert)), timeout=10)
    assert client.select_folder("INBOX")[b"UIDVALIDITY"]
    client.logout()


def test_daemon_reconnects_after_the_server_drops_it(
    make_sqlite_config: ConfigFactory,
    dovecot: Dovecot,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = make_sqlite_config(
        transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port}
    )
    dovecot.append("support", make_mail(1))
    caplog.set_level(logging.INFO, logger="maildesk")
    with running(cfg):
        smtp_sink.wait_for(1)
        kick = subprocess.run(
            ["doveadm", "-c", str(dovecot.log_path.parent / "dovecot.conf"), "kick", "support"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert kick.returncode == 0, kick.stderr
        dovecot.append("support", make_mail(2))
        smtp_sink.wait_for(2, timeout=30)
    wait_until(lambda: dovecot.count("support", criteria="UNSEEN") == 0, what="all seen")
    assert "connection problem" in caplog.text and "retrying in" in caplog.text
    assert caplog.text.count("connected (IDLE)") == 2
