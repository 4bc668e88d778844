"""Survey answers and the reviews low scores open (survey/, migration 0010)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from maildesk.store.base import T_SURVEY_ANSWERS, T_TICKETS, T_TIMERS, Tx, ct, rowcount

sa_ = T_SURVEY_ANSWERS.c
SURVEY_TIMER = "survey"
tm = T_TIMERS.c


@dataclass(frozen=True)
class AnswerRow:
    id: int
    ticket_number: str
    score: int
    comment: str
    via: str
    sender: str
    answered_at: datetime
    replaced: bool
    review: str  # "" | open | closed
    review_due_at: datetime | None
    review_closed_at: datetime | None
    review_closed_by: str
    review_note: str


def sent(tx: Tx, ticket_id: int) -> tuple[list[str], datetime | None]:
    """The keys of the ticket's survey timers that fired, and when the latest did (read
    from the timers, by ticket: the outbox has no index by ticket)."""
    query = (
        select(tm.key, tm.done_at)
        .where(tm.ticket_id == ticket_id, tm.kind == SURVEY_TIMER, tm.state == "done")
        .where(tm.outcome.not_like("obsolete%"))
        .order_by(tm.done_at, tm.id)
    )
    found = tx.c.execute(query).all()
    return [r.key for r in found], (found[-1].done_at if found else None)


def record(
    tx: Tx,
    ticket_id: int,
    score: int,
    comment: str,
    via: str,
    sender: str,
    now: datetime,
    inbound_id: int | None,
) -> list[int]:
    """Store an answer; the ticket's earlier answers are marked replaced.  Returns the
    scores it replaced (latest first)."""
    earlier = list(
        tx.c.scalars(
            select(sa_.score)
            .where(sa_.ticket_id == ticket_id, sa_.replaced.is_(False))
            .order_by(sa_.id.desc())
        )
    )
    tx.c.execute(
        update(T_SURVEY_ANSWERS)
        .where(sa_.ticket_id == ticket_id, sa_.replaced.is_(False))
        .values(replaced=True)
    )
    row = {"ticket_id": ticket_id, "score": score, "comment": comment[:4000], "via": via,
           "sender": sender, "answered_at": now, "inbound_id": inbound_id, "replaced": False,
           "review": "", "review_closed_by": "", "review_note": ""}  # fmt: skip
    tx.c.execute(insert(T_SURVEY_ANSWERS).values(**row))
    return earlier


def open_review(tx: Tx, ticket_id: int) -> bool:
    """Has the ticket a review still open?"""
    query = select(sa_.id).where(sa_.ticket_id == ticket_id, sa_.review == "open").limit(1)
    return tx.c.scalar(query) is not None


def start_review(tx: Tx, ticket_id: int, due_at: datetime) -> None:
    """The ticket's current answer opens a review due at `due_at`."""
    tx.c.execute(
        update(T_SURVEY_ANSWERS)
        .where(sa_.ticket_id == ticket_id, sa_.replaced.is_(False))
        .values(review="open", review_due_at=due_at)
    )


def open_reviews(tx: Tx) -> list[tuple[int, datetime]]:
    """(ticket id, when the answer that opened it came) of every open review."""
    query = select(sa_.ticket_id, sa_.answered_at).where(sa_.review == "open").order_by(sa_.id)
    return [(r.ticket_id, r.answered_at) for r in tx.c.execute(query).all()]


def move_review(tx: Tx, ticket_id: int, due_at: datetime) -> None:
    tx.c.execute(
        update(T_SURVEY_ANSWERS)
        .where(sa_.ticket_id == ticket_id, sa_.review == "open")
        .values(review_due_at=due_at)
    )


def close_review(tx: Tx, ticket_id: int, actor: str, note: str, now: datetime) -> int:
    """Close the ticket's open review(s); returns how many were open."""
    values = {"review": "closed", "review_closed_at": now, "review_closed_by": actor,
              "review_note": note[:4000]}  # fmt: skip
    result = tx.c.execute(
        update(T_SURVEY_ANSWERS)
        .where(sa_.ticket_id == ticket_id, sa_.review == "open")
        .values(**values)
    )
    return rowcount(result)


COLUMNS = (sa_.id, ct.number.label("ticket_number"), sa_.score, sa_.comment, sa_.via,
           sa_.sender, sa_.answered_at, sa_.replaced, sa_.review, sa_.review_due_at,
           sa_.review_closed_at, sa_.review_closed_by, sa_.review_note)  # fmt: skip


def listing(tx: Tx, limit: int = 1000, current_only: bool = False) -> list[AnswerRow]:
    """Answers, latest first, with their ticket's number."""
    query = (
        select(*COLUMNS)
        .join(T_TICKETS, ct.id == sa_.ticket_id)
        .order_by(sa_.answered_at.desc(), sa_.id.desc())
        .limit(limit)
    )
    if current_only:
        query = query.where(sa_.replaced.is_(False))
    return [AnswerRow(**row) for row in tx.c.execute(query).mappings()]
