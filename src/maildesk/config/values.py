"""ConfigError, the fixed vocabularies, and the checkers that schemas are made of.

A checker takes the dotted key (for the message) and the raw TOML value, and returns the
value in the form the program uses (a list becomes a tuple, a number a float) or raises
ConfigError naming the key.
"""

from __future__ import annotations

import re
import string
import zoneinfo
from collections.abc import Callable
from datetime import datetime
from typing import Any

LOCALES = ("zh-CN", "en")
PRIORITIES = ("urgent", "high", "medium", "low")
TICKET_TYPES = ("incident", "service_request", "change", "consultation")
CATEGORIES = ("硬件故障", "软件异常", "网络问题", "账号权限", "数据安全", "其他")

Checker = Callable[[str, Any], Any]


class ConfigError(Exception):
    """A config problem, phrased for the person who wrote the file."""


def text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return value


def flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def whole_number(low: int, high: int) -> Checker:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{key}: expected a whole number from {low} to {high}, got {value!r}")
        return value

    return check


def positive_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{key}: expected a number greater than 0, got {value!r}")
    return float(value)


def non_negative_number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key}: expected a number of 0 or more, got {value!r}")
    return float(value)


def text_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
    return tuple(text(f"{key}[{i}]", v) for i, v in enumerate(value))


def one_of(*choices: str) -> Checker:
    def check(key: str, value: Any) -> str:
        if value not in choices:
            listed = ", ".join(repr(c) for c in choices)
            raise ConfigError(f"{key}: expected one of {listed}, got {value!r}")
        return str(value)

    return check


_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def email(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _EMAIL.match(value):
        raise ConfigError(f"{key}: expected an email address like it@example.com, got {value!r}")
    return value


def email_list(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of email addresses, got {value!r}")
    return tuple(email(f"{key}[{i}]", v) for i, v in enumerate(value))


def time_zone(key: str, value: Any) -> str:
    try:
        zoneinfo.ZoneInfo(text(key, value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{key}: unknown time zone {value!r} (try 'Asia/Shanghai')") from exc
    return str(value)


NUMBER_FIELDS = {"prefix", "date", "seq"}


def number_format(key: str, value: Any) -> str:
    fmt = text(key, value)
    hint = "expected a format such as '{prefix}-{date:%Y%m%d}-{seq:04d}'"
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
        fmt.format(prefix="IT", date=datetime(2026, 11, 22), seq=1)
    except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{key}: {type(exc).__name__}: {exc} — {hint}") from exc
    unknown = [f for f in fields if f not in NUMBER_FIELDS]
    if unknown:
        raise ConfigError(f"{key}: unknown field {{{unknown[0]}}} — {hint}")
    if "seq" not in fields:
        raise ConfigError(f"{key}: must contain {{seq}} — {hint}")
    return fmt
