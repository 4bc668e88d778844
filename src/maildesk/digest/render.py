"""A digest as a mail (HTML with a plain-text alternative, charts inline by Content-ID) and
as one self-contained HTML page (charts as data: URIs) for `maildesk report --format html`.

Both come from the same templates (`<locale>/digest.{txt,html}.j2`) and the same values
(digest/view.py).  The HTML's stylesheet is inlined into style attributes by css-inline,
which is never allowed to fetch anything (the daemon must not reach the network), and the
<style> element is dropped: many clients ignore it.  The layout is fluid (at most 640 px
wide), so a phone needs no @media rules.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import css_inline

from maildesk.digest import charts
from maildesk.digest.charts import Chart
from maildesk.digest.model import Figures
from maildesk.digest.view import view
from maildesk.domain import Address, MailKind, OutgoingMail
from maildesk.pipeline.mails import MAIL_KINDS
from maildesk.render import Envelope, InlineImage, Renderer, assemble

INLINER = css_inline.CSSInliner(
    inline_style_tags=True,
    keep_style_tags=False,
    keep_link_tags=False,
    load_remote_stylesheets=False,  # the daemon never reaches the network
)


def digest_mail(renderer: Renderer, figures: Figures, to: Address, now: datetime) -> OutgoingMail:
    """One digest for one reader, ready for the outbox."""
    cfg, spec = renderer.cfg, MAIL_KINDS[MailKind.DIGEST]
    pictures = chart_list(figures)
    token, domain = secrets.token_hex(8), cfg.message_id_domain
    message_id = f"maildesk.digest.{token}@{domain}"
    cids = {c.name: f"{c.name}.{token}@{domain}" for c in pictures}
    images = {c.name: image(c, f"cid:{cids[c.name]}") for c in pictures}
    subject, text, html = render_pair(renderer, figures, images, to.name, now)
    envelope = Envelope(
        cfg.support_name,
        cfg.support_address,
        to.name,
        to.email,
        subject,
        message_id,
        now,
        cfg.tickets.timezone,
        cfg.message_id_domain,
        auto_submitted=spec.auto_submitted,
    )
    inline = tuple(InlineImage(cids[c.name], "image/png", c.png) for c in pictures)
    raw = assemble(envelope, text, html, inline=inline)
    return OutgoingMail(
        MailKind.DIGEST.value,
        cfg.support_address,
        (to.email,),
        subject,
        message_id,
        raw,
        lane=spec.lane,
    )


def report_html(renderer: Renderer, figures: Figures) -> str:
    """The digest's HTML as one page that needs nothing else: images as data: URIs."""
    images = {c.name: image(c, data_uri(c)) for c in chart_list(figures)}
    _, _, html = render_pair(renderer, figures, images, "", None)
    return html


def chart_list(figures: Figures) -> tuple[Chart, ...]:
    if figures.empty:
        return ()
    drawn = (charts.daily_chart(figures.daily), charts.weekly_sla_chart(figures.weekly_sla))
    return tuple(c for c in drawn if c is not None)


def image(chart: Chart, src: str) -> dict[str, Any]:
    return {"src": src, "width": chart.width, "height": chart.height}


def data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def render_pair(
    renderer: Renderer,
    figures: Figures,
    images: Mapping[str, Mapping[str, Any]],
    greeting_name: str,
    now: datetime | None,
) -> tuple[str, str, str]:
    """(subject, text, HTML with its CSS inlined) of one digest."""
    cfg = renderer.cfg
    values = {
        **view(figures, cfg, cfg.locale),
        "locale": cfg.locale,
        "greeting_name": " ".join(greeting_name.split()),
        "now": now,
        "desk": {"name": cfg.support_name, "address": cfg.support_address},
        "charts": images,
        "colours": {
            "opened": charts.OPENED,
            "resolved": charts.RESOLVED,
            "met": charts.MET,
            "missed": charts.MISSED,
        },
    }
    text, html = renderer.body(MAIL_KINDS[MailKind.DIGEST].template, cfg.locale, values)
    return values["title"], text, INLINER.inline(html)
