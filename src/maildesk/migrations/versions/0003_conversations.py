"""conversations: watchers, linked tickets, attachments, bounces, outbox per recipient

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import maildesk.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_watchers",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("added_at", maildesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id", "email"),
    )
    op.create_table(
        "bounces",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("last_bounce_at", maildesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_id", sa.String(length=300), nullable=False),
        sa.Column("refused_reason", sa.Text(), nullable=False),
        sa.Column("created_at", maildesk.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachments_ticket_id", "attachments", ["ticket_id"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("linked_ticket_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_tickets_linked_ticket_id", "tickets", ["linked_ticket_id"], ["id"]
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("to_address", sa.String(length=320), nullable=False, server_default="")
        )
        batch.create_index("ix_outbox_to_created", ["to_address", "created_at"])
        batch.create_index("ix_outbox_message_id", ["message_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_message_id")
        batch.drop_index("ix_outbox_to_created")
        batch.drop_column("to_address")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("fk_tickets_linked_ticket_id", type_="foreignkey")
        batch.drop_column("linked_ticket_id")
    op.drop_index("ix_attachments_ticket_id", table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("bounces")
    op.drop_table("ticket_watchers")
