"""SLA targets on the business calendar, on time the test advances: reminder → breach
(level 1, the lead) → further levels (the managers) with exact mail counts, over a
weekend and over 2026's Spring Festival make-up Saturday; pauses while waiting on the
user; reopening; priority changes; calendar imports; working time only."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from maildesk.clock import TestClock
from maildesk.service import Service
from maildesk.sla.usecases import business_hours
from maildesk.store import outbox as outbox_rows
from maildesk.store import sla as sla_rows
from maildesk.store import tickets
from maildesk.timers import tick

from .conftest import ConfigFactory, build_service
from .test_engineers import PEOPLE, USER, mail

SH = ZoneInfo("Asia/Shanghai")
ENGINEER = "wang.gong@example.com"
LEAD = "lead@example.com"
MANAGER = "zhao@example.com"
LEAD_PERSON = '\n[[people]]\nname = "李组长"\nemail = "lead@example.com"\nrole = "lead"\n' \
    'groups = ["network"]\n'  # fmt: skip
SLA = "\n[sla]\nescalation_hours = { medium = [1, 2] }\n"


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def setup(make_config: ConfigFactory, start: datetime, sla: str = SLA) -> tuple[Service, TestClock]:
    cfg = make_config(extra=PEOPLE + LEAD_PERSON + sla)
    clock = TestClock(start.astimezone(UTC))
    return build_service(cfg, clock), clock


def open_ticket(service: Service, subject: str = "VPN 连不上了", n: int = 1) -> str:
    outcome = service.ingest(mail(USER, subject, "交换机端口灯不亮。", n=n), "t")
    assert outcome.kind == "created"
    return outcome.ticket_number


def notes(service: Service) -> list[tuple[str, ...]]:
    """The recipients of every notification, oldest first."""
    with service.store.transaction() as tx:
        rows = outbox_rows.listing(tx, limit=100000)
    return [r.recipients for r in sorted(rows, key=lambda r: r.id) if r.kind == "notification"]


def run_at(service: Service, clock: TestClock, when: datetime) -> list[tuple[str, ...]]:
    """Advance to `when`, tick with the business calendar; the notifications it sent."""
    clock.set(when.astimezone(UTC))
    before = len(notes(service))
    now = clock.now()
    working = business_hours(service.store, service.cfg, now)
    tick.run(service.store, service.renderer, now, "test:1", working_time=working)
    return notes(service)[before:]


def status(service: Service, number: str) -> str:
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
    assert found is not None
    return found.status


def target(service: Service, number: str, name: str = "response") -> sla_rows.Target:
    with service.store.transaction() as tx:
        found = tickets.view(tx, number)
        assert found is not None
        return sla_rows.of_ticket(tx, found.id)[name]


def test_reminder_breach_and_two_levels_with_exact_mails(make_config: ConfigFactory) -> None:
    """Monday 09:00, medium (4 business hours): reminder at 75 % (12:00, the lunch
    break: sent at 13:00), breach at 14:00 to the lead, then the managers at 15:00 and
    16:00; each mail once."""
    service, clock = setup(make_config, local(2026, 11, 23, 9))
    number = open_ticket(service)
    assert notes(service) == [(ENGINEER,)]  # the new ticket, to whoever works it
    due = target(service, number)
    assert due.due_at == local(2026, 11, 23, 14) and not due.provisional
    assert run_at(service, clock, local(2026, 11, 23, 11, 59)) == []
    assert run_at(service, clock, local(2026, 11, 23, 12, 30)) == []  # lunch: deferred
    assert run_at(service, clock, local(2026, 11, 23, 13)) == [(ENGINEER,)]
    assert run_at(service, clock, local(2026, 11, 23, 13, 59)) == []
    assert status(service, number) != "escalated"
    assert run_at(service, clock, local(2026, 11, 23, 14)) == [(LEAD,)]
    assert status(service, number) == "escalated"
    assert run_at(service, clock, local(2026, 11, 23, 15)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 11, 23, 16)) == [(MANAGER,)]
    assert run_at(service, clock, local(2026, 11, 30, 16)) == []
    assert len(notes(service)) == 5
