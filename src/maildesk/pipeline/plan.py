"""The decision for one inbound message: which ticket change, which mails.  Pure."""

from __future__ import annotations

from maildesk.config import Config
from maildesk.domain import Address, Decision, Facts, Ignore, Inbound, MailPlan, NewTicket
from maildesk.pipeline import correlate, loops


def decide(inbound: Inbound, facts: Facts, cfg: Config) -> Decision:
    if loops.is_own_mail(inbound, cfg.message_id_domain):
        return Decision(Ignore("our own mail (X-Maildesk-Loop header)"), ())
    follow_up = correlate.find(inbound, facts)
    if follow_up:
        return Decision(follow_up, ())
    refusal = loops.reply_refusal(inbound, cfg.all_own_addresses)
    mails = () if refusal else (_acknowledgment(inbound),)
    return Decision(_new_ticket(inbound, facts, cfg), mails, no_reply_reason=refusal)


def _new_ticket(inbound: Inbound, facts: Facts, cfg: Config) -> NewTicket:
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
    )


def _acknowledgment(inbound: Inbound) -> MailPlan:
    refs = (*inbound.references, inbound.message_id) if inbound.message_id else inbound.references
    return MailPlan(
        template="ack",
        to=inbound.sender,
        in_reply_to=inbound.message_id,
        references=tuple(refs),
    )
