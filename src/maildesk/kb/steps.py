"""Use case steps of the knowledge base, in the transaction of the mail (service.py):
suggestions recorded, a self-service resolution credited, a `KB:` question answered,
a `#kb` draft described — and, after the commit, the drafts written to disk.

**Drafts, exactly once.**  `#kb` decides the draft's name and content inside the
transaction and stores them as a pending `kb_drafts` row, beside the mails that name
the file; nothing touches the disk before the commit.  After it, `write_drafts` creates
each pending file with O_EXCL and marks the row written.  A crash between the file and
the mark leaves the row pending: next time the file is found with the same content and
the row is marked written; a different file of that name is never overwritten (the row
becomes "conflict", logged).  A rolled-back transaction leaves no file behind.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from maildesk import outgoing
from maildesk.digest.model import SelfService
from maildesk.domain import (
    Address,
    Decision,
    EventKind,
    Inbound,
    MailKind,
    MailPlan,
    OutgoingMail,
    TicketRef,
    TicketView,
    Work,
)
from maildesk.kb import drafts
from maildesk.kb.flow import Desk, Knowledge
from maildesk.pipeline import notify, reply_text
from maildesk.pipeline.mails import MAIL_KINDS
from maildesk.pipeline.reply_text.signature import key as signature_key
from maildesk.render import Envelope, Renderer, articles, assemble, new_message_id
from maildesk.store import Store, Tx, events, tickets
from maildesk.store import kb as kb_rows
from maildesk.store import outbox as outbox_rows
from maildesk.survey.history import one_line
from maildesk.vocab import local_time

log = logging.getLogger("maildesk.kb")
DRAFTS = "drafts"


def suggested_on(tx: Tx, desk: Desk | None, ticket: TicketRef | None) -> tuple[str, ...]:
    """Facts: the articles a ticket's acknowledgment suggested (none without a kb)."""
    return kb_rows.suggested(tx, ticket.id) if desk and ticket else ()


def titled(use: SelfService, knowledge: Knowledge | None) -> SelfService:
    """`store.kb.article_use` with each article's title (its name when it is gone)."""
    found = [(u, knowledge.article(u.name) if knowledge else None) for u in use.articles]
    named = tuple(replace(u, title=a.title if a else u.name) for u, a in found)
    return replace(use, articles=named)


def record_suggestions(
    tx: Tx, decision: Decision, ticket_id: int, inbound_id: int, now: datetime
) -> None:
    """The articles an acknowledgment that goes out offers, counted (kb_uses: the
    ticket's history is left as it was, the acknowledgment shows them)."""
    for plan in decision.mails:
        if plan.kind is MailKind.ACK and plan.articles and not plan.hold:
            names = [s.article.name for s in plan.articles]
            kb_rows.record_suggested(tx, ticket_id, names, now, inbound_id)


def record_served(tx: Tx, work: Work, inbound_id: int, now: datetime) -> None:
    """A self-service resolution: the article credited, the ticket's history says so."""
    served = work.served
    if served is None or not any(c.field == "status" for c in work.changes):
        return
    ticket = work.ticket
    if served.article:
        kb_rows.credit(tx, ticket.id, served.article, served.via, now, inbound_id)
    text = f"resolved by the requester with {served.article or 'no article'} ({served.via})"
    events.add(tx, ticket.id, now, work.actor, EventKind.SELF_SERVED, inbound_id,
               field="article", new=served.article, text=text)  # fmt: skip


# --- questions ------------------------------------------------------------------------------


def answer_question(
    tx: Tx, renderer: Renderer, inbound: Inbound, decision: Decision, inbound_id: int, now: datetime
) -> int:
    """The `KB:` answer mails, queued (about no ticket); returns how many."""
    for plan in decision.mails:
        outbox_rows.enqueue(tx, answer_mail(renderer, inbound, plan, now), None, inbound_id, now)
    return len(decision.mails)


def answer_mail(
    renderer: Renderer, inbound: Inbound, plan: MailPlan, now: datetime
) -> OutgoingMail:
    """The articles, to the asker, under their question."""
    cfg, spec = renderer.cfg, MAIL_KINDS[MailKind.KB_ANSWER]
    to = inbound.sender
    shown = articles.shown(plan.articles, "", cfg.support_address, "", to.email, cfg.locale)
    values = {"locale": cfg.locale, "greeting_name": to.name, "text": plan.text,
              "articles": shown, "now": local_time(now, cfg.tickets.timezone),
              "desk": {"name": cfg.support_name, "address": cfg.support_address}}  # fmt: skip
    text, html = renderer.body(spec.template, cfg.locale, values)
    subject = "Re: " + (one_line(inbound.subject, 300) or plan.text)
    message_id = new_message_id("kb", cfg.message_id_domain)
    refs = tuple(r for r in (*inbound.references, inbound.message_id) if r)
    envelope = Envelope(cfg.support_name, cfg.support_address, to.name, to.email, subject,
                        message_id, now, cfg.tickets.timezone, cfg.message_id_domain,
                        in_reply_to=inbound.message_id, references=refs,
                        auto_submitted=spec.auto_submitted)  # fmt: skip
    return OutgoingMail(MailKind.KB_ANSWER.value, cfg.support_address, (to.email,), subject,
                        message_id, assemble(envelope, text, html), lane=spec.lane)  # fmt: skip


# --- drafts ---------------------------------------------------------------------------------


def describe_draft(
    tx: Tx,
    renderer: Renderer,
    desk: Desk | None,
    work: Work,
    inbound: Inbound,
    inbound_id: int,
    now: datetime,
) -> str:
    """`#kb [title]`: the draft's row (written after the commit), the leads and the
    engineer told where it is.  Returns the draft's name ("" without a kb)."""
    if work.draft is None:
        return ""
    if desk is None:  # never in the daemon, which always has one (the folder may be empty)
        events.add(tx, work.ticket.id, now, work.actor, EventKind.NOTE, inbound_id,
                   text="#kb: no knowledge base is configured; no draft written")  # fmt: skip
        return ""
    view = tickets.by_id(tx, work.ticket.id)
    language = renderer.cfg.locale
    title = drafts.title_of(work.draft, view.subject)
    base = drafts.slug(title, view.number)
    folder = Path(desk.settings.folder)
    taken = kb_rows.draft_names(tx, base) | _on_disk(folder, base)
    name = drafts.free_name(base, language, taken)
    source = drafts.Source(view.number, view.subject, _problem(view), view.category,
                           _replies(tx, view, renderer))  # fmt: skip
    kb_rows.add_draft(tx, view.id, name, drafts.markdown(source, title, language), now)
    path = f"{DRAFTS}/{name}.md"
    events.add(tx, view.id, now, work.actor, EventKind.KB_DRAFT, inbound_id, new=path, text=title)
    _tell(tx, renderer, work, view, inbound, inbound_id, now, f"{title} — {path}")
    return name


def _problem(view: TicketView) -> str:
    """What the requester wrote: no quoted thread, no signature (their name, address,
    department, phone), which an article published to everyone must not carry."""
    sender = Address(view.requester_name, view.requester_email)
    known = reply_text.known_sender(sender, None, ())
    if view.department:
        known = replace(known, departments=known.departments | {signature_key(view.department)})
    return reply_text.visible_text(view.description, known)


def _replies(tx: Tx, view: TicketView, renderer: Renderer) -> tuple[str, ...]:
    """The engineers' words to the user, in order (the resolution is one of them)."""
    staff = {p.email.lower() for p in renderer.cfg.people}
    rows = events.listing(tx, view.id)
    said = [r["text"] for r in rows if r["kind"] == EventKind.PUBLIC_REPLY and r["text"]
            and (r["actor"].lower() in staff or not staff)]  # fmt: skip
    return tuple(said)


def _on_disk(folder: Path, base: str) -> set[str]:
    names: set[str] = set()
    for where in (folder, folder / DRAFTS):
        if where.is_dir():
            names |= {p.name[:-3] for p in where.glob(f"{base}*.md")}
    return names


def _tell(
    tx: Tx,
    renderer: Renderer,
    work: Work,
    view: TicketView,
    inbound: Inbound,
    inbound_id: int,
    now: datetime,
    line: str,
) -> None:
    cfg = renderer.cfg
    person = cfg.person(work.actor)
    engineer = [Address(person.name, person.email)] if person else []
    leads = [Address(p.name, p.email) for p in notify.leads(view.group, cfg)]
    to = tuple(dict.fromkeys([*engineer, *leads]))
    if not to:
        return
    author = person.name if person else work.actor
    plan = MailPlan(MailKind.NOTIFICATION, to=to, notice="kb_draft", lines=(line,), author=author)
    outgoing.write(tx, renderer, Decision(work, (plan,)), inbound, view, inbound_id, now)


def write_drafts(store: Store, folder: Path, now: datetime) -> int:
    """Write every pending draft (after the commit that described it); returns how many
    were written."""
    with store.transaction() as tx:
        pending = kb_rows.pending_drafts(tx)
    written = 0
    for draft in pending:
        try:
            state = _write(folder / DRAFTS / f"{draft.name}.md", draft.content)
        except OSError as exc:  # stays pending: written on the next start or `#kb`
            log.warning("kb draft %s not written yet: %s", draft.name, exc)
            continue
        with store.transaction() as tx:
            kb_rows.mark_draft(tx, draft.id, state, now)
        written += state == "written"
    return written


def _write(path: Path, content: str) -> str:
    """Whole or not at all, never over another file: a temporary file, then a hard link
    to the name (which fails when the name exists)."""
    data = content.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        if path.read_bytes() == data:
            return "written"  # written before a crash kept the row pending
        log.warning("kb draft %s not written: a different file of that name exists", path)
        return "conflict"
    finally:
        temporary.unlink()
    log.info("kb draft written: %s", path)
    return "written"
