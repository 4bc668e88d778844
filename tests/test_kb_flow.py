"""The knowledge base in the mail flow, over the store (SQLite and PostgreSQL): articles
suggested in the acknowledgment and counted, self-service by a signed link or by
`#已解决`/`#solved` (forged links change nothing), `KB:` questions answered without a
ticket, and `#kb` drafts written once, after the commit, never over another file."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from maildesk.clock import TestClock
from maildesk.kb import steps
from maildesk.service import Service
from maildesk.store import events, tickets
from maildesk.store import kb as kb_rows
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, build_service
from .kb_tiny import TinyKb, desk
from .test_engineers import PEOPLE, USER, mail
from .test_surveys import ENGINEER, LEAD_PERSON, NO_CLOSE, START, parsed, rows, text_of

LEAD = "lead@example.com"
VPN_MAIL = ("VPN 连不上了", "早上开始 VPN 连不上，提示错误 809。")


def setup(make_config: ConfigFactory, tmp_path: Path, locale: str = "zh-CN",
          **settings: object) -> tuple[Service, TestClock]:  # fmt: skip
    cfg = make_config(locale=locale, extra=PEOPLE + LEAD_PERSON + NO_CLOSE)
    clock = TestClock(START)
    base = build_service(cfg, clock)
    service = Service(cfg, base.store, base.renderer, base.directory, clock, base.files,
                      base.rules, kb=desk(tmp_path / "kb", TinyKb(), **settings))  # fmt: skip
    return service, clock


def html_of(service: Service, row: outbox_rows.OutboxRow) -> str:
    with service.store.transaction() as tx:
        raw = outbox_rows.raw(tx, row.id) or b""
    part = parsed(raw).get_body(("html",))
    assert part is not None
    return str(part.get_content())


def status_and_history(service: Service, number: str) -> tuple[str, list[str]]:
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        return view.status, [e["kind"] for e in events.listing(tx, view.id)]


def use(service: Service, group: str = "") -> kb_rows.SelfService:
    start = START - timedelta(days=1)
    with service.store.transaction() as tx:
        return kb_rows.article_use(tx, start, START + timedelta(days=30), group)


def opened(service: Service, subject: str, body: str, n: int = 1) -> tuple[str, str]:
    """A new ticket; (its number, the acknowledgment's text)."""
    outcome = service.ingest(mail(f"张伟 <{USER}>", subject, body, n=n), "t")
    assert outcome.kind == "created", outcome
    ack = [r for r in rows(service, "ack") if r.ticket_number == outcome.ticket_number][-1]
    return outcome.ticket_number, text_of(service, ack)


def solved_link(ack_text: str) -> str:
    (url,) = re.findall(r"mailto:(\S+)", ack_text)
    to, _, query = url.partition("?subject=")
    assert to == "it-support@example.com"
    return unquote(query)


# --- suggestions ------------------------------------------------------------------------------


def test_the_acknowledgment_suggests_the_article_in_full_and_counts_it(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    service, _ = setup(make_config, tmp_path)
    number, text = opened(service, *VPN_MAIL)
    assert "以下知识库文章也许能解决您的问题" in text
    assert "1. VPN 连接失败（错误 809、691、超时）" in text
    assert "重启路由器后再连接 VPN" in text  # the whole article, below the signature
    assert "printer" not in text and "打印机脱机" not in text
    subject = solved_link(text)
    assert subject.startswith(f"[{number}] 已解决 vpn.zh-CN ")
    ack = [r for r in rows(service, "ack")][-1]
    html = html_of(service, ack)
    assert "重启路由器后再连接 VPN" in html and "已解决，点此告诉我们" in html
    title = html[html.index("<title>") : html.index("</title>")]
    assert title == f"<title>{number}"  # the article is in the body a reader sees
    assert html.index("重启路由器后再连接 VPN") > html.index("<body")
    status, history = status_and_history(service, number)
    assert status == "assigned" and history == ["created", "routed"]
    counted = use(service)
    assert [(a.name, a.suggested, a.helped) for a in counted.articles] == [("vpn.zh-CN", 1, 0)]


def test_no_suggestion_below_the_threshold_and_none_without_a_kb(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    service, _ = setup(make_config, tmp_path)
    _, text = opened(service, "三楼空调不制冷", "会议室空调一直吹热风。")
    assert "知识库" not in text and "mailto:" not in text
    assert use(service).articles == ()
    base = build_service(service.cfg, TestClock(START))
    plain = Service(base.cfg, base.store, base.renderer, base.directory, TestClock(START),
                    base.files, base.rules)  # fmt: skip
    assert plain.kb is None  # no knowledge base given
    outcome = plain.ingest(mail(f"张伟 <{USER}>", *VPN_MAIL, n=9), "t")
    ack = [r for r in rows(plain, "ack") if r.ticket_number == outcome.ticket_number][-1]
    assert "知识库" not in text_of(plain, ack)


def test_maildesk_run_suggests_the_shipped_article(make_config: ConfigFactory) -> None:
    """Wired as the daemon is: the engine's index over the shipped articles, its
    Markdown in both parts."""
    cfg = make_config(extra=PEOPLE + NO_CLOSE)
    service = build_service(cfg, TestClock(START))
    number, text = opened(service, "VPN连不上 error 809", "在家连公司 VPN 一直报错 809。")
    assert "1. VPN 连接失败（错误 809、691、789、812、超时、掉线）" in text
    assert solved_link(text).startswith(f"[{number}] 已解决 vpn.zh-CN ")
    assert "## 先做三项检查" not in text and "先做三项检查" in text  # Markdown as text
    html = html_of(service, rows(service, "ack")[-1])
    assert "<h2>先做三项检查</h2>" in html


# --- self-service ---------------------------------------------------------------------------


def test_the_link_resolves_as_self_served_and_the_engineer_is_told(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    service, _ = setup(make_config, tmp_path)
    number, text = opened(service, *VPN_MAIL)
    before = len(rows(service, "notification"))
    outcome = service.ingest(mail(f"张伟 <{USER}>", solved_link(text), "", n=2), "t")
    assert outcome.kind == "worked", outcome
    status, history = status_and_history(service, number)
    assert status == "resolved" and history[-1] == "self_served"
    told = rows(service, "notification")[before:]
    assert [r.recipients for r in told] == [(ENGINEER,)]
    note = text_of(service, told[0])
    assert "无需处理" in note and "VPN 连接失败（错误 809、691、超时） (vpn.zh-CN)" in note
    assert [r for r in rows(service, "ack") if r.recipients == (USER,)][1:] == []
    counted = use(service)
    assert (counted.resolved_self, counted.resolved_total) == (1, 1)
    assert [(a.name, a.suggested, a.helped) for a in counted.articles] == [("vpn.zh-CN", 1, 1)]
    assert use(service, "network") == counted and use(service, "desktop").articles == ()
    (named,) = steps.titled(counted, service.kb.knowledge if service.kb else None).articles
    assert named.title == "VPN 连接失败（错误 809、691、超时）"
    # a later reply that quotes the link's subject is a follow-up: it reopens
    again = mail(f"张伟 <{USER}>", f"Re: {solved_link(text)}", "还是连不上。",
                 in_reply_to=rows(service, "ack")[-1].message_id, n=30)  # fmt: skip
    assert service.ingest(again, "t").kind == "threaded"
    assert status_and_history(service, number)[0] == "assigned"
    # solved again with the same article: resolved again, credited once per ticket
    assert service.ingest(mail(f"张伟 <{USER}>", solved_link(text), "", n=31), "t").kind == "worked"
    assert status_and_history(service, number)[0] == "resolved"
    assert [(a.name, a.helped) for a in use(service).articles] == [("vpn.zh-CN", 1)]


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: s,  # sent by someone else
        lambda s: s.replace("vpn.zh-CN", "printer.zh-CN"),  # another article
        lambda s: s[:-1] + ("0" if s[-1] != "0" else "1"),  # a token made up
    ],
)
def test_a_forged_link_changes_nothing(
    make_config: ConfigFactory, tmp_path: Path, forge: object
) -> None:
    service, _ = setup(make_config, tmp_path)
    number, text = opened(service, *VPN_MAIL)
    subject = forge(solved_link(text))  # type: ignore[operator]
    sender = "mallory@example.com" if subject == solved_link(text) else USER
    mails_before = len(rows(service, "notification"))
    outcome = service.ingest(mail(sender, subject, "", n=3), "t")
    assert outcome.kind == "refused", outcome
    status, history = status_and_history(service, number)
    assert status == "assigned" and history[-1] == "command_refused"
    assert len(rows(service, "notification")) == mails_before
    assert use(service).resolved_self == 0


@pytest.mark.parametrize(("word", "locale"), [("#已解决", "zh-CN"), ("#solved thanks!", "en")])
def test_the_requester_replies_solved(
    make_config: ConfigFactory, tmp_path: Path, word: str, locale: str
) -> None:
    service, _ = setup(make_config, tmp_path, locale=locale)
    number, _ = opened(service, *VPN_MAIL)
    ack = rows(service, "ack")[-1]
    reply = mail(f"张伟 <{USER}>", f"Re: [{number}] VPN 连不上了", f"{word}\n\n> quoted",
                 in_reply_to=ack.message_id, n=4)  # fmt: skip
    assert service.ingest(reply, "t").kind == "worked"
    status, history = status_and_history(service, number)
    assert status == "resolved" and "self_served" in history
    counted = use(service)
    assert [(a.name, a.helped) for a in counted.articles] == [("vpn.zh-CN", 1)]
    note = text_of(service, rows(service, "notification")[-1])
    assert ("无需处理" if locale == "zh-CN" else "No action needed") in note


def test_a_claimed_solved_reply_is_only_a_follow_up(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    service, _ = setup(make_config, tmp_path)
    number, _ = opened(service, *VPN_MAIL)
    forged = mail(f"张伟 <{USER}>", f"Re: [{number}] VPN 连不上了", "#已解决", n=5)  # no tag
    service.ingest(forged, "t")
    assert status_and_history(service, number)[0] == "assigned"
    assert use(service).resolved_self == 0


# --- questions --------------------------------------------------------------------------------


def test_a_question_gets_articles_back_and_no_ticket(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    service, _ = setup(make_config, tmp_path)
    outcome = service.ingest(mail(f"张伟 <{USER}>", "知识库：VPN 连不上 809", "", n=6), "t")
    assert outcome.kind == "answered" and outcome.ticket_number == "", outcome
    (answer,) = rows(service, "kb_answer")
    text = text_of(service, answer)
    assert "VPN 连接失败（错误 809、691、超时）" in text and "重启路由器后再连接 VPN" in text
    assert "mailto:" not in text and answer.recipients == (USER,)
    msg = parsed(service_raw(service, answer))
    assert str(msg["Auto-Submitted"]) == "auto-replied" and msg["In-Reply-To"]
    assert rows(service, "ack") == []
    nothing = service.ingest(mail(f"张伟 <{USER}>", "KB: 空调不制冷", "", n=7), "t")
    assert nothing.kind == "created"  # nothing above the threshold: a ticket as usual
    off, _ = setup(make_config, tmp_path, questions=False)
    assert off.ingest(mail(f"张伟 <{USER}>", "KB: VPN 连不上 809", "", n=8), "t").kind == "created"


def service_raw(service: Service, row: outbox_rows.OutboxRow) -> bytes:
    with service.store.transaction() as tx:
        return outbox_rows.raw(tx, row.id) or b""


# --- drafts -----------------------------------------------------------------------------------


def engineer_reply(service: Service, number: str, body: str, n: int) -> str:
    note = [r for r in rows(service, "notification") if ENGINEER in r.recipients][-1]
    reply = mail(f"王工 <{ENGINEER}>", f"Re: [{number}] VPN", body, in_reply_to=note.message_id,
                 n=n)  # fmt: skip
    return service.ingest(reply, "t").kind


def test_kb_writes_a_draft_after_the_commit_never_over_another_file(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    service, _ = setup(make_config, tmp_path)
    number, _ = opened(service, *VPN_MAIL)
    assert engineer_reply(service, number, "#kb VPN 809 error", 10) == "refused"
    refusal = text_of(service, rows(service, "command_error")[-1])
    assert "只有已解决或已关闭的工单才能写知识库文章草稿" in refusal
    assert (
        engineer_reply(service, number, "#resolve 重置了 VPN 账号的会话\n请再试。", 11) == "worked"
    )
    drafts = tmp_path / "kb" / "drafts"
    drafts.mkdir(parents=True)
    (drafts / "vpn-809-error.zh-CN.md").write_text("someone else's draft\n")
    assert engineer_reply(service, number, "#kb VPN 809 error", 12) == "worked"
    written = (drafts / "vpn-809-error-2.zh-CN.md").read_text()
    assert (drafts / "vpn-809-error.zh-CN.md").read_text() == "someone else's draft\n"
    assert 'title: "VPN 809 error"' in written and "category: " in written
    assert "## 问题" in written and "提示错误 809" in written
    assert "重置了 VPN 账号的会话" in written and "809" in written.split("keywords:")[1]
    told = rows(service, "notification")[-1]
    readers = {r for row in rows(service, "notification")[-2:] for r in row.recipients}
    assert readers == {ENGINEER, LEAD}
    assert "drafts/vpn-809-error-2.zh-CN.md" in text_of(service, told)
    with service.store.transaction() as tx:
        assert [d.name for d in kb_rows.pending_drafts(tx)] == []
    # a crash after the file, before its mark: the row is pending again, nothing doubles
    assert steps.write_drafts(service.store, tmp_path / "kb", START) == 0
    assert sorted(p.name for p in drafts.iterdir()) == [
        "vpn-809-error-2.zh-CN.md", "vpn-809-error.zh-CN.md"]  # fmt: skip


def test_a_draft_written_before_a_crash_is_not_written_twice(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    service, _ = setup(make_config, tmp_path)
    number, _ = opened(service, *VPN_MAIL)
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        kb_rows.add_draft(tx, view.id, "vpn.zh-CN", "draft\n", START)
        kb_rows.add_draft(tx, view.id, "other.zh-CN", "mine\n", START)
    drafts = tmp_path / "kb" / "drafts"
    drafts.mkdir(parents=True)
    (drafts / "vpn.zh-CN.md").write_text("draft\n")  # the crash: written, not marked
    (drafts / "other.zh-CN.md").write_text("theirs\n")
    assert steps.write_drafts(service.store, tmp_path / "kb", START) == 1
    assert (drafts / "other.zh-CN.md").read_text() == "theirs\n"
    with service.store.transaction() as tx:
        assert kb_rows.pending_drafts(tx) == []
    assert not [p for p in drafts.iterdir() if p.name.startswith(".")]


def test_article_use_counts_within_the_period(make_config: ConfigFactory, tmp_path: Path) -> None:
    service, clock = setup(make_config, tmp_path)
    opened(service, *VPN_MAIL)
    clock.advance(days=40)
    _, text = opened(service, *VPN_MAIL, n=20)
    service.ingest(mail(f"张伟 <{USER}>", solved_link(text), "", n=21), "t")
    assert use(service).articles[0].helped == 0  # the credit came after the period
    with service.store.transaction() as tx:
        later = kb_rows.article_use(
            tx, clock.now() - timedelta(days=1), clock.now() + timedelta(minutes=1), ""
        )
    assert (later.resolved_self, later.resolved_total, later.articles[0].suggested) == (1, 1, 1)


# --- as Chinese mail clients write it ------------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "kb"


@pytest.mark.parametrize(
    ("name", "via"),
    [
        ("foxmail_solved_gb18030.eml", "reply"),  # 回复: …, GB18030 base64, Foxmail quote
        ("outlook_zh_solved_gb2312.eml", "reply"),  # 答复: …, gb2312 quoted-printable
        ("qqmail_solved_link.eml", "link"),  # the mailto link, as QQ Mail sends it
    ],
)
def test_solved_from_chinese_clients(
    make_config: ConfigFactory, tmp_path: Path, name: str, via: str
) -> None:
    service, _ = setup(make_config, tmp_path)
    number, _ = opened(service, *VPN_MAIL)
    assert number == "IT-20261123-0001"  # the fixtures name it (and the link's token)
    ack = rows(service, "ack")[-1].message_id
    raw = (FIXTURES / name).read_bytes().replace(b"ACK-ID", f"<{ack}>".encode())
    assert service.ingest(raw, name).kind == "worked"
    status, history = status_and_history(service, number)
    assert status == "resolved" and history[-1] == "self_served"
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        credited = [e for e in events.listing(tx, view.id) if e["kind"] == "self_served"]
    assert credited[0]["new"] == "vpn.zh-CN" and f"({via})" in credited[0]["text"]


def test_a_question_from_netease_mail(make_config: ConfigFactory, tmp_path: Path) -> None:
    service, _ = setup(make_config, tmp_path)
    raw = (FIXTURES / "netease_question_gbk.eml").read_bytes()
    assert service.ingest(raw, "163").kind == "answered"
    (answer,) = rows(service, "kb_answer")
    assert "VPN 连接失败（错误 809、691、超时）" in text_of(service, answer)


def test_resolve_and_kb_in_one_reply(make_config: ConfigFactory, tmp_path: Path) -> None:
    service, _ = setup(make_config, tmp_path, locale="en")
    number, _ = opened(service, *VPN_MAIL)
    body = "#resolve Reset the VPN session on the gateway\n#kb\nPlease try again."
    assert engineer_reply(service, number, body, 40) == "worked"
    (draft,) = (tmp_path / "kb" / "drafts").iterdir()
    assert draft.name == f"vpn-{number.lower()}.en.md"  # a Chinese subject: with the number
    written = draft.read_text()
    assert 'title: "VPN 连不上了"' in written and "## Steps" in written
    assert "\nReset the VPN session on the gateway\n\nPlease try again.\n" in written
    assert status_and_history(service, number) == ("resolved", HISTORY_AFTER_KB)


HISTORY_AFTER_KB = ["created", "routed", "changed", "public_reply", "kb_draft"]


def test_solved_credits_only_an_article_suggested_on_the_ticket_it_resolves(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    """A reply to ticket A's acknowledgment whose subject names another ticket B: A is
    the proven one and resolved; B's suggestion is not credited to A."""
    service, _ = setup(make_config, tmp_path)
    first, _ = opened(service, *VPN_MAIL)
    printer = mail("李四 <li.si@example.com>", "打印机脱机了", "打印机一直脱机，E5。", n=2)
    other = service.ingest(printer, "t")
    assert other.kind == "created"
    ack = [r for r in rows(service, "ack") if r.ticket_number == first][-1]
    reply = mail(f"张伟 <{USER}>", f"Re: [{other.ticket_number}] 打印机", "#已解决",
                 in_reply_to=ack.message_id, n=3)  # fmt: skip
    assert service.ingest(reply, "t").kind == "worked"
    assert status_and_history(service, first)[0] == "resolved"
    assert status_and_history(service, other.ticket_number)[0] != "resolved"
    counted = use(service)
    assert sorted((a.name, a.suggested, a.helped) for a in counted.articles) == [
        ("printer.zh-CN", 1, 0), ("vpn.zh-CN", 1, 0)]  # fmt: skip


def test_a_draft_carries_what_the_user_wrote_not_their_signature_or_quotes(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    """An article is published to everyone: the requester's name, phone and the thread
    they quoted stay out of the draft's problem and keywords."""
    service, _ = setup(make_config, tmp_path)
    body = ("早上开始 VPN 连不上，提示错误 809。\n\n张伟\n财务部 手机 13800138000\n\n"
            "-----原始邮件-----\n发件人: 李四\n主题: 报销\nmy secret: Secr3t!pass\n")  # fmt: skip
    number, _ = opened(service, "VPN 连不上了", body)
    assert engineer_reply(service, number, "#resolve 重置了 VPN 账号的会话", 11) == "worked"
    assert engineer_reply(service, number, "#kb VPN 809", 12) == "worked"
    (written,) = (tmp_path / "kb" / "drafts").iterdir()
    text = written.read_text()
    assert "提示错误 809" in text
    for private in ("13800138000", "Secr3t", "原始邮件", "张伟"):
        assert private not in text, private


def test_the_link_survives_a_client_that_garbles_its_word(
    make_config: ConfigFactory, tmp_path: Path
) -> None:
    """Outlook on a GBK Windows can turn the mailto subject's 已解决 into mojibake; the
    token still proves it.  Without the word and without a valid token it is no link."""
    service, _ = setup(make_config, tmp_path)
    number, text = opened(service, *VPN_MAIL)
    garbled = solved_link(text).replace("已解决", "已解决".encode().decode("gbk", "replace"))
    assert "已解决" not in garbled
    assert service.ingest(mail(f"张伟 <{USER}>", garbled, "", n=2), "t").kind == "worked"
    assert status_and_history(service, number)[-1][-1] == "self_served"
    other, _ = opened(service, "VPN 又断了", "VPN 又断了", n=3)
    plain = f"[{other}] 补充 截图 0123456789abcdef"  # an ordinary subject, no link word
    assert service.ingest(mail(f"张伟 <{USER}>", plain, "补充截图", n=4), "t").kind != "refused"
