"""Recurring problems: the words and phrases that recur in a period's requests, per
category, with how many tickets said them then and in the period before.  Pure: no IO.

A ticket's text is its subject (reply prefixes and ticket tags stripped) and the start of
its description (the first message's own text: the pipeline already dropped quoted
history and signatures), `SUBJECT_CHARS` and `DESCRIPTION_CHARS` at most.  Noise that is
never a problem's words goes first (`NOISE`: HTML tags and entities, URLs, mail headers
and addresses, dates and times; `NOISE_WORDS`: long numbers, encoded blobs), then
`terms.runs` segments it.  A term is a word, or a phrase of two words written next to
each other (`打印机卡纸`, `printer jam`).

    * counted once per ticket (document frequency), shown from `min_tickets` tickets on;
    * terms of exactly the same tickets say one thing, shown once: a phrase before its
      words (`打印机`, `卡纸` and `打印机卡纸` of the same five tickets are `打印机卡纸`);
      two words written apart, when as many subjects say them (`VPN 809` of `VPN错误809`
      and `VPN 连接失败 809`);
    * ranked by count plus rise (a problem new this period before a steady one); a term
      whose tickets all come under a term above it in its category adds nothing; at
      most `per_category` per category and `limit` in all;
    * two example tickets each, newest first.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from maildesk.digest.model import RecurringTerm, TicketRef
from maildesk.terms import runs, strip_reply_prefixes

SUBJECT_CHARS = 300
DESCRIPTION_CHARS = 400  # the start says what is wrong; bounds the cost (README, Digests)
EXAMPLE_SUBJECT_CHARS = 120
EXAMPLES = 2

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?"

# Text that is never what a problem is: cut before segmenting.  (name, what the text must
# contain one of for the pattern to run at all, pattern)
NOISE: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("html tag", ("<",), r"<[^<>\n]{0,300}>"),
    ("html entity", ("&",), r"&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,9});?"),
    ("url", ("://", "www."), r"\b(?:https?|ftp|file)://\S*|\bwww\.\S+"),
    ("mail header", (":",),
     r"\b(?:content|mime|x|return|message|reply|in-reply|list|dkim|arc)-[a-z0-9-]{1,40}:[^\n]*"
     r"|^[ \t>]*(?:from|to|cc|bcc|date|sent):[^\n]*|^[ \t>]*subject:"),
    ("mail address", ("@",), r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    ("date", tuple("-/.年月"),
     r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]"),
    ("english date", (" ",),
     r"(?=[0-9a-z])(?:\b\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+\d{4}"
     r"|\b" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})\b"),
    ("time", tuple(":点點"),
     r"\b\d{1,2}:\d{2}(?::\d{2})?\b|[0-9一二两三四五六七八九十]{1,3}\s*[点點]\s*(?:\d{1,2}\s*分|半)?"),
)  # fmt: skip
_NOISE = tuple(
    (hint, re.compile(pattern, re.IGNORECASE | re.MULTILINE)) for _, hint, pattern in NOISE
)

# Words that are never what a problem is (name, pattern over one segmented word).
NOISE_WORDS: tuple[tuple[str, str], ...] = (
    ("long number", r"\d{9,}"),  # phone, QQ and order numbers; error codes are shorter
    ("encoded blob", r"(?=.*\d)[a-z0-9+/=_-]{16,}|[a-z0-9+/=_-]{30,}"),  # base64, hashes
)
_NOISE_WORD = re.compile("|".join(f"(?:{pattern})" for _, pattern in NOISE_WORDS))
_NOT_ALONE = re.compile(r"\d{1,2}|(?:19|20)\d\d")  # said only in "windows 10", "office 2016"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

Term = tuple[str, ...]  # one word, or a phrase of two


@dataclass(frozen=True)
class TicketText:
    """A ticket opened in a period, as much of it as recurring problems read."""

    number: str
    category: str
    subject: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class _Said:
    """What one ticket says: every term, and those of its subject."""

    terms: frozenset[Term]
    in_subject: frozenset[Term]


@dataclass
class _Candidate:
    category: str
    term: Term
    tickets: list[int]  # indexes into the period's tickets
    in_subject: int
    previous: int
    adjacent: bool = True  # a phrase written as one; False: two words of the same tickets

    @property
    def count(self) -> int:
        return len(self.tickets)

    @property
    def rank(self) -> tuple[int, int, int, str]:
        rise = max(0, self.count - self.previous)
        return (-(self.count + rise), -self.count, -self.in_subject, " ".join(self.term))


def find(
    current: Sequence[TicketText],
    previous: Sequence[TicketText],
    limit: int = 15,
    per_category: int = 5,
    min_tickets: int = 2,
) -> tuple[RecurringTerm, ...]:
    """The recurring terms of the period `current`, compared with `previous`: grouped by
    category (the category of the highest-ranked term first), best first in each."""
    said = [_said(t) for t in current]
    before = _index(previous, [_said(t) for t in previous])
    candidates = _candidates(current, said, before, min_tickets)
    merged = [_best_of(group, said, before) for group in _same_tickets(candidates)]
    chosen = _choose(merged, limit, per_category)
    return tuple(_term(c, current) for c in _grouped(chosen))


def _said(ticket: TicketText) -> _Said:
    subject = _terms(strip_reply_prefixes(ticket.subject[:SUBJECT_CHARS]))
    description = _terms(ticket.description[:DESCRIPTION_CHARS])
    return _Said(subject | description, subject)


def _terms(text: str) -> frozenset[Term]:
    found: set[Term] = set()
    for run in runs(_without_noise(text)):
        before = ""
        for word in run:
            if _noise(word):  # a run ends where noise was
                before = ""
                continue
            if _alone(word):
                found.add((word,))
            if before and before != word and not (_number(before) and _number(word)):
                found.add((before, word))
            before = word
    return frozenset(found)


def _without_noise(text: str) -> str:
    for hint, pattern in _NOISE:
        if any(h in text for h in hint):
            text = pattern.sub(" ", text)
    return text


@lru_cache(maxsize=8192)
def _noise(word: str) -> bool:
    return _NOISE_WORD.fullmatch(word) is not None


def _number(word: str) -> bool:
    return word.isdigit()


@lru_cache(maxsize=8192)
def _alone(word: str) -> bool:
    """Does the word say something on its own?  Not a bare year or small number."""
    return _NOT_ALONE.fullmatch(word) is None


Index = dict[tuple[str, Term], list[int]]  # (category, term) -> the tickets saying it


def _index(tickets: Sequence[TicketText], said: Sequence[_Said]) -> Index:
    found: defaultdict[tuple[str, Term], list[int]] = defaultdict(list)
    for i, (ticket, what) in enumerate(zip(tickets, said, strict=True)):
        for term in what.terms:
            found[(ticket.category, term)].append(i)
    return found


def _candidates(
    current: Sequence[TicketText],
    said: Sequence[_Said],
    before: Index,
    min_tickets: int,
) -> list[_Candidate]:
    index = _index(current, said)
    in_subjects = Counter(
        (t.category, term) for t, s in zip(current, said, strict=True) for term in s.in_subject
    )
    return [
        _Candidate(*key, found, in_subjects[key], len(before.get(key, ())))
        for key, found in index.items()
        if len(found) >= max(1, min_tickets)
    ]


def _in_subjects(words: Term, tickets: Iterable[int], said: Sequence[_Said]) -> int:
    """Tickets whose subject says both words (written apart)."""
    return sum(all((w,) in said[i].in_subject for w in words) for i in tickets)


def _same_tickets(candidates: list[_Candidate]) -> list[list[_Candidate]]:
    """Candidates grouped by their category and exact set of tickets."""
    groups: defaultdict[tuple[str, frozenset[int]], list[_Candidate]] = defaultdict(list)
    for c in candidates:
        groups[(c.category, frozenset(c.tickets))].append(c)
    return list(groups.values())


def _best_of(group: list[_Candidate], said: Sequence[_Said], before: Index) -> _Candidate:
    """Terms of exactly the same tickets say one thing: show it once, as the phrase that
    says it best (in more subjects; then by its words, for a stable answer); without a
    phrase, as the best word, joined by a second one that as many subjects say (`VPN`
    and `809` of the same five tickets, written apart or in another order: `VPN 809`)."""
    ranked = sorted(group, key=_telling, reverse=True)
    phrases = [c for c in ranked if len(c.term) > 1]
    if phrases:
        return phrases[0]
    first = ranked[0]
    (word,) = first.term
    seconds = [c for c in ranked[1:] if c.in_subject == first.in_subject]
    second = next((c.term[0] for c in seconds if not _overlap(word, c.term[0])), None)
    if second is None:
        return first
    words = (word, second)
    apart = set(before.get((first.category, words[:1]), ()))
    apart &= set(before.get((first.category, words[1:]), ()))
    in_subjects = _in_subjects(words, first.tickets, said)
    return _Candidate(first.category, words, first.tickets, in_subjects, len(apart), False)


def _overlap(one: str, other: str) -> bool:
    """钓鱼邮件 and 邮件 say one word twice."""
    return one in other or other in one


def _telling(c: _Candidate) -> tuple[int, int, str]:
    return (len(c.term), c.in_subject, "".join(c.term))


def _choose(candidates: list[_Candidate], limit: int, per_category: int) -> list[_Candidate]:
    """Best first; a term whose tickets all come under a term chosen before it in its
    category adds nothing (`VPN 809` of five tickets, then not `在家` of two of them)."""
    chosen: list[_Candidate] = []
    covered: defaultdict[str, list[set[int]]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: (c.rank, c.category)):
        if len(chosen) >= limit:
            break
        tickets = set(c.tickets)
        if len(covered[c.category]) >= per_category:
            continue
        if any(tickets <= above for above in covered[c.category]):
            continue
        chosen.append(c)
        covered[c.category].append(tickets)
    return chosen


def _grouped(chosen: list[_Candidate]) -> list[_Candidate]:
    """Categories in the order of their best term, each category's terms together."""
    order: dict[str, int] = {}
    for c in chosen:
        order.setdefault(c.category, len(order))
    return sorted(chosen, key=lambda c: order[c.category])


def _term(c: _Candidate, current: Sequence[TicketText]) -> RecurringTerm:
    newest = sorted(c.tickets, key=lambda i: (current[i].created_at, current[i].number))[::-1]
    examples = tuple(_ref(current[i]) for i in newest[:EXAMPLES])
    shown = _shown(c, [current[i] for i in newest[:20]])
    return RecurringTerm(c.category, shown, c.count, c.previous, examples)


def _ref(ticket: TicketText) -> TicketRef:
    subject = " ".join(strip_reply_prefixes(ticket.subject[:SUBJECT_CHARS]).split())
    if len(subject) > EXAMPLE_SUBJECT_CHARS:
        subject = subject[: EXAMPLE_SUBJECT_CHARS - 1] + "…"
    return TicketRef(ticket.number, subject)


def _shown(c: _Candidate, tickets: Sequence[TicketText]) -> str:
    """A phrase of two Chinese words joined as written (打印机卡纸), others with a space
    (VPN 809; two words written apart in the order of the newest ticket); Latin words
    as people wrote them most often (VPN, Outlook)."""
    words = [_as_written(word, tickets) for word in c.term]
    if c.adjacent and all(_CJK.search(word) for word in words):
        return "".join(words)
    if not c.adjacent:
        text = _text(tickets[0]).lower()
        words.sort(key=lambda word: _position(text, word.lower()))
    return " ".join(words)


def _position(text: str, word: str) -> int:
    found = text.find(word)
    return found if found >= 0 else len(text)


def _text(ticket: TicketText) -> str:
    subject = ticket.subject[:SUBJECT_CHARS]
    return unicodedata.normalize("NFKC", f"{subject}\n{ticket.description[:DESCRIPTION_CHARS]}")


def _as_written(word: str, tickets: Sequence[TicketText]) -> str:
    if _CJK.search(word) or not re.search(r"[a-z]", word):
        return word
    pattern = re.compile(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", re.IGNORECASE)
    forms: Counter[str] = Counter()
    for ticket in tickets:
        forms.update(pattern.findall(_text(ticket))[:1])
    return forms.most_common(1)[0][0] if forms else word
