"""Articles' Markdown as mail: HTML with raw HTML escaped, plain text, and excerpts.

mistune (escape=True) turns `<script>` and `<img onerror=…>` into visible text; links
are kept only for http(s) and mailto addresses, anything else (javascript:, data:,
vbscript:, relative paths, which mean nothing in a mail) keeps only its text.  An image
is never an <img> (a remote image in our mail tells a tracker who read it, and is
blocked by clients anyway): it becomes a link to the picture, named by its alt text.

    to_html("1. Open **设置**")   -> "<ol>\n<li>Open <strong>设置</strong></li>\n</ol>\n"
    to_text("1. Open **设置**")   -> "1. Open 设置"
    excerpt(body, 120)            -> the first paragraphs, on one line, cut at a sentence
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, cast

import mistune

PLUGINS: list[Any] = ["strikethrough", "table", "url"]
_SAFE_URL = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SENTENCE_END = re.compile(r"[。！？；!?;]|(?<!\d)\.(?=\s|$)")  # not "2." of a list
Token = dict[str, Any]


def safe_url(url: str) -> bool:
    """Whether a link may stay a link in a mail: http(s) or mailto only."""
    return bool(_SAFE_URL.match(_CONTROL.sub("", url)))


class _MailHtml(mistune.HTMLRenderer):
    """mistune's HTML with an allow-list of link schemes instead of a deny-list."""

    def link(self, text: str, url: str, title: str | None = None) -> str:
        return super().link(text, url, title) if safe_url(url) else text

    def image(self, text: str, url: str, title: str | None = None) -> str:
        name = text or mistune.escape(url)  # the alt text arrives escaped
        return super().link(name, url, title) if safe_url(url) else name


_to_html = mistune.create_markdown(escape=True, renderer=_MailHtml(escape=True), plugins=PLUGINS)
_to_tokens = mistune.create_markdown(renderer=None, plugins=PLUGINS)


def to_html(markdown: str) -> str:
    """An HTML fragment; raw HTML in the Markdown comes out as visible, escaped text."""
    return cast(str, _to_html(markdown))


def to_text(markdown: str) -> str:
    """Plain text for the text/plain part: lists numbered or dashed, code indented,
    links as `text (address)`, emphasis and headings' marks dropped."""
    tokens = cast(list[Token], _to_tokens(markdown))
    return "\n\n".join(b for b in _blocks(tokens, 0) if b.strip()).strip() + "\n"


def excerpt(markdown: str, chars: int) -> str:
    """The first paragraphs of the article as one line of at most `chars` characters,
    cut after a sentence when one ends past a third of it, else at a word, with `…`."""
    tokens = cast(list[Token], _to_tokens(markdown))
    flat = " ".join(_flat(tokens))
    line = _SPACE_BETWEEN_CJK.sub("", " ".join(flat.split()))
    return shorten(line, chars)


def shorten(line: str, chars: int) -> str:
    if len(line) <= chars:
        return line
    cut = line[: chars - 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
    if ends and ends[-1] >= chars // 3:
        return cut[: ends[-1]].rstrip()
    space = cut.rfind(" ")
    if space >= chars // 2:
        cut = cut[:space]
    return cut.rstrip(" ,，、:：") + "…"


# --- the plain-text walk -------------------------------------------------------------


def _blocks(tokens: Iterable[Token], depth: int) -> list[str]:
    return [_block(t, depth) for t in tokens if t["type"] != "blank_line"]


def _block(token: Token, depth: int) -> str:
    kind = token["type"]
    render = _BLOCK.get(kind)
    if render is not None:
        return render(token, depth)
    if "children" in token:
        return _inline(token["children"])
    return str(token.get("raw", ""))


def _list(token: Token, depth: int) -> str:
    ordered = token["attrs"].get("ordered", False)
    start = int(token["attrs"].get("start", 1) or 1)
    items = []
    for number, item in enumerate(token["children"], start):
        marker = f"{number}. " if ordered else "- "
        parts = _blocks(item["children"], depth + 1)
        text = "\n".join(p for p in parts if p)
        indent = " " * len(marker)
        items.append(marker + text.replace("\n", "\n" + indent))
    return "\n".join(items)


def _code(token: Token, _depth: int) -> str:
    return "\n".join("    " + line for line in str(token["raw"]).rstrip("\n").split("\n"))


def _quote(token: Token, depth: int) -> str:
    inner = "\n\n".join(_blocks(token["children"], depth))
    return "\n".join(("> " + line).rstrip() for line in inner.split("\n"))


def _table(token: Token, _depth: int) -> str:
    rows: list[str] = []
    for part in token["children"]:
        lines = [part] if part["type"] == "table_head" else part["children"]
        rows.extend(" | ".join(_inline(cell["children"]) for cell in row["children"])
                    for row in lines)  # fmt: skip
    return "\n".join(rows)


_BLOCK: dict[str, Callable[[Token, int], str]] = {
    "list": _list,
    "block_code": _code,
    "block_quote": _quote,
    "table": _table,
    "thematic_break": lambda _t, _d: "",
}


def _inline(tokens: Iterable[Token]) -> str:
    return "".join(_span(t) for t in tokens)


def _span(token: Token) -> str:
    kind = token["type"]
    if kind in ("softbreak", "linebreak"):
        return "\n"
    if kind == "link":
        text, url = _inline(token["children"]), str(token["attrs"]["url"])
        shown = url.removeprefix("mailto:")
        return text if not safe_url(url) or text in (url, shown) else f"{text} ({shown})"
    if kind == "image":
        return _inline(token["children"])
    if "children" in token:
        return _inline(token["children"])
    return str(token.get("raw", ""))


_NOT_IN_EXCERPT = frozenset({"heading", "block_code", "table", "thematic_break", "blank_line"})


def _flat(tokens: Iterable[Token]) -> list[str]:
    """The article's text blocks in order, without headings, code or tables: what an
    excerpt shows."""
    return [_block(t, 0) for t in tokens if t["type"] not in _NOT_IN_EXCERPT]
