"""The hand-off: the mail a batch of messages queues goes straight to an idle sender.

While the sender has nothing to send, the processor claims the mail its batch writes for
it, in the batch's own transaction, and hands it over after the commit: the sender sends
it at once, without a claim transaction (and its wait for the write lock) of its own.
A busy sender, a relay that is down or a sender that has stopped gets nothing handed;
mail handed to a sender that stops unsent is given back at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from maildesk.clock import TestClock
from maildesk.config import Config
from maildesk.outbox import Sender
from maildesk.service import Service
from maildesk.store import ClaimedMail, HandOffTerms, Store, claims
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, build_service
from .test_outbox_connections import Recording
from .test_outbox_outage import ack

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TERMS = HandOffTerms("test:1", timedelta(seconds=65), 100)


def _queue(store: Store, first: int, count: int, at: datetime = T0) -> list[int]:
    with store.transaction() as tx:
        before = claims.newest_id(tx)
        for i in range(first, first + count):
            outbox_rows.enqueue(tx, ack(i), None, None, at)
        return list(range(before + 1, claims.newest_id(tx) + 1))


def _rows(store: Store) -> dict[int, tuple[str, str | None]]:
    with store.transaction() as tx:
        rows = outbox_rows.listing(tx, limit=1000)
    return {r.id: (r.status, _claimant(store, r.id)) for r in rows}


def _claimant(store: Store, row_id: int) -> str | None:
    from sqlalchemy import select

    from maildesk.store.base import co

    with store.transaction() as tx:
        found: str | None = tx.c.scalar(select(co.claimed_by).where(co.id == row_id))
        return found or None  # unclaimed: "" (None after a release)


def _sender(store: Store, cfg: Config, transport: Recording) -> Sender:
    return Sender(store, transport, cfg.outbox, "test:1", TestClock(T0).now)


def _idle(store: Store, cfg: Config, transport: Recording) -> Sender:
    sender = _sender(store, cfg, transport)
    assert sender.flush() == 0  # its claim found nothing: idle
    return sender


def _hand(store: Store, sender: Sender, since: int) -> None:
    """What the processor does: claim in its transaction, hand over after the commit."""
    with store.transaction() as tx:
        handed = claims.claim_newer(tx, since, T0, TERMS)
    sender.take(handed)


def test_claim_newer_takes_the_due_rows_written_since_and_no_others(
    make_config: ConfigFactory,
) -> None:
    """On SQLite and PostgreSQL: older rows, rows not yet due and rows past the limit
    stay pending; the new due ones are claimed for the holder, in id order."""
    store = build_service(make_config()).store
    older = _queue(store, 0, 2)
    with store.transaction() as tx:
        since = claims.newest_id(tx)
    fresh = _queue(store, 2, 4)
    later = _queue(store, 6, 1, at=T0 + timedelta(hours=1))
    with store.transaction() as tx:
        got = claims.claim_newer(tx, since, T0, replace(TERMS, limit=3))
    assert [m.id for m in got] == fresh[:3]
    assert all(isinstance(m, ClaimedMail) and m.raw.startswith(b"From:") for m in got)
    rows = _rows(store)
    assert [rows[i] for i in fresh[:3]] == [("sending", "test:1")] * 3
    assert [rows[i][0] for i in older + fresh[3:] + later] == ["pending"] * 4


def test_an_idle_sender_sends_handed_mail_without_claiming_any(
    make_sqlite_config: ConfigFactory,
) -> None:
    """Handed mail goes first and alone: an older due row the sender would claim is not
    claimed by that flush, but by the next one, which also records the handed as sent."""
    cfg = make_sqlite_config()
    store = build_service(cfg).store
    transport = Recording()
    sender = _idle(store, cfg, transport)
    terms = sender.hand_off_terms()
    assert terms is not None and terms.holder == "test:1"
    assert terms.limit == cfg.outbox.batch_size
    waiting = _queue(store, 0, 1)  # due, left by someone else, not handed
    with store.transaction() as tx:
        since = claims.newest_id(tx)
    fresh = _queue(store, 1, 2)
    with store.transaction() as tx:
        handed = claims.claim_newer(tx, since, T0, terms)
    sender.take(handed)
    assert sender.hand_off_terms() is None  # busy with what it was handed
    assert sender.flush() == 2
    assert transport.sent == fresh
    assert _rows(store)[waiting[0]] == ("pending", None)
    assert sender.flush() == 1  # the next claim: the waiting row, and the marks
    assert transport.sent == fresh + waiting
    assert {status for status, _ in _rows(store).values()} == {"sent"}


def test_a_sender_that_found_mail_or_lost_its_relay_takes_no_hand_off(
    make_sqlite_config: ConfigFactory,
) -> None:
    cfg = make_sqlite_config()
    store = build_service(cfg).store
    transport = Recording()
    sender = _sender(store, cfg, transport)
    assert sender.hand_off_terms() is None  # before its first claim
    _queue(store, 0, 1)
    assert sender.flush() == 1
    assert sender.hand_off_terms() is None  # its last claim found mail: it claims again
    assert sender.flush() == 0
    assert sender.hand_off_terms() is not None
    sender.relay.failed(T0, "ConnectionRefusedError: refused")
    assert sender.hand_off_terms() is None


def test_handed_mail_a_down_relay_cannot_take_is_given_back(
    make_sqlite_config: ConfigFactory,
) -> None:
    """The relay went down between the hand-off and the send: the handed rows are
    pending again at once, unattempted, not left claimed until their claim expires."""
    cfg = make_sqlite_config()
    store = build_service(cfg).store
    transport = Recording()
    sender = _idle(store, cfg, transport)
    fresh = _queue(store, 0, 2)
    _hand(store, sender, 0)
    sender.relay.failed(T0, "ConnectionRefusedError: refused")
    assert sender.flush() == 0
    assert transport.sent == []
    assert [_rows(store)[i] for i in fresh] == [("pending", None)] * 2


def test_a_stopped_sender_gives_back_what_it_was_handed(
    make_sqlite_config: ConfigFactory,
) -> None:
    """Handed before the stop: given back by `finish`.  Handed after it (the processor
    read the terms before the stop): given back by `take`.  No more terms after it."""
    cfg = make_sqlite_config()
    store = build_service(cfg).store
    sender = _idle(store, cfg, Recording())
    before = _queue(store, 0, 1)
    _hand(store, sender, 0)
    sender.finish()
    assert _rows(store)[before[0]] == ("pending", None)
    assert sender.hand_off_terms() is None
    after = _queue(store, 1, 1)
    _hand(store, sender, before[0])
    assert _rows(store)[after[0]] == ("pending", None)


class Taker:
    """A sender as the processor sees it (service.HandOff), keeping what it is handed."""

    def __init__(self, terms: HandOffTerms | None) -> None:
        self.offered = terms
        self.taken: list[ClaimedMail] = []

    def terms(self) -> HandOffTerms | None:
        return self.offered

    def take(self, mails: list[ClaimedMail]) -> None:
        self.taken.extend(mails)


def _new_request(service: Service, i: int) -> int:
    msg = EmailMessage()
    msg["From"] = f"user{i}@example.com"
    msg["To"] = "it-support@example.com"
    msg["Subject"] = f"打印机无法打印 {i}"
    msg["Message-ID"] = f"<req.{i}@example.com>"
    msg.set_content("三楼的打印机卡纸了。")
    return service.receive(bytes(msg), "test").id


def _processed(service: Service, taker: Taker, count: int) -> list[Any]:
    service.hand_off = taker
    return service.process_many([_new_request(service, i) for i in range(count)])


def test_a_batch_hands_the_mail_it_queued_to_an_idle_sender(
    make_config: ConfigFactory,
) -> None:
    """Two new tickets: both acknowledgments are claimed for the sender in the batch's
    transaction and handed over; an older pending row is not."""
    service = build_service(make_config())
    older = _queue(service.store, 0, 1)
    taker = Taker(TERMS)
    assert [o.kind for o in _processed(service, taker, 2)] == ["created"] * 2
    rows = _rows(service.store)
    assert len(taker.taken) >= 2 and older[0] not in {m.id for m in taker.taken}
    assert {rows[m.id] for m in taker.taken} == {("sending", "test:1")}
    assert rows[older[0]] == ("pending", None)
    acks = [m for m in taker.taken if b"Auto-Submitted: auto-replied" in m.raw]
    assert {m.recipients for m in acks} == {("user0@example.com",), ("user1@example.com",)}


def test_a_batch_hands_nothing_to_a_sender_that_would_not_take_it(
    make_config: ConfigFactory,
) -> None:
    service = build_service(make_config())
    taker = Taker(None)
    assert [o.kind for o in _processed(service, taker, 2)] == ["created"] * 2
    assert taker.taken == []
    assert {status for status, _ in _rows(service.store).values()} == {"pending"}
