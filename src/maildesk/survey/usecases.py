"""Use case steps, in the transaction of the mail that answers: a survey answer stored
(a refused one only noted), a low score's review opened, a review closed.

A score <= 2 opens a review unless one is open on the ticket: the group's lead and the
managers get the ticket's history by mail; the review is due in [survey] review_hours
business hours on the business calendar, its reminder at [survey] review_remind_share
of that (timers REVIEW_REMIND, REVIEW_ESCALATE).  `#review done` closes it and cancels
both; `maildesk calendar import` moves open reviews' times (`recompute_reviews`).  An
answer never changes the ticket's state.
"""

from __future__ import annotations

from datetime import datetime

from maildesk import outgoing
from maildesk.calendar import business, usecases
from maildesk.calendar.model import Calendar
from maildesk.calendar.settings import CALENDAR_SECTION
from maildesk.config import Config
from maildesk.domain import (
    Address,
    Decision,
    EventKind,
    Inbound,
    MailKind,
    MailPlan,
    SurveyAnswer,
    TicketRef,
)
from maildesk.pipeline import notify
from maildesk.render import Renderer
from maildesk.store import Tx, events, surveys, tickets
from maildesk.store import timers as timer_rows
from maildesk.survey import answers
from maildesk.survey import history as review_history
from maildesk.survey.settings import SURVEY, Survey
from maildesk.timers.model import TimerKind

REVIEW_TIMERS = (TimerKind.REVIEW_REMIND, TimerKind.REVIEW_ESCALATE)
HISTORY_LINES = 40


def record_answer(
    tx: Tx,
    renderer: Renderer,
    inbound: Inbound,
    answer: SurveyAnswer,
    inbound_id: int,
    now: datetime,
) -> str:
    """Store the answer (or note a refused one); returns what happened, for the journal."""
    ticket, sender = answer.ticket, inbound.sender.email
    if answer.refused:
        events.add(tx, ticket.id, now, sender, EventKind.SURVEY_REFUSED, inbound_id,
                   text=answer.refused)  # fmt: skip
        return f"survey answer refused: {answer.refused}"
    reviewing = surveys.open_review(tx, ticket.id)
    earlier = surveys.record(tx, ticket.id, answer.score, answer.comment, answer.via, sender,
                             now, inbound_id)  # fmt: skip
    replaced = f"; replaces {earlier[0]}/5" if earlier else ""
    events.add(tx, ticket.id, now, sender, EventKind.SURVEY_ANSWER, inbound_id,
               field="satisfaction", old=str(earlier[0]) if earlier else "",
               new=str(answer.score), text=answer.comment)  # fmt: skip
    detail = f"satisfaction {answer.score}/5 by {answer.via}{replaced}"
    if answer.score > answers.LOW:
        return detail
    if reviewing:
        return detail + "; a review is already open"
    due = _open_review(tx, renderer, inbound, answer, inbound_id, now)
    return detail + f"; review opened, due {due.isoformat()}"


def _open_review(
    tx: Tx,
    renderer: Renderer,
    inbound: Inbound,
    answer: SurveyAnswer,
    inbound_id: int,
    now: datetime,
) -> datetime:
    cfg = renderer.cfg
    ticket_id = answer.ticket.id
    settings = cfg.section(SURVEY)
    usecases.ensure_seeded(tx, now)
    calendar = usecases.calendar_in(tx, cfg.section(CALENDAR_SECTION))
    remind, due = _targets(calendar, now, settings)
    surveys.start_review(tx, ticket_id, due)
    for kind, when in ((TimerKind.REVIEW_REMIND, remind), (TimerKind.REVIEW_ESCALATE, due)):
        step = timer_rows.next_step(tx, ticket_id, kind)
        timer_rows.schedule(tx, ticket_id, kind, step, when, now)
    readers = notify.once_each([_review_plan(tx, cfg, answer, due)], skip=set())
    names = ", ".join(a.email for plan in readers for a in plan.to) or "nobody (none configured)"
    events.add(tx, ticket_id, now, "maildesk", EventKind.REVIEW, inbound_id,
               text=f"review opened (score {answer.score}), due {due.isoformat()}; "
                    f"mailed {names}")  # fmt: skip
    if readers:
        view = tickets.by_id(tx, ticket_id)
        decision = Decision(answer, tuple(readers))
        outgoing.write(tx, renderer, decision, inbound, view, inbound_id, now)
    return due


def _targets(calendar: Calendar, opened: datetime, settings: Survey) -> tuple[datetime, datetime]:
    """(reminder, due) of a review opened at `opened`, in business time."""
    minutes = settings.review_hours * 60
    due = business.add_business(calendar, opened, minutes)
    return business.add_business(calendar, opened, minutes * settings.review_remind_share), due


def recompute_reviews(tx: Tx, cfg: Config, now: datetime) -> int:
    """The business calendar changed: every open review's reminder and due time again
    from when it opened, its pending timers moved.  Returns how many reviews."""
    calendar = usecases.calendar_in(tx, cfg.section(CALENDAR_SECTION))
    settings = cfg.section(SURVEY)
    reviews = surveys.open_reviews(tx)
    for ticket_id, opened in reviews:
        remind, due = _targets(calendar, opened, settings)
        surveys.move_review(tx, ticket_id, due)
        when = {TimerKind.REVIEW_REMIND: remind, TimerKind.REVIEW_ESCALATE: due}
        for timer in timer_rows.of_ticket(tx, ticket_id):
            if timer.state == "pending" and timer.kind in when:
                kind = TimerKind(timer.kind)
                timer_rows.schedule(tx, ticket_id, kind, timer.step, when[kind], now)
    return len(reviews)


def _review_plan(tx: Tx, cfg: Config, answer: SurveyAnswer, due: datetime) -> MailPlan:
    ticket = answer.ticket
    people = [*notify.leads(ticket.group, cfg), *notify.managers(cfg)]
    to = tuple(dict.fromkeys(Address(p.name, p.email) for p in people))
    label = answers.LABELS[answer.score][0 if cfg.locale == "zh-CN" else 1]
    return MailPlan(MailKind.REVIEW, to=to, notice="review_opened", text=answer.comment,
                    lines=history(tx, ticket, cfg),
                    author=f"{answer.score} · {label}", due=due)  # fmt: skip


def history(tx: Tx, ticket: TicketRef, cfg: Config) -> tuple[str, ...]:
    """The ticket's latest HISTORY_LINES events, one line each in the desk's language."""
    names = {p.email.lower(): p.name for p in cfg.people if p.name}
    if ticket.requester_name:
        names.setdefault(ticket.requester_email.lower(), ticket.requester_name)
    rows = events.listing(tx, ticket.id)[-HISTORY_LINES:]
    return review_history.lines(rows, cfg.locale, cfg.tickets.timezone, names)


def close_review(
    tx: Tx, ticket_id: int, actor: str, note: str, now: datetime, inbound_id: int | None
) -> int:
    """`#review done`: the ticket's open review closed, its timers cancelled."""
    closed = surveys.close_review(tx, ticket_id, actor, note, now)
    timer_rows.cancel(tx, ticket_id, REVIEW_TIMERS, now, f"review closed by {actor}")
    text = f"review closed: {note}" if closed else "#review done: no review was open"
    events.add(tx, ticket_id, now, actor, EventKind.REVIEW, inbound_id, text=text.strip())
    return closed
