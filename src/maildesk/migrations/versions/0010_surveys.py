"""survey answers: a requester's score after resolution, and the review a low one opens

One row per answer; a later answer on the ticket marks the earlier ones `replaced`.
A score <= 2 opens a review (review = "open", due in [survey] review_hours business
hours), closed by an engineer's `#review done` (review = "closed").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maildesk.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("replaced", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("review", sa.String(length=10), nullable=False, server_default=""),
        sa.Column("review_due_at", UTCDateTime(), nullable=True),
        sa.Column("review_closed_at", UTCDateTime(), nullable=True),
        sa.Column("review_closed_by", sa.String(length=320), nullable=False, server_default=""),
        sa.Column("review_note", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_survey_answers_ticket_id", "survey_answers", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_answers_ticket_id", table_name="survey_answers")
    op.drop_table("survey_answers")
