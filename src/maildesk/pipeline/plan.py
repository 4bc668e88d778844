"""The decision for one inbound message: which ticket change, which mails.  Pure.

Policy as a chain of small steps (Mailman style): our own mail is dropped,
bounces are recorded, delay notices ignored, automatic mail is noted where it
belongs and never reopens or answers anything, then threading decides between a
follow-up and a new ticket, and finally which automatic answers may be sent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from maildesk.config import Config
from maildesk.domain import (
    Address,
    Decision,
    Facts,
    FollowUp,
    Ignore,
    Inbound,
    MailPlan,
    NewTicket,
    RecordBounce,
    Status,
    TicketRef,
)
from maildesk.pipeline import attachment_policy, automail, correlate, loops, reply_text

FINISHED = (Status.RESOLVED, Status.CLOSED, Status.REJECTED)
FINAL = (Status.CLOSED, Status.REJECTED)


class AutoVerdict(Protocol):
    """What automail.classify says about a message (kind: human, auto_reply, bounce, …)."""

    @property
    def kind(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def failed_recipients(self) -> tuple[str, ...]: ...
    @property
    def original_message_id(self) -> str: ...


def decide(
    inbound: Inbound, facts: Facts, cfg: Config, now: datetime, auto: AutoVerdict
) -> Decision:
    if loops.is_own_mail(inbound, cfg.message_id_domain):
        return Decision(Ignore("our own mail (X-Maildesk-Loop header)"), ())
    if auto.kind == "bounce":
        bounce = RecordBounce(auto.original_message_id, auto.failed_recipients, auto.reason)
        return Decision(bounce, ())
    if auto.kind == "delay":
        return Decision(Ignore(f"delivery delay notice: {auto.reason}"), ())
    match = correlate.find(inbound, facts)
    verdicts = attachment_policy.check(inbound.attachments, limits(cfg))
    if auto.kind == "auto_reply" and not _alert(inbound, match):
        return replace(_automatic(inbound, match, auto.reason), attachments=verdicts)
    refused = tuple(v.line() for v in verdicts if v.refused)
    if match and match.trusted and not _replaced(match.ticket, cfg, now):
        follow = _follow_up(inbound, match, cfg)
        notice = _refusal_notice(inbound, facts, cfg, refused)
        return Decision(follow, notice, attachments=verdicts)
    decision = _new_ticket(inbound, facts, cfg, now, match)
    mails = tuple(replace(m, refused=refused) for m in decision.mails)
    return replace(decision, mails=mails, attachments=verdicts)


def limits(cfg: Config) -> attachment_policy.Limits:
    files = cfg.attachments
    return attachment_policy.Limits(
        allowed_extensions=frozenset(files.allowed_types),
        max_file_bytes=int(files.max_file_mb * 1024 * 1024),
        max_message_bytes=int(files.max_message_mb * 1024 * 1024),
    )


def _refusal_notice(
    inbound: Inbound, facts: Facts, cfg: Config, refused: tuple[str, ...]
) -> tuple[MailPlan, ...]:
    """A follow-up is not answered, except to say which attachments were not kept."""
    if not refused or _reply_refusal(inbound, facts, cfg):
        return ()
    return (replace(_acknowledgment(inbound, ""), template="attachment_refused", refused=refused),)


def _alert(inbound: Inbound, match: correlate.Match | None) -> bool:
    """Auto-generated but not a reply (a monitoring alarm, a scanner's report): such
    mail is a request in its own right, ticketed (never answered, see loops)."""
    generated = inbound.header("auto-submitted").strip().lower().startswith("auto-generated")
    return generated and match is None and not automail.is_auto_reply_subject(inbound.subject)


def _automatic(inbound: Inbound, match: correlate.Match | None, reason: str) -> Decision:
    """An auto-reply is a note on its ticket at most: no answer, no reopening."""
    if match and match.trusted:
        text = reply_text.visible_text(inbound.text)
        note = FollowUp(match.ticket, text, match.matched_by, note_only=True)
        return Decision(note, (), no_reply_reason=f"automatic reply: {reason}")
    return Decision(Ignore(f"automatic reply to no ticket of ours: {reason}"), ())


def _replaced(ticket: TicketRef, cfg: Config, now: datetime) -> bool:
    """Closed long enough ago that a reply starts a new ticket instead of reopening."""
    if ticket.status not in FINAL or ticket.closed_at is None:
        return False
    limit = timedelta(days=cfg.threading.reopen_closed_within_days)
    return now - ticket.closed_at > limit


def _follow_up(inbound: Inbound, match: correlate.Match, cfg: Config) -> FollowUp:
    ticket = match.ticket
    return FollowUp(
        ticket=ticket,
        text=reply_text.visible_text(inbound.text),  # the full original stays in the journal
        matched_by=match.matched_by,
        reopen=ticket.status in FINISHED,
        add_watchers=_new_watchers(inbound, ticket, cfg),
    )


def _new_ticket(
    inbound: Inbound, facts: Facts, cfg: Config, now: datetime, match: correlate.Match | None
) -> Decision:
    link, reason = None, ""
    if match is not None:
        link = match.ticket
        reason = "closed_ticket_replaced" if match.trusted else "untrusted_reference"
    new = _ticket_fields(inbound, facts, cfg, link, reason)
    refusal = _reply_refusal(inbound, facts, cfg)
    if refusal:
        return Decision(new, (), no_reply_reason=refusal)
    notice = "closed_ticket_replaced" if reason == "closed_ticket_replaced" else ""
    return Decision(new, (_acknowledgment(inbound, notice),))


def _reply_refusal(inbound: Inbound, facts: Facts, cfg: Config) -> str | None:
    limits = cfg.loops
    checks = (
        (facts.sender_bounced, "the sender's address bounced recently"),
        (facts.auto_mails_last_hour >= limits.max_auto_replies_per_hour,
         f"{facts.auto_mails_last_hour} automatic mails to this sender in the last hour"),
        (facts.auto_mails_last_day >= limits.max_auto_replies_per_day,
         f"{facts.auto_mails_last_day} automatic mails to this sender in the last day"),
    )  # fmt: skip
    for failed, reason in checks:
        if failed:
            return reason
    return loops.reply_refusal(inbound, cfg.all_own_addresses)


def _ticket_fields(
    inbound: Inbound, facts: Facts, cfg: Config, link: TicketRef | None, reason: str
) -> NewTicket:
    person = facts.requester
    name = inbound.sender.name or (person.name if person else "")
    return NewTicket(
        subject=inbound.subject or "(no subject)",
        description=inbound.text,
        requester=Address(name, inbound.sender.email),
        department=person.department if person else "",
        employee_id=person.employee_id if person else "",
        priority=cfg.tickets.default_priority,
        category=cfg.tickets.default_category,
        type=cfg.tickets.default_type,
        watchers=_cc_watchers(inbound, cfg, exclude={inbound.sender.email.lower()}),
        linked_to=link,
        link_reason=reason,
    )


def _cc_watchers(inbound: Inbound, cfg: Config, exclude: set[str]) -> tuple[Address, ...]:
    """Colleagues in Cc follow the ticket; our own addresses never do."""
    seen: dict[str, Address] = {}
    for addr in inbound.cc:
        email = addr.email.lower()
        if email not in exclude and not _ours(email, cfg):
            seen.setdefault(email, Address(addr.name, email))
    return tuple(seen.values())


def _new_watchers(inbound: Inbound, ticket: TicketRef, cfg: Config) -> tuple[Address, ...]:
    known = {ticket.requester_email.lower(), *ticket.watchers}
    return _cc_watchers(inbound, cfg, exclude=known)


def _ours(email: str, cfg: Config) -> bool:
    """An own address, or a plus-address of one (support+IT-…@)."""
    local, _, domain = email.partition("@")
    return f"{local.split('+')[0]}@{domain}" in cfg.all_own_addresses


def _acknowledgment(inbound: Inbound, notice: str) -> MailPlan:
    refs = (*inbound.references, inbound.message_id) if inbound.message_id else inbound.references
    return MailPlan(
        template="ack",
        to=inbound.sender,
        in_reply_to=inbound.message_id,
        references=tuple(refs),
        notice=notice,
    )
