"""Which digests are due (pure): the period of each kind that has just ended, once its
scheduled local time has passed, for the whole desk and for each group with leads.

Only the LATEST such period of a kind is due: after downtime the daemon catches up one
digest per kind and group, not one per missed day.  Whether it was sent already is the
store's to say (digest_runs); this module never looks.

    kind   period that has just ended        sent at (local)
    day    yesterday                        today at daily_at
    week   last Monday..Sunday              weekly_on of this week at weekly_at
    month  last month                       the 1st of this month at monthly_at
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from maildesk.config import EngineerConfig
from maildesk.digest.model import Period, PeriodKind
from maildesk.digest.settings import Digests
from maildesk.domain import Address


@dataclass(frozen=True)
class Due:
    """One digest to send: a period of one kind, for the desk (group "") or one group."""

    period: Period
    group: str
    recipients: tuple[Address, ...]
    send_at: datetime  # UTC: when it was scheduled


# --- periods -----------------------------------------------------------------------------


def local_midnight(day: date, zone: str) -> datetime:
    """The UTC instant at which a local day starts."""
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)


def period(kind: PeriodKind, first: date, last: date, zone: str) -> Period:
    start, end = local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
    return Period(kind, first, last, start, end, zone)


def day_containing(kind: PeriodKind, day: date, zone: str) -> Period:
    """The day, the Monday-to-Sunday week or the month that contains `day`."""
    if kind is PeriodKind.DAY:
        return period(kind, day, day, zone)
    if kind is PeriodKind.WEEK:
        monday = day - timedelta(days=day.weekday())
        return period(kind, monday, monday + timedelta(days=6), zone)
    if kind is PeriodKind.MONTH:
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return period(kind, first, following - timedelta(days=1), zone)
    raise ValueError(f"no schedule for {kind}")


def before(p: Period) -> Period:
    """The period of the same kind just before."""
    return day_containing(p.kind, p.first_day - timedelta(days=1), p.timezone)


# --- the schedule --------------------------------------------------------------------------


def send_time(p: Period, settings: Digests) -> datetime:
    """When a period's digest is scheduled, in UTC."""
    after = p.last_day + timedelta(days=1)  # the first day after the period
    if p.kind is PeriodKind.DAY:
        day, at = after, settings.daily_at
    elif p.kind is PeriodKind.WEEK:
        day, at = after + timedelta(days=settings.weekly_on), settings.weekly_at
    else:
        day, at = after, settings.monthly_at
    return datetime.combine(day, at, ZoneInfo(p.timezone)).astimezone(UTC)


def latest_due(kind: PeriodKind, settings: Digests, now: datetime, zone: str) -> Period:
    """The latest period of the kind whose scheduled time has passed at `now`."""
    today = now.astimezone(ZoneInfo(zone)).date()
    ended = before(day_containing(kind, today, zone))
    return ended if send_time(ended, settings) <= now else before(ended)


def kinds(settings: Digests) -> tuple[PeriodKind, ...]:
    on = ((PeriodKind.DAY, settings.daily), (PeriodKind.WEEK, settings.weekly),
          (PeriodKind.MONTH, settings.monthly))  # fmt: skip
    return tuple(kind for kind, wanted in on if wanted)


# --- recipients -----------------------------------------------------------------------------

Audience = tuple[str, tuple[Address, ...]]  # (group, recipients); group "" = whole desk


def audiences(settings: Digests, people: Sequence[EngineerConfig]) -> list[Audience]:
    """The whole desk's recipients, then each group's leads, groups in name order;
    an audience with nobody in it gets no digest."""
    desk = _unique(
        [Address(p.name, p.email) for p in people if p.role == "manager" and settings.managers]
        + [Address("", a) for a in settings.extra_recipients]
    )
    out: list[Audience] = [("", desk)] if desk else []
    if settings.leads:
        groups = sorted({g for p in people if p.role == "lead" for g in p.groups})
        for group in groups:
            leads = [Address(p.name, p.email) for p in people
                     if p.role == "lead" and group in p.groups]  # fmt: skip
            out.append((group, _unique(leads)))
    return out


def _unique(addresses: list[Address]) -> tuple[Address, ...]:
    seen: dict[str, Address] = {}
    for a in addresses:
        seen.setdefault(a.email.lower(), Address(a.name, a.email.lower()))
    return tuple(seen.values())


SUPERSEDED_WITHIN = timedelta(hours=2)


def due(settings: Digests, people: Sequence[EngineerConfig], now: datetime, zone: str) -> list[Due]:
    """Every digest whose latest period is due at `now` (sent or not: the store knows).
    A missed period whose successor is due within SUPERSEDED_WITHIN is skipped: a
    daemon started at 08:00 does not send last week's digest half an hour before this
    week's."""
    out = []
    for kind in kinds(settings):
        p = latest_due(kind, settings, now, zone)
        following = day_containing(kind, p.last_day + timedelta(days=1), zone)
        if send_time(following, settings) - now <= SUPERSEDED_WITHIN:
            continue
        at = send_time(p, settings)
        out += [Due(p, group, to, at) for group, to in audiences(settings, people)]
    return out
