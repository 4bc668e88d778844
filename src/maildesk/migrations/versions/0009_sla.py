"""sla_targets: each promise on a ticket (first response, resolution) with its due time

One row per (ticket, target): the target's length in its calendar's minutes, when its
clock started, the business minutes it was paused and since when it is paused, the
due time (none while paused), when it was met, and whether the due time lies in a year
with no official calendar (provisional).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maildesk.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("calendar", sa.String(length=10), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("paused_minutes", sa.Float(), nullable=False),
        sa.Column("paused_since", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("met_at", UTCDateTime(), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("ticket_id", "target"),
    )
    op.create_index("ix_sla_targets_due", "sla_targets", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_sla_targets_due", table_name="sla_targets")
    op.drop_table("sla_targets")
