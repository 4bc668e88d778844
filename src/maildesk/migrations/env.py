"""Alembic environment: runs on the connection maildesk passes in (db.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from maildesk.db import metadata

config = context.config
target_metadata = metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("no connection and no sqlalchemy.url: use `maildesk db upgrade`")
        with create_engine(url).begin() as conn:
            _migrate(conn)
        return
    _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
