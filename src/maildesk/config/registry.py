"""The registry of config sections: each top-level table of maildesk.toml is declared once.

A section is its name, its schema (key -> (default, checker); default None = required)
and a build function from the checked values and a Context to a frozen dataclass.  The
module that owns a feature declares its section there:

    SLA_SECTION = register(Table("sla", {"response_hours": (DEFAULTS, hours)}, build))

and reads it from a loaded config with `cfg.section(SLA_SECTION)` (typed: a Table[T]
gives a T).  `read_sections` checks a whole file: an unknown section or key is a
ConfigError naming it; sections are built in the order they were registered, and a build
function may read a section registered before its own with `ctx.section(...)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, TypeVar, cast

from maildesk.config.values import Checker, ConfigError

T = TypeVar("T")
Item = TypeVar("Item")
S = TypeVar("S", bound="Section[Any]")

Values = Mapping[str, Any]
Schema = Mapping[str, tuple[Any, Checker]]


@dataclass(frozen=True)
class Context:
    """What a build function may use besides its section's values."""

    base: Path  # the config file's folder: relative paths start here
    env: Mapping[str, str]
    secrets: bool = True  # False: a secret whose environment variable is unset stays ""
    where: str = ""  # the table being built, for messages: "outbox", "imap[0]"
    built: Mapping[str, object] = field(default_factory=dict)  # sections built so far

    def key(self, name: str) -> str:
        return f"{self.where}.{name}"

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base / path

    def optional_path(self, value: str) -> Path | None:
        return self.path(value) if value else None

    def secret(self, env_key: str, var: str, inline: str) -> str:
        """The environment variable `var` (named by key `env_key`) if set, else `inline`."""
        if not var:
            return inline
        if var in self.env:
            return self.env[var]
        if not self.secrets:
            return ""
        raise ConfigError(f"{self.key(env_key)}: environment variable {var} is not set")

    def withheld(self, var: str) -> bool:
        """A secret left empty because its variable is unset and secrets are not needed."""
        return bool(var) and var not in self.env and not self.secrets

    def section(self, section: Section[T]) -> T:
        """A section registered before the one being built."""
        return section.take(self.built)

    def at(self, where: str) -> Context:
        return replace(self, where=where)


@dataclass(frozen=True)
class Section(ABC, Generic[T]):
    """A top-level key of maildesk.toml."""

    name: str
    schema: Schema

    @abstractmethod
    def read(self, raw: Any, ctx: Context) -> T:
        """Check the raw TOML value (None when the file lacks the section) and build."""

    def take(self, built: Mapping[str, object]) -> T:
        if self.name not in built:
            raise LookupError(
                f"config section [{self.name}] was not built: is its module in "
                "maildesk.config.FEATURE_MODULES, and registered before its readers?"
            )
        return cast(T, built[self.name])


@dataclass(frozen=True)
class Table(Section[T]):
    """A [name] table; when absent every key takes its default."""

    build: Callable[[Values, Context], T]

    def read(self, raw: Any, ctx: Context) -> T:
        values = check_table(self.name, {} if raw is None else raw, self.schema)
        return self.build(values, ctx.at(self.name))


@dataclass(frozen=True)
class Tables(Section[tuple[Item, ...]], Generic[Item]):
    """[[name]] tables, one item each; when absent there are none."""

    build: Callable[[Values, Context], Item]
    unique: tuple[str, str] = ("", "")  # (key, why): a key whose values must differ

    def read(self, raw: Any, ctx: Context) -> tuple[Item, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise ConfigError(f"{self.name}: expected [[{self.name}]] tables, got {raw!r}")
        items = tuple(self._item(f"{self.name}[{i}]", table, ctx) for i, table in enumerate(raw))
        self._require_unique(items)
        return items

    def _item(self, where: str, raw: Any, ctx: Context) -> Item:
        return self.build(check_table(where, raw, self.schema), ctx.at(where))

    def _require_unique(self, items: tuple[Item, ...]) -> None:
        key, why = self.unique
        values = [getattr(item, key) for item in items] if key else []
        if len(set(values)) != len(values):
            raise ConfigError(f"{self.name}[].{key}: {why}")


def built_from_values(cls: Callable[..., T]) -> Callable[[Values, Context], T]:
    """A build function for a dataclass whose fields are exactly the schema's keys."""
    return lambda values, _ctx: cls(**values)


def check_table(where: str, raw: Any, schema: Schema) -> dict[str, Any]:
    """Check one table against its schema; defaults go through the checkers too."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table [{where}], got {raw!r}")
    unknown = [key for key in raw if key not in schema]
    if unknown:
        known = ", ".join(sorted(schema))
        raise ConfigError(f"{where}.{unknown[0]}: unknown key (known keys: {known})")
    values: dict[str, Any] = {}
    for key, (default, check) in schema.items():
        if key not in raw and default is None:
            raise ConfigError(f"{where}.{key}: required key is missing")
        values[key] = check(f"{where}.{key}", raw.get(key, default))
    return values


# --- the registry ----------------------------------------------------------------------

_SECTIONS: dict[str, Section[Any]] = {}


def register(section: S) -> S:
    """Declare a section (once, at import of the module that owns it)."""
    if section.name in _SECTIONS:
        raise ValueError(f"config section [{section.name}] is declared twice")
    _SECTIONS[section.name] = section
    return section


def registered() -> tuple[Section[Any], ...]:
    return tuple(_SECTIONS.values())


def read_sections(raw: Mapping[str, Any], ctx: Context) -> Mapping[str, object]:
    """Every registered section of a parsed file, built, by name."""
    unknown = [name for name in raw if name not in _SECTIONS]
    if unknown:
        known = ", ".join(sorted(_SECTIONS))
        raise ConfigError(f"{unknown[0]}: unknown section (known: {known})")
    built: dict[str, object] = {}
    view = MappingProxyType(built)
    for section in _SECTIONS.values():
        built[section.name] = section.read(raw.get(section.name), replace(ctx, built=view))
    return view
