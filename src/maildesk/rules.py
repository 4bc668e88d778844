"""Load and check a routing rule file (config/rules.toml) into routing.Rules.

Strict: an unknown key, a wrong type, a value out of range, an empty list, a regex that does
not compile, a rule without matchers or without anything to do each raise RuleError naming
the file, the line, the rule (its number and name) and the key, e.g.

    config/rules.toml, line 42: rule 5 "网络问题: VPN": set.category: expected one of …

tomllib gives no positions for values, so the lines come from a scan of the text for the
`[[rule]]` headers and the keys below them (`_Lines`).  The only IO is reading the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from maildesk.config import CATEGORIES, PRIORITIES, TICKET_TYPES, ConfigError
from maildesk.pipeline.routing import (
    ADDRESS_MATCHERS,
    FIELDS,
    REGEX_FLAGS,
    TEXT_MATCHERS,
    AddressMatcher,
    Matcher,
    Rule,
    Rules,
    TextMatcher,
    fold,
)
from maildesk.resources import shipped

__all__ = ["RuleError", "load_rules", "parse_rules", "shipped_rules_path"]

RULE_KEYS = ("name", "match", "set", "stop")
TEXT_KEYS = ("keywords", "regex", "ignore")
CHOICES = {"category": CATEGORIES, "priority": PRIORITIES, "type": TICKET_TYPES}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[^@\s<>.]+(\.[^@\s<>.]+)+$")


class RuleError(ConfigError):
    """A problem in the rule file, naming its line."""


def shipped_rules_path() -> Path:
    """The default rule file that comes with maildesk (config/rules.toml)."""
    return shipped("config") / "rules.toml"


def load_rules(path: Path) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RuleError(f"{path}: rule file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read rule file: {exc}") from exc
    return parse_rules(text, path)


def parse_rules(text: str, path: Path) -> Rules:
    """Check TOML text; `path` names the file in messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line N, column M)"
        found = re.search(r"at line (\d+)", str(exc))
        where = f", line {found.group(1)}" if found else ""
        raise RuleError(f"{path}{where}: not valid TOML: {exc}") from exc
    lines = _Lines.scan(text)
    for key in raw:
        if key != "rule":
            line = lines.top.get(key, 1)
            raise RuleError(f"{path}, line {line}: {key}: unknown key (a rule file has only "
                            "[[rule]] tables)")  # fmt: skip
    items = raw.get("rule", [])
    if not isinstance(items, list):
        line = lines.top.get("rule", 1)
        raise RuleError(f"{path}, line {line}: rule: expected [[rule]] tables, not [rule]")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        checker = _RuleChecker(path, index, lines)
        rule = checker.rule(item)
        if rule.name in seen:
            checker.fail(("name",), f"the name is already used by rule {seen[rule.name]}")
        seen[rule.name] = index + 1
        rules.append(rule)
    return Rules(tuple(rules), source=str(path))


# --- where things are -----------------------------------------------------------------------

_KEY_PART = r"(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')"
_KEY_LINE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\s*(#.*)?$")
_PART = re.compile(_KEY_PART)


def _path(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(dotted))


@dataclass
class _Lines:
    """Line numbers (1-based) of top-level keys, of each [[rule]] header and of the keys in
    each rule, by key path relative to the rule: ("set", "category")."""

    top: dict[str, int] = field(default_factory=dict)
    headers: list[int] = field(default_factory=list)
    keys: list[dict[tuple[str, ...], int]] = field(default_factory=list)

    @classmethod
    def scan(cls, text: str) -> _Lines:
        found = cls()
        prefix: tuple[str, ...] = ()  # the current table, relative to the current rule
        state = "top"  # or "rule" (in a [[rule]] or one of its sub-tables) or "other"
        in_string = ""  # inside a multi-line string: its delimiter
        for number, line in enumerate(text.split("\n"), 1):  # as tomllib counts
            if in_string:
                if line.count(in_string) % 2:
                    in_string = ""
                continue
            header = _ARRAY_HEADER.match(line) or _TABLE_HEADER.match(line)
            key = None if header else _KEY_LINE.match(line)
            if header:
                parts = _path(header.group(1))
                found.top.setdefault(parts[0], number)
                if parts == ("rule",) and header.re is _ARRAY_HEADER:
                    found.headers.append(number)
                    found.keys.append({})
                    state, prefix = "rule", ()
                elif parts[0] == "rule" and found.keys:
                    state, prefix = "rule", parts[1:]
                    found.keys[-1].setdefault(prefix, number)
                else:
                    state = "other"
            elif key:
                dotted = _path(key.group(1))
                if state == "rule":
                    for end in range(1, len(dotted) + 1):  # set.category also marks set
                        found.keys[-1].setdefault(prefix + dotted[:end], number)
                elif state == "top":
                    found.top.setdefault(dotted[0], number)
            for delimiter in ('"""', "'''"):
                if line.count(delimiter) % 2:
                    in_string = delimiter
                    break
        return found

    def of(self, index: int, key: tuple[str, ...]) -> int:
        """The line of a key in rule `index`, else of its nearest enclosing key, else of the
        rule's header (else of the top-level `rule` key, for `rule = [{…}]`)."""
        if index >= len(self.keys):
            return self.top.get("rule", 1)
        keys = self.keys[index]
        for end in range(len(key), 0, -1):
            if key[:end] in keys:
                return keys[key[:end]]
        return self.headers[index]


# --- checking one rule ----------------------------------------------------------------------


@dataclass
class _RuleChecker:
    path: Path
    index: int
    lines: _Lines
    name: str = ""

    def fail(self, key: tuple[str, ...], problem: str) -> NoReturn:
        line = self.lines.of(self.index, key)
        who = f'rule {self.index + 1} "{self.name}"' if self.name else f"rule {self.index + 1}"
        dotted = ".".join(key)
        raise RuleError(f"{self.path}, line {line}: {who}: {dotted + ': ' if dotted else ''}"
                        f"{problem}")  # fmt: skip

    def rule(self, raw: Any) -> Rule:
        if not isinstance(raw, dict):
            self.fail((), f"expected a [[rule]] table, got {raw!r}")
        self.name = raw.get("name", "") if isinstance(raw.get("name"), str) else ""
        self._known((), raw, RULE_KEYS)
        if "name" not in raw:
            self.fail((), 'missing name = "…" (every rule needs a unique name)')
        name = self._text(("name",), raw["name"])
        stop = raw.get("stop", False)
        if not isinstance(stop, bool):
            self.fail(("stop",), f"expected true or false, got {stop!r}")
        matchers = self._matchers(raw.get("match"))
        sets = self._sets(raw.get("set"), stop)
        return Rule(name=name, line=self.lines.of(self.index, ()), matchers=matchers,
                    sets=sets, stop=stop)  # fmt: skip

    def _known(self, key: tuple[str, ...], raw: dict[str, Any], known: tuple[str, ...]) -> None:
        for name in raw:
            if name not in known:
                self.fail((*key, name), f"unknown key (known keys: {', '.join(known)})")

    def _text(self, key: tuple[str, ...], value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}")
        return str(value).strip()

    def _strings(self, key: tuple[str, ...], value: Any, strip: bool = True) -> tuple[str, ...]:
        """One string or a non-empty list of non-empty strings."""
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            self.fail(key, f"expected a string or a non-empty list of strings, got {value!r}")
        for i, item in enumerate(values):
            if not isinstance(item, str) or not item.strip():
                self.fail(key, f"item {i + 1}: expected a non-empty string, got {item!r}")
        return tuple(v.strip() if strip else v for v in values)

    def _matchers(self, raw: Any) -> tuple[Matcher, ...]:
        known = (*ADDRESS_MATCHERS, *TEXT_MATCHERS)
        if raw is None:
            self.fail((), f"no matcher: add match.<{' | '.join(known)}>")
        if not isinstance(raw, dict) or not raw:
            self.fail(("match",), f"expected matchers ({', '.join(known)}), got {raw!r}")
        self._known(("match",), raw, known)
        addresses = [self._addresses(where, raw[where]) for where in ADDRESS_MATCHERS
                     if where in raw]  # fmt: skip
        texts = [self._text_matcher(where, raw[where]) for where in TEXT_MATCHERS if where in raw]
        return (*addresses, *texts)  # the cheap ones first: all must match

    def _addresses(self, where: str, value: Any) -> AddressMatcher:
        key = ("match", where)
        values = self._strings(key, value)
        pattern, example = (_DOMAIN, "example.com") if where == "sender_domain" else (
            _EMAIL, "it@example.com")  # fmt: skip
        for item in values:
            if not pattern.match(item):
                self.fail(key, f"expected addresses like {example!r}, got {item!r}")
        return AddressMatcher(where, frozenset(v.lower() for v in values))

    def _text_matcher(self, where: str, raw: Any) -> TextMatcher:
        key = ("match", where)
        if not isinstance(raw, dict):
            self.fail(key, f"expected a table with keywords and/or regex, got {raw!r}")
        self._known(key, raw, TEXT_KEYS)
        if "keywords" not in raw and "regex" not in raw:
            self.fail(key, "needs keywords = [...] or regex = [...]")
        keywords = self._keywords((*key, "keywords"), raw.get("keywords"))
        ignore = self._keywords((*key, "ignore"), raw.get("ignore"))
        regexes = []
        for source in (
            self._strings((*key, "regex"), raw["regex"], strip=False) if "regex" in raw else ()
        ):
            try:
                regex = re.compile(source, REGEX_FLAGS)
            except re.error as exc:
                self.fail((*key, "regex"), f"not a valid regular expression {source!r}: {exc}")
            if regex.search("") is not None:
                self.fail((*key, "regex"), f"{source!r} matches empty text, so every message")
            regexes.append(regex)
        return TextMatcher(where, keywords, tuple(regexes), ignore)

    def _keywords(self, key: tuple[str, ...], value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        words = self._strings(key, value)
        for word in words:
            if not fold(word).split():
                self.fail(key, f"{word!r} has nothing to look for")
        return words

    def _sets(self, raw: Any, stop: bool) -> dict[str, str]:
        if raw is None:
            if stop:
                return {}  # a rule that only ends the evaluation
            self.fail((), f"nothing to do: add set.<{' | '.join(FIELDS)}> (or stop = true)")
        if not isinstance(raw, dict) or not raw:
            self.fail(("set",), f"expected fields to set ({', '.join(FIELDS)}), got {raw!r}")
        self._known(("set",), raw, FIELDS)
        sets = {}
        for name, value in raw.items():
            text = self._text(("set", name), value)
            choices = CHOICES.get(name)
            if choices and text not in choices:
                listed = ", ".join(repr(c) for c in choices)
                self.fail(("set", name), f"expected one of {listed}, got {value!r}")
            sets[name] = text
        if "subcategory" in sets and "category" not in sets:
            self.fail(("set", "subcategory"), "needs set.category in the same rule")
        return sets
