"""Turn an HTML mail body into readable plain text (for HTML-only mail).

One pass of a regular expression over the markup, in time linear in its length.  The
standard library's html.parser is not: an unclosed construct makes it rescan the rest
of the input again and again (20 KB of `<a ` took 5 s, 20 KB of `<a x="` 1.3 s), which
one hostile message could use to stall intake.  What a helpdesk needs from HTML is
the text with its line structure; this gives that, and `<script>`, `<style>` and
`<title>` contents are skipped the same way browsers skip them (raw text, no tags).
"""

from __future__ import annotations

import html
import re

BLOCKS = {
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "table", "ul", "ol", "hr", "section", "article",
}  # fmt: skip
SKIPPED = {"script", "style", "title"}  # not "head": its end tag may be omitted
# A comment, a declaration or processing instruction, or a tag (a value quoted right
# after "=" may hold ">"; a stray quote elsewhere is just a character); an unterminated
# one runs to the end of the input, as in browsers.  The loop cannot fail (every branch
# and the final ">" are optional), so the engine never backtracks into it.
MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<[!?][^>]*>?"
    r"""|<(/?)([A-Za-z][^\s/>]*)(?:=\s*"[^"]*"?|=\s*'[^']*'?|[^>])*>?""",
    re.S,
)


def html_to_text(markup: str) -> str:
    parts: list[str] = []
    position = 0
    while (found := MARKUP.search(markup, position)) is not None:
        parts.append(html.unescape(markup[position : found.start()]))
        position = found.end()
        closing, tag = found.group(1), (found.group(2) or "").lower()
        if tag in SKIPPED and not closing:
            position = _end_of_raw_text(markup, tag, position)
        elif tag in BLOCKS:
            parts.append("\n- " if tag == "li" and not closing else "\n")
    parts.append(html.unescape(markup[position:]))
    text = "".join(parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _end_of_raw_text(markup: str, tag: str, position: int) -> int:
    """Where the text after `<script>` (or style, title) ends: past its end tag, or at
    the end of the input when there is none."""
    end = re.compile(rf"</{tag}\b[^>]*>?", re.I).search(markup, position)
    return end.end() if end else len(markup)
