"""Replies that carry work: an engineer answering a notification (text relayed to
the user, `#` commands applied), or a requester's `#close` / `#status`.  Pure.

An engineer's reply counts only when it answers a notification signed for that
engineer and that ticket (see tags.py), or, where the site allows it, when the
MTA's Authentication-Results vouch for the engineer's domain.  Anything else
applies nothing and gets a reply saying why.  All or nothing: one bad command,
and none is applied.
"""

from __future__ import annotations

from dataclasses import replace

from maildesk.config import Config, EngineerConfig
from maildesk.domain import Address, Decision, Inbound, MailPlan, TicketRef, Work
from maildesk.pipeline import commands, correlate, reply_text, tags, work


def decide(
    inbound: Inbound, match: correlate.Match, person: EngineerConfig | None, cfg: Config
) -> Decision | None:
    """The decision for a reply that carries work, or None for an ordinary follow-up."""
    parsed = commands.extract(reply_text.visible_text(inbound.text))
    ticket = match.ticket
    if person is not None and authorized(inbound, ticket, person, cfg):
        return _engineer(inbound, ticket, person, parsed, cfg)
    if person is not None and not ticket.is_participant(person.email):
        reason = ("not a reply to a notification maildesk sent you about this ticket "
                  "(the From header alone is not trusted)")  # fmt: skip
        return _refuse(inbound, ticket, reason, "command_refused", ())
    # the requester or a watcher (an engineer, too, on a ticket of their own)
    if parsed.commands and match.trusted:
        return _requester(inbound, match.ticket, parsed, cfg)
    return None


def authorized(inbound: Inbound, ticket: TicketRef, person: EngineerConfig, cfg: Config) -> bool:
    sec = cfg.security
    ids = correlate.referenced_ids(inbound)
    signed = tags.proves(ids, sec.secret, ticket.number, person.email)
    vouched = tags.authenticated(
        inbound.header("authentication-results"), person.email, sec.trusted_authserv_ids
    )
    if sec.require_authentication:
        return signed and vouched
    return signed or (sec.accept_authenticated_mail and vouched)


def _engineer(
    inbound: Inbound,
    ticket: TicketRef,
    person: EngineerConfig,
    parsed: commands.Parsed,
    cfg: Config,
) -> Decision:
    if parsed.errors:
        return _refuse(inbound, ticket, "; ".join(parsed.errors), "command_error",
                       (*parsed.errors, "", commands.help_text(cfg.locale)))  # fmt: skip
    changes, errors = work.changes_for(ticket, parsed.commands, person, cfg.people)
    if errors:
        return _refuse(inbound, ticket, "; ".join(errors), "command_error",
                       (*errors, "", commands.help_text(cfg.locale)))  # fmt: skip
    text = _relayed_text(parsed)
    reasons = [f"escalated: {c.argument}" for c in parsed.commands if c.name == "escalate"]
    note = "\n\n".join(part for part in (*reasons, parsed.note) if part)
    action = Work(ticket, person.email, changes, text=text, note=note)
    mails = _relays(ticket, text, person) if text else ()
    if any(c.name == "status_query" for c in parsed.commands):
        mails += (_to_sender(inbound, "status"),)
    return Decision(action, mails)


def _requester(
    inbound: Inbound, ticket: TicketRef, parsed: commands.Parsed, cfg: Config
) -> Decision:
    names = {c.name for c in parsed.commands}
    is_requester = inbound.sender.email.lower() == ticket.requester_email.lower()
    if parsed.errors or not names <= commands.REQUESTER_COMMANDS or not is_requester:
        reason = "requesters may only use #close and #status on their own tickets"
        return _refuse(inbound, ticket, reason, "command_refused", ())
    changes, _ = work.changes_for(ticket, parsed.commands, None, cfg.people)
    action = Work(ticket, inbound.sender.email, changes, note=parsed.text)
    mails = (_to_sender(inbound, "status"),) if "status_query" in names else ()
    return Decision(action, mails)


def _relayed_text(parsed: commands.Parsed) -> str:
    """What the user reads: the resolution given with #resolve, then the reply's text."""
    resolutions = [c.argument for c in parsed.commands if c.name == "resolve" and c.argument]
    return "\n\n".join(part for part in (*resolutions, parsed.text.strip()) if part)


def _relays(ticket: TicketRef, text: str, person: EngineerConfig) -> tuple[MailPlan, ...]:
    """The engineer's words, from the support address, to the requester and watchers."""
    people = [Address(ticket.requester_name, ticket.requester_email)]
    people += [Address("", w) for w in sorted(ticket.watchers)]
    return tuple(MailPlan("relay", to, "", (), text=text, signature=person.name) for to in people)


def _refuse(
    inbound: Inbound, ticket: TicketRef, reason: str, template: str, lines: tuple[str, ...]
) -> Decision:
    action = Work(ticket, inbound.sender.email, refused=reason)
    return Decision(action, (replace(_to_sender(inbound, template), lines=(reason, *lines)),))


def _to_sender(inbound: Inbound, template: str) -> MailPlan:
    refs = (*inbound.references, inbound.message_id) if inbound.message_id else inbound.references
    return MailPlan(template, inbound.sender, inbound.message_id, tuple(refs))
