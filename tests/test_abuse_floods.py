"""Issue 8's abuse suite, continued: a 500-mail flood from one sender through Dovecot, and
two header-less auto-responders answering each other through the daemon over SMTP,
followed by a person's genuine follow-up.  Exact counts, printed with -s."""

from __future__ import annotations

import smtplib
import threading
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from maildesk.clock import TestClock
from maildesk.held import tick
from maildesk.store import events, tickets
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, SmtpSink, build_service, free_port, wait_until
from .mails import make_mail
from .servers.dovecot import Dovecot
from .test_daemon import running

pytestmark = pytest.mark.slow
USER = "zhang.wei@example.com"
WANG = "wang.gong@example.com"
PEOPLE = """
[security]
secret = "0123456789abcdef-flood-test"
[[people]]
name = "王工"
email = "wang.gong@example.com"
"""


def outbox_counts(cfg: Any) -> Counter[tuple[str, str]]:
    with build_service(cfg).store.transaction() as tx:
        return Counter((r.kind, r.status) for r in outbox_rows.listing(tx, limit=100000))


def test_a_500_mail_flood_reaches_engineers_as_one_summary(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cfg = make_config(transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port},
                      extra=PEOPLE, flood_limit=5)  # fmt: skip
    # 500 on SQLite; on PostgreSQL the same path with fewer mails keeps the suite in budget
    flood = 500 if cfg.database_url.startswith("sqlite") else 150
    held = flood - 5
    for n in range(flood):
        dovecot.append("support", make_mail(n, subject=f"求助 {n}"))
    with running(cfg) as daemon:

        def all_in() -> bool:
            with daemon.store.transaction() as tx:
                return tickets.count(tx) == flood

        wait_until(all_in, timeout=120, what=f"{flood} tickets")
        wait_until(lambda: len(smtp_sink.messages) >= 10, what="the first acks and notifications")
    before = outbox_counts(cfg)
    service = build_service(cfg)
    later = service.clock() + timedelta(minutes=11)  # the flood window has passed
    assert tick.run(service.store, service.renderer, later) == 2
    assert tick.run(service.store, service.renderer, later) == 0  # once
    after = outbox_counts(cfg)
    with running(cfg, TestClock(later)):  # the daemon, 11 minutes on
        wait_until(lambda: len(smtp_sink.messages) == 12, what="the two summaries")
    to_wang = [m for m in smtp_sink.messages if WANG in m[1]]
    with service.store.transaction() as tx:
        held_events = sum(
            1
            for t in tickets.listing(tx, limit=1000)
            for e in events.listing(tx, t.id)
            if e["kind"] == "held"
        )
    print(f"\nflood: before {dict(before)}\n       after  {dict(after)}\n"
          f"       held events {held_events}, mails to the engineer {len(to_wang)}, "
          f"mails received in all {len(smtp_sink.messages)}")  # fmt: skip
    assert before[("ack", "sent")] == 5 and before[("ack", "held")] == held
    assert before[("notification", "sent")] == 5 and before[("notification", "held")] == held
    assert after[("ack", "summarised")] == held and after[("notification", "summarised")] == held
    assert after[("flood_summary", "pending")] == 1 and after[("flood_ack", "pending")] == 1
    assert held_events == 2 * held
    assert len(to_wang) == 6  # 5 notifications, then one summary for the held tickets


class TwoResponders:
    """One SMTP server behind which the user and the engineer both have a header-less
    vacation responder: each answers every mail maildesk sends them, with the same
    words every time, as a reply (In-Reply-To/References) to it."""

    def __init__(self, intake_port: int) -> None:
        self.intake_port = intake_port
        self.answered: Counter[str] = Counter()
        self.stopped = False
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email

        msg = email.message_from_bytes(envelope.content)
        for rcpt in envelope.rcpt_tos:
            if not self.stopped:
                threading.Thread(target=self._answer, args=(rcpt, msg), daemon=True).start()
        return "250 OK"

    def _answer(self, rcpt: str, msg: Any) -> None:
        reply = EmailMessage()
        reply["From"], reply["To"] = rcpt, "it-support@example.com"
        reply["Subject"] = f"Re: {msg['Subject']}"
        with self.lock:
            self.answered[rcpt] += 1
            n = sum(self.answered.values())
        reply["Message-ID"] = f"<vacation-{n}@mua.example.com>"
        parent = "".join(str(msg["Message-ID"]).split())
        reply["In-Reply-To"] = parent
        reply["References"] = f"{' '.join(str(msg.get('References', '')).split())} {parent}"
        reply.set_content(
            "您好，我正在休假，12月10日回来。" if rcpt == USER else "外出中，稍后回复。"
        )
        with smtplib.SMTP("127.0.0.1", self.intake_port, timeout=10) as client:
            client.send_message(reply)


def test_a_responder_loop_is_held_and_a_person_still_gets_through(
    make_sqlite_config: ConfigFactory,
) -> None:
    """On SQLite only: the loop is the daemon's and the relay's, not the database's (the
    held-mail store is tested on both in test_held.py); it keeps the suite in budget."""
    make_config = make_sqlite_config
    intake = free_port()
    responders = TwoResponders(intake)
    responders.controller.start()
    limits = "[loops]\nmax_auto_replies_per_hour = 5\nmax_auto_replies_per_day = 20\n"
    cfg = make_config(intake="true", intake_port=intake, transport="smtp", coalesce=5,
                      smtp_port=responders.port, extra=PEOPLE + limits)  # fmt: skip
    try:
        with running(cfg) as daemon:
            wait_until(lambda: _listening(intake), what="intake listening")
            with smtplib.SMTP("127.0.0.1", intake) as client:
                client.send_message(_message(USER, "打印机坏了", "三楼打印机卡纸。"))

            def quiet() -> bool:  # the loop has stopped by itself
                before = sum(responders.answered.values())
                daemon.stop.wait(1.5)
                return sum(responders.answered.values()) == before

            wait_until(quiet, timeout=60, what="the loop to stop by itself")
            responders.stopped = True
            loop_counts = outbox_counts(cfg)
            with daemon.store.transaction() as tx:
                number = tickets.listing(tx)[0].number
            genuine = _message(USER, f"Re: [{number}] 打印机坏了", "整层楼都断网了，非常紧急！")
            with smtplib.SMTP("127.0.0.1", intake) as client:
                client.send_message(genuine)

            def delivered() -> bool:
                return (
                    outbox_counts(cfg)[("notification", "sent")]
                    > loop_counts[("notification", "sent")]
                )

            # within coalesce_seconds of the responder's last mail it is merged, then sent
            wait_until(delivered, timeout=120, what="the person's follow-up to reach the engineer")
            final = outbox_counts(cfg)
    finally:
        responders.controller.stop()
    print(
        f"\nresponder loop: answered {dict(responders.answered)}\n"
        f"  outbox when it stopped {dict(loop_counts)}\n  after the person {dict(final)}"
    )
    assert loop_counts[("notification", "held")] >= 1  # the loop was held, not dropped
    assert sum(responders.answered.values()) <= 20  # bounded by the limits
    assert final[("notification", "sent")] == loop_counts[("notification", "sent")] + 1


def _message(sender: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "it-support@example.com", subject
    msg["Message-ID"] = f"<person-{abs(hash(body))}@mua.example.com>"
    msg.set_content(body)
    return msg


def _listening(port: int) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=1) as client:
            return client.noop()[0] == 250
    except OSError:
        return False
