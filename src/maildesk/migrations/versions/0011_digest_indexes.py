"""digests: indexes for the figures of a period (store/digest.py)

Tickets by creation and by first response; status changes by kind and time; surveys
sent by kind and time; survey answers by time and reviews by state and closing; SLA
targets by when they were met (ix_sla_targets_due already finds them by due time).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_tickets_created", "tickets", ["created_at"]),
    ("ix_tickets_first_response", "tickets", ["first_response_at"]),
    ("ix_events_kind_at", "ticket_events", ["kind", "at"]),
    ("ix_outbox_kind_created", "outbox", ["kind", "created_at"]),
    ("ix_survey_answers_answered", "survey_answers", ["answered_at"]),
    ("ix_survey_answers_review", "survey_answers", ["review", "review_closed_at"]),
    ("ix_sla_targets_met", "sla_targets", ["met_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
