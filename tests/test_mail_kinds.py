"""Every mail kind, both locales: hostile input stays text, Chinese mail speaks Chinese,
headers hold.  HTML parts are parsed, not grepped."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest

from maildesk import config
from maildesk.digest.render import digest_mail
from maildesk.domain import (
    Address,
    AttachmentInfo,
    AttachmentVerdict,
    Inbound,
    MailKind,
    MailPlan,
    OutgoingMail,
    TicketView,
)
from maildesk.kb import steps as kb_steps
from maildesk.kb.model import Article, Suggestion
from maildesk.pipeline import mails, tags
from maildesk.render import Renderer, environment
from maildesk.sla.targets import Target
from maildesk.vocab import reason
from tests import digests

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)
NUMBER = "IT-20261122-0001"
SECRET = "s" * 24
ENGINEER = Address("王工", "wang.gong@example.com")
LEAD = Address("李组长", "lead@example.com")

HOSTILE = {
    "subject": '<div style="position:fixed;top:0">点我</div><script>alert(1)</script>'
    "\r\nBcc: x@evil.test",
    "body": '<img src="http://evil.test/t.png"><a href="http://evil.test">VPN网关</a>'
    "\r\n<script>x()</script>" + "很长的描述" * 40000,
    "name": '<b onmouseover="x()">张伟</b>\r\nBcc: y@evil.test',
    "file": '<svg onload="x()">.exe',
    "engineer": '<iframe src="http://evil.test"></iframe><style>body{display:none}</style>已重置',
}
OWN_MAILTO = f"href=mailto:it-support@example.com?subject=%5B{NUMBER}%5D%20"  # survey links
OWN_CHART = "src=cid:"  # the digest's charts, carried in the mail
INPUT_TAGS = {"div", "script", "img", "a", "svg", "iframe", "style", "b"}


def make_config(locale: str) -> config.Config:
    text = (
        f'[maildesk]\nsupport_address = "it-support@example.com"\nlocale = "{locale}"\n'
        'message_id_domain = "tickets.example.com"\n'
        f'[security]\nsecret = "{SECRET}"\n'
        '[[people]]\nname = "王工"\nemail = "wang.gong@example.com"\ngroups = ["network"]\n'
        '[[people]]\nname = "李组长"\nemail = "lead@example.com"\nrole = "lead"\n'
    )
    return config.parse(text, Path("/tmp/x/maildesk.toml"), env={})


def ticket(
    subject: str = "VPN 连不上", name: str = "张伟", body: str = "三楼打印机卡纸。"
) -> TicketView:
    return TicketView(
        id=1, number=NUMBER, subject=subject, description=body, requester_name=name,
        requester_email="zhang.wei@example.com", department="财务部", employee_id="E1",
        status="in_progress", priority="urgent", category="网络问题", type="incident",
        assignee="wang.gong@example.com", group="network", created_at=NOW, updated_at=NOW,
        first_response_at=None, resolved_at=None, closed_at=None, linked_number="IT-20261101-0007",
        targets=(RESPONSE, RESOLUTION),
    )  # fmt: skip


# created on a Sunday morning: the first business hour ends on Monday 10:00
RESPONSE = Target("response", "business", 60, NOW, due_at=datetime(2026, 11, 23, 2, tzinfo=UTC))
RESOLUTION = Target("resolution", "business", 9 * 60, NOW, provisional=True,
                    due_at=datetime(2027, 1, 4, 2, tzinfo=UTC))  # fmt: skip


def plans(text: str, file: str, name: str) -> list[tuple[MailPlan, Address, bool]]:
    """One plan of every kind and variant, with its recipient and whether it is staff."""
    refused = AttachmentVerdict(AttachmentInfo(file, "application/x-msdownload", 10), file,
                                "file type .exe is not accepted", reason("file_type", ext="exe",
                                accepted="png, pdf"))  # fmt: skip
    user = Address(name, "zhang.wei@example.com")
    why = (reason("no_such_engineer", line=f"#assign {text[:50]}", name=text[:50]),)
    out = [
        (MailPlan(MailKind.ACK, text=text, refused=(refused,)), user, False),
        (MailPlan(MailKind.ACK, notice="closed_ticket_replaced", text=text), user, False),
        (MailPlan(MailKind.ACK, notice="commands_ignored", text=text), user, False),
        (MailPlan(MailKind.RELAY, text=text, signature="王工"), user, False),
        (MailPlan(MailKind.STATUS), user, False),
        (MailPlan(MailKind.STATUS), ENGINEER, True),
        (MailPlan(MailKind.COMMAND_ERROR, reasons=why), ENGINEER, True),
        (MailPlan(MailKind.COMMAND_REFUSED, reasons=(reason("not_signed"),)), user, False),
        (MailPlan(MailKind.ATTACHMENT_REFUSED, refused=(refused,)), user, False),
        (
            MailPlan(MailKind.CLAIM_NOTICE, asked=("close", "status", "reopen", "watchers")),
            user,
            False,
        ),
        (
            MailPlan(
                MailKind.WATCHERS_REFUSED,
                not_watching=(reason("watcher_external", address=text[:80]),),
            ),
            user,
            False,
        ),
    ]
    out.append((MailPlan(MailKind.ACK, text=text, articles=suggested(text, name)), user, False))
    out.append((MailPlan(MailKind.CLOSING_NOTICE), user, False))
    out.append((MailPlan(MailKind.PROGRESS_NOTE), user, False))
    out.append((MailPlan(MailKind.WAITING_REMINDER), user, False))
    out.append((MailPlan(MailKind.AUTO_RESOLVED), user, False))
    out.append((MailPlan(MailKind.SURVEY), user, False))
    history = (f"2026-11-22 10:02 (+08:00)  {name}  {text}",)
    for notice in ("review_opened", "review_remind", "review_escalated"):
        plan = MailPlan(MailKind.REVIEW, to=(LEAD,), notice=notice, text=text, lines=history,
                        author=f"2 · {name}", due=NOW)  # fmt: skip
        out.append((plan, LEAD, True))
    for notice in ("new", "follow_up", "assigned", "reassigned", "escalated", "priority_raised",
                   "requester_closed", "self_served", "kb_draft"):  # fmt: skip
        plan = MailPlan(MailKind.NOTIFICATION, to=(ENGINEER,), notice=notice, text=text,
                        lines=(file,), author=name, reopened=True,
                        unverified=notice == "follow_up")  # fmt: skip
        out.append((plan, ENGINEER, True))
    for notice in ("urgent", "sla_remind.response", "sla_breach.resolution",
                   "sla_level2.response"):  # fmt: skip
        out.append((MailPlan(MailKind.NOTIFICATION, to=(LEAD,), notice=notice, text=text), LEAD,
                    True))  # fmt: skip
    return out


def suggested(text: str, name: str) -> tuple[Suggestion, ...]:
    """Knowledge-base articles as people write them: the title, body and excerpt may hold
    anything (markup, CRLF, a huge body)."""
    body = f"## 步骤\n\n{text}\r\n1. 打开前盖。"
    article = Article("printer.zh-CN", f"{name}：打印机卡纸", ("打印机",), "硬件故障", "zh-CN", (),
                      body, Path("/kb/printer.zh-CN.md"))  # fmt: skip
    return (Suggestion(article, 3.5, text[:500]),)


def render_all(locale: str, **values: str) -> list[tuple[MailPlan, OutgoingMail]]:
    cfg = make_config(locale)
    renderer = Renderer(environment(REPO / "templates"), cfg)
    t = ticket(values.get("subject", "VPN 连不上"), values.get("name", "张伟"))
    text = values.get("text", "三楼的打印机卡纸了。")
    out = []
    for plan, to, staff in plans(text, values.get("file", "报告.exe"), values.get("name", "张伟")):
        addressed = mails.Addressed(plan, mails.MAIL_KINDS[plan.kind], to, staff)
        threading = mails.Threading("", ())
        out.append((plan, renderer.ticket_mail(addressed, t, threading, NOW)))
    return out


SUMMARY_KINDS = (MailKind.FLOOD_SUMMARY, MailKind.FLOOD_ACK, MailKind.HELD_SUMMARY)


def render_summaries(locale: str, **values: str) -> list[tuple[MailPlan, OutgoingMail]]:
    """The mails about several tickets (held/tick.py), with the same hostile values."""
    renderer = Renderer(environment(REPO / "templates"), make_config(locale))
    subject, name = values.get("subject", "VPN 连不上"), values.get("name", "张伟")
    reason = values.get("text", "自动回复")[:200]
    row = {"number": NUMBER, "subject": subject, "status": "新建", "kind": "受理回执",
           "reason": reason, "to": "zhang.wei@example.com"}  # fmt: skip
    lines = [f"{NUMBER}  {subject}", f"{NUMBER}  {row['reason']}"]
    out = []
    for kind in SUMMARY_KINDS:
        mail = renderer.summary_mail(kind, Address(name, "lead@example.com"), subject,
                                     {"rows": [row], "lines": lines}, NOW)  # fmt: skip
        out.append((MailPlan(kind), mail))
    figures = digests.hostile(subject=subject, name=name)  # names in every table
    out.append((MailPlan(MailKind.DIGEST), digest_mail(renderer, figures, Address(name,
                "lead@example.com"), NOW)))  # fmt: skip
    asker = Inbound("<q@client.example.com>", Address(name, "zhang.wei@example.com"), None, (), (),
                    f"知识库：{subject}", None, "", (), "", ())  # fmt: skip
    plan = MailPlan(MailKind.KB_ANSWER, text=subject, articles=suggested(reason, name))
    out.append((plan, kb_steps.answer_mail(renderer, asker, plan, NOW)))
    return out


def test_every_kind_is_rendered() -> None:
    kinds = {plan.kind for plan, _ in render_all("zh-CN") + render_summaries("zh-CN")}
    assert kinds == set(MailKind)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [f"{k}={v}" for k, v in attrs]


def parsed(out: OutgoingMail) -> EmailMessage:
    msg = email.message_from_bytes(out.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_hostile_input_stays_text_in_every_html_part(locale: str) -> None:
    rendered = render_all(locale, subject=HOSTILE["subject"], text=HOSTILE["body"],
                          name=HOSTILE["name"], file=HOSTILE["file"])  # fmt: skip
    rendered += render_all(locale, text=HOSTILE["engineer"])
    rendered += render_summaries(locale, subject=HOSTILE["subject"], text=HOSTILE["body"],
                                 name=HOSTILE["name"])  # fmt: skip
    for plan, out in rendered:
        msg = parsed(out)
        html = body(msg, "html")
        found = Tags()
        found.feed(html)
        ours = [a for a in found.attrs if a.startswith(OWN_MAILTO)]
        assert found.tags.count("a") == len(ours), f"{plan.kind}: anchors not ours"
        charts = [a for a in found.attrs if a.startswith(OWN_CHART)]
        assert found.tags.count("img") == len(charts), f"{plan.kind}: images not ours"
        found.tags = [t for t in found.tags if t not in ("a", "img")]
        found.attrs = [a for a in found.attrs if not a.startswith((OWN_MAILTO, OWN_CHART))]
        alive = INPUT_TAGS & set(found.tags)
        assert not alive, f"{plan.kind}/{plan.notice}: {alive}"
        assert not [a for a in found.attrs if "evil" in a or a.startswith("on")], plan.kind
        remote = [a for a in found.attrs if a.split("=")[0] in ("src", "href", "background")]
        assert not remote, f"{plan.kind}: remote resources {remote}"
        assert "Bcc" not in msg and len(msg.get_all("Subject") or []) == 1
        for name, value in msg.items():
            assert "\n" not in str(value).replace("\n ", "").replace("\n\t", ""), name


def test_what_people_wrote_is_still_visible_in_html() -> None:
    for plan, out in render_all("zh-CN", text="<VPN网关> 连不上", name="张伟 <zhang.wei@x>"):
        html = body(parsed(out), "html")
        if plan.kind in (MailKind.ACK, MailKind.RELAY) or plan.kind is MailKind.NOTIFICATION:
            assert "&lt;VPN网关&gt;" in html, plan.kind


ALLOWED_TYPES = ("jpg", "jpeg", "png", "gif", "pdf", "txt", "log", "zip", "docx", "xlsx", "exe")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")


def test_chinese_mail_has_no_english_words() -> None:
    allowed = {"IT", "network"}  # the ticket prefix and a configured group name
    allowed |= {"maildesk", "tickets", "show", "outbox", "list", "status", "held", "retry"}  # CLI
    allowed |= {"calendar", "import"}  # the digest's calendar warning names the command
    allowed |= {"drafts"}  # the knowledge base's folder of drafts
    for plan, out in render_all("zh-CN") + render_summaries("zh-CN"):
        msg = parsed(out)
        for subtype in ("plain", "html"):
            text = body(msg, subtype)
            if subtype == "html":
                text = re.sub(r"<[^>]+>", " ", text)
                text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'")
            text = re.sub(r"mailto:\S+", " ", text)  # the survey's one-click links
            text = re.sub(r"[\w.+-]+@[\w.-]+", " ", text)  # addresses
            text = re.sub(r"“[^”]*”", " ", text)  # quoted: what people wrote
            text = text.replace("VPN", "")  # the subject, as the user wrote it
            text = text.replace(make_config("zh-CN").attachments.allowed_types[0], "")
            text = re.sub(r"\.?\b(" + "|".join(ALLOWED_TYPES) + r")\b", " ", text)
            words = set(ENGLISH_WORD.findall(text)) - allowed
            assert not words, f"{plan.kind}/{plan.notice} {subtype}: {sorted(words)}"


def test_no_engineer_address_or_tag_reaches_a_requester() -> None:
    for locale in ("zh-CN", "en"):
        for plan, out in render_all(locale):
            to = out.recipients[0]
            if to == "zhang.wei@example.com":
                assert b"wang.gong" not in out.raw and b"lead@" not in out.raw, plan.kind
            # every mail is tagged for its one recipient, and proves nobody else
            assert tags.proves([out.message_id], SECRET, NUMBER, to), plan.kind
            assert not tags.proves([out.message_id], SECRET, NUMBER, ENGINEER.email) or (
                to == ENGINEER.email
            )


def test_times_are_local_with_offset() -> None:
    for _, out in render_all("zh-CN"):
        msg = parsed(out)
        assert msg["Date"].endswith("+0800")
        assert "UTC" not in body(msg, "plain")
    ack = next(out for plan, out in render_all("zh-CN") if plan.kind is MailKind.ACK)
    # 01:02 UTC on a Sunday + 1 business hour, in business terms
    assert "1 个工作小时内，即 11月23日 10:00 (+08:00) 前" in body(parsed(ack), "plain")
    en = next(out for plan, out in render_all("en") if plan.kind is MailKind.ACK)
    assert "within 1 business hours, by 23 Nov 10:00 (+08:00)" in body(parsed(en), "plain")
    breach = next(
        out for plan, out in render_all("zh-CN") if plan.notice == "sla_breach.resolution"
    )
    assert "9 个工作小时内，即 1月4日 10:00 (+08:00) 前（暂定" in body(parsed(breach), "plain")


def test_long_chinese_subject_folds_into_short_encoded_words() -> None:
    long_subject = "打印机无法打印，三楼所有人都受到影响，请尽快处理" * 4
    for _, out in render_all("zh-CN", subject=long_subject):
        head = out.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        lines = head.split("\r\n")
        assert all(len(line) <= 78 for line in lines if "=?" in line), head
        assert all(len(line) <= 998 for line in lines)  # a Message-ID cannot be folded
        for word in re.findall(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=", head):
            assert len(word) <= 75
        assert parsed(out)["Subject"] == f"[{NUMBER}] {long_subject}"
