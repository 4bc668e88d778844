"""Use case, run by the clock: held mail → the summaries that replace or report it.

Read the held rows → `summary.plan` (pure) → one transaction: the summary mails queued,
the rows they replace marked `summarised`.  Safe with several daemons: the rows are
re-read and re-marked in the same transaction, so a row is summarised once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maildesk import vocab
from maildesk.config import Config
from maildesk.domain import Address, MailKind, MailPlan, TicketView
from maildesk.held import summary
from maildesk.held.settings import LIMITS
from maildesk.pipeline import mails, notify
from maildesk.render import Renderer
from maildesk.render.context import card
from maildesk.store import Store, Tx, events, held, threads, tickets
from maildesk.store import outbox as outbox_rows

LOOK_BACK = timedelta(days=7)  # held mail older than this was seen in earlier summaries


def run(store: Store, renderer: Renderer, now: datetime) -> int:
    """Queue the summaries that are due; returns how many."""
    cfg = renderer.cfg
    with store.transaction() as tx:
        waiting = _held(tx, now)
        leads = {r.group: _leads(r.group, cfg) for r in waiting}
        told = {lead: _last_told(tx, lead) for group in leads.values() for lead in group}
        due = summary.plan(waiting, now, cfg.section(LIMITS), leads.__getitem__, told)
        for item in due:
            _write(tx, renderer, item, now)
        held.mark_summarised(tx, [h.id for s in due if s.replaces for h in s.items])
    return len(due)


def _held(tx: Tx, now: datetime) -> list[summary.Held]:
    return [
        summary.Held(
            m.id, t.ticket_id, t.ticket_number, t.group, m.kind, m.to_address, m.reason, m.held_at
        )
        for t in held.held_since(tx, now - LOOK_BACK)
        for m in t.mails
    ]


def _leads(group: str, cfg: Config) -> list[str]:
    return [p.email for p in notify.leads(group, cfg)]


def _last_told(tx: Tx, lead: str) -> datetime:
    found = held.last_of_kind_to(tx, lead, MailKind.HELD_SUMMARY)
    return found or datetime.min.replace(tzinfo=UTC)


def _write(tx: Tx, renderer: Renderer, item: summary.Summary, now: datetime) -> None:
    if item.kind is MailKind.NOTIFICATION:
        _coalesced(tx, renderer, item, now)
        return
    cfg = renderer.cfg
    person = cfg.person(item.to)
    to = Address(person.name if person else "", item.to)
    rows = [_row(tx, h, cfg) for h in item.items]
    subject = _subject(item.kind, len(rows), cfg.locale)
    lines = [_line(item.kind, r, cfg.locale) for r in rows]
    mail = renderer.summary_mail(item.kind, to, subject, {"rows": rows, "lines": lines}, now)
    outbox_rows.enqueue(tx, mail, None, None, now)


def _row(tx: Tx, held: summary.Held, cfg: Config) -> dict[str, str]:
    view = tickets.by_id(tx, held.ticket_id) if held.ticket_id is not None else None
    fields = card(view, cfg, cfg.locale, engineer=True) if view else {}
    return {"number": held.number, "subject": fields.get("subject", ""),
            "status": fields.get("status", ""), "kind": vocab.term("mail", held.kind, cfg.locale),
            "reason": vocab.term("held", held.reason.split(":")[0], cfg.locale),
            "to": held.to}  # fmt: skip


def _line(kind: MailKind, row: dict[str, str], locale: str) -> str:
    if kind is MailKind.HELD_SUMMARY:
        arrow = "→" if locale == "zh-CN" else "to"
        return f"{row['number']}  {row['kind']} {arrow} {row['to']}: {row['reason']}"
    return f"{row['number']}  {row['subject']}"


SUBJECTS = {
    MailKind.FLOOD_SUMMARY: (
        "同一发件人短时间内新建的 {n} 个工单",
        "{n} tickets opened by one sender",
    ),
    MailKind.FLOOD_ACK: ("我们已收到您的 {n} 封邮件", "We received your {n} mails"),
    MailKind.HELD_SUMMARY: ("{n} 封邮件被暂缓发送", "{n} mails held back"),
}


def _subject(kind: MailKind, n: int, locale: str) -> str:
    zh, en = SUBJECTS[kind]
    return (zh if locale == "zh-CN" else en).format(n=n)


def _coalesced(tx: Tx, renderer: Renderer, item: summary.Summary, now: datetime) -> None:
    """One notification with every follow-up the burst brought."""
    ticket_id = item.items[0].ticket_id
    if ticket_id is None:
        return
    ticket = tickets.by_id(tx, ticket_id)
    texts = _replies_since(tx, ticket, item.items[0].at)
    person = renderer.cfg.person(item.to)
    to = Address(person.name if person else "", item.to)
    plan = MailPlan(MailKind.NOTIFICATION, to=(to,), notice="coalesced", text=texts)
    addressed = mails.Addressed(plan, mails.MAIL_KINDS[MailKind.NOTIFICATION], to, True)
    threading = mails.thread(addressed, threads.history(tx, ticket.id, item.to), None)
    outbox_rows.enqueue(tx, renderer.ticket_mail(addressed, ticket, threading, now), ticket.id,
                        None, now)  # fmt: skip


def _replies_since(tx: Tx, ticket: TicketView, since: datetime) -> str:
    replies = [e for e in events.listing(tx, ticket.id) if e["kind"] == "reply"]
    recent = [e for e in replies if datetime.fromisoformat(e["at"]) >= since]
    return "\n\n".join(f"{e['actor']}：{e['text']}" for e in recent)
