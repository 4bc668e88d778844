"""The part of a reply that its author wrote: no quoted history, no signature.  Pure: no IO.

maildesk keeps every inbound message whole; `visible_text` is what a ticket shows of a
follow-up.  It errs on the safe side: when a rule is unsure, the text stays.

A body is read top to bottom, one line at a time, with the rule tables of `history` and
`tail`:

* A reply written on the line of its attribution (``Sounds good. On … wrote:``,
  ``好的，谢谢。在 … 写道：``) is split from it first, after the sentence.
* ``>``-quoted lines are dropped wherever they are; text between and below them (inline
  answers, bottom posting) stays.  The attribution line above a quote (``On … wrote:``,
  ``… 写道：``, wrapped over up to three lines) goes with the quote.
* History that is not ``>``-quoted ends the reply: a separator line
  (``-----Original Message-----``, ``------------------ 原始邮件 ------------------``,
  ``-----邮件原件-----``, Foxmail 6's ``======= 2026-11-22 09:20:11 您在来信中写道：=======``),
  a header block (``From:``/``Sent:``, ``发件人：``/``发送时间：``, ``寄件者:``/``寄件日期:`` …:
  a sender and a date at least, no blank line inside), Lotus Notes' classic header (a
  sender line, a date line, then ``To``/``收件人`` and ``Subject``/``主题`` alone on their
  lines), an attribution line with a time in it, a mailing-list footer.  So does a
  ``-- `` signature delimiter.
* From the end of what is left: device footers (``Sent from my iPhone``,
  ``发自我的华为手机``), a confidentiality disclaimer paragraph (confidential AND "if
  you are not the intended recipient" / ``如果您错收了本邮件``), a sign-off followed by
  nothing but a few short lines
  (``Best regards,`` and a name, ``此致`` / ``敬礼！``, Foxmail 6's ``致`` / ``礼！``), a
  ``-Name`` line, rule lines (also Foxmail 6's ``= = = = =``); and, when the sender is
  `Known` (`known_sender`: their names, directory department, address, what they wrote
  on the ticket before), their signature block without a sign-off word (`signature`;
  a table-layout card's ``| |`` lines go with it), and their name set apart above a
  device footer (an iPhone custom signature).
* When nothing is left but the history has a body of its own (a forward with no
  comment), that body is read the same way instead, so a ticket never shows nothing.

Before that, `normalize` unifies line ends and removes what mail clients leave in text
parts: U+FEFF and other invisible marks, U+00A0/U+202F spaces, and (QQ Mail) literal
``&nbsp;``/``&gt;`` entities.  The result is a cut of the normalized body: its lines appear
in it, in order, with trailing blanks removed (a line split from its attribution shows
as its first part).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from maildesk.domain import Address, Facts, Inbound, Person
from maildesk.pipeline.reply_text.history import (
    history_start,
    split_attributions,
    without_quotes,
)
from maildesk.pipeline.reply_text.signature import NOTHING, Known, key, lines_ending
from maildesk.pipeline.reply_text.tail import finish

__all__ = ["NOTHING", "Known", "known_sender", "normalize", "visible_text", "written"]

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


# Each round looks for the history below an empty reply (a forward with no comment); a
# body of thousands of separator lines would otherwise be rescanned once per line.
_MAX_DESCENTS = 8


def visible_text(body: str, known: Known = NOTHING) -> str:
    """What the person wrote in this reply: no quoted history, attribution, header block
    or signature (also one without a sign-off word, when the sender is `known`).  Keeps
    the text when unsure."""
    lines = without_quotes(split_attributions(normalize(body).split("\n")))
    for _ in range(_MAX_DESCENTS):
        cut = history_start(lines)
        if cut is None:
            return finish(lines, known)
        text = finish(lines[: cut.at], known)
        if text or cut.body is None:
            return text
        lines = lines[cut.body :]  # nothing written above the history: read its body
    return finish(lines, known)  # forwards nested past any real client's depth: stop looking


def written(inbound: Inbound, facts: Facts) -> str:
    """`visible_text` of an inbound mail, its sender's signature known from the directory
    and from their earlier mails on the ticket."""
    known = known_sender(inbound.sender, facts.requester, facts.earlier_texts)
    return visible_text(inbound.text, known)


# --- what is known of the sender -----------------------------------------------------------

_MIN_NAME = 2  # characters of a given name ("Tony") or a name taken from an address
_MIN_LOCAL = 4


def known_sender(sender: Address, person: Person | None, earlier: Sequence[str]) -> Known:
    """What marks this sender's signature: their names (display name, directory entry, the
    name in their address), department, address, and the lines that ended their earlier
    mails on the ticket (`earlier`: those mails' texts, as received)."""
    full = [n for n in (sender.name, person.name if person else "") if n.strip()]
    local = sender.email.partition("@")[0]
    names = {k for name in full for k in _name_forms(name)}
    if len(key(local)) >= _MIN_LOCAL and key(local).isalpha():  # luobin, wei.zhang
        names.update((key(local), key("".join(reversed(re.split(r"[._-]", local))))))
    department = key(person.department) if person else ""
    endings = {key(line) for text in earlier for line in lines_ending(visible_text(text))}
    return Known(
        names=frozenset(n for n in names if n),
        departments=frozenset({department} - {""}),
        addresses=frozenset({key(sender.email)} - {""}),
        endings=frozenset(endings - names),
    )


def _name_forms(name: str) -> Iterator[str]:
    """罗斌; Luo Bin, Bin Luo, luobin; Tony (of Tony Chen)."""
    words = name.replace(",", " ").split()
    yield key(name)
    yield key("".join(reversed(words)))
    for word in words:
        if len(word) >= _MIN_NAME and word.isalpha() and word.isascii():
            yield key(word)
