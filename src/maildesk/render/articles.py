"""Knowledge-base articles as a mail shows them: title, excerpt, the whole article as
text and as HTML, and the one-click "this solved it" link.  Pure.

Article files are written by people and may hold anything: titles and excerpts become
one line (no controls, no line breaks, no bidi overrides), bodies are cut at
`BODY_LIMIT` characters, and the HTML part never carries the article's own markup.

The Markdown becomes text and HTML by `kb.markdown.to_text` / `to_html` (mistune, raw
HTML escaped, links only for http(s) and mailto), after control characters and bidi
overrides are dropped.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from markupsafe import Markup

from maildesk.kb import flow
from maildesk.kb.markdown import to_html as markdown_html
from maildesk.kb.markdown import to_text as markdown_text
from maildesk.kb.model import Article, Suggestion
from maildesk.survey.history import BIDI, one_line

BODY_LIMIT = 20_000
TITLE_LIMIT = 200
EXCERPT_LIMIT = 300


@dataclass(frozen=True)
class Shown:
    name: str
    title: str
    excerpt: str
    text: str  # the whole article, plain text
    html: Markup  # the whole article, safe HTML
    url: str  # mailto: "this solved it" ("" when no link can be signed)


def shown(
    found: tuple[Suggestion, ...], secret: str, support: str, number: str, to: str, locale: str
) -> list[Shown]:
    """The suggestions as one reader sees them; links are signed for that reader."""
    out = []
    for suggestion in found:
        name, title, excerpt, text, html = _seen(suggestion.article, suggestion.excerpt)
        url = flow.link_url(secret, support, number, name, to, locale) if number else ""
        out.append(Shown(name, title, excerpt, text, html, url))
    return out


# What every reader sees of an article (all but the signed link) is made once while the
# article and its excerpt recur, not once per acknowledgment.  Article is frozen: a
# changed file is another key.
@functools.lru_cache(maxsize=512)
def _seen(article: Article, excerpt: str) -> tuple[str, str, str, str, Markup]:
    body = _cut(article.body)
    title = one_line(article.title, TITLE_LIMIT) or article.name
    return article.name, title, one_line(excerpt, EXCERPT_LIMIT), body_text(body), body_html(body)


def _cut(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return body if len(body) <= BODY_LIMIT else body[:BODY_LIMIT].rstrip() + "\n…"


# An article is rendered once per process and body, not once per acknowledgment (mistune
# takes ~3 ms for a shipped article; a string's hash is cached, so a hit costs ~nothing).
@functools.lru_cache(maxsize=512)
def body_text(markdown: str) -> str:
    return markdown_text(_HIDDEN.sub("", markdown))


@functools.lru_cache(maxsize=512)
def body_html(markdown: str) -> Markup:
    """mistune's HTML with raw HTML escaped (kb/markdown.py)."""
    return Markup(markdown_html(_HIDDEN.sub("", markdown)))


# control characters (category Cc) but \t and \n, and the bidi overrides (history.BIDI)
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(BIDI)) + "]")
