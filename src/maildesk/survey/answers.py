"""Survey answers: signed one-click links, and reading a score from a mail.  Pure.

The survey mail offers five `mailto:` links; each opens a mail to the desk whose
subject carries the ticket number, the score and a token,
`[IT-20261122-0001] 满意度 5 3f9c0a…`, where the token is HMAC-SHA256 of the secret
over (ticket number, score, requester address).  A link scanner that fetches every
URL cannot answer: a mailto link only fills in a mail a person must send.  A token
checked against another ticket, another score or another sender fails.

Without a link, a plain reply to the survey counts when its first written line starts
with a score: `5`, `五`, `5分`, `★★★★`, `非常满意`, `满意`, `一般`, `不满意`,
`非常不满意`, `very satisfied`, `satisfied`, `neutral`, `dissatisfied`,
`very dissatisfied`; the rest of what they wrote is the comment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

SCORES = (5, 4, 3, 2, 1)
LOW = 2  # a score at or below this opens a review

# score → its label per locale (what the survey shows), and the words read back.
LABELS = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("一般", "Neutral"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
# Words that may run straight into a comment ("不满意，还是慢"), and words that need a
# boundary after them ("一般" in "一般来说…" is no score, nor "五" in "五楼…").
FREE_WORDS = {
    5: ("非常满意", "很满意", "十分满意"),
    4: ("满意", "比较满意"),
    2: ("不满意", "不太满意"),
    1: ("非常不满意", "很不满意"),
}
# No "ok", "good", "thanks": a reply saying only that acknowledges, it does not score.
BOUNDED_WORDS = {
    5: ("very satisfied", "5", "五"),
    4: ("satisfied", "4", "四"),
    3: ("一般", "neutral", "3", "三"),
    2: ("dissatisfied", "unsatisfied", "not satisfied", "2", "二"),
    1: ("very dissatisfied", "very unsatisfied", "1", "一"),
}
SUBJECT_WORDS = {"zh-CN": "满意度", "en": "Survey"}
TOKEN_LENGTH = 16

_SUBJECT = re.compile(
    r"(?:满意度|survey|satisfaction)\s*[:：]?\s*(?P<score>[1-5])\s+(?P<token>[0-9a-f]{16})\b",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"^(?:满意度|评分|评价|打分|survey|score|rating)\s*[:：]?\s*")
_STARS = re.compile(r"^(?P<stars>[★⭐]{1,5})")
_SUFFIX = re.compile(r"^(?:\s*(?:分|星|颗星|/\s*5|stars?|points?))")
_BOUNDARY = re.compile(r"^(?:$|[\s\W_])")


def token(secret: str, number: str, score: int, email: str) -> str:
    message = f"survey|{number.upper()}|{score}|{email.lower()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


@dataclass(frozen=True)
class Option:
    score: int
    label: str
    url: str  # "" without a secret: no link can be signed, the plain reply still works


def options(secret: str, support: str, number: str, email: str, locale: str) -> list[Option]:
    """The five answers, best first, each with its one-click mailto link."""
    column = 0 if locale == "zh-CN" else 1
    word = SUBJECT_WORDS.get(locale, SUBJECT_WORDS["en"])
    out = []
    for score in SCORES:
        url = ""
        if secret:
            subject = f"[{number}] {word} {score} {token(secret, number, score, email)}"
            url = f"mailto:{support}?subject={quote(subject, safe='')}"
        out.append(Option(score, LABELS[score][column], url))
    return out


@dataclass(frozen=True)
class Link:
    """A score and token read from a subject (a one-click answer), not yet checked."""

    score: int
    token: str


def link_in(subject: str) -> Link | None:
    found = _SUBJECT.search(subject)
    return Link(int(found["score"]), found["token"].lower()) if found else None


def forged(link: Link, secret: str, number: str, email: str) -> str:
    """Why this link's token does not answer `number` for `email` ("" when it does)."""
    if not secret:
        return "survey links are not accepted without [security] secret"
    if not hmac.compare_digest(link.token, token(secret, number, link.score, email)):
        return f"survey token does not match ticket {number}, score {link.score} and sender"
    return ""


@dataclass(frozen=True)
class Scored:
    score: int
    comment: str


def read(text: str) -> Scored | None:
    """A score at the start of the first written line, and the rest as the comment."""
    lines = text.strip().split("\n")
    first, rest = lines[0].strip(), "\n".join(lines[1:]).strip()
    folded = [unicodedata.normalize("NFKC", c).casefold() for c in first]
    low = "".join(folded)
    start = _PREFIX.match(low)
    offset = start.end() if start else 0
    found = _score_at(low[offset:])
    if found is None:
        return None
    score, used = found
    said = first[_chars_for(folded, offset + used) :].lstrip(" \t,.;:!-，。；：！、　")
    return Scored(score, "\n".join(part for part in (said, rest) if part))


def _chars_for(folded: list[str], length: int) -> int:
    """How many characters of the original line its first `length` folded ones came from
    (NFKC and casefolding may change a character's length: ５ → 5, ß → ss)."""
    total = 0
    for i, part in enumerate(folded):
        if total >= length:
            return i
        total += len(part)
    return len(folded)


def _score_at(line: str) -> tuple[int, int] | None:
    """(score, characters used) for a score word at the start of `line`, longest first."""
    stars = _STARS.match(line)
    if stars and _BOUNDARY.match(line[stars.end() :]):
        return len(stars["stars"]), stars.end()
    for word, score, free in _WORDS:
        if not line.startswith(word):
            continue
        end = len(word)
        suffix = _SUFFIX.match(line[end:]) if word.isdigit() or len(word) == 1 else None
        end += suffix.end() if suffix else 0
        if free or _BOUNDARY.match(line[end:]):
            return score, end
    return None


def _table() -> list[tuple[str, int, bool]]:
    words = [(w.casefold(), s, True) for s, ws in FREE_WORDS.items() for w in ws]
    words += [(w.casefold(), s, False) for s, ws in BOUNDED_WORDS.items() for w in ws]
    return sorted(words, key=lambda row: len(row[0]), reverse=True)


_WORDS = _table()
