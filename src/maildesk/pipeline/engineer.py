"""Replies that carry work: an engineer answering a notification (text relayed to
the user, `#` commands applied), or a requester's `#close` / `#status`.  Pure.

An engineer's reply counts only when it answers a notification signed for that
engineer and that ticket (see tags.py), or, where the site allows it, when the
MTA's Authentication-Results vouch for the engineer's domain.  Anything else
applies nothing and gets a reply saying why.  All or nothing: one bad command,
and none is applied.
"""

from __future__ import annotations

from maildesk.config import Config, EngineerConfig
from maildesk.domain import Change, Decision, Inbound, MailKind, MailPlan, TicketRef, Work
from maildesk.pipeline import commands, correlate, lifecycle, notify, reply_text, tags, trust, work
from maildesk.pipeline.lifecycle import Trigger
from maildesk.vocab import Reason, reason, say


def decide(
    inbound: Inbound,
    match: correlate.Match,
    person: EngineerConfig | None,
    cfg: Config,
    proof: trust.Trust,
) -> Decision | None:
    """The decision for a reply that carries work, or None for an ordinary follow-up
    (a requester's commands in a mail that only claims its sender are one: plan.py)."""
    parsed = commands.extract(reply_text.visible_text(inbound.text))
    ticket = match.ticket
    if person is not None and authorized(inbound, ticket, person, cfg):
        return _engineer(inbound, ticket, person, parsed, cfg)
    if person is not None and not ticket.is_participant(person.email):
        return _refuse(inbound, ticket, MailKind.COMMAND_REFUSED, (reason("not_signed"),))
    # the requester or a watcher (an engineer, too, on a ticket of their own)
    if parsed.commands and match.trusted and proof is trust.Trust.PROVEN:
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
    changes, errors = work.changes_for(ticket, parsed.commands, person, cfg.people)
    errors = parsed.errors or errors
    if errors:
        return _refuse(inbound, ticket, MailKind.COMMAND_ERROR, errors)
    text = _relayed_text(parsed)
    reasons = [f"escalated: {c.argument}" for c in parsed.commands if c.name == "escalate"]
    note = "\n\n".join(part for part in (*reasons, parsed.note) if part)
    action = Work(ticket, person.email, changes, text=text, note=note,
                  review=_review_note(parsed.commands), draft=_draft(parsed.commands))  # fmt: skip
    mails: list[MailPlan] = []
    if text:
        mails.append(MailPlan(MailKind.RELAY, text=text, signature=person.name))
    if any(c.name == "status_query" for c in parsed.commands):
        mails.append(MailPlan(MailKind.STATUS))
    mails += notify.about_changes(ticket, changes, person.email, cfg)
    return Decision(action, tuple(mails))


def _draft(found: tuple[commands.Command, ...]) -> str | None:
    """`#kb [title]`: the draft's title ("" for the ticket's subject); None without it."""
    return next((c.argument for c in found if c.name == "kb"), None)


DONE_WORDS = ("done", "closed", "close", "完成", "已完成", "关闭", "结束")


def _review_note(found: tuple[commands.Command, ...]) -> str | None:
    """`#review done <note>` / `#复核 完成 <说明>`: the review's closing note ("" if none);
    None when the reply has no such command."""
    for command in found:
        if command.name == "review":
            note = command.argument
            for word in sorted(DONE_WORDS, key=len, reverse=True):
                if note.casefold().startswith(word):
                    return note[len(word) :].lstrip(" :：,，。.")
            return note
    return None


def _requester(
    inbound: Inbound, ticket: TicketRef, parsed: commands.Parsed, cfg: Config
) -> Decision:
    names = {c.name for c in parsed.commands}
    sender = inbound.sender.email.lower()
    is_requester = sender == ticket.requester_email.lower()
    if parsed.errors or not names <= commands.REQUESTER_COMMANDS or not is_requester:
        return _refuse(inbound, ticket, MailKind.COMMAND_REFUSED,
                       (reason("requester_commands_only"),))  # fmt: skip
    changes = _requester_close(ticket) if "close" in names else ()
    action = Work(ticket, sender, changes, said=parsed.text)
    mails = [MailPlan(MailKind.STATUS)] if "status_query" in names else []
    if changes and parsed.text:  # "谢谢，四楼也好了": the engineer hears it
        readers = notify.targets(ticket.assignee, ticket.group, cfg)
        heard = notify.plan(readers, "requester_closed", text=parsed.text, author=_name(inbound))
        mails += [heard] if heard else []
    return Decision(action, tuple(mails))


def _requester_close(ticket: TicketRef) -> tuple[Change, ...]:
    new = lifecycle.next_status(ticket.status, Trigger.REQUESTER_CLOSE, bool(ticket.assignee))
    return (Change("status", ticket.status, new.value),) if new and new != ticket.status else ()


def _name(inbound: Inbound) -> str:
    return inbound.sender.name or inbound.sender.email


def _relayed_text(parsed: commands.Parsed) -> str:
    """What the user reads: the resolution given with #resolve, then the reply's text."""
    resolutions = [c.argument for c in parsed.commands if c.name == "resolve" and c.argument]
    return "\n\n".join(part for part in (*resolutions, parsed.text.strip()) if part)


def _refuse(
    inbound: Inbound, ticket: TicketRef, kind: MailKind, reasons: tuple[Reason, ...]
) -> Decision:
    """Nothing applies; the sender is told why, in their language (with the help text)."""
    logged = "; ".join(say(r, "en") for r in reasons)
    action = Work(ticket, inbound.sender.email, refused=logged)
    return Decision(action, (MailPlan(kind, reasons=reasons),))
