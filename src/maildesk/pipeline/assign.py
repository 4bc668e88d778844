"""Who gets a ticket routed to a group.  Pure.

Round robin: the next available member after the one assigned last in that
group, in the order of the config.  Fewest open: the available member with the
fewest open tickets (config order breaks ties).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from maildesk.config import EngineerConfig


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
