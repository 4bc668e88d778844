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
from collections.abc import Callable, Sequence
from typing import NamedTuple

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


# --- rule tables: lines that start the history ---------------------------------------------

_SEPARATOR_WORDS = (
    "Original Message", "Original", "Forwarded message", "Replied Message",
    "Message d'origine", "Ursprüngliche Nachricht", "Mensaje original",
    "原始邮件", "邮件原件", "原始信息", "原始消息", "原邮件", "回复的原邮件",
    "转发邮件信息", "转发的邮件", "转发邮件", "转发的消息",
    "原始郵件", "郵件原件", "原始訊息", "轉寄的郵件", "轉寄郵件", "回覆的原郵件",
)  # fmt: skip
_BARE_SEPARATORS = ("Begin forwarded message", "Original Message", "原始邮件", "邮件原件")

# Header block keys by kind; a block needs a sender and a date (or a sender, To and Subject).
_HEADER_KEYS = {
    "from": ("From", "发件人", "寄件者", "寄件人", "Von", "De", "Expéditeur", "差出人"),
    "date": (
        "Sent", "Date", "发送时间", "时间", "日期", "寄件日期", "傳送時間",
        "Gesendet", "Datum", "Envoyé", "Enviado", "Fecha", "送信日時", "日時",
    ),
    "to": ("To", "收件人", "收件者", "An", "À", "Para", "Destinataire", "宛先"),
    "cc": ("Cc", "抄送", "副本", "Kopie", "抄送人"),
    "subject": ("Subject", "主题", "主旨", "Betreff", "Objet", "Asunto", "件名"),
}  # fmt: skip
_HEADER_WINDOW = 12  # lines a header block may span
_HEADER_WRAP = 2  # lines a header value may wrap over
_ONE_LINE_HEADER = (
    r"\*{0,2}(?:From|发件人|寄件者)\*{0,2}\s*[:：].{1,200}?\s"
    r"\*{0,2}(?:Sent|Date|发送时间|寄件日期)\*{0,2}\s*[:：].*"
)
_LIST_FOOTER = re.compile(
    r".*\bmailing list\s*|To unsubscribe\b.*|You received this message because\b.*", re.I
)


def _alternatives(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_HEADER_KIND = {key.casefold(): kind for kind, keys in _HEADER_KEYS.items() for key in keys}
# "From:", "*From:*", "发件人：", "De :": a short key, then a colon; the key is looked up above.
_HEADER = re.compile(r"(?:\|\s*)?\*{0,2}\s*(?P<key>[^\s:：*|]{1,16})\s*\*{0,2}\s*[:：]")


def _header_kind(stripped: str) -> str | None:
    match = _HEADER.match(stripped)
    return None if match is None else _HEADER_KIND.get(match["key"].casefold())


class _Cut(NamedTuple):
    at: int  # first line of the history (or of the signature)
    body: int | None  # where the history's own text starts (fallback), None: no fallback


def _cut_signature(lines: Sequence[str], i: int) -> _Cut:
    return _Cut(i, None)


def _cut_separator(lines: Sequence[str], i: int) -> _Cut:
    return _Cut(i, i + 1)


def _cut_header_block(lines: Sequence[str], i: int) -> _Cut | None:
    if not _header_kind(lines[i].strip()) or _inside_header_run(lines, i):
        return None
    end = _header_block_end(lines, i)
    return None if end is None else _Cut(i, end)


def _cut_list_footer(lines: Sequence[str], i: int) -> _Cut | None:
    following = _next_nonblank(lines, i)
    if following is not None and _LIST_FOOTER.fullmatch(lines[following].strip()):
        return _Cut(i, None)
    return None


# Tried in this order on each line (stripped); the first pattern that matches has its check
# decide; when the check says no, the line may still be an attribution line.
_START_RULES: tuple[tuple[str, str, Callable[[Sequence[str], int], _Cut | None]], ...] = (
    ("signature", r"--$", _cut_signature),
    (
        "separator",
        r"(?=[-_=]{2})[-_=*~ ]++(?:"
        + _alternatives(_SEPARATOR_WORDS)
        + r")[-_=*~ ]*+(?<=[-_=]{2})$"
        r"|(?:" + _alternatives(_BARE_SEPARATORS) + r") *[:：]?$",
        _cut_separator,
    ),
    ("one_line_header", _ONE_LINE_HEADER, _cut_separator),
    ("header", _HEADER.pattern, _cut_header_block),
    ("list_footer", r"[-_=]{5,}$", _cut_list_footer),
)
_START = re.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern, _ in _START_RULES), re.IGNORECASE
)
_START_CHECKS = {name: check for name, _, check in _START_RULES}


# --- rule tables: attribution lines ("On … wrote:") -----------------------------------------

_HAS_TIME = r"(?=.*?\d{1,2}\s*[:：]\s*\d{2})"  # a lookahead: linear, never retried
# Full matches over one to three joined lines.  A time is required: these cut even when
# no quote follows (Gmail's HTML-only quoting, Chinese clients).
_STRICT_ATTRIBUTIONS = re.compile(
    "|".join(
        (
            rf"On\s{_HAS_TIME}.*\bwrote\s*:",  # Gmail, Apple Mail, Thunderbird
            rf"在{_HAS_TIME}.*(?:写道|寫道|写入|寫入)\s*[:：]",  # Apple Mail, NetEase, Outlook Mac
            rf".{{1,80}}?(?:于|於)\s*\d{{4}}\s*年{_HAS_TIME}.*(?:写道|寫道)\s*[:：]",  # Gmail zh
            rf"\d{{4}}年\d{{1,2}}月\d{{1,2}}日{_HAS_TIME}.*<[^<>\s]+@[^<>\s]+>\s*[:：]",  # Gmail ja
            rf"Am\s{_HAS_TIME}.*\bschrieb\b.*:",
            rf"Le\s{_HAS_TIME}.*\ba\s+écrit\s*:",
            rf"El\s{_HAS_TIME}.*\bescribió\s*:",
        )
    ),
    re.IGNORECASE,
)
# Any line ending like an attribution: dropped only when a quote follows it.
_LOOSE_ATTRIBUTION = re.compile(
    r".*\b(?:wrote|writes|schrieb|a\s+écrit|escribió|scrisse|skrev)\s*:|.*(?:写道|寫道|写入)\s*[:：]",
    re.IGNORECASE,
)
_ATTRIBUTION_SPAN = 3  # lines
_ATTRIBUTION_CHARS = 320
_QUOTE_LOOKAHEAD = 12  # blank lines allowed between an attribution and its quote


# --- rule tables: the end of the reply -----------------------------------------------------

_DEVICE_FOOTERS = (
    r"sent from (?:my|a|an) [\w-]+(?: [\w-]+){0,4}[.!]?",
    r"sent from (?:outlook|mail|gmail|yahoo mail|aol mail|proton ?mail|samsung (?:mobile|email))"
    r"(?: (?:for|on) [\w ]{1,24})?[.!]?(?:\s*<[^<>\s]+>)?",
    r"get outlook for (?:ios|android)(?:\s*<[^<>\s]+>)?",
    r"sent with proton ?mail secure email\.?",
    r"envoyé de mon [\w ]{1,20}",
    r"von meinem [\w ]{1,20} gesendet",
    r"(?:发自|来自|發自|寄自)我的\s?[\w ]{1,20}",
    r"(?:发自|来自)\s?(?:网易邮箱大师|网易邮箱|手机QQ邮箱|QQ邮箱|139邮箱|Foxmail|WPS邮箱|钉钉|企业微信|飞书)",
    r"从我的\s?[\w ]{1,20}?\s?发送",
    r"從我的\s?[\w ]{1,20}?\s?傳送",
    r"[\w ]{1,20}から送信",
)
_NAME_AFTER = r"(?:[,.!](?: ?[^\s.!?。！？]{1,20}){0,3})?"  # "Best regards, Zhang Wei"
_SIGN_OFFS = (
    r"(?:(?:best|kind|warm|warmest|kindest|with (?:best|kind|warm)) )?regards" + _NAME_AFTER,
    r"(?:best(?: wishes)?|cheers|sincerely|yours (?:sincerely|truly|faithfully)|respectfully"
    r"|br|rgds)" + _NAME_AFTER,
    r"(?:many thanks|thanks|thank you|thx)(?: (?:and|&) (?:best )?regards)?,",
    r"此致(?:\s*敬礼)?[!！。]?",
    r"敬礼[!！。]?",
    r"祝好[!！。,，]?",
    r"(?:顺|順|敬)(?:祝|颂|頌)\s*\S{2,4}[!！。]?",
    r"(?:谨上|敬上|拜上)[!！。]?",
)
_DASH_NAME = re.compile(
    r"(?:-(?=\w)|--\s?|[—–]{1,2}\s?)"
    r"(?:[A-Z][\w.'’]*(?:[ .-][A-Z][\w.'’]*){0,3}|[\u4e00-\u9fff·]{2,6})"
)
_DEVICE_FOOTER = re.compile("|".join(_DEVICE_FOOTERS), re.IGNORECASE)
_SIGN_OFF = re.compile("|".join(_SIGN_OFFS), re.IGNORECASE)
_RULE_LINE = re.compile(r"[-_=*~—–]{3,}")
_SIGNATURE_LINES = 6  # at most this many short lines may follow a sign-off
_SIGNATURE_WIDTH = 80


# --- reading the body ----------------------------------------------------------------------


def visible_text(body: str) -> str:
    """What the person wrote in this reply: no quoted history, attribution, header block
    or signature.  Keeps the text when unsure."""
    lines = _without_quotes(normalize(body).split("\n"))
    while True:
        cut = _history_start(lines)
        if cut is None:
            return _finish(lines)
        text = _finish(lines[: cut.at])
        if text or cut.body is None:
            return text
        lines = lines[cut.body :]  # nothing written above the history: read its body


def _without_quotes(lines: Sequence[str]) -> list[str]:
    """Phase 1: drop >-quoted lines and the attribution above each quote; the pieces of
    text around them become paragraphs one blank line apart."""
    pieces: list[list[str]] = [[]]
    for i, line in enumerate(lines):
        stripped = line.strip()
        start = None if not stripped else _quote_start(lines, i, stripped)
        if start is None:
            pieces[-1].append(line.rstrip())
            continue
        del pieces[-1][len(pieces[-1]) - (i - start) :]
        if pieces[-1]:
            pieces.append([])
    return _paragraphs(pieces)


def _quote_start(lines: Sequence[str], i: int, stripped: str) -> int | None:
    """First line of the quote or attribution that line `i` belongs to, if it does."""
    if stripped[0] == ">":
        return i
    if stripped[-1] not in ":：" or len(stripped) > _ATTRIBUTION_CHARS:
        return None
    if not _quote_follows(lines, i):
        return None
    start = _strict_attribution_start(lines, i)
    if start is None and _LOOSE_ATTRIBUTION.fullmatch(stripped):
        return i
    return start


def _paragraphs(pieces: list[list[str]]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        while piece and not piece[-1]:
            piece.pop()
        first = next((k for k, line in enumerate(piece) if line), len(piece))
        if first < len(piece):
            out.extend([""] if out else [])
            out.extend(piece[first:])
    return out


def _history_start(lines: Sequence[str]) -> _Cut | None:
    """Phase 2: the first line of history that is not >-quoted (or of a signature)."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped:
            cut = _classify(lines, i, stripped)
            if cut is not None:
                return cut
    return None


def _classify(lines: Sequence[str], i: int, stripped: str) -> _Cut | None:
    match = _START.match(stripped)
    if match is not None and match.lastgroup is not None:
        cut = _START_CHECKS[match.lastgroup](lines, i)
        if cut is not None:
            return cut
    if stripped[-1] not in ":：" or len(stripped) > _ATTRIBUTION_CHARS:
        return None
    start = _strict_attribution_start(lines, i)
    return None if start is None else _Cut(start, i + 1)


def _header_block_end(lines: Sequence[str], i: int) -> int | None:
    """The line after a header block starting at `i`, if it is one: header lines without
    a blank between them (a value may wrap over two more lines)."""
    kinds: set[str] = set()
    end, wrapped = i, 0
    for j in range(i, min(len(lines), i + _HEADER_WINDOW)):
        stripped = lines[j].strip()
        kind = _header_kind(stripped) if stripped else None
        if kind is not None:
            kinds.add(kind)
            end, wrapped = j + 1, 0
        elif stripped and wrapped < _HEADER_WRAP:
            wrapped += 1
        else:
            break
    if "from" in kinds and ("date" in kinds or {"to", "subject"} <= kinds):
        return end
    return None


def _inside_header_run(lines: Sequence[str], i: int) -> bool:
    """Line `i` continues a header run that starts higher up (and was checked there)."""
    for j in range(i - 1, max(-1, i - 2 - _HEADER_WRAP), -1):
        stripped = lines[j].strip()
        if not stripped:
            return False
        if _header_kind(stripped):
            return True
    return False


def _strict_attribution_start(lines: Sequence[str], i: int) -> int | None:
    parts: list[str] = []
    for start in range(i, max(-1, i - _ATTRIBUTION_SPAN), -1):
        part = lines[start].strip()
        if not part or part[0] == ">":
            return None
        parts.insert(0, part)
        joined = " ".join(parts)
        if len(joined) > _ATTRIBUTION_CHARS:
            return None
        if _STRICT_ATTRIBUTIONS.fullmatch(joined):
            return start
    return None


def _quote_follows(lines: Sequence[str], i: int) -> bool:
    following = _next_nonblank(lines, i)
    return following is not None and lines[following].lstrip().startswith(">")


def _next_nonblank(lines: Sequence[str], i: int) -> int | None:
    for j in range(i + 1, min(len(lines), i + 1 + _QUOTE_LOOKAHEAD)):
        if lines[j].strip():
            return j
    return None


# --- the end of the reply ------------------------------------------------------------------


def _finish(lines: list[str]) -> str:
    return "\n".join(_trim_tail(lines)).strip("\n")


def _trim_tail(lines: list[str]) -> list[str]:
    """Phase 3: device footers, sign-offs, -Name lines and rules at the end."""
    while True:
        while lines and not lines[-1].strip():
            lines.pop()
        for rule in _TAIL_RULES:
            start = rule(lines)
            if start is not None:
                del lines[start:]
                break
        else:
            return lines


def _device_footer(lines: list[str]) -> int | None:
    return len(lines) - 1 if lines and _DEVICE_FOOTER.fullmatch(lines[-1].strip()) else None


def _rule_line(lines: list[str]) -> int | None:
    return len(lines) - 1 if lines and _RULE_LINE.fullmatch(lines[-1].strip()) else None


def _sign_off(lines: list[str]) -> int | None:
    """A sign-off followed only by a few short lines (name, title, phone)."""
    after = 0
    for k in range(len(lines) - 1, 0, -1):
        line = lines[k].strip()
        if _SIGN_OFF.fullmatch(line):
            return k if _has_text(lines, k) else None
        if len(line) > _SIGNATURE_WIDTH:
            return None
        after += bool(line)
        if after > _SIGNATURE_LINES:
            return None
    return None


def _dash_name(lines: list[str]) -> int | None:
    k = len(lines) - 1
    if k < 2 or lines[k - 1].strip() or not _DASH_NAME.fullmatch(lines[k].strip()):
        return None
    return k if _has_text(lines, k) else None


def _has_text(lines: list[str], k: int) -> bool:
    return any(lines[j].strip() for j in range(k))


_TAIL_RULES: tuple[Callable[[list[str]], int | None], ...] = (
    _device_footer,
    _rule_line,
    _sign_off,
    _dash_name,
)
