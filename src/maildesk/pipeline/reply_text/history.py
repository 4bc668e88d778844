"""Where the history starts: >-quoted lines, attribution lines, separators and header
blocks.  Pure: no IO."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

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


class Cut(NamedTuple):
    at: int  # first line of the history (or of the signature)
    body: int | None  # where the history's own text starts (fallback), None: no fallback


def _cut_signature(lines: Sequence[str], i: int) -> Cut:
    return Cut(i, None)


def _cut_separator(lines: Sequence[str], i: int) -> Cut:
    return Cut(i, i + 1)


def _cut_header_block(lines: Sequence[str], i: int) -> Cut | None:
    if not _header_kind(lines[i].strip()) or _inside_header_run(lines, i):
        return None
    end = _header_block_end(lines, i)
    return None if end is None else Cut(i, end)


# Lotus Notes' classic reply header: a sender line, a date line, then each label alone on
# its line with the value below ("To" / "cc" / "Subject", "收件人" / "抄送" / "主题").
_NOTES_DATE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\D{1,6}\d{1,2}:\d{2}.{0,20}")
_NOTES_SUBJECT = re.compile(r"(?:Subject|主题|主旨|Betreff|Objet|Asunto|件名)", re.IGNORECASE)
_NOTES_SPAN = 8  # lines from the "To" label to the "Subject" label
_NOTES_SENDER = 160  # characters


def _cut_notes_header(lines: Sequence[str], i: int) -> Cut | None:
    """A "To" label alone, a date line (and a sender line right above it) above it, and a
    "Subject" label alone below it: the history starts at the sender line."""
    date = _nonblank_above(lines, i, 2)
    if date is None or not _NOTES_DATE.fullmatch(lines[date].strip()):
        return None
    sender = date - 1
    if sender < 0 or not 0 < len(lines[sender].strip()) <= _NOTES_SENDER:
        return None
    for j in range(i + 1, min(len(lines), i + 1 + _NOTES_SPAN)):
        if _NOTES_SUBJECT.fullmatch(lines[j].strip()):
            return Cut(sender, j + 2)
    return None


def _nonblank_above(lines: Sequence[str], i: int, blanks: int) -> int | None:
    """The nonblank line above `i`, with at most `blanks` blank lines between."""
    for j in range(i - 1, max(-1, i - 2 - blanks), -1):
        if lines[j].strip():
            return j
    return None


def _cut_list_footer(lines: Sequence[str], i: int) -> Cut | None:
    following = _next_nonblank(lines, i)
    if following is not None and _LIST_FOOTER.fullmatch(lines[following].strip()):
        return Cut(i, None)
    return None


# Tried in this order on each line (stripped); the first pattern that matches has its check
# decide; when the check says no, the line may still be an attribution line.
_START_RULES: tuple[tuple[str, str, Callable[[Sequence[str], int], Cut | None]], ...] = (
    ("signature", r"--$", _cut_signature),
    # Foxmail 6: "======= 2026-11-22 09:20:11 您在来信中写道：=======" above the quote
    (
        "legacy_separator",
        r"={4,}+[^=]{1,160}?(?:写道|寫道|wrote|writes)\s*[:：]?\s*={4,}$",
        _cut_separator,
    ),
    (
        "separator",
        r"(?=[-_=]{2})[-_=*~ ]++(?:"
        + _alternatives(_SEPARATOR_WORDS)
        + r")[-_=*~ ]*+(?<=[-_=]{2})$"
        r"|(?:" + _alternatives(_BARE_SEPARATORS) + r") *[:：]?$",
        _cut_separator,
    ),
    ("one_line_header", _ONE_LINE_HEADER, _cut_separator),
    ("notes_header", r"(?:To|收件人|收件者|An|À|Para|宛先)$", _cut_notes_header),
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
# Where a reply may end and an attribution begin on the same line ("Sounds good. On …
# wrote:", "好的，谢谢。在 … 写道："): after a sentence end.
_SENTENCE_END = re.compile(r"[.!?…](?:\s+|(?=[A-Z]))|[。！？]\s*")  # "Yes.On …" (HTML flattened)
_SPLITS_PER_LINE = 8  # sentence ends tried per line, from the last one

# --- reading the body ----------------------------------------------------------------------


def split_attributions(lines: Sequence[str]) -> list[str]:
    """Phase 0: a reply written on the line of its attribution becomes a line of its own,
    so the attribution goes and the reply stays."""
    splits: dict[int, int] = {}  # line -> where its attribution starts
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped and stripped[-1] in ":：" and len(stripped) <= _ATTRIBUTION_CHARS:
            found = _attribution_split(lines, i)
            if found is not None:
                splits.setdefault(*found)
    if not splits:
        return list(lines)
    out: list[str] = []
    for i, line in enumerate(lines):
        at = splits.get(i)
        out.extend([line] if at is None else [line[:at].rstrip(), line[at:]])
    return out


def _attribution_split(lines: Sequence[str], i: int) -> tuple[int, int] | None:
    """(line, offset) where an attribution ending at line `i` starts after a sentence the
    person wrote on the same line, if it does (the shortest attribution that matches)."""
    quoted = _quote_follows(lines, i)
    for start in range(i, max(-1, i - _ATTRIBUTION_SPAN), -1):
        line = lines[start]
        first = line.strip()
        if not first or first[0] == ">":
            return None
        indent = len(line) - len(line.lstrip())
        rest = " ".join(part.strip() for part in lines[start + 1 : i + 1])
        ends = [m.end() for m in _SENTENCE_END.finditer(first)][-_SPLITS_PER_LINE:]
        for end in reversed(ends):
            joined = f"{first[end:]} {rest}".strip()
            if end < len(first) and _is_attribution(joined, quoted, start == i):
                return start, indent + end
    return None


def _is_attribution(text: str, quoted: bool, loose: bool) -> bool:
    """After a sentence, an attribution needs a quote below it or an address in it: "It
    failed. On Monday at 09:20 I wrote:" is the person's own text."""
    if (quoted or "@" in text) and _STRICT_ATTRIBUTIONS.fullmatch(text):
        return True
    return quoted and loose and _LOOSE_ATTRIBUTION.fullmatch(text) is not None


def without_quotes(lines: Sequence[str]) -> list[str]:
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


def history_start(lines: Sequence[str]) -> Cut | None:
    """Phase 2: the first line of history that is not >-quoted (or of a signature)."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped:
            cut = _classify(lines, i, stripped)
            if cut is not None:
                return cut
    return None


def _classify(lines: Sequence[str], i: int, stripped: str) -> Cut | None:
    match = _START.match(stripped)
    if match is not None and match.lastgroup is not None:
        cut = _START_CHECKS[match.lastgroup](lines, i)
        if cut is not None:
            return cut
    if stripped[-1] not in ":：" or len(stripped) > _ATTRIBUTION_CHARS:
        return None
    start = _strict_attribution_start(lines, i)
    return None if start is None else Cut(start, i + 1)


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
