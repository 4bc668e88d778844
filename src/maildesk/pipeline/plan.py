"""The decision for one inbound message: which ticket change, which mails.  Pure.

Policy as a chain of small steps (Mailman style): our own mail is dropped,
bounces are recorded, delay notices ignored, a satisfaction survey's answer is
stored (never a follow-up: it reopens nothing), automatic mail is noted where it
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
    AttachmentVerdict,
    Decision,
    Facts,
    FollowUp,
    Ignore,
    Inbound,
    MailKind,
    MailPlan,
    NewTicket,
    Priority,
    Quarantine,
    RecordBounce,
    Status,
    TicketRef,
)
from maildesk.held import policy as held_policy
from maildesk.kb import flow as kb_flow
from maildesk.pipeline import (
    answers,
    assign,
    attachment_policy,
    commands,
    correlate,
    engineer,
    follow_up,
    lifecycle,
    loops,
    notify,
    reply_text,
    routing,
    survey,
    trust,
)
from maildesk.pipeline.automail.settings import AUTOMATIC
from maildesk.pipeline.lifecycle import Trigger

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
    inbound: Inbound,
    facts: Facts,
    cfg: Config,
    now: datetime,
    auto: AutoVerdict,
    rules: routing.Rules | None = None,
    kb: kb_flow.Desk | None = None,
) -> Decision:
    machine = without_facts(inbound, cfg, auto)
    if machine is not None:
        return machine
    match = correlate.find(inbound, facts)
    answered = survey.decide(inbound, facts, cfg, now, auto, match)
    if answered is not None:  # a score: never a follow-up, never a new ticket
        return answered
    solved = kb_flow.link(inbound, facts, cfg, kb) if auto.kind == "human" else None
    if solved is not None:  # "this article solved it": one click, like a score
        return solved
    verdicts = attachment_policy.check(inbound.attachments, limits(cfg))
    decision = _human_or_automatic(inbound, facts, cfg, now, auto, match, verdicts, rules, kb)
    return replace(decision, attachments=verdicts)


def without_facts(inbound: Inbound, cfg: Config, auto: AutoVerdict) -> Decision | None:
    """The decision on our own mail, bounces, delay notices and mail without a sender:
    taken before any fact about tickets or senders is read (the caller reads none)."""
    return _machine_mail(inbound, cfg, auto) or _senderless(inbound, auto)


def _machine_mail(inbound: Inbound, cfg: Config, auto: AutoVerdict) -> Decision | None:
    """Our own mail, bounces and delay notices: recorded, never answered."""
    if loops.is_own_mail(inbound, cfg.message_id_domain):
        return Decision(Ignore("our own mail (X-Maildesk-Loop header)"), ())
    if auto.kind == "bounce":
        bounce = RecordBounce(auto.original_message_id, auto.failed_recipients, auto.reason)
        return Decision(bounce, ())
    if auto.kind == "delay":
        return Decision(Ignore(f"delivery delay notice: {auto.reason}"), ())
    return None


# What automail calls the reports it reads (delivered/relayed notices, read receipts…).
REPORTS = ("multipart/report", "message/delivery-status", "message/global-delivery-status")


def _senderless(inbound: Inbound, auto: AutoVerdict) -> Decision | None:
    """No usable sender: bounces and delays were taken above, other reports are ignored,
    anything else is quarantined (there is nobody to open a ticket for or to answer)."""
    if not inbound.sender_missing:
        return None
    if auto.kind == "auto_reply" and auto.reason.startswith(REPORTS):
        return Decision(Ignore(f"report without sender address: {auto.reason}"), ())
    said = inbound.sender.name
    what = f'From "{said[:80]}" has no address' if said else "no From, Sender or Reply-To"
    return Decision(Quarantine(f"no sender address: {what}, and it is no delivery report"), ())


def _human_or_automatic(
    inbound: Inbound,
    facts: Facts,
    cfg: Config,
    now: datetime,
    auto: AutoVerdict,
    match: correlate.Match | None,
    verdicts: tuple[AttachmentVerdict, ...],
    rules: routing.Rules | None,
    kb: kb_flow.Desk | None = None,
) -> Decision:
    if auto.kind == "list" and not (match and match.trusted):
        ignored = _list_policy(auto.reason, cfg)
        if ignored is not None:
            return ignored
    if auto.kind == "auto_reply" or (auto.kind == "alert" and match and match.trusted):
        return _automatic(inbound, facts, match, auto.reason, cfg)
    solved = kb_flow.reply(inbound, facts, cfg, kb, match) if auto.kind == "human" else None
    if solved is not None:  # the requester's #solved / #已解决
        return solved
    person = cfg.person(inbound.sender.email)
    if match and (match.trusted or person):
        work = engineer.decide(inbound, match, person, cfg, trust.of(inbound, match.ticket, cfg))
        if work is not None:
            return work
    refused = tuple(v for v in verdicts if v.refused)
    kept = tuple(v.safe_name for v in verdicts if not v.refused)
    if match and match.trusted and not _replaced(match.ticket, cfg, now):
        return follow_up.decide(inbound, facts, cfg, now, match, kept, refused)
    asked = kb_flow.answer(inbound, facts, cfg, kb, match) if auto.kind == "human" else None
    if asked is not None:  # a KB: question the articles answer: no ticket
        return asked
    silent = f"automatic alert: {auto.reason}" if auto.kind == "alert" else ""
    decision = _new_ticket(inbound, facts, cfg, now, match, rules, kept, silent, kb)
    mails = tuple(replace(m, refused=refused) if m.kind is MailKind.ACK else m
                  for m in decision.mails)  # fmt: skip
    return replace(decision, mails=mails)


def limits(cfg: Config) -> attachment_policy.Limits:
    files = cfg.attachments
    return attachment_policy.Limits(
        allowed_extensions=frozenset(files.allowed_types),
        max_file_bytes=int(files.max_file_mb * 1024 * 1024),
        max_message_bytes=int(files.max_message_mb * 1024 * 1024),
    )


def _list_policy(reason: str, cfg: Config) -> Decision | None:
    """List and bulk mail answering none of our mail: ignored (journaled with the reason)
    under `[automatic] lists = "ignore"`; None under "ticket" (a ticket, never answered)."""
    if cfg.section(AUTOMATIC).lists == "ticket":
        return None
    return Decision(Ignore(f"mailing list or bulk mail: {reason}"), ())


def _automatic(
    inbound: Inbound, facts: Facts, match: correlate.Match | None, reason: str, cfg: Config
) -> Decision:
    """An auto-reply (out of office, another system's acknowledgment, system mail) is a
    note on its ticket at most: no answer, no reopening.  So is an alert naming a ticket."""
    if match and match.trusted:
        text = reply_text.written(inbound, facts)
        proven = trust.of(inbound, match.ticket, cfg) is trust.Trust.PROVEN
        note = FollowUp(match.ticket, text, match.matched_by, note_only=True, proven=proven)
        return Decision(note, (), no_reply_reason=f"automatic reply: {reason}")
    return Decision(Ignore(f"automatic reply to no ticket of ours: {reason}"), ())


def _replaced(ticket: TicketRef, cfg: Config, now: datetime) -> bool:
    """Closed long enough ago that a reply starts a new ticket instead of reopening."""
    if ticket.status not in FINAL or ticket.closed_at is None:
        return False
    limit = timedelta(days=cfg.threading.reopen_closed_within_days)
    return now - ticket.closed_at > limit


def _new_ticket(
    inbound: Inbound,
    facts: Facts,
    cfg: Config,
    now: datetime,
    match: correlate.Match | None,
    rules: routing.Rules | None,
    kept: tuple[str, ...],
    silent: str = "",
    kb: kb_flow.Desk | None = None,
) -> Decision:
    """A new ticket; `silent` says why it gets no acknowledgment (an alert), if so."""
    link, reason = None, ""
    if match is not None:
        link = match.ticket
        reason = "closed_ticket_replaced" if match.trusted else "untrusted_reference"
    new = _routed(_ticket_fields(inbound, facts, cfg, link, reason), inbound, facts, cfg, rules)
    alert = notify.plan(notify.targets(new.assignee, new.group, cfg), "new", new.description,
                        kept, author=answers.author(inbound, facts))  # fmt: skip
    flood = held_policy.for_new_ticket(facts, inbound.sender.email, answers.limits(cfg))
    alerts = tuple(replace(a, hold=flood) for a in _with_urgent(alert, new, cfg))
    refusal = silent or answers.reply_refusal(inbound, facts, cfg)
    if refusal:
        return Decision(new, alerts, no_reply_reason=refusal)
    notice = "closed_ticket_replaced" if reason == "closed_ticket_replaced" else ""
    if reason == "untrusted_reference" and commands.extract(inbound.text).commands:
        notice = "commands_ignored"  # a stranger's # lines change nothing, and they hear so
    ack = _acknowledgment(inbound, facts, notice)
    ack = replace(
        ack,
        not_watching=answers.not_watching(new.refused_watchers),
        hold=flood,
        articles=kb_flow.for_ack(kb, new.subject, ack.text),  # what they wrote, not quotes
    )
    return Decision(new, (ack, *alerts))


def _routed(
    new: NewTicket, inbound: Inbound, facts: Facts, cfg: Config, rules: routing.Rules | None
) -> NewTicket:
    """Rules set category, priority, type, group, assignee; a group gets its engineer."""
    if rules is None:
        return new
    route = routing.route(inbound, rules)
    person = assign.resolve(route.assignee, cfg.people) if route.assignee else None
    group = route.group or ""
    if person is None and group:
        last = facts.last_assigned.get(group, "")
        person = assign.pick(group, cfg.people, cfg.assignment, facts.open_counts, last)
    routed = Status.NEW
    if person is not None:
        routed = lifecycle.next_status(Status.NEW, Trigger.ROUTE, True) or Status.NEW
    return replace(
        new,
        status=routed.value,
        category=route.category or new.category,
        subcategory=route.subcategory or "",
        priority=route.priority or new.priority,
        type=route.type or new.type,
        group=group,
        assignee=person.email if person else "",
    )


def _ticket_fields(
    inbound: Inbound, facts: Facts, cfg: Config, link: TicketRef | None, reason: str
) -> NewTicket:
    person = facts.requester
    name = inbound.sender.name or (person.name if person else "")
    cc = answers.cc_watchers(inbound, cfg, None)
    return NewTicket(
        subject=inbound.subject or "(no subject)",
        description=inbound.text,
        requester=Address(name, inbound.sender.email),
        department=person.department if person else "",
        employee_id=person.employee_id if person else "",
        priority=cfg.tickets.default_priority,
        category=cfg.tickets.default_category,
        type=cfg.tickets.default_type,
        watchers=cc.accepted,
        refused_watchers=cc.refused,
        linked_to=link,
        link_reason=reason,
    )


def _acknowledgment(inbound: Inbound, facts: Facts, notice: str) -> MailPlan:
    return MailPlan(MailKind.ACK, notice=notice, text=reply_text.written(inbound, facts))


def _with_urgent(alert: MailPlan | None, new: NewTicket, cfg: Config) -> list[MailPlan]:
    """An urgent ticket is announced to the group's lead at once (紧急问题需立即联系用户),
    besides whoever works it; each person hears once."""
    plans = [alert] if alert else []
    if new.priority == Priority.URGENT.value:
        urgent = notify.plan(notify.leads(new.group, cfg), "urgent", new.description)
        plans += [urgent] if urgent else []
    return notify.once_each(plans, skip=set())
