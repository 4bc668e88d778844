"""Find, read and check maildesk.toml into a frozen Config.

Every registered section is checked (core.py, and the modules in FEATURE_MODULES); an
unknown section or key, a wrong type or a bad value raises ConfigError naming the key, so
the CLI can exit with code 2 before anything starts.
"""

from __future__ import annotations

import importlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from maildesk.config import core
from maildesk.config.core import (
    Attachments,
    EngineerConfig,
    ImapMailbox,
    Loops,
    Outbox,
    Security,
    SmtpIntake,
    Supervision,
    Threading,
    Tickets,
)
from maildesk.config.registry import Context, Section, read_sections, registered
from maildesk.config.values import ConfigError

T = TypeVar("T")
CONFIG_ENV = "MAILDESK_CONFIG"

# The modules that declare config sections of their own (with config.register), imported
# before every parse.  A new feature with a section adds its module here: the only line it
# adds outside its own module.
FEATURE_MODULES = (
    "maildesk.sla.settings",
    "maildesk.held.settings",
    "maildesk.timers.settings",
    "maildesk.pipeline.automail.settings",
    "maildesk.calendar.settings",
    "maildesk.timers.inform_settings",
    "maildesk.survey.settings",
    "maildesk.digest.settings",
    "maildesk.kb.settings",
)


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
    supervision: Supervision = field(default_factory=Supervision)
    sections: Mapping[str, object] = field(default_factory=dict, repr=False, hash=False)

    def section(self, section: Section[T]) -> T:
        """A registered section as built, e.g. `cfg.section(SLA_SECTION)`."""
        return section.take(self.sections)

    def person(self, email: str) -> EngineerConfig | None:
        email = email.lower()
        return next((p for p in self.people if p.email == email), None)

    @property
    def all_own_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.support_address, *self.own_addresses))


def sections() -> tuple[Section[Any], ...]:
    """Every section a config file may have: the core ones, then the features'."""
    for module in FEATURE_MODULES:
        importlib.import_module(module)
    return registered()


def parse(
    text: str, path: Path, env: Mapping[str, str] | None = None, *, secrets: bool = True
) -> Config:
    """Check TOML text; `path` locates relative paths and names the file in errors.

    secrets=False (read-only commands): a password or secret whose environment variable
    is unset is left empty instead of being an error; everything else is still checked.
    """
    sections()  # imports the feature modules, so their sections are registered
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    env = os.environ if env is None else env
    context = Context(base=path.parent.resolve(), env=env, secrets=secrets)
    return _config(path, read_sections(raw, context))


def _config(path: Path, built: Mapping[str, object]) -> Config:
    main = core.MAIN.take(built)
    database = core.DATABASE.take(built)
    return Config(
        path=path,
        locale=main.locale,
        support_address=main.support_address,
        support_name=main.support_name,
        own_addresses=main.own_addresses,
        message_id_domain=main.message_id_domain,
        data_dir=main.data_dir,
        templates_dir=main.templates_dir,
        directory_csv=main.directory_csv,
        log_level=main.log_level,
        database_url=database.url,
        sqlite_synchronous=database.sqlite_synchronous,
        tickets=core.TICKETS.take(built),
        threading=core.THREADING.take(built),
        loops=core.LOOPS.take(built),
        attachments=core.ATTACHMENTS.take(built),
        people=core.PEOPLE.take(built),
        rules_file=core.ROUTING.take(built).rules_file,
        assignment=core.ASSIGNMENT.take(built).strategy,
        security=core.SECURITY.take(built),
        imap=core.IMAP.take(built),
        smtp_intake=core.SMTP_INTAKE.take(built),
        outbox=core.OUTBOX.take(built),
        lease_seconds=main.lease_seconds,
        node_name=main.node_name,
        supervision=main.supervision,
        sections=built,
    )


def find_path(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    """--config PATH, else $MAILDESK_CONFIG, else ./maildesk.toml."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return Path("maildesk.toml")


def load(path: Path, env: Mapping[str, str] | None = None, *, secrets: bool = True) -> Config:
    """Read and parse a config file; see `parse` for `secrets`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: config file not found (create one with `maildesk init`, "
            f"or pass --config PATH or set ${CONFIG_ENV})"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from exc
    return parse(text, path, env, secrets=secrets)
