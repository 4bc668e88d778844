"""What a digest says, as plain values: the contract between the figures (SQL aggregates,
`digest/collect.py`), the pictures (`digest/charts.py`), the mail and report formats
(`digest/render.py`, `digest/formats.py`) and the schedule (`digest/schedule.py`).

Every time is an aware datetime in UTC; days are local dates in the desk's timezone
(`[tickets] timezone`).  Durations are business minutes of the ticket's SLA calendar.
A period is half-open: start <= t < end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"  # Monday to Sunday, local
    MONTH = "month"
    RANGE = "range"  # FROM..TO given on the command line (TO inclusive, as people say it)


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    first_day: date  # local
    last_day: date  # local, inclusive
    start: datetime  # UTC: local midnight of first_day
    end: datetime  # UTC: local midnight after last_day (exclusive)
    timezone: str

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True)
class Counts:
    """Tickets opened, resolved, closed and reopened within the period (events in it)."""

    opened: int = 0
    resolved: int = 0
    closed: int = 0
    reopened: int = 0


@dataclass(frozen=True)
class Backlog:
    """Tickets not resolved or closed at the period's end, and how old they were then."""

    open: int = 0
    median_age_hours: float | None = None  # wall-clock hours since creation, at the end
    older_than_week: int = 0  # created more than 7 days before the end


@dataclass(frozen=True)
class Share:
    """One row of a breakdown (a category, priority, group or engineer)."""

    name: str  # the stored value ("硬件故障", "urgent", "desktop", "li.lei@example.com")
    opened: int  # opened in the period
    resolved: int  # resolved in the period
    open_at_end: int  # in the backlog at the end (for an engineer: assigned to them)


@dataclass(frozen=True)
class SlaFigure:
    """Targets of one kind decided in the period: met, or missed.  A target is decided at
    the earlier of when it was met and when it fell due, so each counts in one period."""

    target: str  # "response" | "resolution"
    met: int = 0
    missed: int = 0
    provisional: int = 0  # of those, due times computed without an official calendar year

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def rate(self) -> float | None:
        """Share met, 0..1; None when nothing was decided."""
        return self.met / self.decided if self.decided else None


@dataclass(frozen=True)
class Breach:
    """A target missed in the period."""

    number: str
    subject: str
    assignee: str  # address, "" when unassigned
    target: str  # "response" | "resolution"
    due_at: datetime
    late_minutes: float  # business minutes from due to met (or to the period's end)


@dataclass(frozen=True)
class Durations:
    """Business minutes from creation to first response (or to resolution), for tickets
    whose response (resolution) happened in the period."""

    count: int = 0
    median_minutes: float | None = None
    p90_minutes: float | None = None  # nearest-rank 90th percentile


@dataclass(frozen=True)
class Satisfaction:
    surveys_sent: int = 0  # survey mails written in the period
    answers: int = 0  # current (not replaced) answers given in the period
    distribution: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # score 1..5
    reviews_opened: int = 0  # reviews opened in the period
    reviews_open_at_end: int = 0  # any review still open at the end
    reviews_closed: int = 0  # reviews closed in the period

    @property
    def average(self) -> float | None:
        total = sum(self.distribution)
        return sum((i + 1) * n for i, n in enumerate(self.distribution)) / total if total else None

    @property
    def response_rate(self) -> float | None:
        """Answers per survey sent, 0..1 (capped); None when no survey was sent."""
        return min(1.0, self.answers / self.surveys_sent) if self.surveys_sent else None


@dataclass(frozen=True)
class TicketRef:
    number: str
    subject: str


@dataclass(frozen=True)
class RecurringTerm:
    """A term or phrase that recurs in a category's subjects and descriptions."""

    category: str
    term: str
    count: int  # tickets of the period that mention it
    previous: int  # tickets of the previous period that mention it
    examples: tuple[TicketRef, ...]  # at most two, newest first
    has_article: bool = False  # a knowledge-base article covers it (issue 13)


@dataclass(frozen=True)
class ArticleUse:
    """Knowledge base (issue 13): one article's suggestions and self-service credits."""

    name: str
    title: str
    suggested: int
    helped: int


@dataclass(frozen=True)
class SelfService:
    """Knowledge base (issue 13): tickets resolved by the user with an article."""

    resolved_self: int = 0
    resolved_total: int = 0
    articles: tuple[ArticleUse, ...] = ()  # most helpful first

    @property
    def rate(self) -> float | None:
        return self.resolved_self / self.resolved_total if self.resolved_total else None


@dataclass(frozen=True)
class DayCount:
    day: date  # local
    opened: int
    resolved: int


@dataclass(frozen=True)
class WeekSla:
    week_start: date  # local Monday
    met: int
    missed: int


@dataclass(frozen=True)
class Figures:
    """Everything one digest or report says, for the whole desk (group "") or one group."""

    period: Period
    previous: Period  # the period of the same length just before
    group: str
    counts: Counts
    previous_counts: Counts
    backlog: Backlog
    previous_backlog: Backlog
    by_category: tuple[Share, ...]
    by_priority: tuple[Share, ...]
    by_group: tuple[Share, ...]
    by_engineer: tuple[Share, ...]
    sla: tuple[SlaFigure, ...]  # response, then resolution
    previous_sla: tuple[SlaFigure, ...]
    breaches: tuple[Breach, ...]  # most late first
    response_time: Durations
    previous_response_time: Durations
    resolution_time: Durations
    previous_resolution_time: Durations
    satisfaction: Satisfaction
    previous_satisfaction: Satisfaction
    recurring: tuple[RecurringTerm, ...]
    daily: tuple[DayCount, ...]  # every day of the period (a day digest: the last 14 days)
    weekly_sla: tuple[WeekSla, ...]  # the 8 weeks ending with the period's last day
    missing_calendar_years: tuple[int, ...]  # next year's holidays not loaded, etc.
    self_service: SelfService | None = None  # None until the knowledge base exists

    @property
    def empty(self) -> bool:
        """Nothing happened and nothing is open: the digest says so in one line.  A
        survey answer, a review or an SLA target decided in the period is news."""
        return (
            self.counts == Counts()
            and self.backlog.open == 0
            and self.satisfaction == Satisfaction()
            and not self.breaches
            and all(f.decided == 0 for f in self.sla)
        )
