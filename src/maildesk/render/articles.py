"""Knowledge-base articles as a mail shows them: title, excerpt, the whole article as
text and as HTML, and the one-click "this solved it" link.  Pure.

Article files are written by people and may hold anything: titles and excerpts become
one line (no controls, no line breaks, no bidi overrides), bodies are cut at
`BODY_LIMIT` characters, and the HTML part never carries the article's own markup.

The Markdown → text / HTML conversion is `to_text` / `to_html` below: the article's
Markdown as written (it is made to be read as text), and that text escaped for the
HTML part.  The engine's `kb.markdown.to_text` / `to_html` (mistune, raw HTML escaped)
take their place when it is merged: `body_text` and `body_html` are the two places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from maildesk.kb import flow
from maildesk.kb.model import Suggestion
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
        article = suggestion.article
        url = flow.link_url(secret, support, number, article.name, to, locale) if number else ""
        body = _cut(article.body)
        out.append(Shown(article.name, one_line(article.title, TITLE_LIMIT) or article.name,
                         one_line(suggestion.excerpt, EXCERPT_LIMIT), body_text(body),
                         body_html(body), url))  # fmt: skip
    return out


def _cut(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return body if len(body) <= BODY_LIMIT else body[:BODY_LIMIT].rstrip() + "\n…"


def body_text(markdown: str) -> str:
    return to_text(markdown)


def body_html(markdown: str) -> Markup:
    return Markup(to_html(markdown))


def to_text(markdown: str) -> str:
    """The article for the text part: its Markdown, without control characters (but line
    breaks and tabs) or bidi overrides."""
    return _HIDDEN.sub("", markdown).strip("\n")


def to_html(markdown: str) -> str:
    """The article for the HTML part: its text, escaped, line breaks kept."""
    lines = str(escape(to_text(markdown))).split("\n")
    return "<br>\n".join(lines)


# control characters (category Cc) but \t and \n, and the bidi overrides (history.BIDI)
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(BIDI)) + "]")
