"""Tables (SQLAlchemy 2 typed models), the engine factory and migrations.

SQLite runs in WAL mode with `BEGIN IMMEDIATE` for every transaction, so two
threads never deadlock upgrading a read lock; PostgreSQL runs READ COMMITTED
and uses row locks (`FOR UPDATE [SKIP LOCKED]`) where work is shared.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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


class Base(DeclarativeBase):
    pass


class InboundMessage(Base):
    """The journal: every message exactly as received, before it is processed."""

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(1000), unique=True)
    message_id: Mapped[str] = mapped_column(String(1000), default="")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    outcome: Mapped[str] = mapped_column(Text, default="")
    quarantine_reason: Mapped[str] = mapped_column(Text, default="")
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    __table_args__ = (Index("ix_inbound_status", "status", "id"),)


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    requester_name: Mapped[str] = mapped_column(String(300), default="")
    requester_email: Mapped[str] = mapped_column(String(320), index=True)
    department: Mapped[str] = mapped_column(String(200), default="")
    employee_id: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(30), index=True)
    priority: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(30))
    assignee: Mapped[str] = mapped_column(String(320), default="")
    group_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    __table_args__ = (
        # digests (store/digest.py): tickets opened, and first answered, in a period
        Index("ix_tickets_created", "created_at"),
        Index("ix_tickets_first_response", "first_response_at"),
        Index("ix_tickets_group_id", "group_name", "id"),  # a group's last assignee
        Index("ix_tickets_requester_created", "requester_email", "created_at"),  # floods
    )


class Watcher(Base):
    """Colleagues who follow a ticket (Cc of the first mail, or added later)."""

    __tablename__ = "ticket_watchers"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoredAttachment(Base):
    """An attachment of a ticket's message: kept (sha256 names the file) or refused."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    content_id: Mapped[str] = mapped_column(String(300), default="")
    refused_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Bounce(Base):
    """Addresses our mail bounced from: no automatic mail to them for a while."""

    __tablename__ = "bounces"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    last_bounce_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    count: Mapped[int] = mapped_column(Integer, default=1)


class TicketEvent(Base):
    """Append-only audit log: who changed what, when, from which message."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(40), default="")
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    # digests: the status changes of a period, and those since its end (the backlog)
    __table_args__ = (Index("ix_events_kind_at", "kind", "at"),)


class KnownMessageId(Base):
    """Every Message-ID maildesk received or sent, for threading replies; one ID can
    name several tickets when a client reused it (store/threads.py)."""

    __tablename__ = "message_ids"
    message_id: Mapped[str] = mapped_column(String(1000), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True, index=True)
    direction: Mapped[str] = mapped_column(String(3))


class OutboxMessage(Base):
    """Mail to send: pending → sending → sent | failed | bounced; or held, until released."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_messages.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    mail_from: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[str] = mapped_column(Text)
    to_address: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(1000))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str] = mapped_column(String(200), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lane: Mapped[str] = mapped_column(String(20), default="interactive")
    to_domain: Mapped[str] = mapped_column(String(320), default="")
    held_reason: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (
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


class TicketCounter(Base):
    __tablename__ = "ticket_counters"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class MailboxState(Base):
    __tablename__ = "mailbox_state"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)


class Lease(Base):
    """Which daemon holds a piece of work (a mailbox) until when."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Heartbeat(Base):
    """A supervised loop's last success and last error, per node (written every few s)."""

    __tablename__ = "heartbeats"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    node: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


class Timer(Base):
    """Something the clock owes a ticket (an auto-close, later reminders and escalation
    steps): one row per (ticket, kind, step), claimed with a lease when due (store/timers)."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # "<ticket id>:<kind>:<step>"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    step: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # done | cancelled
    lease_holder: Mapped[str] = mapped_column(String(200), default="")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(Text, default="")
    # the due query reads this index alone: pending rows by due time, never the tickets
    __table_args__ = (Index("ix_timers_due", "state", "due_at", "id"),)


class SurveyAnswerRow(Base):
    """A requester's score for a resolved ticket; a later answer replaces it (`replaced`).
    A score <= 2 opens a review, closed by `#review done` (survey/)."""

    __tablename__ = "survey_answers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    via: Mapped[str] = mapped_column(String(10))  # link | reply
    sender: Mapped[str] = mapped_column(String(320))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    inbound_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    replaced: Mapped[bool] = mapped_column(Boolean, default=False)
    review: Mapped[str] = mapped_column(String(10), default="")  # "" | open | closed
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_closed_by: Mapped[str] = mapped_column(String(320), default="")
    review_note: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (  # digests: answers given, reviews closed or open, in a period
        Index("ix_survey_answers_answered", "answered_at"),
        Index("ix_survey_answers_review", "review", "review_closed_at"),
    )


class CalendarDay(Base):
    """A special day of the official schedule: a holiday, or a make-up working day."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "holiday" | "workday"
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarYear(Base):
    """A year whose schedule is official (seeded or imported): its deadlines are final."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(300))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlaTarget(Base):
    """One promise on a ticket (first response, resolution): its due time in the
    policy's calendar, the business minutes it was paused, when it was met."""

    __tablename__ = "sla_targets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    target: Mapped[str] = mapped_column(String(20))  # "response" | "resolution"
    calendar: Mapped[str] = mapped_column(String(10))  # "business" | "24x7"
    minutes: Mapped[float] = mapped_column(Float)  # the target, in the calendar's minutes
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_minutes: Mapped[float] = mapped_column(Float, default=0.0)  # pauses ended so far
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # None: paused
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # a year not official
    __table_args__ = (
        UniqueConstraint("ticket_id", "target"),
        Index("ix_sla_targets_due", "due_at"),
        Index("ix_sla_targets_met", "met_at"),  # digests: targets met in a period
    )


class DigestRun(Base):
    """One digest period sent: (kind, group, first day) is unique, so with several
    daemons the one whose insert wins queues the mails (digest/usecases.py)."""

    __tablename__ = "digest_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # day | week | month
    group_name: Mapped[str] = mapped_column(String(100), default="")  # "" = whole desk
    first_day: Mapped[date] = mapped_column(Date)  # local
    last_day: Mapped[date] = mapped_column(Date)  # local, inclusive
    state: Mapped[str] = mapped_column(String(20), default="queued")  # mails in the outbox
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # row and mails written
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        UniqueConstraint("kind", "group_name", "first_day", name="uq_digest_runs_period"),
    )


class KbUse(Base):
    """A knowledge-base article suggested on a ticket, or credited for solving it (kb/)."""

    __tablename__ = "kb_uses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    article: Mapped[str] = mapped_column(String(200))  # the article's name, "" for none
    kind: Mapped[str] = mapped_column(String(10))  # "suggested" | "helped"
    via: Mapped[str] = mapped_column(String(10), default="")  # helped: "link" | "reply"
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    inbound_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    __table_args__ = (Index("ix_kb_uses_kind_at", "kind", "at"),)


class KbDraft(Base):
    """A draft article `#kb` asked for: written to the kb folder after the commit."""

    __tablename__ = "kb_drafts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    name: Mapped[str] = mapped_column(String(200), unique=True)  # drafts/<name>.md
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))  # "pending" | "written" | "conflict"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (Index("ix_kb_drafts_state", "state", "id"),)


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
