"""[sla]: the service levels, per priority, in business hours.

    [sla]
    response_hours = { urgent = 1, high = 2, medium = 4, low = 8 }   # first response
    resolution_hours = {}              # e.g. { urgent = 9, low = 45 }; none when absent
    update_hours = {}                  # e.g. { urgent = 2, low = 16 }; none when absent
    calendar = { urgent = "business" } # "business" (the business calendar) or "24x7"
    remind_at = 0.75                   # the assignee is reminded at this share of a target
    escalation_hours = { urgent = [1], high = [2], medium = [4], low = [8] }

A target is counted in the policy's calendar: "business" hours of the [calendar]
section (holidays and make-up days included), or "24x7".  At breach the group lead is
mailed (escalation level 1); each number of `escalation_hours` is a further level,
that many hours (same calendar) after the breach, mailed to the managers.  The update
target (off unless `update_hours` names the priority) runs from each engineer's public
reply to the next, once the first response is given.  A priority
left out keeps its default; an unknown one is an error naming `sla.<key>.<priority>`.
Read it with `cfg.section(SLA_SECTION)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from maildesk.config import PRIORITIES, ConfigError, Table, built_from_values, register
from maildesk.config.values import positive_number

DEFAULT_RESPONSE_HOURS: Mapping[str, float] = MappingProxyType(
    {"urgent": 1, "high": 2, "medium": 4, "low": 8}
)
DEFAULT_ESCALATION_HOURS: Mapping[str, list[float]] = MappingProxyType(
    {"urgent": [1], "high": [2], "medium": [4], "low": [8]}
)  # as maildesk.toml writes it; built into tuples
CALENDARS = ("business", "24x7")
TARGETS = ("response", "resolution", "update")  # the order of their timer steps (steps.py)


@dataclass(frozen=True)
class SlaSettings:
    response_hours: Mapping[str, float]  # priority -> hours, every priority present
    resolution_hours: Mapping[str, float]  # priority -> hours; absent = no target
    calendar: Mapping[str, str]  # priority -> "business" | "24x7"
    remind_at: float  # share of a target, 0 < x < 1; 0 = no reminders
    escalation_hours: Mapping[str, tuple[float, ...]]  # after the breach, per level ≥ 2
    # priority -> hours from one message to the requester to the next; absent = none
    update_hours: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def target_minutes(self, target: str, priority: str) -> float | None:
        """The target's length in minutes of the policy's calendar, None when off."""
        hours = {"response": self.response_hours, "resolution": self.resolution_hours,
                 "update": self.update_hours}[target]  # fmt: skip
        value = hours.get(priority)
        return None if value is None else value * 60

    def around_the_clock(self, priority: str) -> bool:
        return self.calendar.get(priority, "business") == "24x7"


def _table(key: str, value: Any, example: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key}: expected a table per priority like {example}, got {value!r}")
    for priority in value:
        if priority not in PRIORITIES:
            known = ", ".join(PRIORITIES)
            raise ConfigError(f"{key}.{priority}: unknown priority (known: {known})")
    return value


def hours_per_priority(key: str, value: Any) -> Mapping[str, float]:
    """A table of hours per priority; missing priorities keep their default."""
    merged = {**DEFAULT_RESPONSE_HOURS, **_table(key, value, "{ urgent = 1, high = 2 }")}
    return MappingProxyType({p: positive_number(f"{key}.{p}", merged[p]) for p in PRIORITIES})


def optional_hours(key: str, value: Any) -> Mapping[str, float]:
    """Hours per priority; a priority left out has no such target."""
    given = _table(key, value, "{ urgent = 9, low = 45 }")
    return MappingProxyType({p: positive_number(f"{key}.{p}", h) for p, h in given.items()})


def calendar_per_priority(key: str, value: Any) -> Mapping[str, str]:
    given = _table(key, value, '{ urgent = "24x7" }')
    for priority, name in given.items():
        if name not in CALENDARS:
            raise ConfigError(f"{key}.{priority}: expected one of {', '.join(CALENDARS)}, "
                              f"got {name!r}")  # fmt: skip
    return MappingProxyType({p: str(given.get(p, "business")) for p in PRIORITIES})


def share(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"{key}: expected a share from 0 to below 1 (0.75 = 75 %), "
                          f"got {value!r}")  # fmt: skip
    return float(value)


def levels_per_priority(key: str, value: Any) -> Mapping[str, tuple[float, ...]]:
    """Hours after the breach of each further escalation level, rising."""
    merged = {**DEFAULT_ESCALATION_HOURS, **_table(key, value, "{ urgent = [1, 4] }")}
    out = {}
    for priority in PRIORITIES:
        hours = merged[priority]
        if not isinstance(hours, list | tuple):
            raise ConfigError(f"{key}.{priority}: expected a list of hours, got {hours!r}")
        levels = tuple(positive_number(f"{key}.{priority}", h) for h in hours)
        if list(levels) != sorted(levels):
            raise ConfigError(f"{key}.{priority}: the hours must rise, got {list(levels)}")
        out[priority] = levels
    return MappingProxyType(out)


SLA_SECTION = register(
    Table(
        "sla",
        {
            "response_hours": (DEFAULT_RESPONSE_HOURS, hours_per_priority),
            "resolution_hours": ({}, optional_hours),
            "calendar": ({}, calendar_per_priority),
            "remind_at": (0.75, share),
            "escalation_hours": (DEFAULT_ESCALATION_HOURS, levels_per_priority),
            "update_hours": ({}, optional_hours),
        },
        built_from_values(SlaSettings),
    )
)
