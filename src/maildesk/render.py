"""Planned mails → RFC 5322 bytes, from Jinja2 templates in templates/<locale>/.

Text that came from a mail is autoescaped in HTML parts, and every header
value is folded to one line of printable characters, so a subject or a name
can never add a header.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

import jinja2

from maildesk.config import Config
from maildesk.domain import MailPlan, OutgoingMail, TicketView
from maildesk.pipeline import tags
from maildesk.pipeline.loops import LOOP_HEADER
from maildesk.resources import shipped

# RFC 3834: answers written by people (relayed replies) are not marked automatic.
AUTO_SUBMITTED = {"notification": "auto-generated", "relay": ""}
SLA_HOURS = {"urgent": 1, "high": 2, "medium": 4, "low": 8}
WIRE = email.policy.compat32.clone(linesep="\r\n")
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Renderer:
    env: jinja2.Environment
    cfg: Config

    def render(self, plan: MailPlan, ticket: TicketView, now: datetime) -> OutgoingMail:
        context = {"ticket": ticket, "cfg": self.cfg, "plan": plan, "sla_due": sla_due(ticket)}
        subject = f"[{ticket.number}] {_strip_number(ticket.subject, ticket.number)}"
        message_id = self._message_id(plan, ticket.number)
        msg = MIMEMultipart("alternative")
        for name, value in self._headers(plan, subject, message_id, now):
            msg[name] = value
        msg.attach(MIMEText(self._template(plan.template, "txt").render(context), "plain", "utf-8"))
        msg.attach(MIMEText(self._template(plan.template, "html").render(context), "html", "utf-8"))
        return OutgoingMail(
            kind=plan.template,
            mail_from=self.cfg.support_address,
            recipients=(plan.to.email,),
            subject=subject,
            message_id=message_id,
            raw=msg.as_bytes(policy=WIRE),
        )

    def _headers(
        self, plan: MailPlan, subject: str, message_id: str, now: datetime
    ) -> list[tuple[str, Any]]:
        """Every value is one line of printable text: mail content cannot add a header."""
        sender = self.cfg.support_name
        if plan.signature:  # a relayed reply: the engineer's name, never their address
            sender = f"{plan.signature} | {self.cfg.support_name}"
        headers: list[tuple[str, Any]] = [
            ("From", _address(sender, self.cfg.support_address)),
            ("To", _address(plan.to.name, plan.to.email)),
            ("Subject", _subject(subject)),
            ("Date", email.utils.format_datetime(now)),
            ("Message-ID", f"<{message_id}>"),
        ]
        if plan.in_reply_to:
            headers.append(("In-Reply-To", _msgid(plan.in_reply_to)))
        if plan.references:
            headers.append(("References", " ".join(_msgid(r) for r in plan.references[-20:])))
        if plan.template == "notification":
            headers.append(("Reply-To", _address(sender, self.cfg.support_address)))
        submitted = AUTO_SUBMITTED.get(plan.template, "auto-replied")
        if submitted:
            headers.append(("Auto-Submitted", submitted))
        headers += [
            ("X-Auto-Response-Suppress", "All"),
            (LOOP_HEADER, self.cfg.message_id_domain),
        ]
        return headers

    def _message_id(self, plan: MailPlan, number: str) -> str:
        """A notification's Message-ID is signed for its engineer (see pipeline/tags)."""
        domain = self.cfg.message_id_domain
        if plan.sign_for:
            nonce = secrets.token_hex(8)
            return tags.signed_message_id(self.cfg.security.secret, number, plan.sign_for,
                                          nonce, domain)  # fmt: skip
        return new_message_id(number, domain)

    def _template(self, name: str, kind: str) -> jinja2.Template:
        return self.env.get_template(f"{self.cfg.locale}/{name}.{kind}.j2")


def sla_due(ticket: TicketView) -> datetime:
    """First-response target of our service standard: 1/2/4/8 hours by priority."""
    return ticket.created_at + timedelta(hours=SLA_HOURS.get(ticket.priority, 4))


def make_renderer(cfg: Config) -> Renderer:
    folder = cfg.templates_dir or shipped("templates")
    return Renderer(environment(folder), cfg)


def environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=lambda name: bool(name and ".html" in name),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def new_message_id(ticket_number: str, domain: str) -> str:
    return f"maildesk.{ticket_number}.{secrets.token_hex(8)}@{domain}"


def _subject(subject: str) -> Header:
    """`[IT-…] ` stays readable ASCII; the rest is encoded only when it needs to be."""
    prefix, _, rest = _one_line(subject).partition("] ")
    header = Header(prefix + "]", "us-ascii")
    header.append(rest, "us-ascii" if rest.isascii() else "utf-8")
    return header


def _address(name: str, addr: str) -> str:
    return email.utils.formataddr((_one_line(name), _one_line(addr)), charset="utf-8")


def _msgid(value: str) -> str:
    return "<" + "".join(ch for ch in _one_line(value) if ch not in "<> ") + ">"


def _one_line(value: str) -> str:
    return " ".join(CONTROL.sub(" ", value).split())


def _strip_number(subject: str, number: str) -> str:
    return " ".join(subject.replace(f"[{number}]", " ").split()) or "(no subject)"
