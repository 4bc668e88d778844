"""Rendering without a ticket, inline images by Content-ID, and the shared layout."""

from __future__ import annotations

import email
import email.generator
import email.policy
import random
import shutil
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest

from maildesk import config
from maildesk.render import Envelope, InlineImage, Renderer, assemble, environment, mime

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


MIXED = ["", " ", "a", "a ", " a", "a  b", "a\tb", "=?utf-8?q?x?=", "张伟", "x" * 60,
         "x" * 61, "word " * 20, "Re: [IT-20261122-0001] VPN 连不上 " * 3, "a\r\nb", "\x85",
         "é", "a;b,c"]  # fmt: skip


def test_headers_are_folded_exactly_as_the_email_package_folds_them() -> None:
    stock = email.policy.compat32.clone(linesep="\r\n", max_line_length=76)
    picks = random.Random(11)
    values = [*MIXED, *("".join(picks.choice(MIXED) for _ in range(3)) for _ in range(300))]
    for name in ("To", "Subject", "X-Auto-Response-Suppress", "Content-Type"):
        for value in values:
            assert mime.WIRE.fold_binary(name, value) == stock.fold_binary(name, value), value


def test_a_mail_is_the_bytes_the_email_package_makes_with_its_own_boundary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(random, "randrange", lambda *_: 4_242_424_242)
    when = datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
    envelope = Envelope("IT服务台", "it@example.com", "张伟 \"Zhang\"", "zhang@example.com",
                        "[IT-20261122-0001] " + "VPN 连不上 " * 12 + "  ", "maildesk.1@example.com",
                        when, "Asia/Shanghai", "example.com", in_reply_to="<a@b>",
                        references=tuple(f"<r{i}@client.example.com>" for i in range(9)),
                        cc=(("李娜", "li.na@example.com"), ("Bob", "bob@example.com")),
                        auto_submitted="auto-generated", reply_to=True)  # fmt: skip
    stock = email.policy.compat32.clone(linesep="\r\n", max_line_length=76)
    plain = Envelope("IT", "it@example.com", "", "a@example.com", "x", "m.1@example.com", when,
                     "UTC", "example.com")  # fmt: skip
    bodies = [("您好：\n\n--\n" + "ok " * 200, "<p>您好</p>"), ("", ""), ("a\r\nb\rc", "x" * 999)]
    for one in (envelope, plain):
        for text, html in bodies:
            body = MIMEMultipart("alternative")
            body.attach(MIMEText(text, "plain", "utf-8"))
            body.attach(MIMEText(html, "html", "utf-8"))
            for name, value in mime.headers(one):
                body[name] = value
            assert assemble(one, text, html) == body.as_bytes(policy=stock)


def test_the_boundaries_are_chosen_without_scanning_the_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def scan(*_: object) -> str:
        raise AssertionError("the generator scanned the parts for a boundary")

    monkeypatch.setattr(email.generator.Generator, "_make_boundary", scan)
    when = datetime(2026, 11, 22, tzinfo=UTC)
    envelope = Envelope("IT", "it@example.com", "", "a@example.com", "x", "m.1@example.com",
                        when, "Asia/Shanghai", "example.com")  # fmt: skip
    text = "--\n" * 5 + "".join(f"--==============={n:019d}==\n" for n in range(50))
    seen = set()
    for inline in ((), (InlineImage("chart-1@maildesk", "image/png", PNG),)):
        for _ in range(3):
            msg = email.message_from_bytes(assemble(envelope, text, text, inline))
            marks = [p.get_boundary() for p in msg.walk() if p.is_multipart()]
            leaves = [p for p in msg.walk() if not p.is_multipart()]
            assert all(p["Content-Transfer-Encoding"] == "base64" for p in leaves)
            assert all(b"-" not in p.get_payload().encode() for p in leaves)  # no delimiter
            assert leaves[0].get_payload(decode=True).decode() == text
            seen.update(marks)
    assert len(seen) == 3 + 3 * 2  # one per multipart, none shared between mails
