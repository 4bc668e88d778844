"""indexes that keep per-message lookups flat as tickets accumulate

A group's last assignee (round robin) is one step down ix_tickets_group_id; the tickets
a sender opened in the flood window are a range of ix_tickets_requester_created.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_group_id", "tickets", ["group_name", "id"])
    op.create_index("ix_tickets_requester_created", "tickets", ["requester_email", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_requester_created", table_name="tickets")
    op.drop_index("ix_tickets_group_id", table_name="tickets")
