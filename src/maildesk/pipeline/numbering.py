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
    """A regex that finds numbers of this format (with any of the prefixes) in text.

    ASCII word boundaries only, so `工单IT-20261122-0001已处理` still matches.
    """
    prefix_re = "|".join(re.escape(p) for p in prefixes)
    out = []
    for literal, field, spec, _conv in string.Formatter().parse(number_format):
        out.append(re.escape(literal))
        if field == "prefix":
            out.append(f"(?:{prefix_re})")
        elif field == "date":
            out.append(_date_regex(spec or ""))
        elif field == "seq":
            out.append(r"\d+")
    body = "".join(out)
    return re.compile(rf"(?<![\w-])({body})(?![\w-])", re.IGNORECASE | re.ASCII)


def _date_regex(spec: str) -> str:
    """A regex for dates in this strftime format: each digit becomes \\d, the rest literal."""
    sample = datetime(2026, 11, 22, 13, 45, 56).strftime(spec) if spec else "2026-11-22 13:45:56"
    return "".join(r"\d" if ch.isdigit() else re.escape(ch) for ch in sample)
