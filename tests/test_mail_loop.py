"""Mail loops against the running daemon: a second real SMTP party answers every mail
maildesk sends.  However it answers, the exchange must stay bounded."""

from __future__ import annotations

import smtplib
import threading
import time
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from maildesk.store import outbox as outbox_rows
from maildesk.store import tickets

from .conftest import ConfigFactory, free_port, wait_until
from .mails import make_mail
from .test_daemon import running

pytestmark = pytest.mark.slow
RUN_SECONDS = 6.0


class AutoResponder:
    """A real SMTP server whose owner's broken vacation responder answers everything,
    sending its reply back to maildesk's SMTP intake."""

    def __init__(self, intake_port: int, polite: bool) -> None:
        self.intake_port = intake_port
        self.polite = polite
        self.received = 0
        self.sent = 0
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received += 1
            n = self.received
        threading.Thread(target=self._answer, args=(n,), daemon=True).start()
        return "250 OK"

    def _answer(self, n: int) -> None:
        headers = {"Auto-Submitted": "auto-replied"} if self.polite else {}
        subject = "自动回复: 我正在休假" if self.polite else f"Vacation notice {n}"
        reply = make_mail(1000 + n, sender="bot@example.com", subject=subject,
                          body="我正在休假，11月30日回来。", headers=headers)  # fmt: skip
        with smtplib.SMTP("127.0.0.1", self.intake_port, timeout=10) as client:
            client.sendmail("bot@example.com", ["it-support@example.com"], reply)
        with self.lock:
            self.sent += 1


@pytest.mark.parametrize("polite", [True, False], ids=["rfc3834-responder", "broken-responder"])
def test_auto_responder_loop_stays_bounded(make_sqlite_config: ConfigFactory, polite: bool) -> None:
    intake = free_port()
    responder = AutoResponder(intake, polite)
    responder.controller.start()
    cfg = make_sqlite_config(
        intake="true", intake_port=intake, transport="smtp", smtp_port=responder.port,
        extra="[loops]\nmax_auto_replies_per_hour = 5\nmax_auto_replies_per_day = 20\n",
    )  # fmt: skip
    try:
        with running(cfg) as daemon:
            wait_until(lambda: _listening(intake), what="intake listening")
            with smtplib.SMTP("127.0.0.1", intake) as client:
                first = make_mail(1, sender="bot@example.com", subject="打印机坏了")
                client.sendmail("bot@example.com", ["it-support@example.com"], first)
            time.sleep(RUN_SECONDS)  # let the loop run, if it can
            with daemon.store.transaction() as tx:
                outbox = outbox_rows.listing(tx, limit=1000)
                n_tickets = tickets.count(tx)
    finally:
        responder.controller.stop()
    print(f"\nloop test ({'polite' if polite else 'broken'} responder): maildesk sent "
          f"{len(outbox)}, responder answered {responder.sent}, tickets {n_tickets}")  # fmt: skip
    if polite:
        assert len(outbox) == 1 and responder.sent == 1  # an RFC 3834 reply is never answered
    else:
        assert len(outbox) == 5  # the per-sender hourly limit
        assert responder.sent <= 5


def _listening(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=1) as client:
            return client.noop()[0] == 250
    except OSError:
        return False
