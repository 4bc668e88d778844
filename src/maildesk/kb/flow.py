"""The knowledge base in the mail flow: what plan.py asks of it.  Pure.

The service is given a knowledge base as an edge (like the store): `Desk`, the
articles' index (`Knowledge`: `suggest`, `article`, as `kb/usecases.KnowledgeBase`
offers them) and the `[kb]` settings.  Without one, none of this happens.

- **Suggestions**: a new ticket's acknowledgment offers up to `[kb] max_suggestions`
  articles relevant to its subject and description (`for_ack`).
- **Self-service**: the requester says an article solved it, with a reply whose command
  block is `#solved` / `#已解决` (any alias of `#resolve`; requesters may use it on their
  own ticket, in a mail that proves its sender), or with the one-click `mailto:` link
  under an article (`link`, a subject signed like the survey's links).  The ticket is
  resolved as self-served, the article credited (a reply credits the first article
  suggested), and whoever works it hears that no action is needed.  A forged or
  misdirected link changes nothing but a line in the ticket's history.
- **Questions**: a mail whose subject starts with a `[kb] question_prefixes` word
  (`KB:`, `知识库：`, `查询:`, any width) and that threads onto no ticket gets the best articles
  back instead of a ticket; when nothing scores above the threshold it is a ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from maildesk.config import Config
from maildesk.domain import (
    Change,
    Decision,
    Facts,
    Inbound,
    KbQuestion,
    MailKind,
    MailPlan,
    SelfServed,
    Status,
    TicketRef,
    Work,
)
from maildesk.kb.model import Article, Suggestion
from maildesk.pipeline import answers, commands, correlate, lifecycle, notify, reply_text, trust
from maildesk.pipeline.lifecycle import Trigger


class Knowledge(Protocol):
    """The articles' index (kb/usecases.KnowledgeBase)."""

    def suggest(self, text: str, limit: int = 3) -> tuple[Suggestion, ...]: ...
    def article(self, name: str) -> Article | None: ...
    def refresh(self) -> None: ...


class Settings(Protocol):
    """What the mail flow reads of `[kb]` (kb/settings.KbSettings)."""

    @property
    def folder(self) -> Path: ...
    @property
    def max_suggestions(self) -> int: ...
    @property
    def questions(self) -> bool: ...
    def question(self, subject: str) -> str | None: ...


@dataclass(frozen=True)
class Desk:
    knowledge: Knowledge
    settings: Settings


MAX_QUERY = 20_000  # characters of a request the index is asked about


# --- suggestions and questions --------------------------------------------------------------


def for_ack(desk: Desk | None, subject: str, description: str) -> tuple[Suggestion, ...]:
    """The articles a new ticket's acknowledgment offers, best first."""
    limit = desk.settings.max_suggestions if desk else 0
    if desk is None or limit <= 0:
        return ()
    return desk.knowledge.suggest(f"{subject}\n{description}"[:MAX_QUERY], limit)


def answer(
    inbound: Inbound, facts: Facts, cfg: Config, desk: Desk | None, match: correlate.Match | None
) -> Decision | None:
    """A `KB:` question threading onto no ticket, answered from the knowledge base; None
    when it is no question, cannot be answered (automatic mail, limits) or nothing fits."""
    if desk is None or (match and match.trusted):
        return None
    asked = desk.settings.question(inbound.subject)  # None when [kb] questions = false
    if asked is None or answers.reply_refusal(inbound, facts, cfg):
        return None
    found = for_ack(desk, asked, reply_text.written(inbound, facts))
    if not found:
        return None
    mail = MailPlan(MailKind.KB_ANSWER, text=asked, articles=found)
    return Decision(KbQuestion(tuple(s.article.name for s in found)), (mail,))


# --- self-service: the signed one-click link -----------------------------------------------

SOLVED_WORDS = {"zh-CN": "已解决", "en": "Solved"}
TOKEN_LENGTH = 16
_LINK = re.compile(
    r"(?P<word>\S{1,24})\s+(?P<article>[^\s\[\]]{1,200})\s+(?P<token>[0-9a-f]{16})\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"已解决|solved", re.IGNORECASE)


def token(secret: str, number: str, article: str, email: str) -> str:
    message = f"kb|{number.upper()}|{article}|{email.lower()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:TOKEN_LENGTH]


def link_url(secret: str, support: str, number: str, article: str, email: str, locale: str) -> str:
    """The `mailto:` that says "this article solved it" ("" without a secret)."""
    if not secret:
        return ""
    word = SOLVED_WORDS.get(locale, SOLVED_WORDS["en"])
    subject = f"[{number}] {word} {article} {token(secret, number, article, email)}"
    return f"mailto:{support}?subject={quote(subject, safe='')}"


def link(inbound: Inbound, facts: Facts, cfg: Config, desk: Desk | None) -> Decision | None:
    """The decision for a one-click "solved" mail, or None when the mail is not one (a
    reply quoting the link's subject answers a mail: it is a follow-up).  The word
    (已解决 / Solved) may arrive garbled (a client that encodes the mailto subject in its
    own code page): a valid token proves the link all the same."""
    found = _LINK.search(inbound.subject)
    ticket = facts.ticket_by_number
    if found is None or ticket is None or correlate.referenced_ids(inbound):
        return None
    sender, article = inbound.sender.email, found["article"]
    why = _forged(cfg.security.secret, ticket, article, found["token"].lower(), sender)
    if why and not _WORD.fullmatch(found["word"]):
        return None  # no link word and no valid token: an ordinary subject
    if why:
        return Decision(Work(ticket, sender, refused=why), ())
    said = reply_text.written(inbound, facts).strip()
    return _served(inbound, ticket, SelfServed(article, "link"), said, cfg, desk)


def _forged(secret: str, ticket: TicketRef, article: str, given: str, sender: str) -> str:
    """Why this link proves nothing ("" when it proves the requester sent it)."""
    if not secret:
        return "self-service links are not accepted without [security] secret"
    if not hmac.compare_digest(given, token(secret, ticket.number, article, sender)):
        return f"self-service token does not match ticket {ticket.number}, {article} and sender"
    if sender.lower() != ticket.requester_email.lower():
        return "self-service answers are taken from the ticket's requester only"
    return ""


# --- self-service: the requester's #solved / #已解决 ------------------------------------------


def reply(
    inbound: Inbound,
    facts: Facts,
    cfg: Config,
    desk: Desk | None,
    match: correlate.Match | None,
) -> Decision | None:
    """The requester's `#solved` / `#已解决` in a mail proving its sender; None otherwise
    (an engineer's `#已解决` resolves as ever: pipeline/engineer.py)."""
    if match is None or not match.trusted or cfg.person(inbound.sender.email) is not None:
        return None
    ticket = match.ticket
    if inbound.sender.email.lower() != ticket.requester_email.lower():
        return None
    parsed = commands.extract(reply_text.visible_text(inbound.text))
    if parsed.errors or [c.name for c in parsed.commands] != ["resolve"]:
        return None
    if trust.of(inbound, ticket, cfg) is not trust.Trust.PROVEN:
        return None  # a claimed mail: a follow-up, whose owner is told (follow_up.py)
    words = "\n\n".join(p for p in (parsed.commands[0].argument, parsed.text.strip()) if p)
    on_this = facts.kb_suggested_on == ticket.id  # not another ticket named in the subject
    article = facts.kb_suggested[0] if facts.kb_suggested and on_this else ""
    return _served(inbound, ticket, SelfServed(article, "reply"), words, cfg, desk)


def _served(
    inbound: Inbound,
    ticket: TicketRef,
    served: SelfServed,
    said: str,
    cfg: Config,
    desk: Desk | None,
) -> Decision:
    """Resolved as self-served when the ticket is open; else only their words are kept."""
    sender = inbound.sender.email
    new = lifecycle.next_status(ticket.status, Trigger.RESOLVE, bool(ticket.assignee))
    if new is None or new is not Status.RESOLVED:
        return Decision(Work(ticket, sender, said=said), ())
    change = (Change("status", ticket.status, new.value),)
    readers = notify.targets(ticket.assignee, ticket.group, cfg)
    name = inbound.sender.name or ticket.requester_name or sender
    heard = notify.plan(readers, "self_served", text=said, lines=_titled(served, desk),
                        author=name)  # fmt: skip
    work = Work(ticket, sender, change, said=said, served=served)
    return Decision(work, (heard,) if heard else ())


def _titled(served: SelfServed, desk: Desk | None) -> tuple[str, ...]:
    """The article as the engineers read it: its title and name."""
    if not served.article:
        return ()
    found = desk.knowledge.article(served.article) if desk else None
    return (f"{found.title} ({served.article})" if found else served.article,)
