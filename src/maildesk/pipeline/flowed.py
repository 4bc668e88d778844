"""RFC 3676 format=flowed text back into the lines its author wrote.  Pure: no IO.

Thunderbird, Apple Mail and many phones send text/plain with `format=flowed`: they wrap
long lines at about 72 characters and mark each wrap with a trailing space (a "soft"
break).  Read as-is, a ticket shows the wraps as line breaks and a reply's sentence is
split over two lines.  Here soft breaks are joined again:

* a line ending in a space continues on the next line of the same quote depth
  (`>` count); a line that ends without one ends its paragraph;
* the signature separator `-- ` is never flowed;
* space-stuffing (a leading space added before `>`, `From ` or a space) is removed;
* with `delsp=yes` the trailing space of a soft break is deleted, not kept (used by
  languages written without spaces, and by Apple Mail for Chinese).
"""

from __future__ import annotations

SIGNATURE_SEPARATOR = "-- "


def unflow(text: str, delsp: bool = False) -> str:
    out: list[str] = []
    pending: list[str] = []  # the paragraph being joined: its prefix, then its pieces
    pending_depth = -1
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        depth, body = _quote_depth(line)
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        soft = body.endswith(" ") and body != SIGNATURE_SEPARATOR
        if pending and depth != pending_depth:
            out.append("".join(pending))  # a soft break before a change of depth ends there
            pending = []
        if soft and delsp:
            body = body[:-1]
        if not pending:
            pending.append(">" * depth + (" " if depth and body else ""))
        pending.append(body)  # joined once per paragraph: linear in the text
        pending_depth = depth
        if not soft:
            out.append("".join(pending))
            pending = []
    if pending:
        out.append("".join(pending))
    return "\n".join(out)


def _quote_depth(line: str) -> tuple[int, str]:
    depth = len(line) - len(line.lstrip(">"))
    return depth, line[depth:]
