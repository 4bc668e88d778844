"""[inform]: keeping the requester informed while the desk works or waits for them.

    [inform]
    progress_minutes = 0        # business minutes in progress without a word to the
                                # requester before a progress note; 0 = never (e.g. 30)
    progress_notes = 3          # at most this many progress timers (so notes) per ticket
    waiting_remind_days = 3     # business days waiting on the user before a reminder; 0 = never
    waiting_resolve_days = 7    # business days waiting on the user before it is resolved; 0 = never

A business day is the longest working day of [calendar] hours (8 hours by default, 24
on a 24×7 calendar) of business time: "3 business days" from Friday 15:00 is Wednesday
15:00, holidays and weekends skipped, make-up working days counted.  Read it with
`cfg.section(INFORM)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from maildesk.calendar.settings import CALENDAR_SECTION
from maildesk.config import ConfigError, Table, register
from maildesk.config.registry import Context, Values
from maildesk.config.values import non_negative_number, whole_number
from maildesk.timers.settings import LIFECYCLE


@dataclass(frozen=True)
class Inform:
    progress_minutes: float
    progress_notes: int
    waiting_remind_days: float
    waiting_resolve_days: float
    day_minutes: float  # business minutes in a business day: the longest working day
    close_days: float  # [lifecycle] auto_close_days, which the auto-resolve notice states

    @property
    def progress_delay(self) -> float | None:
        return self.progress_minutes if self.progress_minutes > 0 else None

    @property
    def remind_delay(self) -> float | None:
        """Business minutes from entering "waiting on the user" to the reminder."""
        days = self.waiting_remind_days
        return days * self.day_minutes if days > 0 else None

    @property
    def resolve_delay(self) -> float | None:
        """Business minutes from entering "waiting on the user" to the auto-resolve."""
        days = self.waiting_resolve_days
        return days * self.day_minutes if days > 0 else None

    @property
    def days_left_after_reminder(self) -> str:
        """What the reminder says is left before the auto-resolve ("" when there is none)."""
        if self.resolve_delay is None:
            return ""
        return f"{self.waiting_resolve_days - self.waiting_remind_days:g}"


def _build(values: Values, ctx: Context) -> Inform:
    remind, resolve = values["waiting_remind_days"], values["waiting_resolve_days"]
    if remind > 0 and resolve > 0 and remind >= resolve:
        raise ConfigError(
            f"{ctx.key('waiting_remind_days')}: {remind:g} must be less than "
            f"waiting_resolve_days ({resolve:g}): the reminder comes before the auto-resolve "
            "(set it to 0 for none)"
        )
    hours = ctx.section(CALENDAR_SECTION).hours
    day = max(sum(span.end - span.start for span in spans) for spans in hours)
    close = ctx.section(LIFECYCLE).auto_close_days
    return Inform(values["progress_minutes"], values["progress_notes"], remind, resolve, day, close)


INFORM = register(
    Table(
        "inform",
        {
            "progress_minutes": (0, non_negative_number),
            "progress_notes": (3, whole_number(1, 1000)),
            "waiting_remind_days": (3, non_negative_number),
            "waiting_resolve_days": (7, non_negative_number),
        },
        _build,
    )
)
