"""Tables (SQLAlchemy Core: the ORM is never imported), the engine factory and migrations.

SQLite runs in WAL mode with `BEGIN IMMEDIATE` for every transaction, so two
threads never deadlock upgrading a read lock; PostgreSQL runs READ COMMITTED
and uses row locks (`FOR UPDATE [SKIP LOCKED]`) where work is shared.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url

from maildesk import private_files

MIGRATIONS = Path(__file__).parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

# The journal: every message exactly as received, before it is processed.
InboundMessage = Table(
    "inbound_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(1000), unique=True, nullable=False),
    Column("message_id", String(1000), default="", nullable=False),
    Column("sha256", String(64), index=True, nullable=False),
    Column("source", String(200), nullable=False),
    Column("size", Integer, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("status", String(20), default="pending", nullable=False),
    Column("outcome", Text, default="", nullable=False),
    Column("quarantine_reason", Text, default="", nullable=False),
    Column("processed_at", UTCDateTime, nullable=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=True),
    Index("ix_inbound_status", "status", "id"),
)

Ticket = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(64), unique=True, nullable=False),
    Column("subject", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("requester_name", String(300), default="", nullable=False),
    Column("requester_email", String(320), index=True, nullable=False),
    Column("department", String(200), default="", nullable=False),
    Column("employee_id", String(100), default="", nullable=False),
    Column("status", String(30), index=True, nullable=False),
    Column("priority", String(20), nullable=False),
    Column("category", String(100), nullable=False),
    Column("type", String(30), nullable=False),
    Column("assignee", String(320), default="", nullable=False),
    Column("group_name", String(100), default="", nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("first_response_at", UTCDateTime, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("linked_ticket_id", ForeignKey("tickets.id"), nullable=True),
    # digests (store/digest.py): tickets opened, and first answered, in a period
    Index("ix_tickets_created", "created_at"),
    Index("ix_tickets_first_response", "first_response_at"),
    Index("ix_tickets_group_id", "group_name", "id"),  # a group's last assignee
    Index("ix_tickets_requester_created", "requester_email", "created_at"),  # floods
)

# Colleagues who follow a ticket (Cc of the first mail, or added later).
Watcher = Table(
    "ticket_watchers",
    metadata,
    Column("ticket_id", ForeignKey("tickets.id"), primary_key=True),
    Column("email", String(320), primary_key=True),
    Column("name", String(300), default="", nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

# An attachment of a ticket's message: kept (sha256 names the file) or refused.
StoredAttachment = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), index=True, nullable=False),
    Column("inbound_id", ForeignKey("inbound_messages.id"), nullable=True),
    Column("filename", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), default="", nullable=False),
    Column("content_id", String(300), default="", nullable=False),
    Column("refused_reason", Text, default="", nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Addresses our mail bounced from: no automatic mail to them for a while.
Bounce = Table(
    "bounces",
    metadata,
    Column("address", String(320), primary_key=True),
    Column("last_bounce_at", UTCDateTime, nullable=False),
    Column("reason", Text, default="", nullable=False),
    Column("count", Integer, default=1, nullable=False),
)

# Append-only audit log: who changed what, when, from which message.
TicketEvent = Table(
    "ticket_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), index=True, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("field", String(40), default="", nullable=False),
    Column("old_value", Text, default="", nullable=False),
    Column("new_value", Text, default="", nullable=False),
    Column("text", Text, default="", nullable=False),
    Column("inbound_id", ForeignKey("inbound_messages.id"), nullable=True),
    # digests: the status changes of a period, and those since its end (the backlog)
    Index("ix_events_kind_at", "kind", "at"),
)

# Every Message-ID maildesk received or sent, for threading replies; one ID can
# name several tickets when a client reused it (store/threads.py).
KnownMessageId = Table(
    "message_ids",
    metadata,
    Column("message_id", String(1000), primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), primary_key=True, index=True),
    Column("direction", String(3), nullable=False),
)

# Mail to send: pending → sending → sent | failed | bounced; or held, until released.
OutboxMessage = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=True),
    Column("inbound_id", ForeignKey("inbound_messages.id"), nullable=True),
    Column("kind", String(40), nullable=False),
    Column("mail_from", String(320), nullable=False),
    Column("recipients", Text, nullable=False),
    Column("to_address", String(320), default="", nullable=False),
    Column("subject", Text, default="", nullable=False),
    Column("message_id", String(1000), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("status", String(20), default="pending", nullable=False),
    Column("attempts", Integer, default=0, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("claimed_by", String(200), default="", nullable=False),
    Column("last_error", Text, default="", nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("lane", String(20), default="interactive", nullable=False),
    Column("to_domain", String(320), default="", nullable=False),
    Column("held_reason", Text, default="", nullable=False),
    # claiming (store/outbox.claim): each lane's domains, and each domain's due rows
    # oldest first, read from the index alone
    Index("ix_outbox_claim", "status", "lane", "to_domain", "id", "next_attempt_at"),
    Index("ix_outbox_status_id", "status", "id"),
    Index("ix_outbox_to_created", "to_address", "created_at"),
    Index("ix_outbox_message_id", "message_id"),
    Index("ix_outbox_kind_created", "kind", "created_at"),  # digests: surveys sent
    # what a recipient has seen of a ticket (store/threads.history)
    Index("ix_outbox_ticket_to", "ticket_id", "to_address", "id"),
)

TicketCounter = Table(
    "ticket_counters",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("last", BigInteger, nullable=False),
)

MailboxState = Table(
    "mailbox_state",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
)

# Which daemon holds a piece of work (a mailbox) until when.
Lease = Table(
    "leases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# A supervised loop's last success and last error, per node (written every few s).
Heartbeat = Table(
    "heartbeats",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("node", String(200), primary_key=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("last_error_at", UTCDateTime, nullable=True),
    Column("last_error", Text, default="", nullable=False),
)

# Something the clock owes a ticket (an auto-close, later reminders and escalation
# steps): one row per (ticket, kind, step), claimed with a lease when due (store/timers).
Timer = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(200), unique=True, nullable=False),  # "<ticket id>:<kind>:<step>"
    Column("ticket_id", ForeignKey("tickets.id"), index=True, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("step", Integer, default=1, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("state", String(20), default="pending", nullable=False),  # done | cancelled
    Column("lease_holder", String(200), default="", nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    Column("outcome", Text, default="", nullable=False),
    # the due query reads this index alone: pending rows by due time, never the tickets
    Index("ix_timers_due", "state", "due_at", "id"),
)

# A requester's score for a resolved ticket; a later answer replaces it (`replaced`).
# A score <= 2 opens a review, closed by `#review done` (survey/).
SurveyAnswerRow = Table(
    "survey_answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), index=True, nullable=False),
    Column("score", Integer, nullable=False),
    Column("comment", Text, default="", nullable=False),
    Column("via", String(10), nullable=False),  # link | reply
    Column("sender", String(320), nullable=False),
    Column("answered_at", UTCDateTime, nullable=False),
    Column("inbound_id", Integer, nullable=True),
    Column("replaced", Boolean, default=False, nullable=False),
    Column("review", String(10), default="", nullable=False),  # "" | open | closed
    Column("review_due_at", UTCDateTime, nullable=True),
    Column("review_closed_at", UTCDateTime, nullable=True),
    Column("review_closed_by", String(320), default="", nullable=False),
    Column("review_note", Text, default="", nullable=False),
    # digests: answers given, reviews closed or open, in a period
    Index("ix_survey_answers_answered", "answered_at"),
    Index("ix_survey_answers_review", "review", "review_closed_at"),
)

# A special day of the official schedule: a holiday, or a make-up working day.
CalendarDay = Table(
    "calendar_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("kind", String(10), nullable=False),  # "holiday" | "workday"
    Column("name", String(200), default="", nullable=False),
    Column("source", String(300), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

# A year whose schedule is official (seeded or imported): its deadlines are final.
CalendarYear = Table(
    "calendar_years",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("source", String(300), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

# One promise on a ticket (first response, resolution): its due time in the
# policy's calendar, the business minutes it was paused, when it was met.
SlaTarget = Table(
    "sla_targets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False),
    Column("target", String(20), nullable=False),  # "response" | "resolution"
    Column("calendar", String(10), nullable=False),  # "business" | "24x7"
    Column("minutes", Float, nullable=False),  # the target, in the calendar's minutes
    Column("started_at", UTCDateTime, nullable=False),
    Column("paused_minutes", Float, default=0.0, nullable=False),  # pauses ended so far
    Column("paused_since", UTCDateTime, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),  # None: paused
    Column("met_at", UTCDateTime, nullable=True),
    Column("provisional", Boolean, default=False, nullable=False),  # a year not official
    UniqueConstraint("ticket_id", "target"),
    Index("ix_sla_targets_due", "due_at"),
    Index("ix_sla_targets_met", "met_at"),  # digests: targets met in a period
)

# One digest period sent: (kind, group, first day) is unique, so with several
# daemons the one whose insert wins queues the mails (digest/usecases.py).
DigestRun = Table(
    "digest_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),  # day | week | month
    Column("group_name", String(100), default="", nullable=False),  # "" = whole desk
    Column("first_day", Date, nullable=False),  # local
    Column("last_day", Date, nullable=False),  # local, inclusive
    Column("state", String(20), default="queued", nullable=False),  # mails in the outbox
    Column("created_at", UTCDateTime, nullable=False),  # row and mails written
    Column("recipients", Integer, default=0, nullable=False),
    UniqueConstraint("kind", "group_name", "first_day", name="uq_digest_runs_period"),
)

# A knowledge-base article suggested on a ticket, or credited for solving it (kb/).
KbUse = Table(
    "kb_uses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), index=True, nullable=False),
    Column("article", String(200), nullable=False),  # the article's name, "" for none
    Column("kind", String(10), nullable=False),  # "suggested" | "helped"
    Column("via", String(10), default="", nullable=False),  # helped: "link" | "reply"
    Column("at", UTCDateTime, nullable=False),
    Column("inbound_id", Integer, nullable=True),
    Index("ix_kb_uses_kind_at", "kind", "at"),
)

# A draft article `#kb` asked for: written to the kb folder after the commit.
KbDraft = Table(
    "kb_drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", ForeignKey("tickets.id"), nullable=False),
    Column("name", String(200), unique=True, nullable=False),  # drafts/<name>.md
    Column("content", Text, nullable=False),
    Column("state", String(10), nullable=False),  # "pending" | "written" | "conflict"
    Column("created_at", UTCDateTime, nullable=False),
    Column("written_at", UTCDateTime, nullable=True),
    Index("ix_kb_drafts_state", "state", "id"),
)


def make_engine(url: str, sqlite_synchronous: str = "full") -> Engine:
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        _configure_sqlite(engine, sqlite_synchronous)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def make_read_engine(url: str) -> Engine:
    """For read-only commands: SQLite transactions start deferred (BEGIN), so reading
    never takes the write lock; the database file is never created."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=1)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL and in-memory databases."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def sqlite_files(url: str) -> tuple[Path, ...]:
    """The database file and the WAL and shared-memory files SQLite keeps beside it."""
    path = sqlite_path(url)
    if path is None:
        return ()
    return (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))


def _prepare_sqlite_file(url: str) -> None:
    """A new database is created 0600 in a 0700 folder; SQLite gives -wal/-shm its mode."""
    path = sqlite_path(url)
    if path is not None:
        private_files.make_private_folder(path.parent)
        private_files.create_private_file(path)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine) -> None:
    """Apply Alembic migrations up to head on this engine's database."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str | None:
    """The schema's revision, read from Alembic's table without importing Alembic (the
    daemon checks it at start; Alembic would cost it ~11 MB of memory for good)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return next(iter(versions), None)


# `revision = "0016"`, `down_revision = "0015"`, or a merge's `down_revision = ("a", "b")`
REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.M)
QUOTED = re.compile(r'["\']([^"\']+)["\']')


def head_revision(versions: Path = MIGRATIONS / "versions") -> str:
    """The newest migration: the revision no other migration names as a parent (a merge
    names several).  Read from the files' text, without importing Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        for key, value in REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else parents).update(QUOTED.findall(value))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()
