"""an outbox index by ticket: what a recipient has seen of a ticket is read from it

threads.history (for every mail written) looked through everything ever sent to the
recipient (ix_outbox_to_created): thousands of rows for an engineer after a year.
threads.histories (timer batches) read the whole outbox.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_ticket_to", "outbox", ["ticket_id", "to_address", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_ticket_to", table_name="outbox")
