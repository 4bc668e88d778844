"""How far a mail's sender is proven.  Pure.

*Proven*: the mail answers one we sent that person about that ticket (a References
tag bound to ticket and recipient, pipeline/tags.py), or the receiving MTA's
Authentication-Results, from a configured trusted authserv-id, show DMARC, DKIM or
SPF passing for the From domain.  *Claimed*: anything else — anyone can write any
From header.  A claimed mail still lands on its ticket as text (nothing is lost);
what exposes or changes a ticket (watchers, #close, reopening a closed ticket, a
status reply) needs proof, and the person whose address was used is told.
"""

from __future__ import annotations

from enum import StrEnum

from maildesk.config import Config
from maildesk.domain import Inbound, Status, TicketRef
from maildesk.pipeline import correlate, tags


class Trust(StrEnum):
    PROVEN = "proven"
    CLAIMED = "claimed"


class Asked(StrEnum):
    """What a claimed mail asked for and did not get: told to the real address."""

    CLOSE = "close"
    STATUS = "status"
    REOPEN = "reopen"
    WATCHERS = "watchers"


def of(inbound: Inbound, ticket: TicketRef, cfg: Config) -> Trust:
    sender = inbound.sender.email
    ids = correlate.referenced_ids(inbound)
    if tags.proves(ids, cfg.security.secret, ticket.number, sender):
        return Trust.PROVEN
    results = inbound.header("authentication-results")
    if tags.authenticated(results, sender, cfg.security.trusted_authserv_ids):
        return Trust.PROVEN
    return Trust.CLAIMED


def needs_proof_to_reopen(status: str) -> bool:
    """Reopening a closed ticket exposes it again: only a proven mail may."""
    return status in (Status.CLOSED, Status.REJECTED)
