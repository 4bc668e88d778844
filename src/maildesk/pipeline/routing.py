"""Routing rules: which category, priority, type, group and assignee a new ticket gets.  Pure.

The rules come from a rule file (config/rules.toml, loaded and checked by maildesk.rules)
and are tried in order against one message:

* A rule matches when every matcher it has matches; a matcher matches when any of its
  keywords or regexes is found, or when the message's address is on its list.
* A matching rule sets each of its fields that no earlier matching rule has set: the first
  rule to set a field wins, so the order of the rules is their precedence.  `subcategory`
  belongs to `category`: it is taken together with the rule's category, or when the
  category already set is the rule's own and has no subcategory yet.
* `stop` on a matching rule ends the evaluation.
* A field that no rule sets is None: the caller falls back to its defaults.

Text is compared folded (`fold`): lower case, full-width letters and digits as ASCII
(ＶＰＮ is vpn), typographic apostrophes and hyphens plain.  A keyword is a substring,
except that an edge of it that is an ASCII letter or digit must be a word edge: `down` is
not found in `download`, `ip` is found in `IP地址`.  A space in a keyword matches any run of
white space.  `ignore` phrases are blanked out before the matcher looks (`shut down` does
not count as `down`).  Regexes are searched case-insensitively in the same folded text.
Only the first BODY_LIMIT characters of the body are read.  Every pattern is compiled
when the rules are built; a message is folded once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple

from maildesk.domain import Inbound

__all__ = [
    "ADDRESS_MATCHERS", "BODY_LIMIT", "FIELDS", "REGEX_FLAGS", "TEXT_MATCHERS",
    "AddressMatcher", "Matcher", "Route", "Rule", "Rules", "TextMatcher",
    "explain", "fold", "route",
]  # fmt: skip

FIELDS = ("category", "subcategory", "priority", "type", "group", "assignee")
TEXT_MATCHERS = ("subject", "body", "subject_or_body")
ADDRESS_MATCHERS = ("sender", "sender_domain", "to")
BODY_LIMIT = 10_000  # enough to route on; a pasted log cannot slow intake
REGEX_FLAGS = re.IGNORECASE

# --- folding --------------------------------------------------------------------------------

_FOLDS = {
    **{chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)},  # ０-９
    **{chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)},  # ａ-ｚ (after lower())
    "\uff0d": "-", "\u2010": "-", "\u2011": "-", "\u2018": "'", "\u2019": "'",
}  # fmt: skip
_FOLDABLE = re.compile("[" + "".join(_FOLDS) + "]")
_WORD = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_BLANK = "\x00"  # what ignored phrases become: neither a word character nor white space


def fold(text: str) -> str:
    """The form in which keywords and mail text are compared."""
    low = text.lower()
    if _FOLDABLE.search(low) is None:  # the usual case: one fast scan, no copy
        return low
    return _FOLDABLE.sub(lambda m: _FOLDS[m.group()], low)


_ASCII_WORDS = bytes(c if c in b"abcdefghijklmnopqrstuvwxyz0123456789" else 32 for c in range(256))


def _tokens(text: str) -> frozenset[bytes]:
    """The runs of ASCII letters and digits in folded text: the words an ASCII keyword can
    be.  (Encoding and a byte table is several times faster than a regex findall.)"""
    return frozenset(text.encode("ascii", "replace").translate(_ASCII_WORDS).split())


def _has_word(keyword: str) -> bool:
    return any(c in _WORD for c in keyword)


def _phrase(keyword: str) -> str:
    """A folded keyword as a regex: literal first (so a search can skip ahead), then its
    edges; a space matches any run of white space."""
    words = keyword.split()
    body = r"\s+".join(re.escape(w) for w in words)
    first, last = words[0][0], words[-1][-1]
    if first in _WORD:  # the character before the match must not be a letter or digit
        body = body[0] + r"(?<![a-z0-9].)" + body[1:]
    if last in _WORD:
        body += r"(?![a-z0-9])"
    return body


def _folded(keywords: tuple[str, ...]) -> list[str]:
    """Folded, spaces normalized, no duplicates, longest first."""
    folded = {" ".join(fold(k).split()) for k in keywords}
    if "" in folded:
        raise ValueError("a keyword needs a visible character")
    return sorted(folded, key=lambda k: (-len(k), k))


@dataclass(frozen=True)
class _Phrases:
    """One matcher's keywords (or ignore phrases), sorted by how they are found.

    * `words`: one ASCII word (`vpn`, `down`): looked up among the text's words.
    * `plain`: no ASCII letter or digit, no space (`打印机`): found by the rule set's one
      scan of the text (`_Scanner`), or by `scan` when a matcher must look at its own text.
    * `mixed`: the rest (`wi-fi`, `U盘`, `not working`): each its own regex, tried only when
      all of its ASCII words are among the text's.
    Scanning the text once per keyword, or with one alternation of ASCII words, is many
    times slower."""

    words: frozenset[bytes]
    plain: frozenset[str]
    scan: re.Pattern[str] | None
    mixed: tuple[tuple[frozenset[bytes], re.Pattern[str]], ...]
    mixed_words: frozenset[bytes]  # the longest ASCII word of each mixed keyword
    spaced: bool  # a mixed keyword has no ASCII word (`无法 打印`): its regex is always tried

    @classmethod
    def build(cls, keywords: tuple[str, ...]) -> _Phrases | None:
        folded = _folded(keywords)
        if not folded:
            return None
        words = [k for k in folded if k.isascii() and k.isalnum()]
        plain = [k for k in folded if not _has_word(k) and " " not in k]
        mixed = [k for k in folded if k not in words and k not in plain]
        return cls(
            words=frozenset(w.encode() for w in words),
            plain=frozenset(plain),
            scan=re.compile("|".join(map(re.escape, plain))) if plain else None,
            mixed=tuple((_tokens(k), re.compile(_phrase(k))) for k in mixed),
            mixed_words=frozenset(max(t, key=len) for k in mixed if (t := _tokens(k))),
            spaced=any(not _tokens(k) for k in mixed),
        )

    def find(self, text: str, tokens: frozenset[bytes], plain: frozenset[str] | None) -> str | None:
        """The keyword found, or None.  `plain`: the plain keywords the rule set's scan found
        in this text; None to scan for them here."""
        if not self.words.isdisjoint(tokens):
            return min(self.words & tokens).decode()
        if plain is not None:
            if not self.plain.isdisjoint(plain):
                return max(self.plain & plain, key=len)
        elif self.scan is not None:
            found = self.scan.search(text)
            if found is not None:
                return found.group()
        if not self.spaced and self.mixed_words.isdisjoint(tokens):  # no mixed keyword can be there
            return None
        for needed, regex in self.mixed:
            if needed <= tokens:
                match = regex.search(text)
                if match is not None:
                    return " ".join(match.group().split())
        return None


class _Scanner:
    """All plain keywords of a rule set, found in one pass over the text.

    The pass is a regex shaped as a trie: the search skips to characters that start a
    keyword and there tries one branch per distinct first character.  Chinese text has
    many such characters (不, 上, 开, …), so for text that is mostly not ASCII the keywords
    are split into groups of ~40 first characters, one pass each: more passes, but each
    stop costs far less.  Either way, far less than a regex or a scan per keyword."""

    GROUP = 40

    def __init__(self, keywords: frozenset[str]) -> None:
        firsts = sorted({k[0] for k in keywords})
        count = -(-len(firsts) // self.GROUP)
        groups = [set(firsts[i::count]) for i in range(count)]
        self.one = [re.compile(_trie(sorted(keywords)))] if keywords else []
        self.split = [
            re.compile(_trie(sorted(k for k in keywords if k[0] in group))) for group in groups
        ]
        # The regex reports the longest keyword at a position; the shorter ones that it
        # begins with are there too.
        self.prefixes = {k: frozenset(p for p in keywords if k.startswith(p)) for k in keywords}
        self.ascii = any(k.isascii() for k in keywords)  # punctuation keywords: "!!", "->"

    def found(self, text: str) -> frozenset[str]:
        if not self.ascii and text.isascii():  # English mail: nothing to look for
            return frozenset()
        mostly_not_ascii = len(text.encode("ascii", "ignore")) * 2 < len(text)
        hits: set[str] = set()
        for pattern in self.split if mostly_not_ascii else self.one:
            search, start = pattern.search, 0
            while (match := search(text, start)) is not None:
                hits |= self.prefixes[match.group()]
                start = match.start() + 1  # keywords may overlap: 开不了机 holds 不了
        return frozenset(hits)


def _trie(keywords: list[str]) -> str:
    tree: dict[str, Any] = {}
    for keyword in keywords:
        node = tree
        for char in keyword:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(c) + emit(sub) for c, sub in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longest keyword

    return emit(tree)


# --- the message as the matchers see it -----------------------------------------------------


class _Text(NamedTuple):
    text: str  # folded
    tokens: frozenset[bytes]
    plain: frozenset[str]  # plain keywords of the rule set found in it


class _View:
    """One message, folded once; each part computed when a matcher first asks for it."""

    def __init__(self, inbound: Inbound, scanner: _Scanner) -> None:
        self.inbound = inbound
        self.scanner = scanner

    def _text(self, text: str) -> _Text:
        return _Text(text, _tokens(text), self.scanner.found(text))

    @cached_property
    def subject(self) -> _Text:
        return self._text(fold(self.inbound.subject))

    @cached_property
    def body(self) -> _Text:
        return self._text(fold(self.inbound.text[:BODY_LIMIT]))

    @cached_property
    def subject_or_body(self) -> _Text:
        return self._text(
            fold(self.inbound.subject) + _BLANK + fold(self.inbound.text[:BODY_LIMIT])
        )

    @cached_property
    def sender(self) -> str:
        return self.inbound.sender.email.strip().lower()

    @cached_property
    def sender_domain(self) -> tuple[str, ...]:
        """example.com for a@example.com; mail.example.com and example.com for a@mail…"""
        _, at, domain = self.sender.rpartition("@")
        labels = domain.strip(".").split(".") if at else []
        return tuple(".".join(labels[i:]) for i in range(len(labels)) if labels[i:])

    @cached_property
    def to(self) -> frozenset[str]:
        """To, Cc and Delivered-To, each also without a +tag."""
        found: set[str] = set()
        delivered = [a for _, a in getaddresses([self.inbound.header("delivered-to")])]
        for email in (*(a.email for a in (*self.inbound.to, *self.inbound.cc)), *delivered):
            email = email.strip().lower()
            if "@" not in email:
                continue
            found.add(email)
            local, _, domain = email.rpartition("@")
            if "+" in local:
                found.add(f"{local.split('+', 1)[0]}@{domain}")
        return frozenset(found)


# --- matchers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextMatcher:
    """Keywords and regexes looked for in the subject, the body, or either."""

    where: str  # one of TEXT_MATCHERS
    keywords: tuple[str, ...] = ()  # as written in the rule file
    regexes: tuple[re.Pattern[str], ...] = ()  # compiled with REGEX_FLAGS
    ignore: tuple[str, ...] = ()
    _find: _Phrases | None = field(init=False, repr=False, compare=False)
    _ignore: _Phrases | None = field(init=False, repr=False, compare=False)
    _blank: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.where not in TEXT_MATCHERS:
            raise ValueError(f"unknown text matcher {self.where!r}")
        if not self.keywords and not self.regexes:
            raise ValueError("a text matcher needs keywords or regexes")
        object.__setattr__(self, "_find", _Phrases.build(self.keywords))
        object.__setattr__(self, "_ignore", _Phrases.build(self.ignore))
        if self.ignore:
            blank = re.compile("|".join(map(_phrase, _folded(self.ignore))))
            object.__setattr__(self, "_blank", blank)

    def plain(self) -> frozenset[str]:
        """Its plain keywords and ignore phrases, for the rule set's scanner."""
        return frozenset().union(*(p.plain for p in (self._find, self._ignore) if p))

    def hit(self, view: _View) -> str | None:
        """What was found (for `explain`), or None."""
        text, tokens, plain = getattr(view, self.where)
        found: frozenset[str] | None = plain
        if self._ignore and self._blank and self._ignore.find(text, tokens, plain) is not None:
            text = self._blank.sub(_BLANK, text)  # rare: blank the phrases, look again
            tokens, found = _tokens(text), None
        if self._find is not None:
            keyword = self._find.find(text, tokens, found)
            if keyword is not None:
                return f'keyword "{keyword}"'
        for regex in self.regexes:
            match = regex.search(text)
            if match is not None:
                return f"regex {regex.pattern!r} found {match.group()!r}"
        return None


@dataclass(frozen=True)
class AddressMatcher:
    """The sender's address or domain, or a receiving address, on a list."""

    where: str  # one of ADDRESS_MATCHERS
    values: frozenset[str]  # lower case; domains without "@"

    def __post_init__(self) -> None:
        if self.where not in ADDRESS_MATCHERS:
            raise ValueError(f"unknown address matcher {self.where!r}")
        if not self.values:
            raise ValueError("an address matcher needs at least one value")

    def hit(self, view: _View) -> str | None:
        if self.where == "sender":
            return view.sender if view.sender in self.values else None
        if self.where == "sender_domain":
            found = [d for d in view.sender_domain if d in self.values]
            return f"{view.sender} in {found[0]}" if found else None
        listed = sorted(view.to & self.values)
        return ", ".join(listed) if listed else None


Matcher = TextMatcher | AddressMatcher


@dataclass(frozen=True)
class Rule:
    name: str
    line: int  # of its [[rule]] header in the rule file, for messages
    matchers: tuple[Matcher, ...]  # all must match
    sets: Mapping[str, str]  # field -> value; fields from FIELDS
    stop: bool = False

    def __post_init__(self) -> None:
        if not self.matchers:
            raise ValueError(f"rule {self.name!r} has no matchers")
        unknown = set(self.sets) - set(FIELDS)
        if unknown:
            raise ValueError(f"rule {self.name!r} sets unknown fields {sorted(unknown)}")
        if "subcategory" in self.sets and "category" not in self.sets:
            raise ValueError(f"rule {self.name!r} sets a subcategory without a category")
        ordered = {f: self.sets[f] for f in FIELDS if f in self.sets}
        object.__setattr__(self, "sets", MappingProxyType(ordered))


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    source: str = ""  # the rule file, for `explain`
    _scanner: _Scanner = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plain = [m.plain() for r in self.rules for m in r.matchers if isinstance(m, TextMatcher)]
        object.__setattr__(self, "_scanner", _Scanner(frozenset().union(*plain)))


@dataclass(frozen=True)
class Route:
    """What the rules set; None where no rule set the field."""

    category: str | None = None
    subcategory: str | None = None
    priority: str | None = None
    type: str | None = None
    group: str | None = None
    assignee: str | None = None
    matched: tuple[str, ...] = ()  # names of the rules that matched, in order

    def fields(self) -> dict[str, str]:
        """Only the fields that were set, in FIELDS order."""
        values = {f: getattr(self, f) for f in FIELDS}
        return {f: v for f, v in values.items() if v is not None}


# --- evaluation -----------------------------------------------------------------------------


def route(inbound: Inbound, rules: Rules) -> Route:
    view = _View(inbound, rules._scanner)
    values: dict[str, str] = {}
    matched: list[str] = []
    for rule in rules.rules:
        for matcher in rule.matchers:
            if matcher.hit(view) is None:
                break
        else:
            matched.append(rule.name)
            _apply(rule.sets, values)
            if rule.stop:
                break
    return Route(**values, matched=tuple(matched))


def _apply(sets: Mapping[str, str], values: dict[str, str]) -> tuple[list[str], list[str]]:
    """Take the rule's fields that are still free; return (taken, already set)."""
    taken: list[str] = []
    kept: list[str] = []
    for name, value in sets.items():
        if name == "subcategory":
            continue
        if name in values:
            kept.append(name)
        else:
            values[name] = value
            taken.append(name)
    if "subcategory" in sets:
        if "subcategory" not in values and values.get("category") == sets["category"]:
            values["subcategory"] = sets["subcategory"]
            taken.append("subcategory")
        else:
            kept.append("subcategory")
    return taken, kept


def explain(inbound: Inbound, rules: Rules) -> list[str]:
    """Lines for `maildesk rules test`: every rule, whether it matched, on what, what it set
    and which of its fields earlier rules had set already; then the result."""
    view = _View(inbound, rules._scanner)
    values: dict[str, str] = {}
    setter: dict[str, int] = {}
    source = f" from {rules.source}" if rules.source else ""
    lines = [f"{len(rules.rules)} rules{source}, tried in order:"]
    stopped = 0
    pad = " " * 12
    for number, rule in enumerate(rules.rules, 1):
        if stopped:
            lines.append(f"{number:>3}  skip   {rule.name} (line {rule.line}): "
                         f"rule {stopped} stopped the evaluation")  # fmt: skip
            continue
        hits = [(m.where, m.hit(view)) for m in rule.matchers]
        if any(hit is None for _, hit in hits):
            told = "; ".join(f"{where}: {hit or 'not found'}" for where, hit in hits)
            lines.append(f"{number:>3}  -      {rule.name} (line {rule.line}): {told}")
            continue
        lines.append(f"{number:>3}  MATCH  {rule.name} (line {rule.line})")
        lines.extend(f"{pad}{where}: {hit}" for where, hit in hits)
        taken, kept = _apply(rule.sets, values)
        for name in taken:
            setter[name] = number
        if taken:
            lines.append(pad + "sets " + ", ".join(f"{f}={values[f]}" for f in _order(taken)))
        already = [f"{f}={values[f]} (rule {setter[f]})" for f in _order(kept) if f in values]
        if already:
            lines.append(pad + "already set, kept: " + ", ".join(already))
        if "subcategory" in kept and "subcategory" not in values:
            lines.append(f"{pad}not set: subcategory={rule.sets['subcategory']} goes only with "
                         f"category={rule.sets['category']}")  # fmt: skip
        if rule.stop:
            stopped = number
            lines.append(pad + "stop: later rules are not tried")
    result = ", ".join(f"{f}={values.get(f, '-')}" for f in FIELDS)
    lines.append(f"result: {result}")
    return lines


def _order(names: list[str]) -> list[str]:
    return sorted(names, key=FIELDS.index)
