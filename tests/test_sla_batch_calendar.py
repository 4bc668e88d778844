"""A calendar import committed while a batch of messages is processed (PostgreSQL runs
READ COMMITTED, so it can) is used by the batch's later messages: the import's own
recompute cannot see the batch's uncommitted tickets, so a message that kept the
calendar it read first would keep wrong, provisional due times until next worked on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from maildesk import db
from maildesk.calendar import usecases as cal_usecases
from maildesk.calendar.files import read_file
from maildesk.service import Outcome, Service
from maildesk.sla import usecases as sla
from maildesk.store import Store, Tx

from .conftest import ConfigFactory
from .test_engineers import USER, mail
from .test_sla import FIXTURES, local, setup, target


def test_a_calendar_import_committed_during_a_batch_is_seen_by_its_later_messages(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Friday 2027-02-05 17:00, 2027 not official yet; the 2027 schedule (春节
    02-06..13, make-up Sunday 02-14) is imported between the batch's two messages.
    The second ticket's response is due on the make-up Sunday, not provisional.
    PostgreSQL only: on SQLite, BEGIN IMMEDIATE makes the import wait for the batch."""
    service, _clock = setup(ConfigFactory(tmp_path, pg_url), local(2027, 2, 5, 17))
    entries = service.receive_many([
        (mail(USER, "VPN 连不上了", "交换机端口灯不亮。", n=1), "a"),
        (mail(USER, "打印机脱机", "打印机又脱机了。", n=2), "b"),
    ])  # fmt: skip
    other = Store(db.make_engine(service.cfg.database_url))
    original = Service._process_isolated
    seen: list[Outcome] = []

    def import_after_the_first(
        self: Service, tx: Tx, inbound_id: int, now: datetime, cals: sla.Calendars
    ) -> Outcome:
        outcome = original(self, tx, inbound_id, now, cals)
        if not seen:
            with other.transaction() as itx:
                parsed = read_file(FIXTURES / "china-2027.yaml")
                assert cal_usecases.import_schedule(itx, parsed, "china-2027.yaml", now).changed
                sla.recompute(itx, service.cfg, now)
        seen.append(outcome)
        return outcome

    monkeypatch.setattr(Service, "_process_isolated", import_after_the_first)
    outcomes = service.process_many([e.id for e in entries])
    assert [o.kind for o in outcomes] == ["created", "created"]
    second = target(service, outcomes[1].ticket_number)
    assert (second.due_at, second.provisional) == (local(2027, 2, 14, 12), False)
