"""How much work one message may cost: caps, checked on the raw bytes before any parser.

The standard library's MIME parser (and mail-parser's recovery, and automail's second
look) take time in proportion to parts × depth, header size and address count; one
message of nested enclosures took seconds.  So the message's structure is measured
first, by regular expressions over the bytes (C speed, no parse), and a message over
a cap is refused with a reason that names the cap and both numbers (the quarantine
reason admins see in `maildesk quarantine list`).

Body text and HTML over their caps are not refused but cut, with a note saying so in
the ticket: the person still gets a ticket, the admin still has the whole message in
the journal, and the cut part is almost always pasted logs or quoted history.

The message size itself is capped before this, at intake (`max_message_bytes`); time
for a large attachment grows with its size (about 30 ms per MB for the parse).

    reason = over_cap(raw)  # "" when within every cap
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cap:
    name: str
    limit: int
    unit: str  # what is counted, in the plural
    refuse: bool  # True: the message is quarantined; False: the excess is cut

    def reason(self, found: int) -> str:
        return f"over the {self.name} cap: {found:,} {self.unit}, at most {self.limit:,}"

    def beyond(self) -> str:
        """The reason when counting stopped at the cap (the true number is larger)."""
        return f"over the {self.name} cap: more than {self.limit:,} {self.unit}"

    def note(self, found: int) -> str:
        return (
            f"[maildesk: {self.unit} cut at {self.limit:,} of {found:,} ({self.name} cap);"
            " the whole message is kept in the journal]"
        )


HEADER_BYTES = Cap("header size", 256 * 1024, "bytes of top-level headers", refuse=True)
ADDRESSES = Cap("address", 5_000, "addresses in To and Cc", refuse=True)
PARTS = Cap("MIME part", 500, "MIME parts", refuse=True)
DEPTH = Cap("MIME depth", 30, "levels of MIME nesting", refuse=True)
TEXT_CHARS = Cap("body text", 200_000, "characters of body text", refuse=False)
HTML_CHARS = Cap("HTML", 300_000, "characters of HTML", refuse=False)
CAPS = (HEADER_BYTES, ADDRESSES, PARTS, DEPTH, TEXT_CHARS, HTML_CHARS)

RECIPIENT_FIELDS = re.compile(rb"^(?:to|cc)[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.I | re.M)
# Searched in a lower-cased copy (a literal prefix lets the engine skip ahead; with
# re.I it tries every position); the values are then read from the original bytes.
BOUNDARY_PARAM = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"']{1,200}))""")
DELIMITER_TAIL = rb"(--)?[ \t]*(?=\r?\n|\Z)"  # after "\n--boundary"


def over_cap(raw: bytes) -> str:
    """Why the message is over a refusing cap ("" when it is within all of them)."""
    header = _header_block(raw)
    if len(header) > HEADER_BYTES.limit:
        return HEADER_BYTES.beyond()
    addresses = sum(m.group(1).count(b"@") for m in RECIPIENT_FIELDS.finditer(header))
    if addresses > ADDRESSES.limit:
        return ADDRESSES.reason(addresses)
    return _structure_over_cap(raw)


def _header_block(raw: bytes) -> bytes:
    """The top-level headers, looked for only just past the cap (a blank line is
    LF LF or LF CR LF; without one the whole message is headers)."""
    window = raw[: HEADER_BYTES.limit + 4]
    ends = [i for i in (window.find(b"\n\n"), window.find(b"\n\r\n")) if i >= 0]
    if ends:
        return raw[: min(ends)]
    return raw if len(raw) <= HEADER_BYTES.limit else raw[: HEADER_BYTES.limit + 1]


def _boundaries(raw: bytes) -> list[bytes]:
    spans = (
        m.span(1) if m.start(1) >= 0 else m.span(2) for m in BOUNDARY_PARAM.finditer(raw.lower())
    )
    return list(dict.fromkeys(raw[a:b] for a, b in spans if b > a))


def _structure_over_cap(raw: bytes) -> str:
    """Parts and depth from the boundary delimiter lines: each opens a part; a boundary
    seen for the first time opens a level inside the current one, its closing delimiter
    (`--b--`) ends that level and every level opened inside it."""
    boundaries = _boundaries(raw)
    if len(boundaries) > PARTS.limit:  # each multipart has at least one part
        return PARTS.beyond()
    if not boundaries:
        return ""
    alternatives = b"|".join(re.escape(b) for b in boundaries)
    delimiter = re.compile(rb"\n--(" + alternatives + rb")" + DELIMITER_TAIL)
    parts, deepest = 0, 0
    stack: list[bytes] = []
    for match in delimiter.finditer(raw):
        boundary, closing = match.group(1), match.group(2) is not None
        if boundary in stack:
            del stack[stack.index(boundary) + 1 :]
        else:
            stack.append(boundary)
        if closing:
            stack.pop()
            continue
        parts += 1
        deepest = max(deepest, len(stack))
        if parts > PARTS.limit:
            return PARTS.beyond()
        if deepest > DEPTH.limit:
            return DEPTH.beyond()
    return ""


def cut(text: str, cap: Cap) -> str:
    """`text` within a cutting cap, with a note saying what was cut."""
    if len(text) <= cap.limit:
        return text
    return text[: cap.limit] + "\n\n" + cap.note(len(text))
