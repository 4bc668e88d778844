"""A draft article from a resolved ticket (`#kb [title]`).  Pure.

The problem is the ticket's description, the steps are its resolution and the
engineers' replies to the user (in order, each once), the keywords the ticket's most
frequent terms (`terms.words`), the category the ticket's.  The file name is a slug of
the title and the language, never one already taken: `vpn-809-error.zh-CN.md`,
`vpn-809-error-2.zh-CN.md`; a title in another script is named with the ticket's
number (`VPN 连不上` → `vpn-it-20261122-0001.zh-CN.md`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from maildesk.survey.history import one_line
from maildesk.terms import words

KEYWORDS = 8
SLUG_LIMIT = 60
TEXT_LIMIT = 20_000


@dataclass(frozen=True)
class Source:
    """What a draft is written from."""

    number: str
    subject: str
    description: str
    category: str
    replies: tuple[str, ...]  # the resolution and the engineers' public replies, in order


def title_of(asked: str, subject: str) -> str:
    return one_line(asked or subject, 200) or "(untitled)"


def slug(title: str, number: str) -> str:
    """Latin letters and digits of the title, lower case, joined by "-"; a title in
    another script adds the ticket's number, which then says more than its Latin words."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    joined = "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))[:SLUG_LIMIT].strip("-")
    if ascii_text.strip() != title.strip():
        joined = "-".join(p for p in (joined, number.lower()) if p)
    return joined if len(joined) >= 3 else number.lower()


def free_name(base: str, language: str, taken: set[str]) -> str:
    """`base.language`, or `base-2.language`, … : the first name not taken."""
    name, n = f"{base}.{language}", 1
    while name in taken:
        n += 1
        name = f"{base}-{n}.{language}"
    return name


def keywords(source: Source) -> tuple[str, ...]:
    counts = Counter(w for w in words(f"{source.subject}\n{source.description}") if len(w) > 1)
    return tuple(word for word, _ in counts.most_common(KEYWORDS))


def markdown(source: Source, title: str, language: str) -> str:
    """The draft file: front matter, then the problem and the steps."""
    chinese = language == "zh-CN"
    keys = ", ".join(_quoted(k) for k in keywords(source))
    head = ["---", f"title: {_quoted(title)}", f"keywords: [{keys}]",
            f"category: {_quoted(source.category)}", f"language: {language}",
            f"source: {source.number}", "---", ""]  # fmt: skip
    problem = _cut(source.description) or one_line(source.subject, 200)
    steps = _steps(source.replies)
    body = [
        "## 问题" if chinese else "## Problem",
        "",
        problem,
        "",
        "## 解决步骤" if chinese else "## Steps",
        "",
        steps or ("（待补充）" if chinese else "(to be written)"),
        "",
    ]
    return "\n".join([*head, *body])


def _steps(replies: Sequence[str]) -> str:
    seen: list[str] = []
    for text in replies:
        text = _cut(text)
        if text and text not in seen:
            seen.append(text)
    if len(seen) == 1:
        return seen[0]
    return "\n".join(f"{i}. {_indented(text)}" for i, text in enumerate(seen, 1))


def _indented(text: str) -> str:
    return text.replace("\n", "\n   ")


def _cut(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT].rstrip() + " …"


def _quoted(value: str) -> str:
    """A YAML double-quoted scalar on one line."""
    flat = one_line(value, 200).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{flat}"'
