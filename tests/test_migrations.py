"""Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from maildesk import db


def test_migrations_match_models(db_url: str) -> None:
    engine = db.make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.Base.metadata)
    assert diff == []
    head = ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    assert db.current_revision(engine) == head
    db.upgrade(engine)  # a second upgrade is a no-op
    assert db.current_revision(engine) == head
