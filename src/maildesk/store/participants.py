"""Who else follows a ticket (watchers), and the files that came with it (attachments)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from maildesk.domain import Address, AttachmentVerdict
from maildesk.store import events, values
from maildesk.store.base import T_ATTACHMENTS, T_WATCHERS, Tx, rowcount


def watchers(tx: Tx, ticket_id: int) -> list[str]:
    w = T_WATCHERS.c
    return list(tx.c.scalars(select(w.email).where(w.ticket_id == ticket_id)))


def watchers_of(tx: Tx, ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """The watchers of several tickets in one query (a ticket without any: absent)."""
    w = T_WATCHERS.c
    found: dict[int, list[str]] = {}
    ids = sorted(set(ticket_ids))
    if ids:
        for ticket_id, email in tx.c.execute(
            select(w.ticket_id, w.email).where(w.ticket_id.in_(ids))
        ):
            found.setdefault(ticket_id, []).append(email)
    return found


def add_watcher(
    tx: Tx, ticket_id: int, who: Address, now: datetime, actor: str, inbound_id: int | None
) -> None:
    row = values.row({"ticket_id": ticket_id, "email": who.email.lower(), "name": who.name,
                      "added_at": now})  # fmt: skip
    if rowcount(tx.c.execute(tx.d.watcher, row)):
        events.add(tx, ticket_id, now, actor, "watcher_added", inbound_id,
                   field="watchers", new=row["email"])  # fmt: skip


def attachments(tx: Tx, ticket_id: int) -> list[dict[str, Any]]:
    a = T_ATTACHMENTS.c
    query = select(a.filename, a.content_type, a.size, a.sha256, a.content_id,
                   a.refused_reason).where(a.ticket_id == ticket_id).order_by(a.id)  # fmt: skip
    return [dict(r) for r in tx.c.execute(query).mappings()]


def add_attachment(
    tx: Tx,
    ticket_id: int,
    inbound_id: int | None,
    verdict: AttachmentVerdict,
    sha256: str,
    now: datetime,
) -> None:
    item = verdict.attachment
    row = {
        "ticket_id": ticket_id, "inbound_id": inbound_id,
        "filename": values.text(verdict.safe_name)[:300],
        "content_type": values.text(item.content_type)[:200], "size": item.size,
        "sha256": sha256, "content_id": values.text(item.content_id)[:300],
        "refused_reason": verdict.refused, "created_at": now,
    }  # fmt: skip
    tx.c.execute(insert(T_ATTACHMENTS), values.row(row))
