"""Signature blocks without a sign-off word, recognised by what maildesk knows of the
sender.  Pure: no IO.

A block at the end of the reply is a signature when it starts with an *anchor* line —
the sender's name (display name, directory name, the name in their address: ``罗斌``,
``Luo Bin``, ``luobin``, a lone ``Tony`` of ``Tony Chen``), alone or with their
department (``彭亮 仓储物流部``, ``刘洋 | 市场部``), their own address (Foxmail's default
signature), or a line that also ended their earlier mails on the ticket — and everything
below it is signature-shaped: short, no sentence, no question (a title, a department, a
phone number).  When unsure, the text stays:

* nothing is cut when nothing is known, nor when no text would remain above the block;
* a block right below a line ending in ``:``/``：`` is content (``新的邮箱地址请用：``);
* a block glued to the line above (no blank line between) is cut only when that line is a
  sentence or a thank-you: a list of people (``张三 市场部`` / ``刘洋 市场部``) stays;
* a block anchored by earlier endings alone needs two such lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = ["NOTHING", "Known", "is_anchor", "known_signature"]


@dataclass(frozen=True)
class Known:
    """What maildesk knows of a reply's sender, as comparison keys (see `key`)."""

    names: frozenset[str] = frozenset()  # full names and name forms, and given names
    departments: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()
    endings: frozenset[str] = frozenset()  # lines that ended the sender's earlier mails


NOTHING = Known()

_BLOCK_LINES = 6  # nonblank lines a signature block may have
_SHORT = 40  # characters of a signature-shaped line
_WORDS = 8
_SENTENCE = re.compile(r"[。！？!?；;]|[.](?:\s|$)|[:：]$")
_ABBREVIATION = re.compile(
    r"\b(?:Ltd|Inc|Co|Corp|Jr|Sr|Dr|Mr|Ms|Mrs|Prof|Ph\.D|St|Ext|Tel|No|Dept|Dep)\.", re.I
)
_CLAUSE = re.compile(r"[，。！？；,.!?;]")
_ACKNOWLEDGMENT = re.compile(  # one or a few: "好的，谢谢", "OK, thanks!"
    r"(?:(?:many thanks|thanks|thank you|thx|cheers|ok|okay|got it|noted|sure|yes|done|great"
    r"|perfect|谢谢|多谢|感谢|辛苦了|好的|好|收到|可以|明白了?|知道了|行)(?:\W+|$))+",
    re.I,
)
# a sentence end, or a Chinese sentence-final particle ("投影仪已经可以用了")
_ENDS_SENTENCE = re.compile(r"[。！？.!?…~)）\"”'」]$|[\u4e00-\u9fff]{3}[了吧呢啊吗哈啦呀哦嘛]$")
_CLAUSE_LINE = 6  # characters: a shorter line with a comma may be a list item
# a rule, or what a table-layout signature card leaves of its cells (Mail Master: "| |")
_DECORATION = re.compile(r"[-_=*~—–]{3,}|[|｜](?:\s*[|｜])*")
_CONTACTISH = re.compile(r"@|\d|www\.|https?://|\w\.[a-z]{2,}\b|[|｜]")
_GIVEN_NAME = re.compile(r"[A-Z][a-z]{1,11}")
_CHUNKS = re.compile(r"\s*[|｜/·•\t]\s*|\s{2,}")
_SPACES = re.compile(r"[\s._\-]+")
_CONTACT = re.compile(
    r"(?:(?:tel|phone|mobile|mob|cell|fax|t|m|f|e|ext|email|e-mail|web|wechat|qq|skype"
    r"|电话|手机|座机|传真|分机|邮箱|微信|地址)\.?\s*[:：]?\s*)?"
    r"[+(]?\d[\d\s()+\-./]{3,30}(?:\s*(?:ext|x|分机|转)\.?\s*\d{1,6})?",
    re.I,
)


def key(text: str) -> str:
    """A name, department or line as compared: case, spaces, dots, dashes ignored."""
    return _SPACES.sub("", text).casefold()


class _Kind(Enum):
    ANCHOR = "anchor"  # name (with department), own address
    ENDING = "ending"  # ended an earlier mail
    SHAPED = "shaped"  # short, no sentence: may follow an anchor
    TEXT = "text"


def known_signature(lines: list[str], known: Known) -> int | None:
    """Where a signature block of this sender starts at the end of `lines`, if there is one."""
    if known == NOTHING:
        return None
    kinds: list[tuple[int, _Kind]] = []
    for k in range(len(lines) - 1, -1, -1):
        stripped = lines[k].strip()
        if not stripped or _DECORATION.fullmatch(stripped):
            continue  # a card's "|" lines go with the block, and count for nothing
        kind = _kind(stripped, known)
        if kind is _Kind.TEXT or len(kinds) == _BLOCK_LINES:
            break
        kinds.append((k, kind))
    start = _block_start(kinds, lines)
    return None if start is None else _closes_text(lines, start)


def _block_start(kinds: Sequence[tuple[int, _Kind]], lines: Sequence[str]) -> int | None:
    """The topmost anchor (or ending) line of the trailing block, when the block has an
    anchor, or two endings one of which is contact data (``acme.example``, a phone), below
    and at that line: "Please advise" / "Thank you" ending every mail is still text."""
    anchors = endings = contacts = 0
    start = None
    for k, kind in kinds:  # bottom to top
        anchors += kind is _Kind.ANCHOR
        if kind is _Kind.ENDING:
            endings += 1
            contacts += bool(_CONTACTISH.search(lines[k]))
        if kind is not _Kind.SHAPED and (anchors or (endings >= 2 and contacts)):
            start = k
    return start


def _closes_text(lines: Sequence[str], start: int) -> int | None:
    """Where to cut for a block at `start`: there, or at the rule lines (a card's `| |`)
    right above it — when what stays ends like a finished message ("好的", "Thanks.",
    "已经可以了，谢谢。").  Text that leads into the block ("发票请寄到这个邮箱",
    "Responsible:", a list item) keeps it."""
    above = _nonblank_above(lines, start)
    while above is not None and _DECORATION.fullmatch(lines[above].strip()):
        start, above = above, _nonblank_above(lines, above)
    if above is None:
        return None  # nothing would remain
    return start if _finished(lines[above].strip()) else None


def _nonblank_above(lines: Sequence[str], k: int) -> int | None:
    return next((j for j in range(k - 1, -1, -1) if lines[j].strip()), None)


def _finished(line: str) -> bool:
    if _ENDS_SENTENCE.search(line) or _ACKNOWLEDGMENT.fullmatch(line):
        return True
    return len(line) >= _CLAUSE_LINE and bool(_CLAUSE.search(line)) and line[-1] not in ":："


def _kind(line: str, known: Known) -> _Kind:
    if is_anchor(line, known):
        return _Kind.ANCHOR
    if _CONTACT.fullmatch(line):
        return _Kind.SHAPED
    if not _shaped(line) or (line[0].islower() and not _CONTACTISH.search(line)):
        return _Kind.TEXT  # a sentence, or one going on from the line above ("is on leave")
    return _Kind.ENDING if key(line) in known.endings else _Kind.SHAPED


def _shaped(line: str) -> bool:
    if len(line) > _SHORT or len(line.split()) > _WORDS:
        return False
    return not _SENTENCE.search(_ABBREVIATION.sub("", line))


def is_anchor(line: str, known: Known) -> bool:
    """The sender's name (alone, with their department, title or phone) or their own
    address: "罗斌", "彭亮 仓储物流部", "罗斌 13800001111", "Tony Chen | IT Coordinator"."""
    whole = key(line)
    if whole in known.names or whole.removeprefix("mailto:") in known.addresses:
        return True
    if len(line) > _SHORT:
        return False
    chunks = [c for c in _CHUNKS.split(line) if c]
    if len(chunks) >= 2 and key(chunks[0]) in known.names:
        return all(_shaped(c) or _CONTACT.fullmatch(c) for c in chunks[1:])  # name | title
    words = line.split()
    keys = [key(w) for w in words]
    if len(words) < 2 or not any(k in known.names for k in keys):
        return False
    others = [w for w, k in zip(words, keys, strict=True) if k not in known.names]
    if len(others) == 1 and _GIVEN_NAME.fullmatch(others[0]) and len(words) == 2:
        return True  # "Lily 王丽": an English given name beside the Chinese name
    return all(
        k in known.departments or _CONTACT.fullmatch(w)
        for w, k in zip(words, keys, strict=True)
        if k not in known.names
    )


def lines_ending(text: str) -> list[str]:
    """The signature-shaped lines that end a text (up to a block's length)."""
    found: list[str] = []
    for line in reversed(text.split("\n")):
        stripped = line.strip()
        if not stripped:
            continue
        if not _shaped(stripped) or len(found) == _BLOCK_LINES:
            break
        found.append(stripped)
    return found
