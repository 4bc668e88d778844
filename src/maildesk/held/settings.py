"""[limits]: when mail is held back and summarised instead of sent one by one.

[limits]
new_tickets_per_sender = 5     # in window_minutes; beyond it: held, then summarised
window_minutes = 10
coalesce_seconds = 60          # follow-ups to one ticket this close make one notification
held_summary_minutes = 60      # the group lead hears of held mail at most this often
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from maildesk.config import Table, built_from_values, register
from maildesk.config.values import non_negative_number, positive_number, whole_number


@dataclass(frozen=True)
class Limits:
    new_tickets_per_sender: int
    window_minutes: float
    coalesce_seconds: float
    held_summary_minutes: float

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)

    @property
    def coalesce(self) -> timedelta:
        return timedelta(seconds=self.coalesce_seconds)

    @property
    def summary_every(self) -> timedelta:
        return timedelta(minutes=self.held_summary_minutes)


LIMITS = register(
    Table(
        "limits",
        {
            "new_tickets_per_sender": (5, whole_number(1, 100000)),
            "window_minutes": (10, positive_number),
            "coalesce_seconds": (60, non_negative_number),
            "held_summary_minutes": (60, positive_number),
        },
        built_from_values(Limits),
    )
)
