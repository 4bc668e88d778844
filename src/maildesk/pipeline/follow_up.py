"""The decision for a follow-up: a requester's or watcher's mail on their ticket.  Pure.

The text always lands (the full original stays in the journal).  What it changes —
the state by the lifecycle table, new watchers, reopening — needs proof where
pipeline/trust.py says so; a claimed mail that asked for more is reported to the
address's owner.  Engineers are notified unless a limit holds the notification
(held/policy.py); attachments not kept are told to the sender.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from maildesk.config import Config
from maildesk.domain import (
    AttachmentVerdict,
    Change,
    Decision,
    Facts,
    FollowUp,
    Inbound,
    MailKind,
    MailPlan,
    TicketRef,
)
from maildesk.held import policy as held_policy
from maildesk.pipeline import answers, commands, correlate, lifecycle, notify, reply_text, trust
from maildesk.pipeline.lifecycle import Trigger


def decide(
    inbound: Inbound,
    facts: Facts,
    cfg: Config,
    now: datetime,
    match: correlate.Match,
    kept: tuple[str, ...],
    refused: tuple[AttachmentVerdict, ...],
) -> Decision:
    proof = trust.of(inbound, match.ticket, cfg)
    follow = _follow_up(inbound, facts, match, cfg, proof)
    ticket = match.ticket
    asked = _asked_without_proof(inbound, match, cfg, proof)
    alert = notify.plan(notify.targets(ticket.assignee, ticket.group, cfg), "follow_up",
                        follow.text, kept, author=answers.author(inbound, facts),
                        reopened=follow.reopened,
                        unverified=proof is trust.Trust.CLAIMED)  # fmt: skip
    # Two auto-responders could answer each other through relay and notification for
    # ever; a burst of follow-ups would notify once each: such notifications are held.
    hourly = cfg.loops.max_auto_replies_per_hour
    sender = inbound.sender.email
    hold = held_policy.for_follow_up(facts, sender, follow.text, now, answers.limits(cfg), hourly)
    alerts = (replace(alert, hold=hold),) if alert else ()
    notices = _refusal_notice(inbound, facts, cfg, refused) + _watchers_notice(
        inbound, facts, cfg, follow
    )
    notices += _claim_notice(inbound, facts, cfg, asked, ticket)
    return Decision(follow, notices + alerts)


def _asked_without_proof(
    inbound: Inbound, match: correlate.Match, cfg: Config, proof: trust.Trust
) -> tuple[str, ...]:
    """What this claimed mail asked for that only a proven one may have."""
    if proof is trust.Trust.PROVEN:
        return ()
    ticket, asked = match.ticket, []
    names = {c.name for c in commands.extract(reply_text.visible_text(inbound.text)).commands}
    if "close" in names:
        asked.append(trust.Asked.CLOSE)
    if "status_query" in names:
        asked.append(trust.Asked.STATUS)
    if trust.needs_proof_to_reopen(ticket.status):
        asked.append(trust.Asked.REOPEN)
    if answers.cc_watchers(inbound, cfg, ticket).accepted:
        asked.append(trust.Asked.WATCHERS)
    return tuple(a.value for a in asked)


def _claim_notice(
    inbound: Inbound, facts: Facts, cfg: Config, asked: tuple[str, ...], ticket: TicketRef
) -> tuple[MailPlan, ...]:
    """Tell the owner of the address, who a forger does not read, what was asked —
    only a requester or watcher: a stranger hears nothing of the ticket."""
    known = ticket.is_participant(inbound.sender.email)
    if not asked or not known or answers.reply_refusal(inbound, facts, cfg):
        return ()
    return (MailPlan(MailKind.CLAIM_NOTICE, asked=asked),)


def _refusal_notice(
    inbound: Inbound, facts: Facts, cfg: Config, refused: tuple[AttachmentVerdict, ...]
) -> tuple[MailPlan, ...]:
    """A follow-up is not answered, except to say which attachments were not kept."""
    if not refused or answers.reply_refusal(inbound, facts, cfg):
        return ()
    return (MailPlan(MailKind.ATTACHMENT_REFUSED, refused=refused),)


def _follow_up(
    inbound: Inbound, facts: Facts, match: correlate.Match, cfg: Config, proof: trust.Trust
) -> FollowUp:
    ticket = match.ticket
    text = reply_text.written(inbound, facts)  # the full original stays in the journal
    if proof is trust.Trust.CLAIMED and trust.needs_proof_to_reopen(ticket.status):
        return FollowUp(ticket, text, match.matched_by)  # lands as text, changes nothing
    new = lifecycle.next_status(ticket.status, Trigger.USER_REPLY, bool(ticket.assignee))
    moved = new is not None and new != ticket.status
    proven = proof is trust.Trust.PROVEN
    cc = answers.cc_watchers(inbound, cfg, ticket)
    return FollowUp(
        ticket=ticket,
        text=text,
        matched_by=match.matched_by,
        status=Change("status", ticket.status, new.value) if moved and new else None,
        reopened=lifecycle.reopens(ticket.status, Trigger.USER_REPLY),
        add_watchers=cc.accepted if proven else (),
        refused_watchers=cc.refused if proven else (),
        proven=proven,
    )


def _watchers_notice(
    inbound: Inbound, facts: Facts, cfg: Config, follow: FollowUp
) -> tuple[MailPlan, ...]:
    """The requester hears once per ticket whom their Cc did not add; the ticket's
    history records every refusal."""
    if not follow.refused_watchers or facts.watchers_refused_before:
        return ()
    if answers.reply_refusal(inbound, facts, cfg):
        return ()
    reasons = answers.not_watching(follow.refused_watchers)
    return (MailPlan(MailKind.WATCHERS_REFUSED, not_watching=reasons),)
