"""A group's digest reads its period's index range, as the whole desk's does.

On SQLite (no ANALYZE statistics, as a desk's database is), an equality on
tickets.group_name made the planner walk ix_tickets_group_id, the group's every
ticket since the desk opened, instead of the week's range of ix_tickets_created: a
group's weekly digest cost 1.6 s on 200,000 tickets where the whole desk's took 0.6 s
(benchmarks/digest.py).  Every statement of one group's figures is explained here."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import event

from maildesk import db
from maildesk.digest import period as periods
from maildesk.digest.collect import figures
from maildesk.store import Store

from .conftest import ConfigFactory
from .test_digest_figures import NOW, SH, fill


def test_no_statement_of_a_group_walks_the_group_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'maildesk.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    fill(Store(engine))
    cfg = ConfigFactory(tmp_path, url)()
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    week = periods.between(date(2026, 11, 23), date(2026, 11, 29), SH)
    figures(Store(engine), cfg, week, "desktop", NOW)
    event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) > 10
    walks = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            if any("ix_tickets_group_id" in str(row[-1]) for row in plan):
                walks.append(" ".join(statement.split())[:160])
    engine.dispose()
    assert walks == []
