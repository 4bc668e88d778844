"""journal keys by content: a message without a Message-ID is keyed by its content
fingerprint (pipeline/fingerprint.py) instead of the SHA-256 of its raw bytes

No schema change.  Entries journaled before keep deduplicating after the upgrade:
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


def upgrade() -> None:
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
    """Keys stay as they are: each is still unique, and the old code reads them."""
