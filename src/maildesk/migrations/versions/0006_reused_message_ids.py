"""reused Message-IDs: one ID can name several tickets; the journal keys a message
without a Message-ID by its content fingerprint (pipeline/fingerprint.py) instead of
the SHA-256 of its raw bytes

message_ids: the primary key is (message_id, ticket_id), so a different message that
reuses an ID can be remembered for its own ticket (store/threads.py says which one a
reply goes to).

inbound_messages: no schema change.  Entries journaled before keep deduplicating:
a mail without a Message-ID journaled before and delivered again by another route
(other trace headers, CRLF instead of LF) now has the key the new code computes.
Entries with a Message-ID keep their key `mid:<id>`: it is still the key of the first
message with that ID.  Where two entries journaled before have the same fingerprint
(the same mail by two routes, both journaled), the later one keeps its old key.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from maildesk.pipeline.fingerprint import fingerprint

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JOURNAL = sa.table("inbound_messages", sa.column("id"), sa.column("dedupe_key"), sa.column("raw"))


def message_ids(*key: str) -> sa.Table:
    """The message_ids table with this primary key, for SQLite to copy into."""
    meta = sa.MetaData()
    sa.Table("tickets", meta, sa.Column("id", sa.Integer, primary_key=True))
    return sa.Table(
        "message_ids",
        meta,
        sa.Column("message_id", sa.String(1000), primary_key="message_id" in key),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("tickets.id"),
                  primary_key="ticket_id" in key),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Index("ix_message_ids_ticket_id", "ticket_id"),
    )  # fmt: skip


def primary_key(*key: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("message_ids_pkey", "message_ids", type_="primary")
        op.create_primary_key("message_ids_pkey", "message_ids", list(key))
    else:  # SQLite cannot alter a primary key: the table is copied
        with op.batch_alter_table("message_ids", copy_from=message_ids(*key), recreate="always"):
            pass


def upgrade() -> None:
    primary_key("message_id", "ticket_id")
    rekey_journal_without_message_id()


def rekey_journal_without_message_id() -> None:
    conn = op.get_bind()
    by_hash = JOURNAL.c.dedupe_key.like("sha256:%")
    rows = conn.execute(sa.select(JOURNAL.c.id, JOURNAL.c.dedupe_key).where(by_hash)).all()
    taken = {key for _, key in rows}
    for entry_id in sorted(entry_id for entry_id, _ in rows):
        raw = conn.scalar(sa.select(JOURNAL.c.raw).where(JOURNAL.c.id == entry_id))
        new_key = f"sha256:{fingerprint(raw or b'')}"
        if new_key in taken:  # unchanged, or an earlier entry holds this content
            continue
        update = JOURNAL.update().where(JOURNAL.c.id == entry_id).values(dedupe_key=new_key)
        conn.execute(update)
        taken.add(new_key)


def downgrade() -> None:
    """Journal keys stay as they are: each is still unique.  Of the tickets sharing a
    Message-ID, the first keeps it."""
    conn = op.get_bind()
    later = sa.table("message_ids", sa.column("message_id"), sa.column("ticket_id"))
    shared = sa.alias(later, "m2")
    conn.execute(
        sa.delete(later).where(
            later.c.ticket_id
            > sa.select(sa.func.min(shared.c.ticket_id))
            .where(shared.c.message_id == later.c.message_id)
            .scalar_subquery()
        )
    )
    primary_key("message_id")
