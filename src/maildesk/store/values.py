"""Values made storable before they reach the database, the same on SQLite and
PostgreSQL: text without NUL bytes or lone surrogates, Message-IDs short and ASCII.
Pure functions; the raw bytes of every message stay in the journal."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

MAX_MESSAGE_ID = 250  # well under PostgreSQL's btree row limit, in bytes too
_UNSAFE = re.compile(r"[\x00\ud800-\udfff]")
_ID_SAFE = re.compile(r"[\x21-\x7e]+")


def text(value: str) -> str:
    """Text for any column: NUL bytes and lone surrogates (raw 8-bit) removed."""
    return _UNSAFE.sub("", value) if _UNSAFE.search(value) else value


def message_id(value: str) -> str:
    """A Message-ID as stored and looked up: stripped, and when too long or not
    printable ASCII, a stable hash of it (the same input always maps the same way)."""
    value = value.strip()
    if not value or (len(value) <= MAX_MESSAGE_ID and _ID_SAFE.fullmatch(value)):
        return value
    raw = value.encode("utf-8", "surrogatepass")
    return f"sha256:{hashlib.sha256(raw).hexdigest()}@maildesk.invalid"


def row(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row to insert or update, every text value made storable."""
    return {k: text(v) if isinstance(v, str) else v for k, v in values.items()}


def lookup_ids(ids: list[str]) -> list[str]:
    """The stored forms to look up for these ids, in order; an id that was storable as
    written is also looked up so (kept so before ids were bounded)."""
    found = [message_id(i) for i in ids]
    legacy = [i for i in ids if i and i == text(i) and len(i) <= 900]
    return list(dict.fromkeys(found + legacy))
