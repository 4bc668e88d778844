"""Which ticket does a message belong to, and may its sender write into it?  Pure.

Candidates, in order: a ticket number in the subject (any configured prefix,
whatever `Re:`/`回复：`/`【】` surrounds it), the In-Reply-To/References chain
against every Message-ID maildesk sent or received, plus-addressing
(`support+IT-20261122-0001@…`).  A number in the subject or the address is only a
claim anyone can copy, so it is trusted only from the requester or a watcher; a
References hit proves the sender got our mail and is trusted.  The first trusted
candidate wins; if none is trusted, the first one is returned untrusted (the
caller opens a new ticket linked to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maildesk.domain import Address, Facts, Inbound, TicketRef


@dataclass(frozen=True)
class Match:
    ticket: TicketRef
    matched_by: str
    trusted: bool


def numbers_in(subject: str, pattern: re.Pattern[str]) -> list[str]:
    """Ticket numbers named in a subject, upper-cased, in order of appearance."""
    return [m.group(1).upper() for m in pattern.finditer(subject)]


def referenced_ids(inbound: Inbound) -> list[str]:
    ids = [inbound.in_reply_to, *reversed(inbound.references)]
    return [i for i in dict.fromkeys(ids) if i]


def plus_numbers(inbound: Inbound, support_address: str, pattern: re.Pattern[str]) -> list[str]:
    """Numbers from `support+NUMBER@domain` among the recipients."""
    local, _, domain = support_address.lower().partition("@")
    found = []
    for addr in (*inbound.to, *inbound.cc, Address("", inbound.header("delivered-to"))):
        box, _, host = addr.email.lower().partition("@")
        base, plus, tag = box.partition("+")
        if plus and base == local and host == domain:
            found += numbers_in(tag, pattern)
    return found


def find(inbound: Inbound, facts: Facts) -> Match | None:
    sender = inbound.sender.email
    candidates = [
        (facts.ticket_by_number, "subject number", False),
        (facts.ticket_by_reference, "references", True),
        (facts.ticket_by_plus, "plus address", False),
    ]
    first: Match | None = None
    for ticket, how, proves in candidates:
        if ticket is None:
            continue
        match = Match(ticket, how, proves or ticket.is_participant(sender))
        if match.trusted:
            return match
        first = first or match
    return first
