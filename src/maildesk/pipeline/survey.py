"""Is this mail an answer to a satisfaction survey?  Pure.

An early step of plan.py, before threading decides between follow-up and new ticket:
a survey answer is neither.  It never reopens the ticket and is never acknowledged.

- A one-click answer: the subject carries `满意度 <score> <token>` (survey/answers.py)
  and a ticket number.  A token that does not prove (ticket, score, sender) is refused:
  the ticket's history notes it, nothing else changes, nobody is mailed.
- A plain reply: the ticket had a survey (facts.survey), is resolved or closed, the
  sender is its requester, and the mail either answers the survey mail (In-Reply-To /
  References) or names the ticket within [survey] answer_within_days of it; its first
  written line starts with a score.  Anything else is an ordinary follow-up.

Automatic mail never answers a survey (an out-of-office quoting the subject).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from maildesk.config import Config
from maildesk.domain import Decision, Facts, Ignore, Inbound, Status, SurveyAnswer
from maildesk.pipeline import correlate, reply_text
from maildesk.survey import answers
from maildesk.survey.settings import SURVEY

ANSWERABLE = (Status.RESOLVED, Status.CLOSED)


class Kind(Protocol):
    @property
    def kind(self) -> str: ...


def decide(
    inbound: Inbound,
    facts: Facts,
    cfg: Config,
    now: datetime,
    auto: Kind,
    match: correlate.Match | None,
) -> Decision | None:
    """The decision for a survey answer, or None when the mail is not one."""
    if auto.kind != "human":
        return None
    link = answers.link_in(inbound.subject)
    if link is not None:
        return _one_click(inbound, facts, cfg.security.secret, link)
    return _plain_reply(inbound, facts, cfg, now, match)


def _one_click(inbound: Inbound, facts: Facts, secret: str, link: answers.Link) -> Decision:
    ticket = facts.ticket_by_number
    if ticket is None:
        return Decision(Ignore("survey answer naming no ticket of ours"), ())
    sender = inbound.sender.email
    why = answers.forged(link, secret, ticket.number, sender)
    if not why and sender.lower() != ticket.requester_email.lower():
        why = "survey answers are taken from the ticket's requester only"
    if why:
        return Decision(SurveyAnswer(ticket, refused=why), ())
    said = reply_text.written(inbound, facts)
    return Decision(SurveyAnswer(ticket, link.score, said.strip(), via="link"), ())


def _plain_reply(
    inbound: Inbound, facts: Facts, cfg: Config, now: datetime, match: correlate.Match | None
) -> Decision | None:
    sent = facts.survey
    if sent is None or match is None or not match.trusted or match.ticket.id != sent.ticket_id:
        return None
    ticket = match.ticket
    if ticket.status not in ANSWERABLE:
        return None
    if inbound.sender.email.lower() != ticket.requester_email.lower():
        return None
    answering = any(n in mid for mid in correlate.referenced_ids(inbound) for n in sent.nonces)
    if not answering and now - sent.sent_at > cfg.section(SURVEY).answer_within:
        return None
    scored = answers.read(reply_text.written(inbound, facts))
    if scored is None:
        return None
    return Decision(SurveyAnswer(ticket, scored.score, scored.comment, via="reply"), ())
