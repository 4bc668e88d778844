"""A ticket's history as a reader of the review mail sees it: one line per event.  Pure.

Each line is the local time (with its offset), who (a known person's name, else the
address; `maildesk` is "the system"), and what: the event kind's label (vocab "event",
a timer by its kind's label), a changed field in the reader's words (vocab "field" and
the field's own terms), and a person's words (the first line of a reply or a note,
shortened).  Internal log text (timer keys, English reasons, UTC times) never shows.
Every piece is one line and bounded, whatever the event row holds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from maildesk import vocab

SYSTEM = "maildesk"
WORDS_LIMIT = 80  # characters of a person's words in one line
NAME_LIMIT = 60  # characters of a name, an address or a value
# The kinds whose text is what a person wrote (shown); every other kind's text is a log.
WORDS = frozenset({"reply", "public_reply", "note", "survey_answer", "auto_reply"})
# Fields whose values are words of vocab.TERMS; people's fields are shown by name.
TERM_FIELDS = frozenset({"status", "priority", "category", "type"})
PEOPLE_FIELDS = frozenset({"assignee", "watchers"})
TIMER_KEY = re.compile(r"\(\d+:([a-z0-9_]+):\d+\)")
ROUTED_GROUP = re.compile(r"^group (\S+)$")


def lines(
    rows: Iterable[Mapping[str, Any]], locale: str, zone: str, names: Mapping[str, str]
) -> tuple[str, ...]:
    """Event rows (store.events.listing) → one line each in `locale`; `names` maps a
    lower-case address to the person's name."""
    return tuple(line(row, locale, zone, names) for row in rows)


def line(row: Mapping[str, Any], locale: str, zone: str, names: Mapping[str, str]) -> str:
    when = vocab.local_time(datetime.fromisoformat(str(row["at"])), zone)
    return f"{when}  {who(str(row['actor'] or ''), locale, names)}  {what(row, locale, names)}"


def who(actor: str, locale: str, names: Mapping[str, str]) -> str:
    if actor == SYSTEM:
        return "系统" if locale == "zh-CN" else "the system"
    return one_line(names.get(actor.lower()) or actor, NAME_LIMIT) or "-"


def what(row: Mapping[str, Any], locale: str, names: Mapping[str, str]) -> str:
    kind = str(row["kind"] or "")
    text = str(row["text"] or "")
    parts = [_label(kind, text, locale)]
    parts += _changes(row, kind, text, locale, names)
    said = first_line(text) if kind in WORDS else ""
    head = (" " if locale == "zh-CN" else ", ").join(p for p in parts if p)
    if not said:
        return head
    return f"{head}：{said}" if locale == "zh-CN" else f"{head}: {said}"


def _label(kind: str, text: str, locale: str) -> str:
    if kind == "changed":
        return ""  # the change itself says it
    if kind == "timer":
        found = TIMER_KEY.search(text)
        if found:
            return vocab.term("timer", found.group(1), locale)
    return one_line(vocab.term("event", kind, locale), NAME_LIMIT)


def _changes(
    row: Mapping[str, Any], kind: str, text: str, locale: str, names: Mapping[str, str]
) -> list[str]:
    field = str(row["field"] or "")
    out = []
    if field == "satisfaction":
        out.append(f"{_value(field, str(row['new'] or ''), locale, names)}/5")
    elif field:
        out.append(_change(field, str(row["old"] or ""), str(row["new"] or ""), locale, names))
    group = ROUTED_GROUP.match(text) if kind == "routed" else None
    if group and group.group(1) != "-":
        out.append(_change("group", "", group.group(1), locale, names))
    return out


def _change(field: str, old: str, new: str, locale: str, names: Mapping[str, str]) -> str:
    label = one_line(vocab.term("field", field, locale), NAME_LIMIT)
    colon = "：" if locale == "zh-CN" else ": "
    after = _value(field, new, locale, names) or "-"
    if not old:
        return f"{label}{colon}{after}"
    return f"{label}{colon}{_value(field, old, locale, names)} → {after}"


def _value(field: str, value: str, locale: str, names: Mapping[str, str]) -> str:
    if field in TERM_FIELDS:
        value = vocab.term(field, value, locale)
    elif field in PEOPLE_FIELDS:
        value = names.get(value.lower()) or value
    return one_line(value, NAME_LIMIT)


def first_line(text: str) -> str:
    """A person's words: their first non-empty line, shortened."""
    first = next((s for s in text.splitlines() if s.strip()), "")
    return one_line(first, WORDS_LIMIT)


def one_line(text: str, limit: int) -> str:
    """No control characters, no line breaks, whitespace collapsed, at most `limit`."""
    visible = "".join(" " if _hidden(c) else c for c in text)
    flat = " ".join(visible.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _hidden(char: str) -> bool:
    """A control character, a line or paragraph separator, or a bidi override."""
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI


BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
