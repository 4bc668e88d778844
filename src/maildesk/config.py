"""Load and validate maildesk.toml into frozen dataclasses.

Every key has a declared type and default; an unknown key, a wrong type or a
bad value raises ConfigError naming the key, so the CLI can exit with code 2
before anything starts.  Relative paths are resolved against the config file's
folder.  Passwords may come from environment variables (`password_env`).
"""

from __future__ import annotations

import os
import re
import string
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

CONFIG_ENV = "MAILDESK_CONFIG"
LOCALES = ("zh-CN", "en")
PRIORITIES = ("urgent", "high", "medium", "low")
TICKET_TYPES = ("incident", "service_request", "change", "consultation")
CATEGORIES = ("硬件故障", "软件异常", "网络问题", "账号权限", "数据安全", "其他")


class ConfigError(Exception):
    """A config problem, phrased for the person who wrote the file."""


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
    poll_interval: float


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


@dataclass(frozen=True)
class Config:
    path: Path
    locale: str
    support_address: str
    support_name: str
    own_addresses: tuple[str, ...]
    message_id_domain: str
    data_dir: Path
    templates_dir: Path | None
    directory_csv: Path | None
    log_level: str
    database_url: str
    sqlite_synchronous: str
    tickets: Tickets
    threading: Threading
    loops: Loops
    attachments: Attachments
    people: tuple[EngineerConfig, ...]
    rules_file: Path | None
    assignment: str
    security: Security
    imap: tuple[ImapMailbox, ...]
    smtp_intake: SmtpIntake
    outbox: Outbox
    lease_seconds: float
    node_name: str = field(default="")

    def person(self, email: str) -> EngineerConfig | None:
        email = email.lower()
        return next((p for p in self.people if p.email == email), None)

    @property
    def all_own_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.support_address, *self.own_addresses))


# --- a tiny schema: key -> (default, checker) -------------------------------------------

Checker = Callable[[str, Any], Any]


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _int_range(low: int, high: int) -> Checker:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{key}: expected a whole number from {low} to {high}, got {value!r}")
        return value

    return check


def _positive_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key}: expected a number greater than 0, got {value!r}")
    return float(value)


def _non_negative_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key}: expected a number of 0 or more, got {value!r}")
    return float(value)


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    return tuple(_str(f"{key}[{i}]", v) for i, v in enumerate(value))


def _choice(*choices: str) -> Checker:
    def check(key: str, value: Any) -> str:
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{key}: expected one of {listed}, got {value!r}")
        return str(value)

    return check


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _email(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise ConfigError(f"{key}: expected an email address like it@example.com, got {value!r}")
    return value


def _email_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of email addresses, got {value!r}")
    return tuple(_email(f"{key}[{i}]", v) for i, v in enumerate(value))


def _timezone(key: str, value: Any) -> str:
    try:
        zoneinfo.ZoneInfo(_str(key, value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{key}: unknown time zone {value!r} (try 'Asia/Shanghai')") from exc
    return str(value)


NUMBER_FIELDS = {"prefix", "date", "seq"}


def _number_format(key: str, value: Any) -> str:
    text = _str(key, value)
    hint = "expected a format such as '{prefix}-{date:%Y%m%d}-{seq:04d}'"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        text.format(prefix="IT", date=datetime(2026, 11, 22), seq=1)
    except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{key}: {type(exc).__name__}: {exc} — {hint}") from exc
    unknown = [f for f in fields if f not in NUMBER_FIELDS]
    if unknown:
        raise ConfigError(f"{key}: unknown field {{{unknown[0]}}} — {hint}")
    if "seq" not in fields:
        raise ConfigError(f"{key}: must contain {{seq}} — {hint}")
    return text


SCHEMA: dict[str, dict[str, tuple[Any, Checker]]] = {
    "maildesk": {
        "locale": ("zh-CN", _choice(*LOCALES)),
        "support_address": (None, _email),
        "support_name": ("IT服务台", _str),
        "own_addresses": ([], _email_list),
        "message_id_domain": ("", _str),
        "data_dir": ("data", _str),
        "templates_dir": ("", _str),
        "directory_csv": ("", _str),
        "log_level": ("INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR")),
        "node_name": ("", _str),
        "lease_seconds": (30, _positive_number),
    },
    "database": {
        "url": ("sqlite:///data/maildesk.db", _str),
        "sqlite_synchronous": ("full", _choice("full", "normal")),
    },
    "tickets": {
        "prefix": ("IT", _str),
        "other_prefixes": ([], _str_list),
        "number_format": ("{prefix}-{date:%Y%m%d}-{seq:04d}", _number_format),
        "timezone": ("Asia/Shanghai", _timezone),
        "default_priority": ("medium", _choice(*PRIORITIES)),
        "default_category": ("其他", _choice(*CATEGORIES)),
        "default_type": ("incident", _choice(*TICKET_TYPES)),
    },
    "threading": {
        "plus_addressing": (True, _bool),
        "reopen_closed_within_days": (7, _non_negative_number),
    },
    "loops": {
        "max_auto_replies_per_hour": (10, _int_range(0, 100000)),
        "max_auto_replies_per_day": (40, _int_range(0, 100000)),
        "bounce_cooldown_hours": (24, _non_negative_number),
    },
    "attachments": {
        "folder": ("data/attachments", _str),
        "allowed_types": (
            ["jpg", "jpeg", "png", "gif", "pdf", "txt", "log", "zip", "docx", "xlsx"],
            _str_list,
        ),
        "max_file_mb": (10, _positive_number),
        "max_message_mb": (25, _positive_number),
    },
    "routing": {
        "rules_file": ("", _str),
    },
    "assignment": {
        "strategy": ("round_robin", _choice("round_robin", "fewest_open")),
    },
    "security": {
        "secret": ("", _str),
        "secret_env": ("", _str),
        "accept_authenticated_mail": (False, _bool),
        "require_authentication": (False, _bool),
        "trusted_authserv_ids": ([], _str_list),
    },
    "smtp_intake": {
        "enabled": (True, _bool),
        "host": ("127.0.0.1", _str),
        "port": (8025, _int_range(0, 65535)),
        "protocol": ("smtp", _choice("smtp", "lmtp")),
        "max_message_bytes": (50 * 1024 * 1024, _int_range(1024, 2**31)),
    },
    "outbox": {
        "transport": ("file", _choice("file", "smtp")),
        "folder": ("data/outbox", _str),
        "host": ("127.0.0.1", _str),
        "port": (25, _int_range(1, 65535)),
        "security": ("starttls", _choice("starttls", "tls", "plain")),
        "username": ("", _str),
        "password": ("", _str),
        "password_env": ("", _str),
        "verify_certificate": (True, _bool),
        "timeout": (30, _positive_number),
        "max_attempts": (8, _int_range(1, 1000)),
        "backoff_seconds": (30, _positive_number),
        "backoff_max_seconds": (3600, _positive_number),
        "batch_size": (50, _int_range(1, 10000)),
        "poll_interval": (1, _positive_number),
    },
}

PEOPLE_SCHEMA: dict[str, tuple[Any, Checker]] = {
    "name": (None, _str),
    "email": (None, _email),
    "groups": ([], _str_list),
    "role": ("engineer", _choice("engineer", "lead", "manager")),
    "available": (True, _bool),
}

IMAP_SCHEMA: dict[str, tuple[Any, Checker]] = {
    "name": (None, _str),
    "host": (None, _str),
    "port": (993, _int_range(1, 65535)),
    "security": ("tls", _choice("tls", "starttls", "plain")),
    "username": (None, _str),
    "password": ("", _str),
    "password_env": ("", _str),
    "folder": ("INBOX", _str),
    "on_done": ("seen", _choice("seen", "move")),
    "move_to": ("", _str),
    "idle": (True, _bool),
    "poll_interval": (60, _positive_number),
    "verify_certificate": (True, _bool),
    "ca_file": ("", _str),
    "batch_size": (100, _int_range(1, 10000)),
}


def _section(name: str, raw: Any, schema: Mapping[str, tuple[Any, Checker]]) -> dict[str, Any]:
    """Check one table against its schema and fill in defaults."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: expected a table [{name}], got {raw!r}")
    for key in raw:
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(f"{name}.{key}: unknown key (known keys: {known})")
    values: dict[str, Any] = {}
    for key, (default, check) in schema.items():
        if key in raw:
            values[key] = check(f"{name}.{key}", raw[key])
        elif default is None:
            raise ConfigError(f"{name}.{key}: required key is missing")
        else:
            values[key] = default
    return values


def _secret(prefix: str, values: Mapping[str, Any], env: Mapping[str, str]) -> str:
    var = values["password_env"]
    if not var:
        return str(values["password"])
    if var not in env:
        raise ConfigError(f"{prefix}.password_env: environment variable {var} is not set")
    return env[var]


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _database_url(base: Path, url: str) -> str:
    """Make a relative SQLite path relative to the config file's folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
            raise ConfigError(
                f"database.url: expected sqlite:///PATH or postgresql://..., got {url!r}"
            )
        return url
    rest = url[len(prefix) :]
    if rest.startswith("/"):
        return url
    return prefix + str(_resolve(base, rest))


def _imap(index: int, raw: Any, env: Mapping[str, str]) -> ImapMailbox:
    name = f"imap[{index}]"
    values = _section(name, raw, IMAP_SCHEMA)
    if values["on_done"] == "move" and not values["move_to"]:
        raise ConfigError(f"{name}.move_to: required when on_done = 'move'")
    if values["security"] == "plain" and values["host"] not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError(
            f"{name}.security: 'plain' sends the password unencrypted; "
            "it is allowed only for a loopback host (127.0.0.1, ::1, localhost)"
        )
    password = _secret(name, values, env)
    values.pop("password_env")
    values["password"] = password
    return ImapMailbox(**values)


def _people(raw: Any) -> tuple[EngineerConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError("people: expected [[people]] tables (a list of people)")
    people = []
    for i, item in enumerate(raw):
        values = _section(f"people[{i}]", item, PEOPLE_SCHEMA)
        values["email"] = values["email"].lower()
        people.append(EngineerConfig(**values))
    emails = [p.email for p in people]
    if len(set(emails)) != len(emails):
        raise ConfigError("people[].email: each person needs a unique address")
    return tuple(people)


def _security(raw: Any, env: Mapping[str, str], needed: bool) -> Security:
    values = _section("security", raw, SCHEMA["security"])
    secret = values["secret"]
    if values["secret_env"]:
        if values["secret_env"] not in env:
            raise ConfigError(
                f"security.secret_env: environment variable {values['secret_env']} is not set"
            )
        secret = env[values["secret_env"]]
    if needed and len(secret) < 16:
        raise ConfigError(
            "security.secret: at least 16 characters are needed once [[people]] are configured "
            "(it signs the Message-IDs of notifications, so only engineers can command)"
        )
    return Security(
        secret=secret,
        accept_authenticated_mail=values["accept_authenticated_mail"],
        require_authentication=values["require_authentication"],
        trusted_authserv_ids=tuple(a.lower() for a in values["trusted_authserv_ids"]),
    )


def _outbox(base: Path, raw: Any, env: Mapping[str, str]) -> Outbox:
    values = _section("outbox", raw, SCHEMA["outbox"])
    values["password"] = _secret("outbox", values, env)
    values.pop("password_env")
    values["folder"] = _resolve(base, values["folder"])
    return Outbox(**values)


def parse(text: str, path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Validate TOML text; `path` locates relative paths and names the file in errors."""
    env = os.environ if env is None else env
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    top_known = {*SCHEMA, "imap", "people"}
    for key in raw:
        if key not in top_known:
            raise ConfigError(f"{key}: unknown section (known: {', '.join(sorted(top_known))})")
    base = path.parent.resolve()
    main = _section("maildesk", raw.get("maildesk", {}), SCHEMA["maildesk"])
    db = _section("database", raw.get("database", {}), SCHEMA["database"])
    tickets = Tickets(**_section("tickets", raw.get("tickets", {}), SCHEMA["tickets"]))
    threads = Threading(**_section("threading", raw.get("threading", {}), SCHEMA["threading"]))
    loops = Loops(**_section("loops", raw.get("loops", {}), SCHEMA["loops"]))
    files = _section("attachments", raw.get("attachments", {}), SCHEMA["attachments"])
    files["folder"] = _resolve(base, files["folder"])
    files["allowed_types"] = tuple(t.lower().lstrip(".") for t in files["allowed_types"])
    imap_raw = raw.get("imap", [])
    if not isinstance(imap_raw, list):
        raise ConfigError("imap: expected [[imap]] tables (a list of mailboxes)")
    mailboxes = tuple(_imap(i, m, env) for i, m in enumerate(imap_raw))
    names = [m.name for m in mailboxes]
    if len(set(names)) != len(names):
        raise ConfigError("imap[].name: each mailbox needs a unique name")
    people = _people(raw.get("people", []))
    security = _security(raw.get("security", {}), env, bool(people))
    assignment = _section("assignment", raw.get("assignment", {}), SCHEMA["assignment"])
    rules_file = _section("routing", raw.get("routing", {}), SCHEMA["routing"])["rules_file"]
    intake = SmtpIntake(
        **_section("smtp_intake", raw.get("smtp_intake", {}), SCHEMA["smtp_intake"])
    )
    domain = main["message_id_domain"] or main["support_address"].rsplit("@", 1)[1]
    return Config(
        path=path,
        locale=main["locale"],
        support_address=main["support_address"],
        support_name=main["support_name"],
        own_addresses=main["own_addresses"],
        message_id_domain=domain,
        data_dir=_resolve(base, main["data_dir"]),
        templates_dir=_resolve(base, main["templates_dir"]) if main["templates_dir"] else None,
        directory_csv=_resolve(base, main["directory_csv"]) if main["directory_csv"] else None,
        log_level=main["log_level"],
        database_url=_database_url(base, db["url"]),
        sqlite_synchronous=db["sqlite_synchronous"],
        tickets=tickets,
        threading=threads,
        loops=loops,
        attachments=Attachments(**files),
        people=people,
        rules_file=_resolve(base, rules_file) if rules_file else None,
        assignment=assignment["strategy"],
        security=security,
        imap=mailboxes,
        smtp_intake=intake,
        outbox=_outbox(base, raw.get("outbox", {}), env),
        lease_seconds=main["lease_seconds"],
        node_name=main["node_name"],
    )


def find_path(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    """--config PATH, else $MAILDESK_CONFIG, else ./maildesk.toml."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return Path("maildesk.toml")


def load(path: Path, env: Mapping[str, str] | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: config file not found (create one with `maildesk init`, "
            f"or pass --config PATH or set ${CONFIG_ENV})"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
    return parse(text, path, env)
