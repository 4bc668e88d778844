"""classify(): auto-replies, bounces, delay notices and list mail.  Pure, no IO (except
reading the fixtures in tests/fixtures/automail/ and the shared corpus)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from maildesk.domain import Address, Inbound
from maildesk.pipeline import automail
from maildesk.pipeline.automail import AutoMail, Kind, classify, is_auto_reply_subject
from maildesk.pipeline.parse import ParseError, parse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "automail"

# The share of flanker's bounce folder classified as expected (9 of 9 when written).
FLANKER_BOUNCE_FLOOR = 1.0


def mail(*headers: str, body: str = "") -> bytes:
    return "\r\n".join([*headers, "", body]).encode("utf-8")


def stub(**fields: object) -> Inbound:
    """An Inbound for bytes parse() refuses (no From…): classify must still cope."""
    values: dict[str, object] = {
        "message_id": "", "sender": Address("", ""), "return_path": None, "to": (), "cc": (),
        "subject": "", "date": None, "in_reply_to": "", "references": (), "text": "",
        "attachments": (),
    }  # fmt: skip
    values.update(fields)
    return Inbound(**values)  # type: ignore[arg-type]


def inbound_of(raw: bytes) -> Inbound:
    try:
        return parse(raw)
    except ParseError:
        return stub()


def run(raw: bytes) -> AutoMail:
    return classify(raw, parse(raw))


def strict(raw: bytes, inbound: Inbound) -> None:
    """Every rule, without classify's safety net: odd input must not make any raise."""
    for rule in automail.RULES:
        rule(automail.Mail(raw, inbound))


# --- the fixtures: one per real-world shape ----------------------------------------------


@dataclass(frozen=True)
class Case:
    file: str
    kind: Kind
    reason: str
    recipients: tuple[str, ...] = ()
    message_id: str = ""
    status: str = ""


CASES = (
    # auto-replies with headers
    Case("exchange_online_oof.eml", Kind.AUTO_REPLY, "Auto-Submitted: auto-generated"),
    Case("gmail_vacation.eml", Kind.AUTO_REPLY, "Auto-Submitted: auto-replied"),  # "Re: …"
    Case("outlook_zh_oof.eml", Kind.AUTO_REPLY, "X-Auto-Response-Suppress: All + null sender"),
    # auto-replies with only a subject and wording
    Case("outlook_rule_oof.eml", Kind.AUTO_REPLY, "subject Automatic reply"),
    Case("qq_vacation.eml", Kind.AUTO_REPLY, "subject 自动回复"),
    Case("netease_126_autoreply.eml", Kind.AUTO_REPLY, "subject 自动回复"),  # 自动回复：
    Case("exmail_autoreply.eml", Kind.AUTO_REPLY, "subject 自动回复"),
    Case("hk_autoreply.eml", Kind.AUTO_REPLY, "subject 自動回覆"),  # Big5
    Case("read_receipt.eml", Kind.AUTO_REPLY, "multipart/report disposition-notification"),
    # people
    Case("human_reply_to_oof_zh.eml", Kind.HUMAN, ""),  # 回复: 自动答复: …
    Case("human_re_automatic_reply.eml", Kind.HUMAN, ""),  # RE: Automatic reply: …
    Case("human_autoreply_broken.eml", Kind.HUMAN, ""),  # "my auto reply is broken"
    Case("human_forwarded_bounce.eml", Kind.HUMAN, ""),  # Fwd: Undelivered Mail …
    Case("human_forwarded_bounce_attached.eml", Kind.HUMAN, ""),  # report inside rfc822
    Case("postmaster_human.eml", Kind.HUMAN, ""),  # from postmaster@, mentions 退信
    Case("human_with_auto_response_suppress.eml", Kind.HUMAN, ""),
    # bounces
    Case(
        "postfix_bounce.eml", Kind.BOUNCE, "multipart/report delivery-status (5.1.1)",
        ("nosuch.user@example.org",),
        "maildesk.IT-20261122-0021.8c1d2e3f4a5b6c7d@example.com", "5.1.1",
    ),
    Case(
        "exchange_ndr.eml", Kind.BOUNCE, "multipart/report delivery-status (5.1.10)",
        ("former.staff@contoso.com",),
        "maildesk.IT-20261122-0030.5a6b7c8d9e0f1a2b@example.com", "5.1.10",
    ),
    Case(
        "cn_system_bounce.eml", Kind.BOUNCE, "sender mailer-daemon + subject 系统退信",
        ("zhang.san@nosuch-domain.cn",),
        "maildesk.IT-20261122-0033.5e6f7a8b9c0d1e2f@example.com", "5.1.1",
    ),
    Case(
        "exim_bounce.eml", Kind.BOUNCE, "null sender + subject Mail delivery failed",
        ("old.user@example.net",),
        "maildesk.IT-20261122-0040.9a8b7c6d5e4f3a2b@example.com", "5.1.1",
    ),
    # delays: not failures
    Case(
        "delay_notice.eml", Kind.DELAY, "multipart/report delivery-status (delayed 4.4.1)",
        ("wu.hao@slow.example.net",),
        "maildesk.IT-20261123-0004.0f1e2d3c4b5a6978@example.com", "4.4.1",
    ),
    Case(
        "gmail_delay.eml", Kind.DELAY,
        "null sender + subject Delivery Status Notification (Delay)",
        ("slow.user@example.net",), "maildesk.IT-20261123-0002.aabbccddeeff0011@example.com",
    ),
    # lists
    Case("mailing_list.eml", Kind.LIST, "List-Id"),
    Case("newsletter.eml", Kind.LIST, "List-Unsubscribe"),  # and Precedence: bulk
)  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.file)
def test_fixture(case: Case) -> None:
    raw = (FIXTURES / case.file).read_bytes()
    result = run(raw)
    assert (result.kind, result.reason) == (case.kind, case.reason)
    assert result.failed_recipients == case.recipients
    assert result.original_message_id == case.message_id
    assert result.status == case.status
    if case.kind is Kind.HUMAN:
        assert result == automail.HUMAN


def test_every_fixture_is_in_the_table() -> None:
    on_disk = {p.name for p in FIXTURES.glob("*.eml")}
    assert on_disk == {c.file for c in CASES}


def test_bounce_diagnostics_come_from_the_report() -> None:
    postfix = run((FIXTURES / "postfix_bounce.eml").read_bytes())
    assert postfix.diagnostic == (
        "smtp; 550 5.1.1 <nosuch.user@example.org>: Recipient address    rejected: User "
        "unknown in virtual mailbox table"
    )
    ndr = run((FIXTURES / "exchange_ndr.eml").read_bytes())
    assert ndr.diagnostic.startswith("smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound")
    chinese = run((FIXTURES / "cn_system_bounce.eml").read_bytes())
    assert chinese.diagnostic == "收件人地址不存在 (550 5.1.1 User not found)"


# --- subjects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: VPN disconnects",
        "automatic reply：VPN",
        "Auto Reply: printer",
        "Auto-Reply: printer",
        "AutoReply: printer",
        "Out of Office: back on Monday",
        "Out of Office AutoReply: printer",
        "Out of Office",
        "自动回复: 您的工单已受理",
        "自动回复：您的工单已受理",
        "自动答复: 电脑无法开机",
        "自動回覆: 打印機無法連線",
        "假期自动回复",
        "假期自动回复：您好",
        "【自动回复】您的工单已受理",
        "[Auto-Reply] printer",
        "  自动回复 : 前导空格",
        "Automatische Antwort: Drucker",
        "Réponse automatique : imprimante",
        "自动回复: 回复: 您的工单",  # an auto-reply to a person's reply
    ],
)
def test_auto_reply_subjects(subject: str) -> None:
    assert is_auto_reply_subject(subject)


@pytest.mark.parametrize(
    "subject",
    [
        "回复: 自动答复: 您的工单 IT-20261122-0003 已受理",
        "回复：自动回复：您的工单",
        "答复: 自动答复: 电脑无法开机",
        "Re: Automatic reply: Laptop replacement",
        "RE: Automatic reply: Laptop replacement",
        "Fwd: Automatic reply: printer",
        "FW: 自动回复: 打印机",
        "转发: 自动回复: 打印机",
        "AW: Automatische Antwort: Drucker",
        "Re[2]: Auto Reply: x",
        "我的自动回复设置不生效",
        "自动回复设置不生效",
        "My auto reply is broken",
        "Auto reply not working in Outlook",
        "Out of office not set after password change",
        "Automatic replies stopped working",
        "关于自动回复的问题",
        "电脑无法开机",
        "",
    ],
)
def test_not_auto_reply_subjects(subject: str) -> None:
    assert not is_auto_reply_subject(subject)


# --- headers and bodies, one rule at a time -------------------------------------------------

PERSON = ("From: Zhang Wei <zhang.wei@example.com>", "To: it-support@example.com")


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        (["Auto-Submitted: auto-replied"], Kind.AUTO_REPLY, "Auto-Submitted: auto-replied"),
        (["Auto-Submitted: auto-notified"], Kind.AUTO_REPLY, "Auto-Submitted: auto-notified"),
        (["Auto-Submitted: no"], Kind.HUMAN, ""),
        (["Auto-Submitted: No (a person)"], Kind.HUMAN, ""),
        (["X-Autoreply: yes"], Kind.AUTO_REPLY, "X-Autoreply: yes"),
        (["X-Autorespond: vacation"], Kind.AUTO_REPLY, "X-Autorespond"),
        (["Precedence: auto_reply"], Kind.AUTO_REPLY, "Precedence: auto_reply"),
        (["X-Autogenerated: Reply"], Kind.AUTO_REPLY, "X-Autogenerated: Reply"),
        (["X-Auto-Response-Suppress: All"], Kind.HUMAN, ""),
        (["X-Auto-Response-Suppress: All", "Return-Path: <zhang.wei@example.com>"],
         Kind.HUMAN, ""),
        (["X-Auto-Response-Suppress: OOF", "Return-Path: <>"], Kind.AUTO_REPLY,
         "X-Auto-Response-Suppress: OOF + null sender"),
        (["X-Auto-Response-Suppress: None", "Return-Path: <>"], Kind.HUMAN, ""),
        (["List-Id: <it.lists.example.com>"], Kind.LIST, "List-Id"),
        (["List-Unsubscribe: <mailto:u@example.com>"], Kind.LIST, "List-Unsubscribe"),
        (["Precedence: bulk"], Kind.LIST, "Precedence: bulk"),
        (["Precedence: junk"], Kind.LIST, "Precedence: junk"),
        (["Precedence: list"], Kind.LIST, "Precedence: list"),
        (["Precedence: bulk", "Auto-Submitted: auto-replied"], Kind.AUTO_REPLY,
         "Auto-Submitted: auto-replied"),
        (["Return-Path: <>"], Kind.HUMAN, ""),
    ],
)  # fmt: skip
def test_header_rules(headers: list[str], kind: Kind, reason: str) -> None:
    raw = mail(*PERSON, "Subject: 电脑无法开机", *headers, body="早上开机后黑屏。")
    result = run(raw)
    assert (result.kind, result.reason) == (kind, reason)


def test_list_mail_with_an_auto_reply_subject_is_an_auto_reply() -> None:
    raw = mail(*PERSON, "Subject: 自动回复: 通知", "Precedence: bulk", body="我在休假。")
    assert run(raw) == AutoMail(Kind.AUTO_REPLY, "subject 自动回复")


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("这是来自QQ邮箱的假期自动回复邮件。\n您好，我正在休假。", Kind.AUTO_REPLY),
        ("这是一封自动回复邮件。我出差中。", Kind.AUTO_REPLY),
        ("本邮件为系统自动回复，请勿直接回复。", Kind.AUTO_REPLY),
        ("This is an automatic reply. I am away until Monday.", Kind.AUTO_REPLY),
        ("This is an automated response from the HR mailbox.", Kind.AUTO_REPLY),
        ("此邮件是自动回复吗？我收到了好几封一样的。", Kind.HUMAN),
        ("这是一封自动回复邮件吗？", Kind.HUMAN),
        ("Hi, this is an auto reply issue: mine never fires.", Kind.HUMAN),
        ("My auto reply is broken, 这是自动回复设置截图。", Kind.HUMAN),
        ("这是来自同事的自动回复，为什么是乱码？", Kind.HUMAN),
        # the sentence must open the mail, not sit in a long quote further down
        ("你好，打印机又坏了。\n" + "详细情况如下。\n" * 60 + "这是一封自动回复邮件。", Kind.HUMAN),
    ],
)  # fmt: skip
def test_body_rules(body: str, kind: Kind) -> None:
    raw = mail(*PERSON, "Subject: 您的工单", "Content-Type: text/plain; charset=utf-8", body=body)
    assert run(raw).kind == kind


def test_body_rules_do_not_apply_to_a_persons_reply() -> None:
    raw = mail(*PERSON, "Subject: 回复: 您的工单", "Content-Type: text/plain; charset=utf-8",
               body="这是一封自动回复邮件。（我贴给你们看看）")  # fmt: skip
    assert run(raw).kind == Kind.HUMAN


def test_an_auto_reply_about_a_bounce_is_not_a_bounce() -> None:
    raw = mail("From: li.na@contoso.com", "To: it-support@example.com", "Return-Path: <>",
               "Subject: Automatic reply: Undeliverable: 报表", body="我在休假。")  # fmt: skip
    assert run(raw) == AutoMail(Kind.AUTO_REPLY, "subject Automatic reply")


def test_postmaster_with_bounce_wording_in_the_subject_is_a_bounce() -> None:
    raw = mail("From: Postmaster <postmaster@example.com>", "To: it-support@example.com",
               "Subject: 系统退信", "Content-Type: text/plain; charset=utf-8",
               body="您发送给 wang@nosuch.example 的邮件无法投递。")  # fmt: skip
    result = run(raw)
    assert (result.kind, result.reason) == (Kind.BOUNCE, "sender postmaster + subject 系统退信")
    assert result.failed_recipients == ("wang@nosuch.example",)


def test_null_sender_with_plain_words_is_a_bounce() -> None:
    raw = mail("From: system@mail.example.cn", "To: it-support@example.com", "Return-Path: <>",
               "Subject: 通知", "Content-Type: text/plain; charset=utf-8",
               body="投递失败：收件人：zhao@nosuch.example\n")  # fmt: skip
    result = run(raw)
    assert (result.kind, result.reason) == (Kind.BOUNCE, "null sender + 投递失败")
    assert result.failed_recipients == ("zhao@nosuch.example",)


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Undelivered Mail Returned to Sender", Kind.BOUNCE),
        ("Delivery Status Notification (Failure)", Kind.BOUNCE),
        ("Mail delivery failed: returning message to sender", Kind.BOUNCE),
        ("Undeliverable: 报表", Kind.BOUNCE),
        ("Returned mail: see transcript for details", Kind.BOUNCE),
        ("failure notice", Kind.BOUNCE),
        ("退信：报表", Kind.BOUNCE),
        ("【系统退信】报表", Kind.BOUNCE),
        ("无法投递：报表", Kind.BOUNCE),
        ("投递失败", Kind.BOUNCE),
        ("无法送达: 报表", Kind.BOUNCE),
        ("Delivery Status Notification (Delay)", Kind.DELAY),
        ("Warning: could not send message for past 4 hours", Kind.DELAY),
        ("Delivery delayed: 报表", Kind.DELAY),
        ("Re: Undeliverable: 报表", Kind.HUMAN),
        ("关于退信的问题", Kind.HUMAN),
        ("新员工邮箱什么时候开通？", Kind.HUMAN),
    ],
)
def test_subjects_from_mailer_daemon(subject: str, kind: Kind) -> None:
    raw = mail("From: Mail Delivery System <MAILER-DAEMON@mx.example.com>",
               "To: it-support@example.com", f"Subject: {subject}",
               "Content-Type: text/plain; charset=utf-8", body="见下文。")  # fmt: skip
    assert run(raw).kind == kind


def test_a_monitoring_alert_about_delivery_is_not_a_bounce() -> None:
    raw = mail("From: Zabbix <zabbix@monitor.example.com>", "To: it-support@example.com",
               "Auto-Submitted: auto-generated", "Subject: Delivery failed: mail queue on mx1",
               body="Problem: 240 messages deferred, delivery failed for 20 minutes.")  # fmt: skip
    assert run(raw) == AutoMail(Kind.ALERT, "Auto-Submitted: auto-generated")


def test_a_person_mentioning_bounces_from_a_normal_address_is_human() -> None:
    raw = mail(*PERSON, "Subject: Undelivered Mail Returned to Sender",
               body="I keep getting 'Undelivered Mail Returned to Sender', why?")  # fmt: skip
    assert run(raw) == automail.HUMAN


# --- delivery status reports built here -----------------------------------------------------


def report(*recipient_blocks: str, top: str = "multipart/report") -> bytes:
    dsn = "Reporting-MTA: dns; mx.example.com\r\n\r\n" + "\r\n\r\n".join(recipient_blocks)
    if top != "multipart/report":
        return mail("From: MAILER-DAEMON@mx.example.com", f"Content-Type: {top}", body=dsn)
    return mail(
        "From: MAILER-DAEMON@mx.example.com", "To: it-support@example.com",
        "Subject: Delivery report", "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
        body="--b\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n"
        f"--b\r\nContent-Type: message/delivery-status\r\n\r\n{dsn}\r\n--b--\r\n",
    )  # fmt: skip


def test_report_with_failed_and_delayed_recipients_is_a_bounce_of_the_failed_ones() -> None:
    raw = report(
        "Final-Recipient: rfc822; slow@example.net\r\nAction: delayed\r\nStatus: 4.4.1",
        "Final-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 no such user",
    )
    result = run(raw)
    assert (result.kind, result.failed_recipients) == (Kind.BOUNCE, ("gone@example.net",))
    assert (result.status, result.diagnostic) == ("5.1.1", "smtp; 550 no such user")


def test_report_without_action_uses_the_status_class() -> None:
    raw = report("Final-Recipient: rfc822; gone@example.net\r\nStatus: 5.2.1")
    assert run(raw).kind == Kind.BOUNCE
    raw = report("Final-Recipient: rfc822; slow@example.net\r\nStatus: 4.2.2")
    assert run(raw).kind == Kind.DELAY


def test_success_report_is_automatic_not_a_bounce() -> None:
    raw = report("Final-Recipient: rfc822; ok@example.net\r\nAction: delivered\r\nStatus: 2.0.0")
    assert run(raw) == AutoMail(Kind.AUTO_REPLY, "multipart/report delivery-status (delivered)")


def test_report_as_the_whole_message() -> None:
    raw = report(
        "Final-Recipient: rfc822; <gone@example.net>\r\nAction: failed\r\nStatus: 5.1.1",
        top="message/delivery-status",
    )
    result = run(raw)
    assert (result.kind, result.reason) == (Kind.BOUNCE, "message/delivery-status (5.1.1)")
    assert result.failed_recipients == ("gone@example.net",)


def test_report_with_an_unreadable_status_part_is_still_automatic() -> None:
    raw = report("garbage without fields")
    assert run(raw).kind == Kind.AUTO_REPLY


# --- odd input never raises ---------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\nContent-Type: message/deliv",
        b"Content-Type: message/delivery-status\r\n\r\nAction: failed\r\nFinal-Recipient: ;",
        b"Content-Type: multipart/report\r\n\r\n" + b"--\r\n" * 1000,
        b"Subject: =?bogus?B?////?=\r\nFrom: MAILER-DAEMON@\r\nReturn-Path: <>\r\n\r\n\xff",
        mail("Content-Type: multipart/mixed; boundary=a", body="--a\r\n" * 500),
    ],
)
def test_odd_bytes_never_raise(raw: bytes) -> None:
    for inbound in (stub(), stub(subject="退信", return_path="", text="退信 <a@b.c>")):
        assert isinstance(classify(raw, inbound), AutoMail)
        strict(raw, inbound)


def test_truncated_fixtures_never_raise() -> None:
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        for cut in range(0, len(raw), max(1, len(raw) // 25)):
            piece = raw[:cut]
            inbound = inbound_of(piece)
            assert isinstance(classify(piece, inbound), AutoMail)
            strict(piece, inbound)


# --- the shared corpus -------------------------------------------------------------------

# flanker's bounce folder, file by file.  expected.json marks zed and office365 as bounces
# and delayed / mailbox-full as delivery notifications; the others are read here from the
# files: no-mx says "Action: delayed" (a warning), delayed.eml and delayed-broken.eml say
# "Action: failed" (given up after 5 days, even with a 4.x.x status), broken-mime is a
# postmaster "Undeliverable Mail" without a report, the gmail ones are Gmail's text bounces.
FLANKER_BOUNCES = {
    "bounce/broken-mime.eml": Kind.BOUNCE,
    "bounce/delayed-broken.eml": Kind.BOUNCE,
    "bounce/delayed.eml": Kind.BOUNCE,
    "bounce/gmail-invalid-address.eml": Kind.BOUNCE,
    "bounce/gmail-no-dns.eml": Kind.BOUNCE,
    "bounce/mailbox-full.eml": Kind.BOUNCE,
    "bounce/no-mx.eml": Kind.DELAY,
    "bounce/office365.eml": Kind.BOUNCE,
    "bounce/zed.eml": Kind.BOUNCE,
}
FLANKER_RECIPIENTS = {
    "bounce/broken-mime.eml": ("info@example.net",),
    "bounce/delayed-broken.eml": ("demo@example.com",),
    "bounce/delayed.eml": ("foo@example.com",),
    "bounce/gmail-invalid-address.eml": ("awfawfawfawfawfaw@someserverhere.com",),
    "bounce/gmail-no-dns.eml": ("user@example.comm",),
    "bounce/mailbox-full.eml": ("user@aol.com",),
    "bounce/no-mx.eml": ("user@example.com",),
    "bounce/office365.eml": ("noname@example.com",),
    "bounce/zed.eml": ("asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com",),
}
FLANKER_MESSAGE_IDS = {
    "bounce/zed.eml": "20090708054735.GC7578@example.com",
    "bounce/office365.eml": "20171013111011.20866.254C2F3A4D7AA526@ninomail.com",
    "bounce/mailbox-full.eml": "4E326A95.3010907@example.com",
    "bounce/no-mx.eml": "19E44CA63F984902B7D654F8FF40F89D@bo",
    "bounce/gmail-invalid-address.eml":  # in the text, after "----- Original message -----"
    "CAKsfaBUUGqVZiaMrmH3TRPfq1odQPtM7Ey5YW1SgyJJRHtAjgw@mail.gmail.com",
}


def corpus_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in (".json", ".md")
    )


def classify_file(path: Path) -> AutoMail:
    raw = path.read_bytes()
    return classify(raw, inbound_of(raw))


def test_flanker_bounces(corpus: Path) -> None:
    folder = corpus / "flanker"
    bounce_files = {str(p.relative_to(folder)) for p in (folder / "bounce").glob("*.eml")}
    assert bounce_files == set(FLANKER_BOUNCES), "new files in flanker/bounce: add them here"
    results = {name: classify_file(folder / name) for name in sorted(bounce_files)}
    right = [n for n, r in results.items() if r.kind == FLANKER_BOUNCES[n]]
    rate = len(right) / len(results)
    print(f"flanker bounce folder: {len(right)}/{len(results)} classified as expected")
    wrong = {n: (r.kind, r.reason) for n, r in results.items() if n not in right}
    assert rate >= FLANKER_BOUNCE_FLOOR, wrong
    for name, result in results.items():
        if result.kind == FLANKER_BOUNCES[name]:
            assert result.failed_recipients == FLANKER_RECIPIENTS[name], name
            assert result.original_message_id == FLANKER_MESSAGE_IDS.get(name, ""), name


def test_flanker_expectations(corpus: Path) -> None:
    folder = corpus / "flanker"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    checked = 0
    for name, facts in expected.items():
        result = classify_file(folder / name)
        if facts.get("is_bounce") is True:
            assert result.kind == Kind.BOUNCE, (name, result)
            assert result.status == facts["bounce_status"], name
            assert result.diagnostic == facts["bounce_diagnostic_code"], name
            checked += 1
        elif facts.get("is_bounce") is False:
            assert result.kind not in (Kind.BOUNCE, Kind.DELAY), (name, result)
            checked += 1
        if facts.get("is_delivery_notification") is True:
            assert result.kind in (Kind.BOUNCE, Kind.DELAY), (name, result)
            checked += 1
        elif facts.get("is_delivery_notification") is False:
            assert result.kind not in (Kind.BOUNCE, Kind.DELAY), (name, result)
            checked += 1
    assert checked >= 8


def test_flanker_non_bounces_are_not_bounces(corpus: Path) -> None:
    folder = corpus / "flanker"
    wrong = {}
    for path in corpus_files(folder):
        name = str(path.relative_to(folder))
        if name.startswith("bounce/"):
            continue
        result = classify_file(path)
        if result.kind in (Kind.BOUNCE, Kind.DELAY):
            wrong[name] = result.reason
    assert not wrong
    complaint = classify_file(folder / "complaints" / "aol.eml")
    assert complaint == AutoMail(Kind.AUTO_REPLY, "multipart/report feedback-report")


def test_classify_never_raises_on_the_corpus(corpus: Path) -> None:
    files = corpus_files(corpus)
    assert len(files) > 150, f"corpus looks incomplete: {len(files)} files"
    for path in files:
        raw = path.read_bytes()
        inbound = inbound_of(raw)
        assert isinstance(classify(raw, inbound), AutoMail), path
        strict(raw, inbound)  # no rule raised (classify would have hidden it)
        strict(raw, stub())
    # time per message: benchmarks/parse_worst_case.py (no timed asserts in tests)


# --- charset labels that are junk ---------------------------------------------------------

# codecs.lookup raises ValueError for a NUL in a label, `undefined` a bare UnicodeError:
# decoding a header must not raise, or the rule reading it is skipped and a bounce
# becomes a ticket.
JUNK_LABELS = ["utf\x00-8", "undefined"]


def junk_word(text: str, label: str) -> str:
    return f"=?{label}?Q?{text.replace(' ', '_')}?="


POSTFIX_BOUNCE_BODY = (
    "This is the mail system at host mx.example.net.\r\n\r\n"
    "I'm sorry to have to inform you that your message could not\r\n"
    "be delivered to one or more recipients.\r\n\r\n"
    "<bob@example.org>: host mx.example.org said: 550 5.1.1 User unknown\r\n"
)


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_text_bounce_with_junk_labels_in_subject_and_from(label: str) -> None:
    raw = mail(
        f"From: {junk_word('Mail Delivery System', label)} <>",
        "To: alice@example.com",
        f"Subject: {junk_word('Undelivered Mail Returned to Sender', label)}",
        "Message-ID: <bounce-junk@example.net>",
        f"X-Failed-Recipients: {junk_word('bob@example.org', label)}",
        body=POSTFIX_BOUNCE_BODY,
    )
    inbound = inbound_of(raw)
    strict(raw, inbound)  # no rule raised: classify would have skipped it
    found = classify(raw, inbound)
    assert found.kind == Kind.BOUNCE, found
    assert found.failed_recipients == ("bob@example.org",)


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_dsn_with_junk_labels_in_subject_and_returned_headers(label: str) -> None:
    """The returned headers' part is 8-bit text labelled junk: get_payload() decodes it in
    that label and raised, which skipped the RFC 3464 reading."""
    body = (
        "--BB\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Your message could not be delivered.\r\n"
        "--BB\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n"
        f'--BB\r\nContent-Type: text/rfc822-headers; charset="{label}"\r\n\r\n'
        "From: alice@example.com\r\nSubject: Grüße\r\nMessage-ID: <orig42@example.com>\r\n\r\n"
        "--BB--\r\n"
    )
    raw = mail(
        "From: Mail Delivery Subsystem <mailer-daemon@example.net>",
        "To: alice@example.com",
        f"Subject: {junk_word('Delivery Status Notification (Failure)', label)}",
        "Message-ID: <dsn-junk@example.net>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status; boundary=BB",
        body=body,
    )
    inbound = inbound_of(raw)
    strict(raw, inbound)
    assert classify(raw, inbound) == AutoMail(
        Kind.BOUNCE,
        "multipart/report delivery-status (5.1.1)",
        failed_recipients=("bob@example.org",),
        original_message_id="orig42@example.com",
        status="5.1.1",
        diagnostic="smtp; 550 5.1.1 no such user",
    )


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_person_with_junk_labels_is_human_with_a_subject(label: str) -> None:
    raw = mail(
        f"From: {junk_word('Jürgen', label)} <juergen@example.com>",
        "To: help@example.com",
        f"Subject: {junk_word('Drucker kaputt', label)}",
        "Message-ID: <person-junk@example.com>",
        f'Content-Type: text/plain; charset="{label}"',
        body="Der Drucker im 2. Stock druckt nicht.",
    )
    inbound = parse(raw)
    assert inbound.subject == "Drucker kaputt"
    strict(raw, inbound)
    assert classify(raw, inbound) == automail.HUMAN
