"""The core sections of maildesk.toml, declared in the registry like any feature's.

Config (loader.py) exposes them under their familiar names: `cfg.tickets`, `cfg.outbox`,
`cfg.imap`, `cfg.locale`, …  Registration order is build order: [security] reads
[[people]], so people come first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maildesk.config.registry import (
    Context,
    Schema,
    Table,
    Tables,
    Values,
    built_from_values,
    register,
)
from maildesk.config.values import (
    CATEGORIES,
    LOCALES,
    PRIORITIES,
    TICKET_TYPES,
    ConfigError,
    email,
    email_list,
    flag,
    non_negative_number,
    number_format,
    one_of,
    positive_number,
    text,
    text_list,
    time_zone,
    whole_number,
)
from maildesk.redact import mask_urls


@dataclass(frozen=True)
class Main:
    """[maildesk]: Config repeats these as its own attributes."""

    locale: str
    support_address: str
    support_name: str
    own_addresses: tuple[str, ...]
    message_id_domain: str
    data_dir: Path
    templates_dir: Path | None
    directory_csv: Path | None
    log_level: str
    node_name: str
    lease_seconds: float
    supervision: Supervision


@dataclass(frozen=True)
class Supervision:
    """[maildesk] keys for the supervised loops, IMAP liveness checks and `status`."""

    unhealthy_exit_seconds: float = 600.0
    restart_backoff_max_seconds: float = 30.0
    heartbeat_stale_seconds: float = 120.0
    imap_timeout_seconds: float = 30.0
    idle_refresh_seconds: float = 60.0


@dataclass(frozen=True)
class Database:
    url: str
    sqlite_synchronous: str


@dataclass(frozen=True)
class Tickets:
    prefix: str
    other_prefixes: tuple[str, ...]
    number_format: str
    timezone: str
    default_priority: str
    default_category: str
    default_type: str


@dataclass(frozen=True)
class Threading:
    plus_addressing: bool
    reopen_closed_within_days: float


@dataclass(frozen=True)
class Loops:
    max_auto_replies_per_hour: int
    max_auto_replies_per_day: int
    bounce_cooldown_hours: float


@dataclass(frozen=True)
class Attachments:
    folder: Path
    allowed_types: tuple[str, ...]
    max_file_mb: float
    max_message_mb: float


@dataclass(frozen=True)
class Routing:
    rules_file: Path | None  # None: the shipped config/rules.toml


@dataclass(frozen=True)
class Assignment:
    strategy: str


@dataclass(frozen=True)
class EngineerConfig:
    """One person who works tickets (or reads digests), from a [[people]] table."""

    name: str
    email: str
    groups: tuple[str, ...]
    role: str
    available: bool


@dataclass(frozen=True)
class Security:
    secret: str
    accept_authenticated_mail: bool
    require_authentication: bool
    trusted_authserv_ids: tuple[str, ...]
    internal_domains: tuple[str, ...] = ()  # () means the support address's domain
    allowed_watchers: tuple[str, ...] = ()  # addresses or "@domain"
    max_watchers: int = 10


@dataclass(frozen=True)
class SmtpIntake:
    enabled: bool
    host: str
    port: int
    protocol: str
    max_message_bytes: int


@dataclass(frozen=True)
class Outbox:
    transport: str
    folder: Path
    host: str
    port: int
    security: str
    username: str
    password: str
    verify_certificate: bool
    timeout: float
    max_attempts: int
    backoff_seconds: float
    backoff_max_seconds: float
    batch_size: int
    max_per_domain: int
    poll_interval: float
    connections: int


@dataclass(frozen=True)
class ImapMailbox:
    name: str
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str
    on_done: str
    move_to: str
    idle: bool
    poll_interval: float
    verify_certificate: bool
    ca_file: str
    batch_size: int


# --- [maildesk] and [database] -----------------------------------------------------------


def _main(values: Values, ctx: Context) -> Main:
    return Main(
        locale=values["locale"],
        support_address=values["support_address"],
        support_name=values["support_name"],
        own_addresses=values["own_addresses"],
        message_id_domain=values["message_id_domain"]
        or values["support_address"].rsplit("@", 1)[1],
        data_dir=ctx.path(values["data_dir"]),
        templates_dir=ctx.optional_path(values["templates_dir"]),
        directory_csv=ctx.optional_path(values["directory_csv"]),
        log_level=values["log_level"],
        node_name=values["node_name"],
        lease_seconds=values["lease_seconds"],
        supervision=Supervision(
            unhealthy_exit_seconds=values["unhealthy_exit_seconds"],
            restart_backoff_max_seconds=values["restart_backoff_max_seconds"],
            heartbeat_stale_seconds=values["heartbeat_stale_seconds"],
            imap_timeout_seconds=values["imap_timeout_seconds"],
            idle_refresh_seconds=values["idle_refresh_seconds"],
        ),
    )


MAIN = register(
    Table(
        "maildesk",
        {
            "locale": ("zh-CN", one_of(*LOCALES)),
            "support_address": (None, email),
            "support_name": ("IT服务台", text),
            "own_addresses": ([], email_list),
            "message_id_domain": ("", text),
            "data_dir": ("data", text),
            "templates_dir": ("", text),
            "directory_csv": ("", text),
            "log_level": ("INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR")),
            "node_name": ("", text),
            "lease_seconds": (30, positive_number),
            "unhealthy_exit_seconds": (600, positive_number),
            "restart_backoff_max_seconds": (30, positive_number),
            "heartbeat_stale_seconds": (120, positive_number),
            "imap_timeout_seconds": (30, positive_number),
            "idle_refresh_seconds": (60, positive_number),
        },
        _main,
    )
)


def _database_url(url: str, ctx: Context) -> str:
    """Make a relative SQLite path relative to the config file's folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
            raise ConfigError(
                f"{ctx.key('url')}: expected sqlite:///PATH or postgresql://..., "
                f"got {mask_urls(url)!r}"
            )
        return url
    rest = url[len(prefix) :]
    return url if rest.startswith("/") else prefix + str(ctx.path(rest))


DATABASE = register(
    Table(
        "database",
        {
            "url": ("sqlite:///data/maildesk.db", text),
            "sqlite_synchronous": ("full", one_of("full", "normal")),
        },
        lambda values, ctx: Database(
            _database_url(values["url"], ctx), values["sqlite_synchronous"]
        ),
    )
)

# --- tickets, threading, loops, attachments ----------------------------------------------

TICKETS = register(
    Table(
        "tickets",
        {
            "prefix": ("IT", text),
            "other_prefixes": ([], text_list),
            "number_format": ("{prefix}-{date:%Y%m%d}-{seq:04d}", number_format),
            "timezone": ("Asia/Shanghai", time_zone),
            "default_priority": ("medium", one_of(*PRIORITIES)),
            "default_category": ("其他", one_of(*CATEGORIES)),
            "default_type": ("incident", one_of(*TICKET_TYPES)),
        },
        built_from_values(Tickets),
    )
)

THREADING = register(
    Table(
        "threading",
        {
            "plus_addressing": (True, flag),
            "reopen_closed_within_days": (7, non_negative_number),
        },
        built_from_values(Threading),
    )
)

LOOPS = register(
    Table(
        "loops",
        {
            "max_auto_replies_per_hour": (10, whole_number(0, 100000)),
            "max_auto_replies_per_day": (40, whole_number(0, 100000)),
            "bounce_cooldown_hours": (24, non_negative_number),
        },
        built_from_values(Loops),
    )
)


def _attachments(values: Values, ctx: Context) -> Attachments:
    return Attachments(
        folder=ctx.path(values["folder"]),
        allowed_types=tuple(t.lower().lstrip(".") for t in values["allowed_types"]),
        max_file_mb=values["max_file_mb"],
        max_message_mb=values["max_message_mb"],
    )


ATTACHMENTS = register(
    Table(
        "attachments",
        {
            "folder": ("data/attachments", text),
            "allowed_types": (
                ["jpg", "jpeg", "png", "gif", "pdf", "txt", "log", "zip", "docx", "xlsx"],
                text_list,
            ),
            "max_file_mb": (10, positive_number),
            "max_message_mb": (25, positive_number),
        },
        _attachments,
    )
)

# --- routing, assignment, people, security -----------------------------------------------

ROUTING = register(
    Table(
        "routing",
        {"rules_file": ("", text)},
        lambda values, ctx: Routing(ctx.optional_path(values["rules_file"])),
    )
)

ASSIGNMENT = register(
    Table(
        "assignment",
        {"strategy": ("round_robin", one_of("round_robin", "fewest_open"))},
        built_from_values(Assignment),
    )
)

PEOPLE_SCHEMA: Schema = {
    "name": (None, text),
    "email": (None, email),
    "groups": ([], text_list),
    "role": ("engineer", one_of("engineer", "lead", "manager")),
    "available": (True, flag),
}

PEOPLE = register(
    Tables(
        "people",
        PEOPLE_SCHEMA,
        lambda values, _ctx: EngineerConfig(**{**values, "email": values["email"].lower()}),
        unique=("email", "each person needs a unique address"),
    )
)


def _security(values: Values, ctx: Context) -> Security:
    secret = ctx.secret("secret_env", values["secret_env"], values["secret"])
    if ctx.section(PEOPLE) and len(secret) < 16 and not ctx.withheld(values["secret_env"]):
        raise ConfigError(
            "security.secret: at least 16 characters are needed once [[people]] are configured "
            "(it signs the Message-IDs of notifications, so only engineers can command)"
        )
    return Security(
        secret=secret,
        accept_authenticated_mail=values["accept_authenticated_mail"],
        require_authentication=values["require_authentication"],
        trusted_authserv_ids=tuple(a.lower() for a in values["trusted_authserv_ids"]),
        internal_domains=tuple(d.lower().lstrip("@") for d in values["internal_domains"]),
        allowed_watchers=tuple(a.lower() for a in values["allowed_watchers"]),
        max_watchers=values["max_watchers"],
    )


SECURITY = register(
    Table(
        "security",
        {
            "secret": ("", text),
            "secret_env": ("", text),
            "accept_authenticated_mail": (False, flag),
            "require_authentication": (False, flag),
            "trusted_authserv_ids": ([], text_list),
            "internal_domains": ([], text_list),
            "allowed_watchers": ([], text_list),
            "max_watchers": (10, whole_number(0, 1000)),
        },
        _security,
    )
)

# --- mail in and out ---------------------------------------------------------------------

SMTP_INTAKE = register(
    Table(
        "smtp_intake",
        {
            "enabled": (True, flag),
            "host": ("127.0.0.1", text),
            "port": (8025, whole_number(0, 65535)),
            "protocol": ("smtp", one_of("smtp", "lmtp")),
            "max_message_bytes": (50 * 1024 * 1024, whole_number(1024, 2**31)),
        },
        built_from_values(SmtpIntake),
    )
)


def _with_password(values: Values, ctx: Context) -> dict[str, Any]:
    """The values with `password_env` replaced by the password it names."""
    rest = {k: v for k, v in values.items() if k != "password_env"}
    rest["password"] = ctx.secret("password_env", values["password_env"], values["password"])
    return rest


OUTBOX = register(
    Table(
        "outbox",
        {
            "transport": ("file", one_of("file", "smtp")),
            "folder": ("data/outbox", text),
            "host": ("127.0.0.1", text),
            "port": (25, whole_number(1, 65535)),
            "security": ("starttls", one_of("starttls", "tls", "plain")),
            "username": ("", text),
            "password": ("", text),
            "password_env": ("", text),
            "verify_certificate": (True, flag),
            "timeout": (30, positive_number),
            "max_attempts": (8, whole_number(1, 1000)),
            "backoff_seconds": (30, positive_number),
            "backoff_max_seconds": (300, positive_number),
            "batch_size": (50, whole_number(1, 10000)),
            "max_per_domain": (10, whole_number(1, 10000)),
            "poll_interval": (1, positive_number),
            "connections": (4, whole_number(1, 64)),
        },
        lambda values, ctx: Outbox(
            **{**_with_password(values, ctx), "folder": ctx.path(values["folder"])}
        ),
    )
)

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _mailbox(values: Values, ctx: Context) -> ImapMailbox:
    if values["on_done"] == "move" and not values["move_to"]:
        raise ConfigError(f"{ctx.key('move_to')}: required when on_done = 'move'")
    if values["security"] == "plain" and values["host"] not in LOOPBACK:
        raise ConfigError(
            f"{ctx.key('security')}: 'plain' sends the password unencrypted; "
            "it is allowed only for a loopback host (127.0.0.1, ::1, localhost)"
        )
    return ImapMailbox(**_with_password(values, ctx))


IMAP_SCHEMA: Schema = {
    "name": (None, text),
    "host": (None, text),
    "port": (993, whole_number(1, 65535)),
    "security": ("tls", one_of("tls", "starttls", "plain")),
    "username": (None, text),
    "password": ("", text),
    "password_env": ("", text),
    "folder": ("INBOX", text),
    "on_done": ("seen", one_of("seen", "move")),
    "move_to": ("", text),
    "idle": (True, flag),
    "poll_interval": (60, positive_number),
    "verify_certificate": (True, flag),
    "ca_file": ("", text),
    "batch_size": (25, whole_number(1, 10000)),  # a FETCH holds them all at once
}

IMAP = register(
    Tables("imap", IMAP_SCHEMA, _mailbox, unique=("name", "each mailbox needs a unique name"))
)
