"""Mail bodies from Jinja2 templates, and whole mails for any mail kind.

`Renderer.body` renders a template pair (`<locale>/<name>.txt.j2`, `.html.j2`) from
plain values: no ticket is needed (digests and KB answers render the same way).
HTML templates extend one mail-client layout (`_layout.html.j2`: tables, inline
styles, no scripts, no remote resources) and autoescape every value; text reaches
HTML only through the `paragraphs` filter, which escapes it first.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from maildesk.config import Config
from maildesk.domain import Address, MailKind, OutgoingMail, TicketView
from maildesk.pipeline import tags
from maildesk.pipeline.mails import MAIL_KINDS, Addressed, Threading
from maildesk.render import context
from maildesk.render.mime import Envelope, InlineImage, assemble
from maildesk.resources import shipped

__all__ = ["Envelope", "InlineImage", "Renderer", "assemble", "environment", "make_renderer"]


@dataclass(frozen=True)
class Renderer:
    env: jinja2.Environment
    cfg: Config

    def body(self, template: str, locale: str, values: Mapping[str, Any]) -> tuple[str, str]:
        """(text, HTML) of one template pair."""
        text = self.env.get_template(f"{locale}/{template}.txt.j2").render(values)
        html = self.env.get_template(f"{locale}/{template}.html.j2").render(values)
        return text, html

    def ticket_mail(
        self,
        mail: Addressed,
        ticket: TicketView,
        threading: Threading,
        now: datetime,
        key: str = "",
    ) -> OutgoingMail:
        """One mail about a ticket, for one recipient, ready for the outbox.  With a
        `key` (a timer's) the Message-ID is derived from it: rendered again, the same."""
        cfg = self.cfg
        values = context.for_ticket_mail(mail, ticket, cfg, now)
        text, html = self.body(mail.spec.template, cfg.locale, values)
        subject = context.subject_line(ticket)
        message_id = self._message_id(mail, ticket.number, key)
        envelope = Envelope(
            from_name=context.sender_name(mail, cfg),
            from_address=cfg.support_address,
            to_name=values["greeting_name"],
            to_address=mail.to.email,
            subject=subject,
            message_id=message_id,
            date=now,
            timezone=cfg.tickets.timezone,
            loop_domain=cfg.message_id_domain,
            in_reply_to=threading.in_reply_to,
            references=threading.references,
            auto_submitted=mail.spec.auto_submitted,
            reply_to=mail.spec.reply_to,
            cc=tuple((a.name, a.email) for a in mail.cc),
        )
        return OutgoingMail(
            kind=mail.plan.kind.value,
            mail_from=cfg.support_address,
            recipients=(mail.to.email, *(a.email for a in mail.cc)),
            subject=subject,
            message_id=message_id,
            raw=assemble(envelope, text, html),
            lane=mail.spec.lane,
        )

    def summary_mail(
        self, kind: MailKind, to: Address, subject: str, values: Mapping[str, Any], now: datetime
    ) -> OutgoingMail:
        """A mail about several tickets (summaries): no ticket, no thread, no tag."""
        cfg, spec = self.cfg, MAIL_KINDS[kind]
        base = {"locale": cfg.locale, "greeting_name": to.name, "now": now,
                "desk": {"name": cfg.support_name, "address": cfg.support_address}}  # fmt: skip
        text, html = self.body(spec.template, cfg.locale, {**base, **values})
        message_id = new_message_id("summary", cfg.message_id_domain)
        envelope = Envelope(cfg.support_name, cfg.support_address, to.name, to.email, subject,
                            message_id, now, cfg.tickets.timezone, cfg.message_id_domain,
                            auto_submitted=spec.auto_submitted)  # fmt: skip
        return OutgoingMail(kind.value, cfg.support_address, (to.email,), subject, message_id,
                            assemble(envelope, text, html), lane=spec.lane)  # fmt: skip

    def _message_id(self, mail: Addressed, number: str, key: str = "") -> str:
        """Tagged for its one recipient and the ticket (see pipeline/tags): a reply to it
        proves who wrote; without a secret, or with watchers in Cc, a plain Message-ID.
        The nonce is random, or derived from `key` and the recipient when given."""
        domain, secret = self.cfg.message_id_domain, self.cfg.security.secret
        nonce = keyed_nonce(key, mail.to.email, domain) if key else secrets.token_hex(8)
        if not secret or mail.cc:  # several readers: nobody's proof
            return f"maildesk.{number}.{nonce}@{domain}"
        return tags.signed_message_id(secret, number, mail.to.email, nonce, domain)


def new_message_id(ticket_number: str, domain: str) -> str:
    return f"maildesk.{ticket_number}.{secrets.token_hex(8)}@{domain}"


def keyed_nonce(key: str, recipient: str, domain: str) -> str:
    """16 hex digits fixed by a timer's key and the recipient (no secret: it is not proof,
    the tag's MAC is)."""
    seed = f"{key}\n{recipient.lower()}\n{domain}".encode()
    return hashlib.sha256(seed).hexdigest()[:16]


def make_renderer(cfg: Config) -> Renderer:
    folder = cfg.templates_dir or shipped("templates")
    return Renderer(environment(folder), cfg)


def environment(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=lambda name: bool(name and ".html" in name),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["paragraphs"] = paragraphs
    env.filters["shorten"] = shorten
    return env


def paragraphs(text: str) -> Markup:
    """Plain text for an HTML part: escaped first, then line breaks kept."""
    lines = str(escape(text.strip("\n"))).split("\n")
    return Markup("<br>\n".join(lines))


def shorten(text: str, limit: int = 800) -> str:
    """At most `limit` characters and 20 lines, marked with … where cut."""
    lines = text.strip().split("\n")
    cut = "\n".join(lines[:20])
    if len(cut) > limit:
        cut = cut[:limit].rstrip()
    return cut + (" …" if cut != text.strip() else "")
