"""Who gets a ticket routed to a group.  Pure.

Round robin: the next available member after the one assigned last in that
group, in the order of the config.  Fewest open: the available member with the
fewest open tickets (config order breaks ties).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from maildesk.config import Config, EngineerConfig
from maildesk.domain import Status, TicketRef

# A reply to a ticket in one of these states opens a new ticket (closed_ticket_replaced).
REPLACED_WHEN = frozenset({Status.CLOSED.value, Status.REJECTED.value})
NEVER_TICKETS = frozenset({"bounce", "delay"})  # machine mail, recorded or ignored


def facts_needed(
    cfg: Config, auto_kind: str, sender_missing: bool, matched: TicketRef | None
) -> bool:
    """Whether this message may open a ticket that routing hands to a group: only then
    are the assignment facts read (a reply, a bounce or a desk without people needs none)."""
    if not cfg.people or auto_kind in NEVER_TICKETS or sender_missing:
        return False
    return matched is None or matched.status in REPLACED_WHEN


def groups(people: Sequence[EngineerConfig]) -> list[str]:
    """Every group someone belongs to, in config order."""
    return list(dict.fromkeys(g for p in people for g in p.groups))


def members(group: str, people: Sequence[EngineerConfig]) -> list[EngineerConfig]:
    return [p for p in people if group in p.groups and p.role in ("engineer", "lead")]


def pick(
    group: str,
    people: Sequence[EngineerConfig],
    strategy: str,
    open_counts: Mapping[str, int],
    last_assigned: str,
) -> EngineerConfig | None:
    available = [p for p in members(group, people) if p.available]
    if not available:
        return None
    if strategy == "fewest_open":
        return min(available, key=lambda p: open_counts.get(p.email, 0))
    emails = [p.email for p in available]
    if last_assigned in emails:
        return available[(emails.index(last_assigned) + 1) % len(available)]
    return available[0]


def resolve(name_or_email: str, people: Sequence[EngineerConfig]) -> EngineerConfig | None:
    """An engineer named in a rule or a #assign command: by address or by name."""
    wanted = name_or_email.strip().lower()
    for person in people:
        if wanted in (person.email, person.name.lower(), person.email.split("@")[0]):
            return person
    return None
