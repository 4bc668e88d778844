"""Rendering the acknowledgment: headers, threading, escaping, both locales, round trip."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from maildesk import config
from maildesk.domain import Address, Inbound, MailKind, MailPlan, OutgoingMail, TicketView
from maildesk.pipeline import loops, mails
from maildesk.pipeline.parse import parse
from maildesk.render import Renderer, environment

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
NUMBER = "IT-20261122-0001"


def make_config(locale: str = "zh-CN", extra: str = "") -> config.Config:
    text = (
        "[maildesk]\n"
        'support_address = "it-support@example.com"\n'
        f'locale = "{locale}"\n'
        'message_id_domain = "tickets.example.com"\n' + extra
    )
    return config.parse(text, Path("/tmp/x/maildesk.toml"), env={})


TICKET = TicketView(
    id=1,
    number=NUMBER,
    subject="打印机坏了",
    description="三楼打印机卡纸。",
    requester_name="张伟",
    requester_email="zhang.wei@example.com",
    department="财务部",
    employee_id="E10023",
    status="new",
    priority="medium",
    category="硬件故障",
    type="incident",
    assignee="",
    group="",
    created_at=NOW,
    updated_at=NOW,
    first_response_at=None,
    resolved_at=None,
    closed_at=None,
)
PLAN = MailPlan(MailKind.ACK)
TO = Address("张伟", "zhang.wei@example.com")
THREAD = mails.Threading(
    "m2@client.example.com", ("m1@client.example.com", "m2@client.example.com")
)


def render(
    ticket: TicketView = TICKET,
    plan: MailPlan = PLAN,
    locale: str = "zh-CN",
    to: Address = TO,
    threading: mails.Threading = THREAD,
) -> OutgoingMail:
    cfg = make_config(locale)
    addressed = mails.Addressed(plan, mails.MAIL_KINDS[plan.kind], to, engineer=False)
    return Renderer(environment(REPO / "templates"), cfg).ticket_mail(
        addressed, ticket, threading, NOW
    )


def message(out: OutgoingMail) -> EmailMessage:
    msg = email.message_from_bytes(out.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def part(msg: EmailMessage, subtype: str) -> str:
    body = msg.get_body((subtype,))
    assert body is not None, f"no text/{subtype} part"
    content = body.get_content()
    assert isinstance(content, str)
    return content


def test_outgoing_mail_fields() -> None:
    out = render()
    assert out.kind == "ack"
    assert out.mail_from == "it-support@example.com"
    assert out.recipients == ("zhang.wei@example.com",)
    assert out.subject == f"[{NUMBER}] 打印机坏了"
    assert out.message_id.startswith(f"maildesk.{NUMBER}.")
    assert out.message_id.endswith("@tickets.example.com")


def test_headers() -> None:
    out = render()
    msg = message(out)
    assert msg["Subject"] == f"[{NUMBER}] 打印机坏了"
    assert msg["From"].addresses[0].addr_spec == "it-support@example.com"
    assert msg["From"].addresses[0].display_name == "IT服务台"
    assert msg["To"].addresses[0].addr_spec == "zhang.wei@example.com"
    assert msg["To"].addresses[0].display_name == "张伟"
    assert msg["In-Reply-To"] == "<m2@client.example.com>"
    assert msg["References"] == "<m1@client.example.com> <m2@client.example.com>"
    assert msg["Message-ID"] == f"<{out.message_id}>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg[loops.LOOP_HEADER] == "tickets.example.com"
    assert msg["Date"].datetime == NOW
    assert msg.get_content_type() == "multipart/alternative"
    assert b"\r\n" in out.raw and b"\n" not in out.raw.replace(b"\r\n", b"")


def test_message_ids_are_unique() -> None:
    assert render().message_id != render().message_id


def test_no_threading_headers_without_references() -> None:
    msg = message(render(threading=mails.Threading("", ())))
    assert "In-Reply-To" not in msg and "References" not in msg


def test_references_keep_the_root_and_the_last_nineteen() -> None:
    refs = tuple(f"r{i}@client.example.com" for i in range(25))
    reply = Inbound("r25@client.example.com", TO, None, (), (), "Re: x", None, "", refs, "", ())
    addressed = mails.Addressed(PLAN, mails.MAIL_KINDS[MailKind.ACK], TO, engineer=False)
    history = mails.History("r0@client.example.com", ())
    msg = message(render(threading=mails.thread(addressed, history, reply)))
    ids = msg["References"].split()
    assert ids == ["<r0@client.example.com>"] + [f"<r{i}@client.example.com>" for i in range(7, 26)]
    assert msg["In-Reply-To"] == "<r25@client.example.com>"


@pytest.mark.parametrize(
    "subject",
    [
        "打印机坏了",
        f"[{NUMBER}] 打印机坏了",
        f"打印机 [{NUMBER}]  坏了",
        f"Re: [{NUMBER}] 打印机坏了",
    ],
)
def test_subject_carries_the_number_once(subject: str) -> None:
    out = render(replace(TICKET, subject=subject))
    assert out.subject.count(NUMBER) == 1
    assert out.subject.startswith(f"[{NUMBER}] ")


def test_subject_of_only_the_number() -> None:
    assert render(replace(TICKET, subject=f"[{NUMBER}]")).subject == f"[{NUMBER}] (no subject)"


@pytest.mark.parametrize(
    "evil",
    [
        "help\r\nBcc: evil@x",
        "help\nBcc: evil@x",
        "help\rBcc: evil@x",
        "help\r\n\r\nBcc: evil@x",
        "help\x00\r\nBcc: evil@x",
    ],
)
def test_subject_cannot_add_a_header(evil: str) -> None:
    out = render(replace(TICKET, subject=evil))
    msg = message(out)
    assert "Bcc" not in msg
    assert msg.get_all("Bcc") is None
    assert msg["Subject"] == f"[{NUMBER}] help Bcc: evil@x"
    assert out.recipients == ("zhang.wei@example.com",)
    assert b"\r\nBcc:" not in out.raw


def test_display_name_cannot_add_a_header() -> None:
    msg = message(render(to=Address("张伟\r\nBcc: evil@x", "zhang.wei@example.com")))
    assert "Bcc" not in msg
    assert [a.addr_spec for a in msg["To"].addresses] == ["zhang.wei@example.com"]


def test_html_escapes_mail_text_and_plain_text_keeps_it() -> None:
    subject = '<script>alert("x")</script> & <b>bold</b>'
    named = Address("<i>张伟</i>", TO.email)
    msg = message(render(replace(TICKET, subject=subject, requester_name="<i>张伟</i>"), to=named))
    html = part(msg, "html")
    assert "<script>" not in html and "<b>bold" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;i&gt;张伟&lt;/i&gt;" in html
    text = part(msg, "plain")
    assert subject in text
    assert "<i>张伟</i>" in text


def test_zh_cn_locale() -> None:
    msg = message(render(locale="zh-CN"))
    text = part(msg, "plain")
    html = part(msg, "html")
    assert text.startswith("张伟，您好：")
    assert f"已创建工单 {NUMBER}" in text
    assert "优先级：中" in text
    assert "分类：硬件故障" in text
    assert "IT服务台" in text and "it-support@example.com" in text
    assert "张伟，您好：" in html
    assert f"<strong>{NUMBER}</strong>" in html
    assert 'lang="zh-CN"' in html


def test_en_locale() -> None:
    msg = message(render(locale="en"))
    text = part(msg, "plain")
    assert text.startswith("Dear 张伟,")
    assert f"opened ticket {NUMBER}." in text
    assert "Priority: Medium" in text
    assert "您好" not in text
    assert 'lang="en"' in part(msg, "html")


def test_greeting_without_a_name_is_not_a_bare_address() -> None:
    msg = message(render(replace(TICKET, requester_name=""), to=Address("", TO.email)))
    assert part(msg, "plain").startswith("您好：")
    msg = message(render(replace(TICKET, requester_name=""), to=Address("", TO.email), locale="en"))
    assert part(msg, "plain").startswith("Hello,")


@pytest.mark.parametrize(
    ("priority", "word"), [("urgent", "紧急"), ("high", "高"), ("medium", "中"), ("low", "低")]
)
def test_zh_cn_priority_words(priority: str, word: str) -> None:
    text = part(message(render(replace(TICKET, priority=priority))), "plain")
    assert f"  优先级：{word}" in text.splitlines()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_round_trip_through_parse_is_own_mail(locale: str) -> None:
    out = render(locale=locale)
    inbound = parse(out.raw)
    assert inbound.message_id == out.message_id
    assert inbound.subject == out.subject
    assert inbound.sender == Address("IT服务台", "it-support@example.com")
    assert inbound.to == (Address("张伟", "zhang.wei@example.com"),)
    assert inbound.in_reply_to == "m2@client.example.com"
    assert inbound.references == ("m1@client.example.com", "m2@client.example.com")
    assert inbound.header("auto-submitted") == "auto-replied"
    assert inbound.text.startswith("张伟，您好：" if locale == "zh-CN" else "Dear 张伟,")
    assert inbound.attachments == ()
    cfg = make_config(locale)
    assert loops.is_own_mail(inbound, cfg.message_id_domain)
    assert loops.reply_refusal(inbound, cfg.all_own_addresses) is not None


def test_long_chinese_subject_round_trips() -> None:
    subject = "财务部三楼的打印机从今天早上开始一直卡纸，已经重启过两次但是问题依旧，请尽快处理"
    out = render(replace(TICKET, subject=subject))
    assert all(len(line) <= 998 for line in out.raw.split(b"\r\n"))
    assert parse(out.raw).subject == f"[{NUMBER}] {subject}"
