"""knowledge base in the mail flow: articles suggested and credited, drafts to write

kb_uses: one row per article suggested in a ticket's acknowledgment (kind "suggested")
and per self-service resolution that credits an article (kind "helped", via link or
reply).  kb_drafts: the draft article an engineer's `#kb` asks for, written to the kb
folder's drafts/ after the transaction commits (state pending → written, or conflict
when a different file of that name is already there: never overwritten).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maildesk.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("article", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False, server_default=""),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_kb_uses_ticket_id", "kb_uses", ["ticket_id"])
    op.create_index("ix_kb_uses_kind_at", "kb_uses", ["kind", "at"])
    op.create_table(
        "kb_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, unique=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_kb_drafts_state", "kb_drafts", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_kb_drafts_state", table_name="kb_drafts")
    op.drop_table("kb_drafts")
    op.drop_index("ix_kb_uses_kind_at", table_name="kb_uses")
    op.drop_index("ix_kb_uses_ticket_id", table_name="kb_uses")
    op.drop_table("kb_uses")
