"""business calendar: the official schedule's special days and the years it covers

calendar_days: each public holiday and make-up working day (调休上班) with its name,
where it came from (chinese-calendar x.y, or the file an administrator imported) and
when.  calendar_years: the years whose schedule is official; any other year is worked
Monday to Friday and its deadlines are provisional.  Both are filled on first use
(maildesk.calendar.usecases) and by `maildesk calendar import`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maildesk.db import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calendar_years")
    op.drop_table("calendar_days")
