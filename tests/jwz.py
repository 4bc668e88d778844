"""Jamie Zawinski's References threading algorithm, as a reference to test threading against.

https://www.jwz.org/doc/threading.html: steps 1-4 (build the id table from Message-ID,
References and In-Reply-To, link parents without loops, find the root set, prune empty
containers), and step 5 (group roots by subject) only when asked.  Sorting (step 6) is
replaced by a stable order: threads and siblings come in the order they were first seen.

    thread_roots(messages) -> list[Thread]

A Thread names its root (a message-id; it may be the id of a message never seen, when that
missing message is the common parent of several replies), the ids of the messages in it in
depth-first order, and the parent of each of them.  Message-ids are compared without their
angle brackets and without whitespace.  A message without a usable Message-ID gets
``no-message-id-<position>@jwz.invalid``; a second message with an id already taken gets
``<id>#<n>`` (n = 2, 3, ...), so every input message is in exactly one thread.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser

__all__ = ["Thread", "msg_ids", "normalize_subject", "thread_roots"]

_BRACKETED = re.compile(r"<([^<>]*)>")
_BARE_ID = re.compile(r"^[^\s<>@]+@[^\s<>@]+$")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|回复|答复|转发)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Thread:
    root: str
    root_is_empty: bool
    message_ids: tuple[str, ...]
    parent: dict[str, str] = field(default_factory=dict)

    def children(self, node: str) -> list[str]:
        return [child for child, parent in self.parent.items() if parent == node]


@dataclass(eq=False)
class _Container:
    id: str
    seen: bool = False
    subject: str = ""
    order: int = -1
    parent: _Container | None = None
    children: list[_Container] = field(default_factory=list)

    def ancestors(self) -> Iterator[_Container]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


@dataclass
class _Parsed:
    id: str
    refs: list[str]
    subject: str


def thread_roots(
    messages: Iterable[Message | bytes], *, group_by_subject: bool = False
) -> list[Thread]:
    """Thread `messages` (parsed or raw RFC 822) and return one Thread per root."""
    table: dict[str, _Container] = {}
    for position, message in enumerate(messages):
        _add_message(table, _parse(message, position, table), position)
    roots = [c for c in table.values() if c.parent is None]  # step 2; table dropped (step 3)
    roots = _prune_roots(roots)  # step 4
    if group_by_subject:
        roots = _group_by_subject(roots, len(table))  # step 5
    roots.sort(key=_first_seen)
    return [_to_thread(root) for root in roots]


# -- headers -------------------------------------------------------------------------------


def msg_ids(value: str) -> list[str]:
    """The ids in a Message-ID/References/In-Reply-To value, brackets and whitespace removed.

    Text outside <...> (comments, phrases, junk) is ignored; a whole value that is a bare
    ``local@domain`` is taken as one id."""
    found = [re.sub(r"\s+", "", inner) for inner in _BRACKETED.findall(value)]
    found = [one for one in found if one]
    if not found and _BARE_ID.match(value.strip()):
        found = [value.strip()]
    return found


def _header(message: Message, name: str) -> str:
    values = message.get_all(name) or []
    text = " ".join(str(value) for value in values)
    if "=?" in text:
        with contextlib.suppress(ValueError, LookupError, UnicodeError):
            text = str(make_header(decode_header(text)))
    return re.sub(r"\r?\n[ \t]*", " ", text)


def _parse(message: Message | bytes, position: int, table: dict[str, _Container]) -> _Parsed:
    if isinstance(message, bytes | bytearray):
        message = BytesParser(policy=policy.default).parsebytes(bytes(message), headersonly=True)
    own = msg_ids(_header(message, "Message-ID"))
    msg_id = _unique_id(own[0] if own else f"no-message-id-{position}@jwz.invalid", table)
    refs = msg_ids(_header(message, "References"))
    if not refs:
        in_reply_to = msg_ids(_header(message, "In-Reply-To"))
        refs = in_reply_to[-1:]
    refs = [ref for ref in dict.fromkeys(refs) if ref not in (msg_id, *own[:1])]
    return _Parsed(msg_id, refs, _header(message, "Subject"))


def _unique_id(msg_id: str, table: dict[str, _Container]) -> str:
    if msg_id not in table or not table[msg_id].seen:
        return msg_id
    n = 2
    while f"{msg_id}#{n}" in table:
        n += 1
    return f"{msg_id}#{n}"


# -- step 1: containers and links ----------------------------------------------------------


def _container(table: dict[str, _Container], msg_id: str) -> _Container:
    if msg_id not in table:
        table[msg_id] = _Container(msg_id)
    return table[msg_id]


def _add_message(table: dict[str, _Container], parsed: _Parsed, position: int) -> None:
    this = _container(table, parsed.id)
    this.seen, this.subject, this.order = True, parsed.subject, position
    chain = [_container(table, ref) for ref in parsed.refs]
    for parent, child in itertools.pairwise(chain):
        if child.parent is None:  # existing links are kept (step 1B)
            _link(parent, child)
    _unlink(this)  # the message's own References are definitive (step 1C)
    if chain:
        _link(chain[-1], this)


def _would_loop(parent: _Container, child: _Container) -> bool:
    return parent is child or any(node is child for node in parent.ancestors())


def _link(parent: _Container, child: _Container) -> None:
    if _would_loop(parent, child):
        return
    _unlink(child)
    child.parent = parent
    parent.children.append(child)


def _unlink(child: _Container) -> None:
    if child.parent is not None:
        child.parent.children.remove(child)
        child.parent = None


# -- step 4: prune empty containers --------------------------------------------------------


def _prune_roots(roots: list[_Container]) -> list[_Container]:
    kept: list[_Container] = []
    for root in roots:
        root.children = _prune_children(root.children, root)
        if root.seen or len(root.children) > 1:
            kept.append(root)
        elif root.children:  # an empty root with one child: the child becomes the root
            only = root.children.pop()
            only.parent = None
            kept.append(only)
    return kept


def _prune_children(children: list[_Container], parent: _Container) -> list[_Container]:
    result: list[_Container] = []
    for child in children:
        child.children = _prune_children(child.children, child)
        if child.seen:
            result.append(child)
            continue
        for grandchild in child.children:  # an empty non-root: promote its children
            grandchild.parent = parent
            result.append(grandchild)
        child.children, child.parent = [], None
    return result


# -- step 5: group roots by subject --------------------------------------------------------


def normalize_subject(subject: str) -> tuple[str, bool]:
    """The subject without reply/forward prefixes (casefolded, spaces squeezed), and whether
    there was such a prefix."""
    prefix = _REPLY_PREFIX.match(subject)
    stripped = subject[prefix.end() :] if prefix else subject
    return " ".join(stripped.split()).casefold(), prefix is not None


def _root_subject(root: _Container) -> tuple[str, bool]:
    if root.seen:
        return normalize_subject(root.subject)
    return normalize_subject(root.children[0].subject) if root.children else ("", False)


def _preferred(new: _Container, old: _Container) -> bool:
    if not new.seen and old.seen:
        return True
    return bool(new.seen and old.seen and _root_subject(old)[1] and not _root_subject(new)[1])


def _group_by_subject(roots: list[_Container], serial: int) -> list[_Container]:
    by_subject: dict[str, _Container] = {}
    for root in roots:
        subject = _root_subject(root)[0]
        if subject and (subject not in by_subject or _preferred(root, by_subject[subject])):
            by_subject[subject] = root
    result = list(roots)
    for root in roots:
        subject = _root_subject(root)[0]
        other = by_subject.get(subject)
        if not subject or other is None or other is root or _absorbed(root):
            continue
        serial += 1
        merged = _merge(root, other, serial)
        by_subject[subject] = merged
        result = [r for r in result if r is not root and r is not other] + [merged]
    return result


def _absorbed(root: _Container) -> bool:
    return root.parent is not None or (not root.seen and not root.children)


def _merge(this: _Container, other: _Container, serial: int) -> _Container:
    """Join two roots with the same subject; return the root of the joined thread."""
    this_reply, other_reply = _root_subject(this)[1], _root_subject(other)[1]
    if not this.seen and not other.seen:
        for child in list(this.children):
            _link(other, child)
        return other
    if not other.seen or (this_reply and not other_reply):
        _link(other, this)
        return other
    if not this.seen or (other_reply and not this_reply):
        _link(this, other)
        return this
    dummy = _Container(f"subject-group-{serial}@jwz.invalid")
    _link(dummy, other)
    _link(dummy, this)
    return dummy


# -- results -------------------------------------------------------------------------------


def _walk(node: _Container) -> Iterator[_Container]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _first_seen(root: _Container) -> int:
    return min((node.order for node in _walk(root) if node.seen), default=-1)


def _walk_in_order(node: _Container) -> Iterator[_Container]:
    yield node
    for child in sorted(node.children, key=_first_seen):
        yield from _walk_in_order(child)


def _to_thread(root: _Container) -> Thread:
    nodes = list(_walk_in_order(root))
    return Thread(
        root=root.id,
        root_is_empty=not root.seen,
        message_ids=tuple(node.id for node in nodes if node.seen),
        parent={node.id: node.parent.id for node in nodes if node.parent is not None},
    )
