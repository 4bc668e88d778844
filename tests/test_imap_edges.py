"""IMAP edge cases against a real Dovecot: TLS and STARTTLS with certificate checks,
reconnecting after the server drops the connection, a message expunged between
SEARCH and FETCH, a message returned without a body."""

from __future__ import annotations

import logging
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from imapclient import IMAPClient

from maildesk.config import ImapMailbox
from maildesk.mailbox import Fetcher, connect
from maildesk.store import leases, tickets

from .conftest import ConfigFactory, SmtpSink, build_service, require, wait_until
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


def test_a_message_expunged_between_search_and_fetch_is_skipped_as_vanished(
    make_sqlite_config: ConfigFactory, dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = make_sqlite_config(imap={"port": dovecot.port})
    service = build_service(cfg)
    uids = [dovecot.append("support", make_mail(n)) for n in (1, 2)]
    fetcher = Fetcher(cfg.imap[0], service, "t:1", 30, lambda _: None, service.clock)
    caplog.set_level(logging.INFO, logger="maildesk")
    client = connect(cfg.imap[0])
    try:
        uidvalidity = int(client.select_folder("INBOX")[b"UIDVALIDITY"])
        assert client.search(["NOT", "DELETED"]) == uids  # SEARCH done...
        with dovecot.client("support") as other:  # ...another client expunges one...
            other.select_folder("INBOX")
            other.delete_messages([uids[0]])
            other.expunge()
        fetcher._handle_batch(client, uidvalidity, [u for u in uids if u])  # ...then FETCH
        assert client.noop()  # the same connection, still usable
    finally:
        client.logout()
    assert f"UIDs [{uids[0]}] vanished before FETCH" in caplog.text
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 1
        assert leases.mailbox_state(tx, "support") == (uidvalidity, uids[1])


class Bodiless:
    """A client whose first `times` FETCHes come back without BODY[]."""

    def __init__(self, client: IMAPClient, times: int) -> None:
        self.client = client
        self.times = times

    def fetch(self, uids: list[int], parts: list[str]) -> dict[int, dict[bytes, Any]]:
        if self.times:
            self.times -= 1
            return {u: {b"FLAGS": ()} for u in uids}
        return self.client.fetch(uids, parts)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.mark.parametrize("times", [1, 2])
def test_a_message_returned_without_a_body_is_fetched_again_then_logged(
    make_sqlite_config: ConfigFactory,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
    times: int,
) -> None:
    cfg = make_sqlite_config(imap={"port": dovecot.port})
    service = build_service(cfg)
    uid = dovecot.append("support", make_mail(1))
    fetcher = Fetcher(cfg.imap[0], service, "t:1", 30, lambda _: None, service.clock)
    caplog.set_level(logging.INFO, logger="maildesk")
    client = connect(cfg.imap[0])
    try:
        assert fetcher.sync(cast(IMAPClient, Bodiless(client, times))) == 1
    finally:
        client.logout()
    with service.store.transaction() as tx:
        assert tickets.count(tx) == (1 if times == 1 else 0)
    if times == 1:
        assert "without a body" not in caplog.text
    else:
        assert f"UIDs [{uid}] came without a body 2 times; skipped" in caplog.text
        assert dovecot.count("support", criteria="UNSEEN") == 1  # left for a person
