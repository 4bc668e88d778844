"""heartbeats: each supervised loop's last success and last error, per node

Written by the daemon's supervisor (daemon.py, supervise.py) at most every few
seconds; read by `maildesk status`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maildesk.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("node", sa.String(length=200), primary_key=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("heartbeats")
