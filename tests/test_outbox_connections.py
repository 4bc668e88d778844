"""The sender over several connections, and when it records what it sent.

A batch goes over up to `[outbox] connections` connections, one mail on each at a
time (over one, the relay's round trips set the pace); sent mail is recorded with the
next claim while a backlog lasts, so the sender waits for the database's write lock
once per batch, and a crash resends at most MARK_EVERY mails."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from maildesk.clock import TestClock
from maildesk.config import Config
from maildesk.daemon import more_connections
from maildesk.outbox import LANE_CAP_SECONDS, MARK_EVERY, RELAY_ERROR, Sender, make_transport
from maildesk.relay import RelayUnavailable
from maildesk.store import ClaimedMail, Store, claims
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


def test_a_connection_dropped_while_others_get_through_costs_its_mail_an_attempt(
    make_sqlite_config: ConfigFactory,
) -> None:
    """Three connections, ten mails: the second round's middle mail has its connection
    dropped while the other two get through.  The relay is up: that mail is retried
    later (attempts 1), the rest of the batch goes, and no outage is declared."""
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
    assert [rows[i][0] for i in ids] == ["sent"] * 4 + ["pending"] + ["sent"] * 5
    assert rows[ids[4]][1] == 1 and "ConnectionResetError" in rows[ids[4]][2]
    assert not sender.relay.down


def test_an_outage_costs_one_attempt_and_gives_back_the_rest_untried(
    make_sqlite_config: ConfigFactory,
) -> None:
    """No connection of the round gets through: the relay is down.  The first mail is
    charged the attempt, the round's others and the rest of the batch are given back
    untried (pending, attempts 0), and nothing is claimed until a probe finds it back."""
    cfg = _cfg(make_sqlite_config, connections=3)
    store = build_service(cfg).store
    _queue(store, 10)
    ids = sorted(_rows(store))
    lanes = [Recording(fail_on=set(ids[3:])) for _ in range(3)]  # gone after a round
    spares = iter(lanes[1:])
    sender = Sender(store, lanes[0], cfg.outbox, "test:1", TestClock(T0).now,
                    spare=lambda: next(spares))  # fmt: skip
    assert sender.flush() == 10
    rows = _rows(store)
    assert [rows[i][0] for i in ids] == ["sent"] * 3 + ["pending"] * 7
    assert rows[ids[3]][1] == 1 and rows[ids[3]][2].startswith(RELAY_ERROR)
    assert all(rows[i][1:] == (0, "") for i in ids[4:])
    assert sender.relay.down
    assert sender.flush() == 0  # no claim while the relay is down


class Crowded(SMTP):
    """An SMTP server that takes `room` connections at once and greets the next ones
    with 421, as Postfix's smtpd_client_connection_count_limit does."""

    crowd: CrowdedController

    def connection_made(self, transport: Any) -> None:
        self.turned_away = self.crowd.open_now >= self.crowd.room
        if self.turned_away:
            self.crowd.turned_away += 1
            transport.write(b"421 4.7.0 Error: too many connections from 127.0.0.1\r\n")
            transport.close()
            return
        self.crowd.open_now += 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if not self.turned_away:
            self.crowd.open_now -= 1
            super().connection_lost(error)


class CrowdedController(Controller):
    def __init__(self, sink: SmtpSink, room: int) -> None:
        super().__init__(sink, hostname="127.0.0.1", port=sink.port)
        self.room = room
        self.open_now = 0
        self.turned_away = 0

    def factory(self) -> SMTP:
        server = Crowded(self.handler, **self.SMTP_kwargs)
        server.crowd = self
        return server


def test_a_relay_that_takes_fewer_connections_gets_all_the_mail_without_an_outage(
    make_sqlite_config: ConfigFactory,
) -> None:
    """`connections = 4` against a relay that takes 2: the two it refuses (421 at the
    greeting) are closed, their mail goes on the two it took, uncharged and at once;
    no outage is declared, and no more than 2 are opened for LANE_CAP_SECONDS."""
    sink = SmtpSink()
    crowd = CrowdedController(sink, room=2)
    sink.controller = crowd
    crowd.start()
    clock = TestClock(T0)
    try:
        cfg = _cfg(make_sqlite_config, transport="smtp", host="127.0.0.1", port=sink.port,
                   security="plain", connections=4, batch_size=12, max_per_domain=12)  # fmt: skip
        store = build_service(cfg).store
        _queue(store, 12)
        transport = make_transport(cfg.outbox)
        sender = Sender(store, transport, cfg.outbox, "test:1", clock.now,
                        spare=more_connections(transport))  # fmt: skip
        assert sender.flush() == 12
        assert not sender.relay.down and crowd.turned_away == 2
        sender.record_sent()  # a full batch's marks ride on the next claim
        assert [status for status, _, _ in _rows(store).values()] == ["sent"] * 12
        assert {attempts for _, attempts, _ in _rows(store).values()} == {1}
        _queue(store, 12)
        assert sender.flush() == 12  # within LANE_CAP_SECONDS: two connections, none refused
        assert crowd.turned_away == 2 and len(sender.lanes) == 2
        clock.advance(timedelta(seconds=LANE_CAP_SECONDS))
        _queue(store, 12)
        assert sender.flush() == 12  # then it tries four again
        assert crowd.turned_away == 4
        sender.record_sent()  # as the daemon's sender loop does when it ends
        sender.close()
        assert len(sink.wait_for(36)) == 36
    finally:
        crowd.stop()
    assert {status for status, _, _ in _rows(store).values()} == {"sent"}


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


class Faulty(Recording):
    """A connection whose send raises what no transport should (a bug of ours)."""

    def __init__(self, raise_on: int, exc: BaseException) -> None:
        super().__init__()
        self.raise_on, self.exc = raise_on, exc

    def send(self, mail: ClaimedMail) -> None:
        if mail.id == self.raise_on:
            raise self.exc
        super().send(mail)


def test_an_unexpected_error_on_one_connection_keeps_the_others_mail_sent(
    make_sqlite_config: ConfigFactory,
) -> None:
    """A lane raising something unforeseen must not lose the round's other sent mails
    (they would be sent twice when the claims expire): it is that mail's failed
    attempt, retried, and the batch goes on."""
    cfg = _cfg(make_sqlite_config, connections=3)
    store = build_service(cfg).store
    _queue(store, 6)
    ids = sorted(_rows(store))
    lanes = [Recording(), Faulty(ids[1], KeyError("lost")), Recording()]
    spares = iter(lanes[1:])
    sender = Sender(store, lanes[0], cfg.outbox, "test:1", TestClock(T0).now,
                    spare=lambda: next(spares))  # fmt: skip
    assert sender.flush() == 6
    rows = _rows(store)
    assert [rows[i][0] for i in ids] == ["sent", "pending", "sent", "sent", "sent", "sent"]
    assert rows[ids[1]][1:] == (1, "KeyError: 'lost'")


def test_a_sender_stopped_mid_batch_gives_back_what_it_had_not_tried(
    make_sqlite_config: ConfigFactory,
) -> None:
    """Something that stops the sender itself (here KeyboardInterrupt in the third
    mail) leaves the mail it never tried due again at once, not claimed until the
    claims expire; the mail in hand stays claimed (it may have gone)."""
    cfg = _cfg(make_sqlite_config, connections=1)
    store = build_service(cfg).store
    _queue(store, 6)
    ids = sorted(_rows(store))
    sender = Sender(store, Faulty(ids[2], KeyboardInterrupt()), cfg.outbox, "test:1",
                    TestClock(T0).now)  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        sender.flush()
    sender.record_sent()
    rows = _rows(store)
    assert [rows[i][0] for i in ids] == ["sent", "sent", "sending", "pending", "pending", "pending"]
    with store.transaction() as tx:
        assert len(claims.claim(tx, T0, 10, "other:2", timedelta(seconds=60), per_domain=10)) == 3


def test_the_probe_asks_an_open_connection_and_opens_a_new_one_when_it_is_dead(
    make_sqlite_config: ConfigFactory,
) -> None:
    """A connection left open when the relay restarted is dead: the probe must not
    take it for the relay being back (NOOP fails), and must find the new relay."""
    sink = SmtpSink()
    sink.controller.start()
    cfg = _cfg(make_sqlite_config, transport="smtp", host="127.0.0.1", port=sink.port,
               security="plain")  # fmt: skip
    transport = make_transport(cfg.outbox)
    try:
        transport.probe()
        sink.controller.stop()
        with pytest.raises(RelayUnavailable):
            transport.probe()
        sink.controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
        sink.controller.start()
        transport.probe()
        transport.probe()  # an open, live connection answers NOOP
    finally:
        transport.close()
        sink.controller.stop()
