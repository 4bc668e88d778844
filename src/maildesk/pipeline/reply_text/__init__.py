"""The part of a reply that its author wrote: no quoted history, no signature.  Pure: no IO.

maildesk keeps every inbound message whole; `visible_text` is what a ticket shows of a
follow-up.  It errs on the safe side: when a rule is unsure, the text stays.

A body is read top to bottom, one line at a time, with the rule tables below:

* ``>``-quoted lines are dropped wherever they are; text between and below them (inline
  answers, bottom posting) stays.  The attribution line above a quote (``On … wrote:``,
  ``… 写道：``, wrapped over up to three lines) goes with the quote.
* History that is not ``>``-quoted ends the reply: a separator line
  (``-----Original Message-----``, ``------------------ 原始邮件 ------------------``,
  ``-----邮件原件-----``), a header block (``From:``/``Sent:``, ``发件人：``/``发送时间：``,
  ``寄件者:``/``寄件日期:`` …: a sender and a date at least, no blank line inside), an
  attribution line with a time in it, a mailing-list footer.  So does a ``-- `` signature delimiter.
* From the end of what is left: device footers (``Sent from my iPhone``,
  ``发自我的华为手机``), a sign-off followed by nothing but a few short lines
  (``Best regards,`` and a name, ``此致`` / ``敬礼！``), a ``-Name`` line, rule lines.
* When nothing is left but the history has a body of its own (a forward with no
  comment), that body is read the same way instead, so a ticket never shows nothing.

Before that, `normalize` unifies line ends and removes what mail clients leave in text
parts: U+FEFF and other invisible marks, U+00A0/U+202F spaces, and (QQ Mail) literal
``&nbsp;``/``&gt;`` entities.  The result is a cut of the normalized body: its lines appear
in it, in order, with trailing blanks removed.
"""

from __future__ import annotations

import re

from maildesk.pipeline.reply_text.history import history_start, without_quotes
from maildesk.pipeline.reply_text.tail import finish

__all__ = ["normalize", "visible_text"]

# --- normalization ------------------------------------------------------------------------

_CHAR_FIXES = (
    ("\r\n", "\n"), ("\r", "\n"),
    ("\ufeff", ""), ("\u200b", ""), ("\u200e", ""), ("\u200f", ""), ("\u2060", ""),
    ("\u00a0", " "), ("\u202f", " "), ("\u2007", " "),
)  # fmt: skip
# Entities are decoded only in bodies that show HTML leftovers; never &amp; (keeps it idempotent).
_HTML_LEFTOVERS = re.compile(r"&nbsp;|&#160;|^[ \t]*&gt;", re.MULTILINE)
_ENTITIES = {"&nbsp;": " ", "&#160;": " ", "&gt;": ">", "&lt;": "<", "&quot;": '"', "&#39;": "'"}
_ENTITY = re.compile("|".join(map(re.escape, _ENTITIES)))


def normalize(body: str) -> str:
    """Unify line ends; drop invisible marks; plain spaces; decode QQ Mail's literal entities."""
    for old, new in _CHAR_FIXES:
        if old in body:
            body = body.replace(old, new)
    if "&" in body and _HTML_LEFTOVERS.search(body):
        body = _ENTITY.sub(lambda m: _ENTITIES[m.group()], body)
    return body


# --- reading the body ----------------------------------------------------------------------


def visible_text(body: str) -> str:
    """What the person wrote in this reply: no quoted history, attribution, header block
    or signature.  Keeps the text when unsure."""
    lines = without_quotes(normalize(body).split("\n"))
    while True:
        cut = history_start(lines)
        if cut is None:
            return finish(lines)
        text = finish(lines[: cut.at])
        if text or cut.body is None:
            return text
        lines = lines[cut.body :]  # nothing written above the history: read its body
