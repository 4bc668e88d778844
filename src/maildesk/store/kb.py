"""Knowledge-base rows (kb/, migration 0013): articles suggested on a ticket, articles
credited for a self-service resolution, and the drafts `#kb` asks for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, distinct, func, insert, select, update

from maildesk.digest.model import ArticleUse, SelfService
from maildesk.domain import EventKind, Status
from maildesk.store.base import T_EVENTS, T_KB_DRAFTS, T_KB_USES, T_TICKETS, Tx, ct
from maildesk.store.digest import group_is

ku = T_KB_USES.c
kd = T_KB_DRAFTS.c
ev = T_EVENTS.c
SUGGESTED, HELPED = "suggested", "helped"


def record_suggested(
    tx: Tx, ticket_id: int, names: Iterable[str], now: datetime, inbound_id: int | None
) -> None:
    rows = [{"ticket_id": ticket_id, "article": name[:200], "kind": SUGGESTED, "via": "",
             "at": now, "inbound_id": inbound_id} for name in names]  # fmt: skip
    if rows:
        tx.c.execute(insert(T_KB_USES), rows)


def suggested(tx: Tx, ticket_id: int) -> tuple[str, ...]:
    """The articles suggested on the ticket, best first."""
    query = select(ku.article).where(ku.ticket_id == ticket_id, ku.kind == SUGGESTED)
    return tuple(tx.c.scalars(query.order_by(ku.id)))


def credit(
    tx: Tx, ticket_id: int, article: str, via: str, now: datetime, inbound_id: int | None
) -> None:
    """The article helped this ticket: once per ticket and article (a ticket solved,
    reopened and solved again with the same article is one credit)."""
    article = article[:200]
    given = select(ku.id).where(ku.ticket_id == ticket_id, ku.article == article,
                                ku.kind == HELPED).limit(1)  # fmt: skip
    if tx.c.execute(given).first() is not None:
        return
    row = {"ticket_id": ticket_id, "article": article, "kind": HELPED, "via": via,
           "at": now, "inbound_id": inbound_id}  # fmt: skip
    tx.c.execute(insert(T_KB_USES).values(**row))


def article_use(tx: Tx, start: datetime, end: datetime, group: str) -> SelfService:
    """Within start <= t < end, for one group ("" = the whole desk): each article's
    suggestions and credits (titles left "": the knowledge base knows them), tickets
    resolved self-served with an article, and tickets resolved at all."""
    counts: dict[str, dict[str, int]] = {}
    query = (
        select(ku.article, ku.kind, func.count())
        .where(ku.at >= start, ku.at < end, ku.article != "")
        .group_by(ku.article, ku.kind)
    )
    for article, kind, n in tx.c.execute(_in_group(query, ku.ticket_id, group)).all():
        counts.setdefault(article, {})[kind] = n
    uses = [
        ArticleUse(name, "", c.get(SUGGESTED, 0), c.get(HELPED, 0)) for name, c in counts.items()
    ]
    uses.sort(key=lambda u: (-u.helped, -u.suggested, u.name))
    selfserved = select(func.count(distinct(ku.ticket_id))).where(
        ku.kind == HELPED, ku.article != "", ku.at >= start, ku.at < end
    )
    resolved = select(func.count(distinct(ev.ticket_id))).where(
        ev.kind == EventKind.CHANGED.value, ev.field == "status",
        ev.new_value == Status.RESOLVED.value, ev.at >= start, ev.at < end,
    )  # fmt: skip
    return SelfService(
        resolved_self=int(tx.c.scalar(_in_group(selfserved, ku.ticket_id, group)) or 0),
        resolved_total=int(tx.c.scalar(_in_group(resolved, ev.ticket_id, group)) or 0),
        articles=tuple(uses),
    )


def _in_group(query: Select[Any], ticket_id: ColumnElement[int], group: str) -> Select[Any]:
    if not group:
        return query
    return query.join(T_TICKETS, ct.id == ticket_id).where(group_is(group))


# --- drafts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    id: int
    ticket_id: int
    name: str
    content: str
    state: str


def draft_names(tx: Tx, prefix: str) -> set[str]:
    """Names of drafts already taken that start with `prefix`."""
    query = select(kd.name).where(kd.name.startswith(prefix, autoescape=True))
    return set(tx.c.scalars(query))


def add_draft(tx: Tx, ticket_id: int, name: str, content: str, now: datetime) -> None:
    row = {"ticket_id": ticket_id, "name": name, "content": content, "state": "pending",
           "created_at": now}  # fmt: skip
    tx.c.execute(insert(T_KB_DRAFTS).values(**row))


def pending_drafts(tx: Tx, limit: int = 100) -> list[Draft]:
    query = select(kd.id, kd.ticket_id, kd.name, kd.content, kd.state).where(kd.state == "pending")
    return [Draft(**r) for r in tx.c.execute(query.order_by(kd.id).limit(limit)).mappings()]


def mark_draft(tx: Tx, draft_id: int, state: str, now: datetime) -> None:
    tx.c.execute(update(T_KB_DRAFTS).where(kd.id == draft_id).values(state=state, written_at=now))
