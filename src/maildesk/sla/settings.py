"""[sla]: the first-response targets of the service standard, in hours per priority.

    [sla]
    response_hours = { urgent = 1, high = 2, medium = 4, low = 8 }

A priority left out keeps its default; an unknown one is an error naming
`sla.response_hours.<key>`.  Read it with `cfg.section(SLA_SECTION)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from maildesk.config import PRIORITIES, ConfigError, Table, built_from_values, register
from maildesk.config.values import positive_number

DEFAULT_RESPONSE_HOURS: Mapping[str, float] = MappingProxyType(
    {"urgent": 1, "high": 2, "medium": 4, "low": 8}
)


@dataclass(frozen=True)
class SlaSettings:
    response_hours: Mapping[str, float]  # priority -> hours, every priority present

    def response_due(self, created_at: datetime, priority: str) -> datetime:
        """When the first response to a ticket of this priority, created then, is due."""
        if priority not in self.response_hours:
            raise ValueError(f"unknown priority {priority!r} (known: {', '.join(PRIORITIES)})")
        return created_at + timedelta(hours=self.response_hours[priority])


def hours_per_priority(key: str, value: Any) -> Mapping[str, float]:
    """A table of hours per priority; missing priorities keep their default."""
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{key}: expected a table of hours per priority like {{ urgent = 1, high = 2 }}, "
            f"got {value!r}"
        )
    for priority in value:
        if priority not in PRIORITIES:
            known = ", ".join(PRIORITIES)
            raise ConfigError(f"{key}.{priority}: unknown priority (known: {known})")
    merged = {**DEFAULT_RESPONSE_HOURS, **value}
    return MappingProxyType({p: positive_number(f"{key}.{p}", merged[p]) for p in PRIORITIES})


SLA_SECTION = register(
    Table(
        "sla",
        {"response_hours": (DEFAULT_RESPONSE_HOURS, hours_per_priority)},
        built_from_values(SlaSettings),
    )
)
