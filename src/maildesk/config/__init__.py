"""Load and validate maildesk.toml into frozen dataclasses.

Every key has a declared type and default; an unknown key, a wrong type or a bad value
raises ConfigError naming the key.  Relative paths are resolved against the config file's
folder.  Passwords may come from environment variables (`password_env`).

    values.py    ConfigError, the vocabularies (PRIORITIES, …) and the value checkers
    registry.py  how a section is declared (Table, Tables, register) and read
    core.py      the core sections: [maildesk], [tickets], [[imap]], [outbox], …
    loader.py    Config, parse, load, find_path, and FEATURE_MODULES: the modules that
                 declare sections of their own (e.g. maildesk.sla.settings)

A feature declares its section in its own module (and adds that module to
FEATURE_MODULES), then reads it with `cfg.section(...)`, typed:

    from maildesk.config import Table, built_from_values, register
    from maildesk.config.values import positive_number

    SLA_SECTION = register(Table("sla", {"response_hours": (DEFAULTS, hours_per_priority)},
                                 built_from_values(SlaSettings)))
    due = cfg.section(SLA_SECTION).response_due(ticket.created_at, ticket.priority)
"""

from maildesk.config.core import (
    Assignment,
    Attachments,
    Database,
    EngineerConfig,
    ImapMailbox,
    Loops,
    Main,
    Outbox,
    Routing,
    Security,
    SmtpIntake,
    Supervision,
    Threading,
    Tickets,
)
from maildesk.config.loader import (
    CONFIG_ENV,
    FEATURE_MODULES,
    Config,
    find_path,
    load,
    parse,
    sections,
)
from maildesk.config.registry import (
    Context,
    Schema,
    Section,
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
    Checker,
    ConfigError,
)

__all__ = [
    "CATEGORIES", "CONFIG_ENV", "FEATURE_MODULES", "LOCALES", "PRIORITIES", "TICKET_TYPES",
    "Assignment", "Attachments", "Checker", "Config", "ConfigError", "Context", "Database",
    "EngineerConfig", "ImapMailbox", "Loops", "Main", "Outbox", "Routing", "Schema", "Section",
    "Security", "SmtpIntake", "Supervision", "Table", "Tables", "Threading", "Tickets", "Values",
    "built_from_values", "find_path", "load", "parse", "register", "sections",
]  # fmt: skip
