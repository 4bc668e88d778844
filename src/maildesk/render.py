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
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from pathlib import Path

import jinja2

from maildesk.config import Config
from maildesk.domain import MailPlan, OutgoingMail, TicketView
from maildesk.pipeline.loops import LOOP_HEADER
from maildesk.resources import shipped

CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Renderer:
    env: jinja2.Environment
    cfg: Config

    def render(self, plan: MailPlan, ticket: TicketView, now: datetime) -> OutgoingMail:
        context = {"ticket": ticket, "cfg": self.cfg, "plan": plan}
        subject = f"[{ticket.number}] {_strip_number(ticket.subject, ticket.number)}"
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = HeaderAddress(
            _one_line(self.cfg.support_name), addr_spec=self.cfg.support_address
        )
        msg["To"] = HeaderAddress(_one_line(plan.to.name), addr_spec=plan.to.email)
        msg["Subject"] = _one_line(subject)
        msg["Date"] = email.utils.format_datetime(now)
        message_id = new_message_id(ticket.number, self.cfg.message_id_domain)
        msg["Message-ID"] = f"<{message_id}>"
        if plan.in_reply_to:
            msg["In-Reply-To"] = f"<{_one_line(plan.in_reply_to)}>"
        if plan.references:
            msg["References"] = " ".join(f"<{_one_line(r)}>" for r in plan.references[-20:])
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        msg[LOOP_HEADER] = self.cfg.message_id_domain
        msg.set_content(self._template(plan.template, "txt").render(context))
        msg.add_alternative(self._template(plan.template, "html").render(context), subtype="html")
        return OutgoingMail(
            kind=plan.template,
            mail_from=self.cfg.support_address,
            recipients=(plan.to.email,),
            subject=subject,
            message_id=message_id,
            raw=msg.as_bytes(),
        )

    def _template(self, name: str, kind: str) -> jinja2.Template:
        return self.env.get_template(f"{self.cfg.locale}/{name}.{kind}.j2")


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


def _one_line(value: str) -> str:
    return " ".join(CONTROL.sub(" ", value).split())


def _strip_number(subject: str, number: str) -> str:
    return " ".join(subject.replace(f"[{number}]", " ").split()) or "(no subject)"
