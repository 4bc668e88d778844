"""[digests]: when the managers' digests go out, and to whom.

    [digests]
    daily = true              # yesterday's digest, every day at daily_at (local time)
    daily_at = "08:30"
    weekly = true             # last week's (Monday to Sunday), on weekly_on at weekly_at
    weekly_on = "monday"
    weekly_at = "08:30"
    monthly = false           # last month's, on the 1st at monthly_at
    monthly_at = "08:30"
    managers = true           # the whole desk's digest to every [[people]] manager
    leads = true              # each group's digest to the leads of that group
    extra_recipients = []     # more addresses for the whole desk's digest

Times are in the desk's zone ([tickets] timezone).  Read it with `cfg.section(DIGESTS)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Any

from maildesk.config import ConfigError, Table, built_from_values, register
from maildesk.config.values import email_list, flag, text

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def clock_time(key: str, value: Any) -> time:
    """ "08:30" (24-hour, local)."""
    found = _CLOCK.match(text(key, value))
    if not found:
        raise ConfigError(f'{key}: expected a time of day like "08:30", got {value!r}')
    return time(int(found.group(1)), int(found.group(2)))


def weekday(key: str, value: Any) -> int:
    """ "monday" … "sunday" → 0 … 6."""
    name = text(key, value).strip().lower()
    if name not in WEEKDAYS:
        raise ConfigError(f"{key}: expected a day of the week ({', '.join(WEEKDAYS)}), "
                          f"got {value!r}")  # fmt: skip
    return WEEKDAYS.index(name)


def lowered_emails(key: str, value: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.lower() for a in email_list(key, value)))


@dataclass(frozen=True)
class Digests:
    daily: bool
    daily_at: time
    weekly: bool
    weekly_on: int  # 0 = Monday
    weekly_at: time
    monthly: bool
    monthly_at: time
    managers: bool
    leads: bool
    extra_recipients: tuple[str, ...]


DIGESTS = register(
    Table(
        "digests",
        {
            "daily": (True, flag),
            "daily_at": ("08:30", clock_time),
            "weekly": (True, flag),
            "weekly_on": ("monday", weekday),
            "weekly_at": ("08:30", clock_time),
            "monthly": (False, flag),
            "monthly_at": ("08:30", clock_time),
            "managers": (True, flag),
            "leads": (True, flag),
            "extra_recipients": ([], lowered_emails),
        },
        built_from_values(Digests),
    )
)
