"""The cost of a message must not grow with the stored tickets (issue 14): no statement
run for a new mail, a reply or a bounce reads a big table from end to end.  Checked with
SQLite's query planner on every statement the service ran, with [[people]] configured as
a real desk is (groups, round robin and fewest open)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from maildesk.service import Service

from .conftest import ConfigFactory, build_service
from .test_engineers import mail

PEOPLE = """
[security]
secret = "0123456789abcdef-test-secret"

[[people]]
name = "王工"
email = "wang.gong@example.com"
groups = ["network", "desktop", "security", "accounts"]

[[people]]
name = "李工"
email = "li.gong@example.com"
groups = ["network", "desktop"]

[[people]]
name = "赵经理"
email = "zhao@example.com"
role = "manager"
"""
# Tables that grow with the desk's history; a full SCAN of one is a cost that grows.
BIG = ("tickets", "ticket_events", "inbound_messages", "outbox", "message_ids",
       "attachments", "sla_targets", "timers", "survey_answers", "kb_uses")  # fmt: skip


READS = ("SELECT", "UPDATE", "DELETE", "WITH")  # the statements a plan can show scanning


@contextmanager
def statements(service: Service, kinds: tuple[str, ...] = READS) -> Iterator[list[tuple[str, Any]]]:
    """The (sql, parameters) the database receives meanwhile, of these kinds ("" = all)."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith(kinds):
            seen.append((sql, params))

    engine = service.store.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def full_scans(service: Service, seen: list[tuple[str, Any]]) -> list[str]:
    found = []
    with service.store.engine.connect() as conn:
        for sql, params in seen:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            for row in plan:
                detail = str(row[-1])
                words = detail.split()
                if words[:1] == ["SCAN"] and words[1] in BIG:
                    found.append(f"{detail}  <-  {' '.join(sql.split())[:300]}")
    return found


@pytest.mark.parametrize("strategy", ["round_robin", "fewest_open"])
def test_no_message_reads_a_big_table_from_end_to_end(
    make_sqlite_config: ConfigFactory, strategy: str
) -> None:
    cfg = make_sqlite_config(extra=PEOPLE + f'\n[assignment]\nstrategy = "{strategy}"\n')
    service = build_service(cfg)
    for n in range(30):  # history: some tickets, some assigned through the rules
        service.ingest(mail(f"u{n}@example.com", f"VPN 连不上 {n}", "error 809", n=n), "t")
    with statements(service) as seen:
        first = service.ingest(mail("a@example.com", "打印机卡纸", "三楼", n=100), "t")
        number = first.ticket_number
        reply = mail("a@example.com", f"Re: [{number}] 打印机卡纸", "还是不行", n=101)
        kinds = [first.kind, service.ingest(reply, "t").kind]
        kinds.append(
            service.ingest(mail("b@example.com", "Wi-Fi drops", "hourly", n=102), "t").kind
        )
    assert kinds == ["created", "threaded", "created"]
    assert seen, "no statement was recorded"
    assert full_scans(service, seen) == []
