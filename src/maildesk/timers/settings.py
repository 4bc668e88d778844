"""[lifecycle]: what the clock does to tickets left alone.

[lifecycle]
auto_close_days = 7     # a resolved ticket with no reply is closed after this; 0 = never

Read it with `cfg.section(LIFECYCLE)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from maildesk.config import Table, built_from_values, register
from maildesk.config.values import non_negative_number


@dataclass(frozen=True)
class Lifecycle:
    auto_close_days: float

    @property
    def auto_close_after(self) -> timedelta | None:
        return timedelta(days=self.auto_close_days) if self.auto_close_days > 0 else None


LIFECYCLE = register(
    Table(
        "lifecycle",
        {"auto_close_days": (7, non_negative_number)},
        built_from_values(Lifecycle),
    )
)
