"""Held mail → the summaries that replace it.  Pure.

- a flood's notifications: one summary per engineer, once the window has passed;
- a flood's acknowledgments: one acknowledgment listing the numbers;
- a burst of follow-ups: one notification per engineer and ticket with every text;
- an auto-responder loop: stays held (a person may release it) and the group's lead
  hears of it at most once per `held_summary_minutes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from maildesk.domain import MailKind
from maildesk.held import policy
from maildesk.held.settings import Limits


@dataclass(frozen=True)
class Held:
    """One held outbox row, with what a summary says of it."""

    id: int
    ticket_id: int | None
    number: str
    group: str
    kind: str  # the mail kind held: ack, notification, …
    to: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Summary:
    kind: MailKind
    to: str
    items: tuple[Held, ...]
    replaces: bool  # the held rows are superseded (flood, coalesced), not just reported


def plan(
    held: Iterable[Held],
    now: datetime,
    limits: Limits,
    leads_of: Callable[[str], list[str]],
    last_told: Mapping[str, datetime],
) -> list[Summary]:
    rows = list(held)
    return [*_floods(rows, now, limits), *_bursts(rows, now, limits),
            *_loops(rows, now, limits, leads_of, last_told)]  # fmt: skip


FLOOD_KINDS = {"notification": MailKind.FLOOD_SUMMARY, "ack": MailKind.FLOOD_ACK}


def _floods(rows: list[Held], now: datetime, limits: Limits) -> list[Summary]:
    groups = _group(rows, policy.FLOOD, lambda h: (h.to, h.kind))
    return [
        Summary(FLOOD_KINDS[kind], to, items, replaces=True)
        for (to, kind), items in groups.items()
        if kind in FLOOD_KINDS and items[0].at <= now - limits.window
    ]


def _bursts(rows: list[Held], now: datetime, limits: Limits) -> list[Summary]:
    groups = _group(rows, policy.COALESCED, lambda h: (h.to, h.ticket_id))
    return [
        Summary(MailKind.NOTIFICATION, to, items, replaces=True)
        for (to, _), items in groups.items()
        if items[0].at <= now - limits.coalesce
    ]


def _loops(
    rows: list[Held],
    now: datetime,
    limits: Limits,
    leads_of: Callable[[str], list[str]],
    last_told: Mapping[str, datetime],
) -> list[Summary]:
    by_lead: dict[str, list[Held]] = {}
    for row in (r for r in rows if policy.kind_of(r.reason) == policy.LOOP):
        for lead in leads_of(row.group):
            if row.at > last_told.get(lead, datetime.min.replace(tzinfo=now.tzinfo)):
                by_lead.setdefault(lead, []).append(row)
    return [
        Summary(MailKind.HELD_SUMMARY, lead, tuple(items), replaces=False)
        for lead, items in by_lead.items()
        if now - last_told.get(lead, now - limits.summary_every) >= limits.summary_every
    ]


def _group(
    rows: list[Held], kind: str, key: Callable[[Held], tuple[str, object]]
) -> dict[tuple[str, object], tuple[Held, ...]]:
    groups: dict[tuple[str, object], list[Held]] = {}
    for row in sorted(rows, key=lambda r: r.at):
        if policy.kind_of(row.reason) == kind:
            groups.setdefault(key(row), []).append(row)
    return {k: tuple(v) for k, v in groups.items()}
