"""Rendering without a ticket, inline images by Content-ID, and the shared layout."""

from __future__ import annotations

import email
import email.policy
import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from maildesk import config
from maildesk.render import Envelope, InlineImage, Renderer, assemble, environment

REPO = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_a_mail_without_a_ticket_with_an_inline_image(tmp_path: Path) -> None:
    shutil.copy(REPO / "templates" / "_layout.html.j2", tmp_path)
    (tmp_path / "zh-CN").mkdir()
    (tmp_path / "zh-CN" / "chart.txt.j2").write_text("本周工单：{{ count }}\n", encoding="utf-8")
    (tmp_path / "zh-CN" / "chart.html.j2").write_text(
        '{% extends "_layout.html.j2" %}{% block body %}<p>本周工单：{{ count }}</p>'
        '<img src="cid:chart-1@maildesk" alt="{{ title }}">{% endblock %}',
        encoding="utf-8",
    )
    cfg = config.parse(
        '[maildesk]\nsupport_address = "it@example.com"\n', Path("/tmp/x/m.toml"), {}
    )
    renderer = Renderer(environment(tmp_path), cfg)
    values = {"count": 42, "title": '"><script>', "locale": "zh-CN",
              "desk": {"name": "IT服务台", "address": "it@example.com"}}  # fmt: skip
    text, html = renderer.body("chart", "zh-CN", values)
    assert text == "本周工单：42\n" and "&#34;&gt;&lt;script&gt;" in html
    when = datetime(2026, 11, 22, tzinfo=UTC)
    envelope = Envelope("IT服务台", "it@example.com", "经理", "boss@example.com", "周报",
                        "digest.1@example.com", when, "Asia/Shanghai", "example.com")  # fmt: skip
    raw = assemble(envelope, text, html, (InlineImage("chart-1@maildesk", "image/png", PNG),))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content_type() == "multipart/related"
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<chart-1@maildesk>" and image.get_content() == PNG
    assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
    assert msg["Date"].endswith("+0800") and msg["Subject"] == "周报"
    assert "Auto-Submitted" not in msg  # none was asked for


def test_every_html_template_extends_the_mail_layout() -> None:
    for path in (REPO / "templates").glob("*/*.html.j2"):
        source = path.read_text(encoding="utf-8")
        assert source.startswith('{% extends "_layout.html.j2" %}'), path
        assert "<script" not in source and "http" not in source.replace("http-equiv", "")
