"""outbox lanes and held mail: lane, to_domain, held_reason; one index for claiming

Claims take interactive mail before bulk and a bounded number per destination domain
(store/outbox.claim); the index on (status, next_attempt_at) is replaced by one on
(status, lane, to_domain, id, next_attempt_at) that answers those queries alone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("lane", sa.String(length=20), nullable=False, server_default="interactive")
        )
        batch.add_column(
            sa.Column("to_domain", sa.String(length=320), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("held_reason", sa.Text(), nullable=False, server_default=""))
    _fill_to_domain()
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_due")
        batch.create_index(
            "ix_outbox_claim", ["status", "lane", "to_domain", "id", "next_attempt_at"]
        )


def _fill_to_domain() -> None:
    """to_domain of the rows already there: what follows the @ of to_address (new rows
    take what follows the last @, which differs only for a quoted local part with an @)."""
    conn = op.get_bind()
    at = "instr(to_address, '@')" if conn.dialect.name == "sqlite" else "strpos(to_address, '@')"
    conn.execute(
        sa.text(f"UPDATE outbox SET to_domain = substr(to_address, {at} + 1) WHERE {at} > 0")
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_claim")
        batch.create_index("ix_outbox_due", ["status", "next_attempt_at"])
        batch.drop_column("held_reason")
        batch.drop_column("to_domain")
        batch.drop_column("lane")
