"""Rules a new ticket and a follow-up share: who wrote, whether we may answer, who in
Cc may watch, the limits.  Pure."""

from __future__ import annotations

from maildesk.config import Config
from maildesk.domain import Address, Facts, Inbound, TicketRef
from maildesk.held.settings import LIMITS, Limits
from maildesk.pipeline import loops, watchers
from maildesk.vocab import Reason


def author(inbound: Inbound, facts: Facts) -> str:
    """Who wrote, for the engineers: their name, else the directory's, else the address."""
    person = facts.requester
    return inbound.sender.name or (person.name if person else "") or inbound.sender.email


def reply_refusal(inbound: Inbound, facts: Facts, cfg: Config) -> str | None:
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


def cc_watchers(inbound: Inbound, cfg: Config, ticket: TicketRef | None) -> watchers.Verdict:
    """Colleagues in Cc follow the ticket, within the watcher policy (watchers.py)."""
    if ticket is None:
        return watchers.judge(inbound.cc, cfg, {inbound.sender.email.lower()}, 0)
    known = {ticket.requester_email.lower(), *ticket.watchers}
    return watchers.judge(inbound.cc, cfg, known, len(ticket.watchers))


def limits(cfg: Config) -> Limits:
    return cfg.section(LIMITS)


MAX_LISTED = 20  # refused watchers named in one mail: 2,000 addresses in Cc make no essay


def not_watching(refused: tuple[tuple[Address, Reason], ...]) -> tuple[Reason, ...]:
    """Whom a Cc did not add, and why, as the requester is told it (once per ticket)."""
    return tuple(why for _, why in refused[:MAX_LISTED])
