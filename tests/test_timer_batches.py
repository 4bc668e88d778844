"""A tick fires its timers in batches: the batch's reads and writes are a few
statements whatever its size (not ~11 a timer), with the same results as one by one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from maildesk.domain import Address
from maildesk.store import events, outbox, participants, tickets
from maildesk.store import timers as timer_rows
from maildesk.timers.model import TimerKind

from .conftest import ConfigFactory
from .test_timers import DAYS, USER, body, engineer_says, open_ticket, parsed, rows, run, setup

WATCHER = "li.na@example.com"


def test_a_batch_costs_a_few_statements_whatever_its_size(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config)
    opened = [open_ticket(service, n=10 * i) for i in range(1, 9)]
    for i, (number, note) in enumerate(opened):
        engineer_says(service, number, note, "#resolve 已重置交换机端口", n=10 * i + 5)
    first = _ticket_id(service, opened[0][0])
    with service.store.transaction() as tx:
        participants.add_watcher(tx, first, Address("李娜", WATCHER), clock.now(), USER, None)
    clock.advance(days=DAYS)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]).split()[0])

    event.listen(service.store.engine, "before_cursor_execute", count)
    try:
        report = run(service, clock)
    finally:
        event.remove(service.store.engine, "before_cursor_execute", count)
    assert (report.fired, report.mails) == (8, 8)
    assert len(statements) <= 20, statements  # one by one: 8 × 11 and more
    notices = {r.ticket_number: r for r in rows(service)}
    assert sorted(notices) == sorted(number for number, _ in opened)
    watched = parsed(_raw(service, notices[opened[0][0]].id))
    assert WATCHER in str(watched["Cc"]) and notices[opened[0][0]].recipients == (USER, WATCHER)
    for number, _ in opened:
        raw = _raw(service, notices[number].id)
        assert str(parsed(raw)["References"]).startswith("<story-")  # under their first mail
        assert "7 天内直接回复本邮件" in body(service, notices[number])
        _assert_closed_with_history(service, number, clock.now())


def test_two_timers_of_one_ticket_in_one_batch_see_each_other(make_config: ConfigFactory) -> None:
    service, clock = setup(make_config)
    number, note = open_ticket(service)
    engineer_says(service, number, note, "#resolve 已重置交换机端口", n=2)
    ticket_id = _ticket_id(service, number)
    with service.store.transaction() as tx:
        (first,) = timer_rows.of_ticket(tx, ticket_id)
        timer_rows.schedule(tx, ticket_id, TimerKind.AUTO_CLOSE, 2, first.due_at, clock.now())
    clock.advance(days=DAYS)
    report = run(service, clock)
    assert (report.claimed, report.fired, report.obsolete, report.mails) == (2, 1, 1, 1)
    with service.store.transaction() as tx:
        found = timer_rows.of_ticket(tx, ticket_id)
    assert [t.state for t in found] == ["done", "done"]
    _assert_closed_with_history(service, number, clock.now())


def _assert_closed_with_history(service: Any, number: str, now: Any) -> None:
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        history = [(e["kind"], e["field"], e["new"]) for e in events.listing(tx, ticket.id)]
    assert (ticket.status, ticket.closed_at, ticket.updated_at) == ("closed", now, now)
    assert history[-2:] == [("changed", "status", "closed"), ("timer", "", "")]


def _ticket_id(service: Any, number: str) -> int:
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
    assert ticket is not None
    return ticket.id


def _raw(service: Any, outbox_id: int) -> bytes:
    with service.store.transaction() as tx:
        return outbox.raw(tx, outbox_id) or b""
