"""Claiming due outbox rows for sending, fairly: interactive mail before bulk, domains
in turn, at most `max_per_domain` each; then marking them sent or failed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Select,
    bindparam,
    func,
    or_,
    select,
    union_all,
    update,
)

from maildesk.domain import Lane
from maildesk.store.base import T_OUTBOX, Tx, co, rowcount


@dataclass(frozen=True)
class ClaimedMail:
    id: int
    mail_from: str
    recipients: tuple[str, ...]
    raw: bytes
    attempts: int


MARK_SENT = (
    update(T_OUTBOX)
    .where(co.id == bindparam("b_id"))
    .values(status="sent", sent_at=bindparam("now"), attempts=co.attempts + 1, last_error="")
)

LANES = (Lane.INTERACTIVE, Lane.BULK)
CLAIMED = (co.id, co.mail_from, co.recipients, co.raw, co.attempts)  # a ClaimedMail's columns


@dataclass(frozen=True)
class HandOffTerms:
    """What a sender with nothing to send takes from the processor's transaction."""

    holder: str
    hold: timedelta  # how long the claim holds
    limit: int  # at most this many mails


def claim(
    tx: Tx, now: datetime, limit: int, holder: str, hold: timedelta, *, per_domain: int
) -> list[ClaimedMail]:
    """Take up to `limit` due rows for this sender: interactive before bulk, at most
    `per_domain` per destination domain, the domains in turn by their oldest due row
    (so one domain's backlog delays nobody else's mail).  Rows whose claimant died
    (claim expired) are queued again first.

    On PostgreSQL the chosen rows are then locked with SKIP LOCKED: a row another
    sender is claiming at this moment is left to it (this claim is smaller).
    """
    _requeue_expired_claims(tx, now)
    ids = _lock_due(tx, _fair_share(tx, now, limit, per_domain), now)
    if not ids:
        return []
    tx.c.execute(
        update(T_OUTBOX)
        .where(co.id.in_(ids))
        .values(status="sending", claimed_by=holder, claimed_until=now + hold)
    )
    rows = tx.c.execute(select(*CLAIMED).where(co.id.in_(ids)).order_by(co.id))
    return [_claimed(r) for r in rows]


def newest_id(tx: Tx) -> int:
    """The newest outbox row's id (0 for none): what `claim_newer` counts from."""
    return int(tx.c.scalar(select(func.coalesce(func.max(co.id), 0))) or 0)


def claim_newer(tx: Tx, since_id: int, now: datetime, terms: HandOffTerms) -> list[ClaimedMail]:
    """Claim the due rows written after `since_id` (the lowest `terms.limit` of them):
    the mail a batch of messages has just queued, claimed in the same transaction for a
    sender with nothing else to send, which sends them after the commit without a claim
    of its own."""
    fresh = (
        select(co.id)
        .where(co.id > since_id, co.status == "pending", co.next_attempt_at <= now)
        .order_by(co.id)
        .limit(terms.limit)
    )
    rows = tx.c.execute(
        update(T_OUTBOX)
        .where(co.id.in_(fresh.scalar_subquery()), co.status == "pending")
        .values(status="sending", claimed_by=terms.holder, claimed_until=now + terms.hold)
        .returning(*CLAIMED)
    ).all()
    return sorted(map(_claimed, rows), key=lambda m: m.id)  # RETURNING keeps no order


def _claimed(row: Any) -> ClaimedMail:
    return ClaimedMail(row.id, row.mail_from, tuple(json.loads(row.recipients)), row.raw,
                       row.attempts)  # fmt: skip


def _requeue_expired_claims(tx: Tx, now: datetime) -> None:
    tx.c.execute(REQUEUE_EXPIRED, {"now": now})


def _fair_share(tx: Tx, now: datetime, limit: int, per_domain: int) -> list[int]:
    """Ids to claim, lane after lane, each domain's share capped across lanes."""
    taken: Counter[str] = Counter()
    chosen: list[int] = []
    for lane in LANES:
        room = limit - len(chosen)
        if room <= 0:
            break
        candidates = _candidates(tx, lane, now, room, per_domain)
        chosen += _in_turn(candidates, taken, per_domain, room)
    return chosen


def _candidates(
    tx: Tx, lane: Lane, now: datetime, room: int, per_domain: int
) -> list[tuple[int, str]]:
    """(id, domain) of the lane's due rows a claim of `room` rows may take: the first
    rows of the `room` domains whose oldest due row is oldest, as many of each as could
    be taken in turn (one each when there are `room` such domains)."""
    due = {"lane": lane.value, "now": now}
    heads = tx.c.execute(OLDEST_DOMAINS, {**due, "room": room}).all()
    each = min(per_domain, room - len(heads) + 1)
    if each <= 1:
        return [(h.first, h.d) for h in heads]
    rows: list[tuple[int, str]] = []
    for start in range(0, len(heads), DOMAINS_PER_QUERY):
        domains = {f"d{i}": h.d for i, h in enumerate(heads[start : start + DOMAINS_PER_QUERY])}
        query = _first_rows_of(len(domains))
        rows += [(r.id, r.to_domain) for r in tx.c.execute(query, {**due, **domains, "each": each})]
    return rows


def _in_turn(
    candidates: Sequence[tuple[int, str]], taken: Counter[str], per_domain: int, room: int
) -> list[int]:
    """Round-robin over domains: every domain's oldest row, then every domain's second,
    …, each domain up to `per_domain` counting what it was `taken` already; the first
    `room` of that order.  `taken` is updated with what is picked."""
    rank = Counter(taken)
    queue: list[tuple[int, int, str]] = []
    for row_id, domain in sorted(candidates):
        rank[domain] += 1
        if rank[domain] <= per_domain:
            queue.append((rank[domain], row_id, domain))
    picked = sorted(queue)[:room]
    taken.update(domain for _, _, domain in picked)
    return [row_id for _, row_id, _ in picked]


def _lock_due(tx: Tx, ids: list[int], now: datetime) -> list[int]:
    """The ids still due and not being claimed by another sender.  On SQLite the
    transaction holds the database's write lock (BEGIN IMMEDIATE): they are ours."""
    if not ids or tx.c.dialect.name == "sqlite":
        return ids
    return list(tx.c.scalars(LOCK_DUE, {"ids": ids, "now": now}))


LANE: BindParameter[str] = bindparam("lane")
NOW: BindParameter[datetime] = bindparam("now")
DOMAINS_PER_QUERY = 100  # SQLite takes at most 500 SELECTs in one UNION


def _oldest_domains() -> Select[Any]:
    """(d, first): the :room domains of the lane (:lane) whose oldest due row (first) is
    oldest.  Read from the claim index alone, a few seeks per domain with pending mail,
    never a scan of the queue."""
    domains = _lane_domains()
    heads = (
        select(domains.c.d, _due(domains.c.d).limit(1).scalar_subquery().label("first"))
        .where(domains.c.d.is_not(None))
        .cte("heads")
        .prefix_with("MATERIALIZED")  # each domain's `first` evaluated once
    )
    return (
        select(heads.c.d, heads.c.first)
        .where(heads.c.first.is_not(None))
        .order_by(heads.c.first)
        .limit(bindparam("room"))
    )


def _lane_domains() -> Any:
    """The distinct to_domain of the lane's pending rows, by skipping through the index
    (a recursive query: the least domain, then the least one after it, …)."""
    step = T_OUTBOX.alias()
    domains = (
        select(func.min(co.to_domain).label("d"))
        .where(co.status == "pending", co.lane == LANE)
        .cte("domains", recursive=True)
    )
    following = select(func.min(step.c.to_domain)).where(
        step.c.status == "pending", step.c.lane == LANE, step.c.to_domain > domains.c.d
    )
    return domains.union_all(select(following.scalar_subquery()).where(domains.c.d.is_not(None)))


@cache  # one statement per number of domains, built once
def _first_rows_of(domains: int) -> Any:
    """The first :each due rows (id, to_domain) of each domain :d0, :d1, …"""
    arms = []
    for i in range(domains):
        rows = _due(bindparam(f"d{i}"), "to_domain").limit(bindparam("each")).subquery()
        arms.append(select(rows.c.id, rows.c.to_domain))
    return union_all(*arms) if len(arms) > 1 else arms[0]


def _due(domain: Any, *also: str) -> Select[Any]:
    """The domain's due rows in the lane, oldest first: their id, and the columns named."""
    o = T_OUTBOX.alias()
    return (
        select(o.c.id, *(o.c[name] for name in also))
        .where(o.c.status == "pending", o.c.lane == LANE, _is_domain(o.c.to_domain, domain))
        .where(o.c.next_attempt_at <= NOW)
        .order_by(o.c.to_domain, o.c.id)
    )


def _is_domain(column: Any, domain: Any) -> Any:
    """`column = domain`, written as a range of one value.  With `=` PostgreSQL drops
    to_domain from ORDER BY to_domain, id, and when one domain fills the queue it may
    walk the primary key in id order filtering row after row (ms per domain); the range
    keeps it on the claim index, where the rows are already in that order."""
    return column.between(domain, domain)


OLDEST_DOMAINS = _oldest_domains()
LOCK_DUE = (
    select(co.id)
    .where(co.id.in_(bindparam("ids", expanding=True)))
    .where(co.status == "pending", co.next_attempt_at <= bindparam("now"))
    .order_by(co.id)
    .with_for_update(skip_locked=True)
)
REQUEUE_EXPIRED = (
    update(T_OUTBOX)
    .where(
        co.id.in_(
            select(co.id)
            .where(co.status == "sending", co.claimed_until < bindparam("now"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(status="pending", claimed_until=None)
)


def renew_claims(tx: Tx, holder: str, until: datetime) -> None:
    tx.c.execute(
        update(T_OUTBOX)
        .where(co.status == "sending", co.claimed_by == holder)
        .values(claimed_until=until)
    )


def release_stale_claims(tx: Tx, holder_prefix: str, now: datetime) -> int:
    """Queue again what an earlier run of this node claimed but never finished."""
    result = tx.c.execute(
        update(T_OUTBOX)
        .where(co.status == "sending", co.claimed_by.startswith(holder_prefix, autoescape=True))
        .values(status="pending", next_attempt_at=now, claimed_until=None)
    )
    return rowcount(result)


def mark_sent(tx: Tx, outbox_ids: Sequence[int], now: datetime) -> None:
    if outbox_ids:
        tx.c.execute(MARK_SENT, [{"b_id": i, "now": now} for i in outbox_ids])


def mark_failed_attempt(
    tx: Tx, outbox_id: int, error: str, retry_at: datetime | None, attempts: int
) -> None:
    status = "pending" if retry_at else "failed"
    values: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
    if retry_at:
        values["next_attempt_at"] = retry_at
    tx.c.execute(update(T_OUTBOX).where(co.id == outbox_id).values(**values))


def release(tx: Tx, outbox_ids: Sequence[int]) -> None:
    """Give back claimed rows that were not tried (the relay went away): due as they were."""
    if outbox_ids:
        tx.c.execute(
            update(T_OUTBOX)
            .where(co.id.in_(outbox_ids), co.status == "sending")
            .values(status="pending", claimed_by="", claimed_until=None)
        )


def wake(tx: Tx, now: datetime, error_prefixes: Sequence[str]) -> int:
    """Make pending rows backed off for an error starting with one of `error_prefixes`
    (the relay was unavailable) due now: once it is back they go in order of creation."""
    result = tx.c.execute(
        update(T_OUTBOX)
        .where(co.status == "pending", co.next_attempt_at > now)
        .where(or_(*(co.last_error.startswith(p, autoescape=True) for p in error_prefixes)))
        .values(next_attempt_at=now)
    )
    return rowcount(result)
