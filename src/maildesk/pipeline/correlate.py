"""Which ticket does a message belong to?  Pure: facts are looked up beforehand.

Order: a ticket number in the subject (trusted only from the requester), then
In-Reply-To/References against every Message-ID maildesk sent or received.
"""

from __future__ import annotations

import re

from maildesk.domain import Facts, FollowUp, Inbound


def numbers_in(subject: str, pattern: re.Pattern[str]) -> list[str]:
    """Ticket numbers named in a subject, upper-cased, in order of appearance."""
    return [m.group(1).upper() for m in pattern.finditer(subject)]


def referenced_ids(inbound: Inbound) -> list[str]:
    ids = [inbound.in_reply_to, *reversed(inbound.references)]
    return [i for i in dict.fromkeys(ids) if i]


def find(inbound: Inbound, facts: Facts) -> FollowUp | None:
    by_number = facts.ticket_by_number
    if by_number and by_number.requester_email.lower() == inbound.sender.email.lower():
        return FollowUp(ticket=by_number, text=inbound.text, matched_by="subject number")
    if facts.ticket_by_reference:
        return FollowUp(facts.ticket_by_reference, inbound.text, matched_by="references")
    return None
