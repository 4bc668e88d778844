"""Ticket numbers: formatting and recognizing them.  `IT-20261122-0001` by default."""

from __future__ import annotations

import re
import string
from datetime import datetime
from zoneinfo import ZoneInfo


def counter_key(number_format: str, now: datetime, timezone: str) -> str:
    """The sequence resets per day when the format shows a date, else never."""
    if "{date" not in number_format:
        return "all"
    return now.astimezone(ZoneInfo(timezone)).strftime("%Y%m%d")


def format_number(number_format: str, prefix: str, now: datetime, timezone: str, seq: int) -> str:
    local = now.astimezone(ZoneInfo(timezone))
    return number_format.format(prefix=prefix, date=local, seq=seq)


def number_pattern(number_format: str, prefixes: tuple[str, ...]) -> re.Pattern[str]:
    """A regex that finds numbers of this format (with any of the prefixes) in text."""
    prefix_re = "|".join(re.escape(p) for p in prefixes)
    out = []
    for literal, field, _spec, _conv in string.Formatter().parse(number_format):
        out.append(re.escape(literal))
        if field == "prefix":
            out.append(f"(?:{prefix_re})")
        elif field in ("date", "seq"):
            out.append(r"\d+")
    return re.compile("(?<![\\w-])(" + "".join(out) + ")(?![\\w-])", re.IGNORECASE)
