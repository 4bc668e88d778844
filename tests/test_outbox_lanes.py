"""Outbox lanes and held mail, on SQLite and PostgreSQL: claims take interactive mail
before bulk, at most `max_per_domain` per destination domain, the domains in turn by
their oldest mail; held mail is kept, listed and released, never claimed."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import text

from maildesk import db
from maildesk.domain import Lane, OutgoingMail
from maildesk.store import ClaimedMail, Store, Tx
from maildesk.store import claims as claims_rows
from maildesk.store import held as held_rows
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, build_service
from .mails import make_mail
from .servers.postgres import PostgresCluster

HOLD = timedelta(minutes=5)
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def mail(to: str, kind: str = "notification", lane: Lane = Lane.INTERACTIVE) -> OutgoingMail:
    mid = f"<{kind}.{to}.{next(SERIAL)}@desk.example>"
    return OutgoingMail(kind, "it-support@example.com", (to,), "s", mid, b"raw", lane)


SERIAL = iter(range(10**9))


def queue(store: Store, mails: list[OutgoingMail], at: datetime = T0) -> list[int]:
    """Enqueue in this order (ids ascending = oldest first); returns their ids."""
    with store.transaction() as tx:
        for m in mails:
            outbox_rows.enqueue(tx, m, None, None, at)
        rows = outbox_rows.listing(tx, limit=len(mails))
    return sorted(r.id for r in rows)


def claim(
    store: Store, limit: int = 50, per_domain: int = 10, at: datetime = T0
) -> list[ClaimedMail]:
    with store.transaction() as tx:
        return claims_rows.claim(tx, at, limit, "node:1", HOLD, per_domain=per_domain)


def domains(batch: list[ClaimedMail]) -> Counter[str]:
    return Counter(m.recipients[0].rpartition("@")[2] for m in batch)


@pytest.fixture
def store(make_config: ConfigFactory) -> Store:
    return Store(db.make_engine(make_config().database_url))


def test_an_ack_is_not_held_up_by_a_big_ticket_at_another_domain(
    make_config: ConfigFactory,
) -> None:
    cfg = make_config()
    store = Store(db.make_engine(cfg.database_url))
    queue(store, [mail(f"watcher{i}@big.example") for i in range(2000)])
    [ack_id] = queue(store, [mail("zhang.wei@example.com", "ack")])
    first = claim(store, cfg.outbox.batch_size, cfg.outbox.max_per_domain)
    assert ack_id in [m.id for m in first]
    assert domains(first) == {"big.example": 10, "example.com": 1}
    assert cfg.outbox.max_per_domain == 10  # the default
    second = claim(store, cfg.outbox.batch_size, cfg.outbox.max_per_domain)
    assert domains(second) == {"big.example": 10}
    assert min(m.id for m in second) > max(m.id for m in first if m.id != ack_id)


def test_interactive_mail_is_claimed_before_bulk(store: Store) -> None:
    bulk = queue(store, [mail(f"u{i}@d{i}.example", "digest", Lane.BULK) for i in range(20)])
    interactive = queue(store, [mail(f"v{i}@e{i}.example", "ack") for i in range(5)])
    assert [m.id for m in claim(store, limit=5)] == interactive
    assert [m.id for m in claim(store, limit=8)] == bulk[:8]  # then bulk, oldest first


def test_a_domain_capped_by_interactive_mail_gets_no_bulk_in_that_claim(store: Store) -> None:
    queue(store, [mail(f"u{i}@corp.example", "digest", Lane.BULK) for i in range(5)])
    queue(store, [mail(f"w{i}@corp.example") for i in range(3)])
    queue(store, [mail("a@other.example", "digest", Lane.BULK)])
    batch = claim(store, limit=50, per_domain=4)
    assert domains(batch) == {"corp.example": 4, "other.example": 1}
    with store.transaction() as tx:
        rows = {r.id: r for r in outbox_rows.listing(tx)}
    corp = sorted((rows[m.id].lane, m.id) for m in batch if "corp" in m.recipients[0])
    assert [lane for lane, _ in corp] == ["bulk", "interactive", "interactive", "interactive"]


def test_domains_take_turns_oldest_mail_first(store: Store) -> None:
    ids = queue(store, [mail(f"x{i}@{d}.example") for i in range(30) for d in ("a", "b")])
    [late] = queue(store, [mail("late@c.example")])
    batch = claim(store, limit=7, per_domain=10)
    # turn 1: a1 b1 c1, turn 2: a2 b2, turn 3: a3 b3
    assert [m.id for m in batch] == [*ids[:6], late]
    assert domains(batch) == {"a.example": 3, "b.example": 3, "c.example": 1}


def test_more_domains_than_room_serves_the_oldest_first(store: Store) -> None:
    ids = queue(store, [mail(f"u@d{i}.example") for i in range(12)])
    assert [m.id for m in claim(store, limit=5)] == ids[:5]
    assert [m.id for m in claim(store, limit=5)] == ids[5:10]
    assert [m.id for m in claim(store, limit=5)] == ids[10:]


def test_mail_waiting_for_a_retry_does_not_block_its_domain(store: Store) -> None:
    first, second = queue(store, [mail("a@d.example"), mail("b@d.example")])
    with store.transaction() as tx:
        claims_rows.mark_failed_attempt(tx, first, "451 later", T0 + timedelta(minutes=1), 1)
    assert [m.id for m in claim(store)] == [second]
    with store.transaction() as tx:  # a minute later it is due again
        later = T0 + timedelta(minutes=2)
        assert [m.id for m in claims_rows.claim(tx, later, 50, "n:1", HOLD, per_domain=10)] == [
            first
        ]


def test_expired_claims_are_claimed_again_within_the_cap(store: Store) -> None:
    ids = queue(store, [mail(f"w{i}@big.example") for i in range(30)])
    assert len(claim(store, per_domain=20)) == 20  # this sender then dies
    with store.transaction() as tx:
        after = T0 + HOLD + timedelta(seconds=1)
        again = claims_rows.claim(tx, after, 50, "node:2", HOLD, per_domain=10)
    assert [m.id for m in again] == ids[:10]


def test_rows_remember_lane_and_domain(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    service.ingest(make_mail(1), "t")
    queue(service.store, [mail("Some.One@Sub.Example.ORG", "digest", Lane.BULK)])
    with service.store.transaction() as tx:
        rows = outbox_rows.listing(tx)
        stored = tx.c.execute(text("SELECT kind, lane, to_domain FROM outbox ORDER BY id")).all()
    assert [(r.kind, r.lane) for r in reversed(rows)] == [
        ("ack", "interactive"),
        ("digest", "bulk"),
    ]
    assert [tuple(r) for r in stored] == [
        ("ack", "interactive", "example.com"),
        ("digest", "bulk", "sub.example.org"),
    ]


def test_concurrent_claimers_take_every_row_once(make_config: ConfigFactory) -> None:
    url = make_config().database_url
    stores = [Store(db.make_engine(url)) for _ in range(3)]
    queue(stores[0], [mail(f"w{i}@d{i % 5}.example") for i in range(300)])
    claimed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(store: Store, holder: str) -> None:
        try:
            idle = 0
            while idle < 3:
                with store.transaction() as tx:
                    batch = claims_rows.claim(tx, T0, 20, holder, HOLD, per_domain=3)
                    claims_rows.mark_sent(tx, [m.id for m in batch], T0)
                idle = 0 if batch else idle + 1
                with lock:
                    claimed.extend(m.id for m in batch)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(s, f"n{i}:1")) for i, s in enumerate(stores)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors
    assert len(claimed) == 300 and len(set(claimed)) == 300


def test_postgres_claim_skips_rows_another_claim_holds(pg_url: str) -> None:
    one, two = Store(db.make_engine(pg_url)), Store(db.make_engine(pg_url))
    queue(one, [mail(f"w{i}@{d}.example") for i in range(10) for d in ("a", "b")])
    with one.transaction() as tx_one:
        mine = claims_rows.claim(tx_one, T0, 6, "a:1", HOLD, per_domain=10)
        with two.transaction() as tx_two:  # the same choice, but those rows are locked
            theirs = claims_rows.claim(tx_two, T0, 6, "b:1", HOLD, per_domain=10)
    assert len(mine) == 6 and theirs == []
    assert [m.id for m in claim(two, limit=6)] == sorted(m.id + 6 for m in mine)


# --- held mail --------------------------------------------------------------------------


def ticket_ids(store: Store) -> list[int]:
    with store.transaction() as tx:
        return [int(i) for i in tx.c.scalars(text("SELECT id FROM tickets ORDER BY id"))]


def hold(tx: Tx, m: OutgoingMail, ticket_id: int | None, reason: str, at: datetime) -> None:
    outbox_rows.hold(tx, m, ticket_id, None, at, reason)


def test_held_mail_is_listed_never_claimed_and_released_by_id(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    service.ingest(make_mail(1), "t")
    [ticket] = ticket_ids(service.store)
    with service.store.transaction() as tx:
        hold(tx, mail("wang.gong@example.com"), ticket, "auto-reply limit: 10 per hour", T0)
        [held] = outbox_rows.listing(tx, "held")
    assert held.held_reason == "auto-reply limit: 10 per hour" and held.kind == "notification"
    assert held.ticket_number.startswith("IT-")
    now = datetime.now(UTC)  # the acknowledgment was queued on the system clock
    acks = claim(service.store, at=now)
    assert held.id not in [m.id for m in acks] and len(acks) == 1
    with service.store.transaction() as tx:
        assert outbox_rows.retry(tx, T0, None) == 0  # --all: failed mail only
        assert outbox_rows.counts(tx)["held"] == 1
        assert outbox_rows.retry(tx, T0, held.id) == 1
        assert outbox_rows.retry(tx, T0, held.id) == 0  # pending now: nothing to release
        [released] = [r for r in outbox_rows.listing(tx) if r.id == held.id]
    assert released.status == "pending" and released.held_reason == held.held_reason
    assert [m.id for m in claim(service.store, at=now)] == [held.id]


def test_held_since_groups_held_mail_by_ticket(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    service.ingest(make_mail(1), "t")
    service.ingest(make_mail(2, sender="李娜 <li.na@example.com>"), "t")
    first, second = ticket_ids(service.store)
    hour = timedelta(hours=1)
    with service.store.transaction() as tx:
        hold(tx, mail("old@example.com"), first, "too old for the summary", T0 - 2 * hour)
        hold(tx, mail("a@example.com"), second, "flood: 5 per 10 minutes", T0)
        hold(tx, mail("b@example.com"), first, "auto-reply limit", T0 + timedelta(minutes=1))
        hold(tx, mail("c@example.com"), second, "flood: 5 per 10 minutes", T0 + 2 * hour)
        hold(tx, mail("d@example.com"), None, "loop", T0)
        hold(tx, mail("e@example.com"), first, "released later", T0)
        released = max(r.id for r in outbox_rows.listing(tx, "held"))
        outbox_rows.retry(tx, T0, released)
        groups = held_rows.held_since(tx, T0)
    assert [(g.ticket_id, [m.to_address for m in g.mails]) for g in groups] == [
        (second, ["a@example.com", "c@example.com"]),
        (first, ["b@example.com"]),
        (None, ["d@example.com"]),
    ]
    assert groups[0].ticket_number.startswith("IT-") and groups[2].ticket_number == ""
    assert groups[1].mails[0].reason == "auto-reply limit"
    assert groups[1].mails[0].held_at == T0 + timedelta(minutes=1)


# --- migration --------------------------------------------------------------------------


def migrate(url: str, revision: str) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    with db.make_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


OLD_ROW = """INSERT INTO outbox (kind, mail_from, recipients, to_address, subject, message_id,
  raw, status, attempts, next_attempt_at, claimed_by, last_error, created_at)
VALUES ('ack', 'it@example.com', '["A@Old.Example"]', 'a@old.example', 's', '<m@x>', :raw,
  'pending', 0, :at, '', '', :at)"""


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migration_gives_queued_mail_a_lane_and_domain(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path}/old.db"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        cluster.create_database("migrate_0004")
        url = cluster.url("migrate_0004")
    migrate(url, "0003")
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(OLD_ROW), {"raw": b"raw", "at": T0})
    migrate(url, "head")
    with engine.begin() as conn:
        row = conn.execute(text("SELECT lane, to_domain, held_reason FROM outbox")).one()
    assert tuple(row) == ("interactive", "old.example", "")
    engine.dispose()
    if dialect == "postgresql":
        cluster.drop_database("migrate_0004")
