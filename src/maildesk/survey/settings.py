"""[survey]: the satisfaction survey after resolution, and the review of a low score.

[survey]
enabled = true            # ask every requester after each resolution
delay_minutes = 0         # after the resolution; 0 = on the daemon's next tick
review_hours = 24         # a score <= 2 opens a review due in this many business hours
review_remind_share = 0.75  # the review's owners are reminded at this share of it
answer_within_days = 30   # a plain reply counts as an answer this long after the survey

Read it with `cfg.section(SURVEY)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from maildesk.config import ConfigError, Table, built_from_values, register
from maildesk.config.values import flag, non_negative_number, positive_number


def share(key: str, value: Any) -> float:
    number = positive_number(key, value)
    if number >= 1:
        raise ConfigError(f"{key}: a share of the target, above 0 and below 1 (got {value!r})")
    return number


@dataclass(frozen=True)
class Survey:
    enabled: bool
    delay_minutes: float
    review_hours: float
    review_remind_share: float
    answer_within_days: float

    @property
    def delay(self) -> timedelta | None:
        """After a resolution, when the survey goes; None: surveys are off."""
        return timedelta(minutes=self.delay_minutes) if self.enabled else None

    @property
    def answer_within(self) -> timedelta:
        return timedelta(days=self.answer_within_days)


SURVEY = register(
    Table(
        "survey",
        {
            "enabled": (True, flag),
            "delay_minutes": (0, non_negative_number),
            "review_hours": (24, positive_number),
            "review_remind_share": (0.75, share),
            "answer_within_days": (30, positive_number),
        },
        built_from_values(Survey),
    )
)
