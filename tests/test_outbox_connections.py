"""The sender over several connections, and when it records what it sent.

A batch goes over up to `[outbox] connections` connections, one mail on each at a
time (over one, the relay's round trips set the pace); sent mail is recorded with the
next claim while a backlog lasts, so the sender waits for the database's write lock
once per batch, and a crash resends at most MARK_EVERY mails."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from maildesk.clock import TestClock
from maildesk.config import Config
from maildesk.daemon import more_connections
from maildesk.outbox import MARK_EVERY, RELAY_ERROR, Sender, make_transport
from maildesk.relay import RelayUnavailable
from maildesk.store import ClaimedMail, Store
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, SmtpSink, build_service
from .test_outbox_outage import ack

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class PeerSink(SmtpSink):
    """The SMTP sink, noting which client connection brought each mail."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


class Recording:
    """A transport that keeps what it was handed; `fail_on` raises RelayUnavailable."""

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.sent: list[int] = []
        self.fail_on = fail_on or set()
        self.closed = False

    def probe(self) -> None:
        pass

    def send(self, mail: ClaimedMail) -> None:
        if mail.id in self.fail_on:
            raise RelayUnavailable("ConnectionResetError: reset by peer")
        self.sent.append(mail.id)

    def close(self) -> None:
        self.closed = True


def _queue(store: Store, count: int) -> None:
    with store.transaction() as tx:
        for i in range(count):
            outbox_rows.enqueue(tx, ack(i), None, None, T0)


def _rows(store: Store) -> dict[int, tuple[str, int, str]]:
    with store.transaction() as tx:
        rows = outbox_rows.listing(tx, limit=1000)
    return {r.id: (r.status, r.attempts, r.last_error) for r in rows}


def _cfg(make_sqlite_config: ConfigFactory, **outbox: Any) -> Config:
    cfg = make_sqlite_config()
    return replace(cfg, outbox=replace(cfg.outbox, **outbox))


def test_a_batch_goes_over_several_smtp_connections_and_each_mail_once(
    make_sqlite_config: ConfigFactory,
) -> None:
    sink = PeerSink()
    sink.controller.start()
    try:
        cfg = _cfg(make_sqlite_config, transport="smtp", host="127.0.0.1", port=sink.port,
                   security="plain", connections=3)  # fmt: skip
        store = build_service(cfg).store
        _queue(store, 7)
        transport = make_transport(cfg.outbox)
        sender = Sender(store, transport, cfg.outbox, "test:1", TestClock(T0).now,
                        spare=more_connections(transport))  # fmt: skip
        assert sender.flush() == 7
        sender.close()
        got = sink.wait_for(7)
    finally:
        sink.controller.stop()
    ids = [json.dumps(sorted(m[1])) + m[2].split(b"Message-ID: ", 1)[1][:20].decode() for m in got]
    assert len(set(ids)) == 7  # every mail once
    assert len(set(sink.peers)) == 3  # over three connections
    assert {status for status, _, _ in _rows(store).values()} == {"sent"}


def test_one_connection_sends_one_mail_after_the_other(
    make_sqlite_config: ConfigFactory,
) -> None:
    cfg = _cfg(make_sqlite_config, connections=1)
    store = build_service(cfg).store
    _queue(store, 4)
    made: list[Recording] = []
    first = Recording()
    sender = Sender(store, first, cfg.outbox, "test:1", TestClock(T0).now,
                    spare=lambda: made.append(Recording()) or made[-1])  # fmt: skip
    assert sender.flush() == 4
    assert made == [] and first.sent == sorted(_rows(store))


def test_an_outage_on_one_connection_gives_back_what_was_not_tried(
    make_sqlite_config: ConfigFactory,
) -> None:
    """Three connections, ten mails: the second round's middle mail meets the outage.
    The round's other two were sent (recorded sent), the failed one waits for the relay
    (retry, attempts 1), the rest of the batch is given back untried (pending, attempts
    0), and nothing more is claimed until a probe finds the relay back."""
    cfg = _cfg(make_sqlite_config, connections=3)
    store = build_service(cfg).store
    _queue(store, 10)
    ids = sorted(_rows(store))
    lanes = [Recording(), Recording(fail_on={ids[4]}), Recording()]
    spares = iter(lanes[1:])
    sender = Sender(store, lanes[0], cfg.outbox, "test:1", TestClock(T0).now,
                    spare=lambda: next(spares))  # fmt: skip
    assert sender.flush() == 10
    rows = _rows(store)
    assert [rows[i][0] for i in ids] == ["sent"] * 4 + ["pending", "sent"] + ["pending"] * 4
    assert rows[ids[4]][1] == 1 and rows[ids[4]][2].startswith(RELAY_ERROR)
    assert all(rows[i][1:] == (0, "") for i in ids[6:])
    assert sorted(lanes[0].sent + lanes[1].sent + lanes[2].sent) == [*ids[:4], ids[5]]
    assert sender.relay.down
    assert sender.flush() == 0  # no claim while the relay is down


def test_a_backlog_is_recorded_with_the_next_claim_and_at_most_mark_every_wait(
    make_sqlite_config: ConfigFactory,
) -> None:
    cfg = _cfg(make_sqlite_config, connections=1, batch_size=5, max_per_domain=5)
    store = build_service(cfg).store
    _queue(store, 12)
    ids = sorted(_rows(store))
    sender = Sender(store, Recording(), cfg.outbox, "test:1", TestClock(T0).now)
    assert sender.flush() == 5  # a full batch: more is due, its marks ride on the next claim
    assert [_rows(store)[i][0] for i in ids[:5]] == ["sending"] * 5
    assert sender.flush() == 5
    assert [_rows(store)[i][0] for i in ids[:10]] == ["sent"] * 5 + ["sending"] * 5
    assert sender.flush() == 2  # not full: the queue is drained, recorded at once
    assert {s for s, _, _ in _rows(store).values()} == {"sent"}
    assert cfg.outbox.batch_size <= MARK_EVERY


def test_a_batch_larger_than_mark_every_is_recorded_on_the_way(
    make_sqlite_config: ConfigFactory,
) -> None:
    count = MARK_EVERY * 2 + 3
    cfg = _cfg(make_sqlite_config, connections=1, batch_size=count, max_per_domain=count)
    store = build_service(cfg).store
    _queue(store, count)
    marked: list[int] = []
    sender = Sender(store, Recording(), cfg.outbox, "test:1", TestClock(T0).now)
    real = sender.record_sent

    def noting(*, renew: bool = False) -> None:
        marked.append(len(sender.unmarked))
        real(renew=renew)

    sender.record_sent = noting  # type: ignore[method-assign]
    assert sender.flush() == count
    assert max(marked) == MARK_EVERY  # never more than MARK_EVERY sent and unrecorded
    assert sender.flush() == 0  # the last three: with the next claim, which finds nothing
    assert {s for s, _, _ in _rows(store).values()} == {"sent"}


@pytest.mark.parametrize("stopping_with", [1, 3])
def test_mail_sent_but_unrecorded_is_recorded_when_the_sender_stops(
    make_sqlite_config: ConfigFactory, stopping_with: int
) -> None:
    cfg = _cfg(make_sqlite_config, connections=stopping_with, batch_size=4, max_per_domain=4)
    store = build_service(cfg).store
    _queue(store, 9)
    first = Recording()
    extra = [Recording() for _ in range(stopping_with - 1)]
    spares = iter(extra)
    sender = Sender(store, first, cfg.outbox, "test:1", TestClock(T0).now,
                    spare=lambda: next(spares))  # fmt: skip
    assert sender.flush() == 4
    assert "sending" in {s for s, _, _ in _rows(store).values()}
    sender.record_sent()  # what the daemon's sender loop does as it ends
    sender.close()
    statuses = [s for s, _, _ in _rows(store).values()]
    assert statuses.count("sent") == 4 and statuses.count("pending") == 5
    assert first.closed and all(t.closed for t in extra)


def test_a_mail_smtplib_cannot_encode_is_refused_and_the_rest_go(
    make_sqlite_config: ConfigFactory,
) -> None:
    """An internationalized address (用户@例子.中国) that the relay does not take as
    SMTPUTF8 makes smtplib raise UnicodeEncodeError.  It is recorded as refused for good
    (shown by `maildesk outbox list`), and neither stops the sender nor costs the other
    connections' mails of the round."""
    sink = PeerSink()
    sink.controller = Controller(sink, hostname="127.0.0.1", port=sink.port,
                                 enable_SMTPUTF8=False)  # fmt: skip
    sink.controller.start()
    try:
        cfg = _cfg(make_sqlite_config, transport="smtp", host="127.0.0.1", port=sink.port,
                   security="plain", connections=3)  # fmt: skip
        store = build_service(cfg).store
        with store.transaction() as tx:
            for i in range(3):
                mail = ack(i)
                if i == 1:
                    mail = replace(mail, recipients=("用户@例子.中国",))
                outbox_rows.enqueue(tx, mail, None, None, T0)
        transport = make_transport(cfg.outbox)
        sender = Sender(store, transport, cfg.outbox, "test:1", TestClock(T0).now,
                        spare=more_connections(transport))  # fmt: skip
        assert sender.flush() == 3
        sender.close()
        assert len(sink.wait_for(2)) == 2
    finally:
        sink.controller.stop()
    rows = sorted(_rows(store).items())
    assert [status for _, (status, _, _) in rows] == ["sent", "failed", "sent"]
    assert rows[1][1][2].startswith("permanent: UnicodeEncodeError")


def test_an_internationalized_address_goes_as_smtputf8_where_the_relay_takes_it(
    make_sqlite_config: ConfigFactory,
) -> None:
    sink = SmtpSink()
    sink.controller = Controller(sink, hostname="127.0.0.1", port=sink.port, enable_SMTPUTF8=True)
    sink.controller.start()
    try:
        cfg = _cfg(make_sqlite_config, transport="smtp", host="127.0.0.1", port=sink.port,
                   security="plain")  # fmt: skip
        store = build_service(cfg).store
        with store.transaction() as tx:
            outbox_rows.enqueue(tx, replace(ack(0), recipients=("用户@例子.中国",)), None, None, T0)
        sender = Sender(store, make_transport(cfg.outbox), cfg.outbox, "test:1", TestClock(T0).now)
        assert sender.flush() == 1
        sender.close()
        got = sink.wait_for(1)
    finally:
        sink.controller.stop()
    assert got[0][1] == ["用户@例子.中国"]
    assert [status for status, _, _ in _rows(store).values()] == ["sent"]
