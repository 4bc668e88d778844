"""timers: what the clock owes a ticket (auto-close; later reminders, escalations)

One row per (ticket, kind, step) with its due time; the daemon's tick claims due rows
with a lease (store/timers.py).  The due query reads ix_timers_due alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maildesk.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("lease_holder", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_timers_ticket_id", "timers", ["ticket_id"])
    op.create_index("ix_timers_due", "timers", ["state", "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_timers_due", table_name="timers")
    op.drop_index("ix_timers_ticket_id", table_name="timers")
    op.drop_table("timers")
