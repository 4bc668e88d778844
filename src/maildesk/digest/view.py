"""A digest's figures as the words and numbers a manager reads.  Pure.

`view(figures, cfg, locale)` gives the values both templates of a locale render (the text
part and the HTML part read the same strings, so they say the same figures): numbers with
separators, rates as percentages, business time in minutes or hours, names in the reader's
language (vocab), each change against the previous period as an arrow and the previous value.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from maildesk import vocab
from maildesk.config import Config
from maildesk.digest.model import Breach, Durations, Figures, Period, PeriodKind, Share, SlaFigure
from maildesk.digest.words import word

BREACHES_SHOWN = 20
SHARES_SHOWN = 15
SUBJECT_CHARS = 60
NAME_CHARS = 40


@dataclass(frozen=True)
class Change:
    """A figure, the arrow from the previous period's, and that previous value."""

    value: str
    arrow: str  # "↑", "↓", or "" when equal or nothing to compare with
    previous: str


def view(figures: Figures, cfg: Config, locale: str) -> dict[str, Any]:
    f, say = figures, Say(locale)
    return {
        "title": subject(f, cfg, locale),
        "heading": heading(f, cfg, locale),
        "period": period_label(f.period),
        "previous_period": period_label(f.previous),
        "group": one_line(f.group, NAME_CHARS),
        "empty": f.empty,
        "headline": headline(f, say),
        "backlog": backlog(f, say),
        "sla": [sla_row(now, before, say) for now, before in _pairs(f.sla, f.previous_sla)],
        "breaches": [breach_row(b, cfg, say) for b in f.breaches[:BREACHES_SHOWN]],
        "breaches_more": max(0, len(f.breaches) - BREACHES_SHOWN),
        "times": times(f, say),
        "breakdowns": breakdowns(f, cfg, say),
        "satisfaction": satisfaction(f, say),
        "recurring": recurring(f, say),
        "self_service": self_service(f, say),
        "calendar_years": [str(y) for y in f.missing_calendar_years],
        "daily": [(f"{d.day:%m-%d}", say.n(d.opened), say.n(d.resolved)) for d in f.daily],
        "weekly_sla": [
            (
                f"{w.week_start:%m-%d}",
                say.n(w.met),
                say.n(w.missed),
                say.pct(w.met / (w.met + w.missed) if w.met + w.missed > 0 else None),
            )
            for w in f.weekly_sla
        ],
        "table": text_table,
    }


class Say:
    """Numbers and durations written for one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def w(self, key: str) -> str:
        return word(key, self.locale)

    def n(self, value: float) -> str:
        if isinstance(value, int):
            return f"{value:,}"
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"

    def pct(self, rate: float | None) -> str:
        return "–" if rate is None else f"{rate * 100:.1f}%"

    def minutes(self, minutes: float | None) -> str:
        """Business time: minutes under an hour, else hours to one decimal."""
        if minutes is None:
            return "–"
        if minutes < 60:
            return f"{minutes:,.0f} {self.w('unit_min')}"
        return f"{minutes / 60:,.1f} {self.w('unit_h')}"

    def age(self, hours: float | None) -> str:
        """Wall-clock age: hours under two days, else days."""
        if hours is None:
            return "–"
        if hours < 48:
            return f"{hours:,.0f} {self.w('unit_h')}"
        return f"{hours / 24:,.1f} {self.w('unit_d')}"

    def change(self, now: float | None, before: float | None, fmt: Callable[[Any], str]) -> Change:
        arrow = ""
        if now is not None and before is not None and now != before:
            arrow = "↑" if now > before else "↓"
        return Change(fmt(now), arrow, fmt(before))


def subject(f: Figures, cfg: Config, locale: str) -> str:
    """`IT服务台周报 2026-11-23 – 2026-11-29（network 组）`."""
    return "".join(heading(f, cfg, locale))


def heading(f: Figures, cfg: Config, locale: str) -> tuple[str, str, str]:
    """The subject's parts: the desk and the kind of digest, the period, the group."""
    kind = word(f"digest_{f.period.kind.value}", locale)
    sep = "" if locale == "zh-CN" else " "
    group = one_line(f.group, NAME_CHARS)
    for_group = word("for_group", locale).format(group=group) if group else ""
    return (
        f"{one_line(cfg.support_name, NAME_CHARS)}{sep}{kind} ",
        period_label(f.period),
        for_group,
    )


def period_label(p: Period) -> str:
    if p.kind is PeriodKind.DAY or p.first_day == p.last_day:
        return f"{p.first_day:%Y-%m-%d}"
    if p.kind is PeriodKind.MONTH:
        return f"{p.first_day:%Y-%m}"
    return f"{p.first_day:%Y-%m-%d} – {p.last_day:%Y-%m-%d}"


def headline(f: Figures, say: Say) -> list[tuple[str, Change]]:
    now, before = f.counts, f.previous_counts
    return [
        (say.w(name), say.change(getattr(now, name), getattr(before, name), say.n))
        for name in ("opened", "resolved", "closed", "reopened")
    ]


def backlog(f: Figures, say: Say) -> dict[str, Any]:
    now, before = f.backlog, f.previous_backlog
    return {
        "open": say.change(now.open, before.open, say.n),
        "age": say.change(now.median_age_hours, before.median_age_hours, say.age),
        "old": say.change(now.older_than_week, before.older_than_week, say.n),
    }


def _pairs(
    now: Sequence[SlaFigure], before: Sequence[SlaFigure]
) -> list[tuple[SlaFigure, SlaFigure]]:
    previous = {s.target: s for s in before}
    return [(s, previous.get(s.target, SlaFigure(s.target))) for s in now]


def sla_row(now: SlaFigure, before: SlaFigure, say: Say) -> dict[str, Any]:
    return {
        "target": say.w(f"target_{now.target}"),
        "met": say.n(now.met),
        "missed": say.n(now.missed),
        "rate": say.change(now.rate, before.rate, say.pct),
        "provisional": say.n(now.provisional) if now.provisional else "",
    }


def breach_row(b: Breach, cfg: Config, say: Say) -> tuple[str, ...]:
    who = engineer_name(b.assignee, cfg) if b.assignee else say.w("unassigned")
    return (
        one_line(b.number, NAME_CHARS),
        one_line(b.subject, SUBJECT_CHARS),
        who,
        say.w(f"target_{b.target}"),
        say.minutes(b.late_minutes),
    )


def times(f: Figures, say: Say) -> list[dict[str, Any]]:
    rows = []
    for key, now, before in (
        ("target_response", f.response_time, f.previous_response_time),
        ("target_resolution", f.resolution_time, f.previous_resolution_time),
    ):
        rows.append(duration_row(say.w(key), now, before, say))
    return rows


def duration_row(label: str, now: Durations, before: Durations, say: Say) -> dict[str, Any]:
    return {
        "label": label,
        "count": say.n(now.count),
        "median": say.change(now.median_minutes, before.median_minutes, say.minutes),
        "p90": say.change(now.p90_minutes, before.p90_minutes, say.minutes),
    }


def breakdowns(f: Figures, cfg: Config, say: Say) -> list[dict[str, Any]]:
    named: tuple[tuple[str, Sequence[Share], Callable[[str], str]], ...] = (
        ("by_category", f.by_category, lambda v: vocab.term("category", v, say.locale)),
        ("by_priority", f.by_priority, lambda v: vocab.term("priority", v, say.locale)),
        ("by_group", f.by_group, lambda v: v),
        ("by_engineer", f.by_engineer, lambda v: engineer_name(v, cfg)),
    )
    out = []
    for key, shares, name in named:
        if not shares:
            continue
        blank = say.w("unassigned" if key == "by_engineer" else "none")
        rows = [
            (
                one_line(name(s.name), NAME_CHARS) if s.name else blank,
                say.n(s.opened),
                say.n(s.resolved),
                say.n(s.open_at_end),
            )
            for s in shares[:SHARES_SHOWN]
        ]
        out.append({"title": say.w(key), "rows": rows, "more": max(0, len(shares) - SHARES_SHOWN)})
    return out


def satisfaction(f: Figures, say: Say) -> dict[str, Any]:
    s, before = f.satisfaction, f.previous_satisfaction
    total = sum(s.distribution)
    return {
        "answers": say.change(s.answers, before.answers, say.n),
        "sent": say.n(s.surveys_sent),
        "rate": say.change(s.response_rate, before.response_rate, say.pct),
        "average": say.change(s.average, before.average, _average),
        "distribution": [
            (say.w("score").format(score=score), say.n(n), say.pct(n / total if total else None))
            for score, n in zip(range(5, 0, -1), reversed(s.distribution), strict=True)
        ],
        "reviews_opened": say.n(s.reviews_opened),
        "reviews_closed": say.n(s.reviews_closed),
        "reviews_open": say.n(s.reviews_open_at_end),
        "any": bool(s.surveys_sent or s.answers or s.reviews_opened or s.reviews_open_at_end),
    }


def _average(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def recurring(f: Figures, say: Say) -> list[dict[str, Any]]:
    return [
        {
            "category": one_line(vocab.term("category", r.category, say.locale), NAME_CHARS),
            "term": one_line(r.term, NAME_CHARS),
            "count": say.n(r.count),
            "previous": say.n(r.previous),
            "rise": f"+{say.n(r.count - r.previous)}" if r.count > r.previous else "",
            "examples": [
                (one_line(e.number, NAME_CHARS), one_line(e.subject, SUBJECT_CHARS))
                for e in r.examples[:2]
            ],
            "has_article": r.has_article,
        }
        for r in f.recurring
    ]


def self_service(f: Figures, say: Say) -> dict[str, Any] | None:
    s = f.self_service
    if s is None:
        return None
    return {
        "rate": say.pct(s.rate),
        "resolved_self": say.n(s.resolved_self),
        "resolved_total": say.n(s.resolved_total),
        "articles": [
            (one_line(a.title or a.name, SUBJECT_CHARS), say.n(a.suggested), say.n(a.helped))
            for a in s.articles[:SHARES_SHOWN]
        ],
        "never_helped": [one_line(a.title or a.name, SUBJECT_CHARS)
                         for a in s.articles if a.suggested and not a.helped][:SHARES_SHOWN],
    }  # fmt: skip


def engineer_name(email: str, cfg: Config) -> str:
    person = cfg.person(email)
    return one_line(person.name if person else email, NAME_CHARS)


def one_line(text: str, limit: int) -> str:
    """One line of at most `limit` characters, … where cut."""
    flat = " ".join("".join(" " if unicodedata.category(c)[0] == "C" else c for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# -- plain-text tables -----------------------------------------------------------------------


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to line up in a monospaced font (a CJK character is two columns
    wide); the first column to the left, the others to the right (they are numbers)."""
    table = [list(headers), *[list(r) for r in rows]]
    widths = [max(_width(r[i]) for r in table) for i in range(len(headers))]
    lines = []
    for row in table:
        cells = [_pad(cell, widths[i], left=i == 0) for i, cell in enumerate(row)]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, left: bool) -> str:
    space = " " * (width - _width(text))
    return text + space if left else space + text
