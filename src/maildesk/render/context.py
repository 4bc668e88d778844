"""What a template is given: plain, display-ready values for one reader.  Pure.

Every word is in the reader's language (vocab.py), every time in the configured
zone with its offset, and engineers appear by name: a requester's or watcher's
mail never shows an engineer's address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from maildesk import vocab
from maildesk.config import Config
from maildesk.domain import AttachmentVerdict, MailKind, TicketView
from maildesk.pipeline import commands
from maildesk.pipeline.mails import Addressed
from maildesk.render import articles, due
from maildesk.sla.settings import SLA_SECTION
from maildesk.survey import answers
from maildesk.survey.settings import SURVEY
from maildesk.timers.inform_settings import INFORM

NO_SUBJECT = "(no subject)"


def for_ticket_mail(
    mail: Addressed, ticket: TicketView, cfg: Config, now: datetime
) -> dict[str, Any]:
    locale = cfg.locale
    plan = mail.plan
    return {
        "locale": locale,
        "desk": {"name": cfg.support_name, "address": cfg.support_address},
        "greeting_name": greeting_name(mail, ticket),
        "engineer": mail.engineer,
        "t": card(ticket, cfg, locale, mail.engineer),
        "notice": plan.notice,
        "sla": due.sla_notice(plan.notice, ticket, cfg, locale),
        "text": plan.text,
        "signature": plan.signature,
        "author": plan.author,
        "reopened": plan.reopened,
        "unverified": plan.unverified,
        "asked": [vocab.term("asked", a, locale) for a in plan.asked],
        "claimed_address": mail.to.email,
        "not_watching": [vocab.say(r, locale) for r in plan.not_watching],
        "files": list(plan.lines),
        "reasons": [vocab.say(r, locale) for r in plan.reasons],
        "refused": [(v.safe_name, _why(v, locale)) for v in plan.refused],
        "help": commands.help_text(locale) if plan.kind is MailKind.COMMAND_ERROR else "",
        "allowed_types": ", ".join(cfg.attachments.allowed_types),
        "now": vocab.local_time(now, cfg.tickets.timezone),
        "reopen_days": f"{cfg.threading.reopen_closed_within_days:g}",
        "inform": cfg.section(INFORM),
        "survey": _survey(mail, ticket, cfg) if plan.kind is MailKind.SURVEY else [],
        "history": list(plan.lines),
        "due": vocab.local_time(plan.due, cfg.tickets.timezone) if plan.due else "",
        "review_due": _review_due(plan.due, cfg),
        "articles": _articles(mail, ticket, cfg),
    }


def _articles(mail: Addressed, ticket: TicketView, cfg: Config) -> list[articles.Shown]:
    """Knowledge-base articles offered, each with a link signed for this reader."""
    secret, support = cfg.security.secret, cfg.support_address
    return articles.shown(mail.plan.articles, secret, support, ticket.number, mail.to.email,
                          cfg.locale)  # fmt: skip


def _review_due(at: datetime | None, cfg: Config) -> str:
    hours = cfg.section(SURVEY).review_hours
    return due.review_terms(at, hours, cfg.tickets.timezone, cfg.locale) if at else ""


def _survey(mail: Addressed, ticket: TicketView, cfg: Config) -> list[answers.Option]:
    """The five scores, each a mailto link signed for this ticket and this reader."""
    return answers.options(cfg.security.secret, cfg.support_address, ticket.number,
                           mail.to.email, cfg.locale)  # fmt: skip


def _why(verdict: AttachmentVerdict, locale: str) -> str:
    return vocab.say(verdict.why, locale) if verdict.why else verdict.refused


def card(ticket: TicketView, cfg: Config, locale: str, engineer: bool) -> dict[str, str]:
    """The ticket's facts as the reader sees them."""
    zone = cfg.tickets.timezone
    hours = response_hours(cfg, ticket.priority)
    return {
        "number": ticket.number,
        "subject": display_subject(ticket.subject, ticket.number, locale),
        "status": vocab.term("status", ticket.status, locale),
        "priority": vocab.term("priority", ticket.priority, locale),
        "category": vocab.term("category", ticket.category, locale),
        "type": vocab.term("type", ticket.type, locale),
        "group": ticket.group,
        "assignee": engineer_name(ticket.assignee, cfg, show_address=engineer),
        "requester": ticket.requester_name,
        "requester_email": ticket.requester_email if engineer else "",
        "department": ticket.department,
        "created": vocab.local_time(ticket.created_at, zone),
        "updated": vocab.local_time(ticket.updated_at, zone),
        "due": due.response_due_at(ticket, zone),  # the stored due time, "" when none
        "response_due": due.response_due(ticket, cfg, locale),
        "target_hours": f"{hours:g}",
        "linked_number": ticket.linked_number,
    }


def response_hours(cfg: Config, priority: str) -> float:
    """The first-response target of the service standard, from [sla] (1/2/4/8 h)."""
    hours = cfg.section(SLA_SECTION).response_hours
    return float(hours.get(priority, hours["medium"]))


def engineer_name(email: str, cfg: Config, show_address: bool) -> str:
    """An engineer by name; their address only ever to other engineers."""
    if not email:
        return ""
    person = cfg.person(email)
    if person is not None:
        return person.name
    return email if show_address else "—"


def greeting_name(mail: Addressed, ticket: TicketView) -> str:
    """The recipient's name: the requester's as the ticket knows it (a forged mail's
    display name is not used), else from their mail; "" when unknown."""
    if mail.to.email.lower() == ticket.requester_email.lower() and ticket.requester_name:
        return ticket.requester_name
    return mail.to.name


def display_subject(subject: str, number: str, locale: str) -> str:
    cleaned = " ".join(subject.replace(f"[{number}]", " ").split())
    if not cleaned or cleaned == NO_SUBJECT:
        return "（无主题）" if locale == "zh-CN" else NO_SUBJECT
    return cleaned


def subject_line(ticket: TicketView) -> str:
    cleaned = " ".join(ticket.subject.replace(f"[{ticket.number}]", " ").split())
    return f"[{ticket.number}] {cleaned or NO_SUBJECT}"


def sender_name(mail: Addressed, cfg: Config) -> str:
    """A relayed reply is signed with the engineer's name, never their address."""
    if mail.plan.signature:
        return f"{mail.plan.signature} | {cfg.support_name}"
    return cfg.support_name
