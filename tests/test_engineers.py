"""Engineers work by email, over real IMAP (Dovecot) and SMTP (aiosmtpd): routing,
notification, relayed replies, # commands, and refusal of forged commands."""

from __future__ import annotations

import email
from email.message import EmailMessage, Message

from maildesk.config import Config
from maildesk.store import events as ticket_events
from maildesk.store import outbox as outbox_rows
from maildesk.store import tickets

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .servers.dovecot import Dovecot
from .test_daemon import running

PEOPLE = """
[security]
secret = "0123456789abcdef-test-secret"

[[people]]
name = "王工"
email = "wang.gong@example.com"
groups = ["network"]

[[people]]
name = "李工"
email = "li.gong@example.com"
groups = ["network"]
available = false

[[people]]
name = "赵经理"
email = "zhao@example.com"
role = "manager"
"""
USER = "zhang.wei@example.com"
ENGINEER = "wang.gong@example.com"


def mail(sender: str, subject: str, body: str, in_reply_to: str = "", n: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "it-support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<story-{n}-{abs(hash(body))}@client.example.com>"
    if in_reply_to:
        in_reply_to = "".join(str(in_reply_to).split())  # unfold: long ids are folded
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


def received(sink: SmtpSink, to: str) -> list[Message]:
    with sink.lock:
        return [email.message_from_bytes(raw) for _, rcpts, raw in sink.messages if to in rcpts]


def text_of(msg: Message) -> str:
    part = msg.get_payload()[0] if msg.is_multipart() else msg
    return part.get_payload(decode=True).decode("utf-8")


def wait_for_mail(sink: SmtpSink, to: str, count: int) -> Message:
    wait_until(lambda: len(received(sink, to)) >= count, timeout=30, what=f"mail {count} to {to}")
    return received(sink, to)[count - 1]


def status(cfg: Config, number: str) -> str:
    with build_service(cfg).store.transaction() as tx:
        ticket = tickets.view(tx, number)
    assert ticket is not None
    return ticket.status


def test_the_whole_story(
    make_sqlite_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cfg = make_sqlite_config(
        transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port}, extra=PEOPLE
    )
    with running(cfg):
        first = "早上开始 VPN 一直连不上，交换机端口灯不亮。"
        dovecot.append("support", mail(f"张伟 <{USER}>", "VPN 连不上了", first, n=1))
        ack = wait_for_mail(smtp_sink, USER, 1)
        number = str(ack["Subject"]).split("]")[0].strip("[")
        note1 = wait_for_mail(smtp_sink, ENGINEER, 1)  # the engineer on duty, not li.gong
        assert number in str(note1["Subject"]) and "交换机端口灯不亮" in text_of(note1)
        assert received(smtp_sink, "li.gong@example.com") == []

        reply = "#status in_progress\n我正在检查您的网络端口，请稍候。\n\n> 原通知内容"
        dovecot.append("support", mail(f"王工 <{ENGINEER}>", f"Re: [{number}] VPN 连不上了",
                                       reply, in_reply_to=note1["Message-ID"], n=2))  # fmt: skip
        relay1 = wait_for_mail(smtp_sink, USER, 2)
        body = text_of(relay1)
        assert "我正在检查您的网络端口" in body and "#status" not in body
        assert "王工" in body and ENGINEER not in relay1.as_string()
        wait_until(lambda: status(cfg, number) == "in_progress", what="in_progress")

        again = mail(f"张伟 <{USER}>", f"Re: [{number}] VPN 连不上了", "还是连不上。",
                     in_reply_to=relay1["Message-ID"], n=3)  # fmt: skip
        dovecot.append("support", again)
        note2 = wait_for_mail(smtp_sink, ENGINEER, 2)
        assert "还是连不上" in text_of(note2)

        dovecot.append("support", mail(f"王工 <{ENGINEER}>", f"Re: [{number}]",
                                       "#resolve 已重置交换机端口", in_reply_to=note2["Message-ID"],
                                       n=4))  # fmt: skip
        relay2 = wait_for_mail(smtp_sink, USER, 3)
        assert "已重置交换机端口" in text_of(relay2)
        wait_until(lambda: status(cfg, number) == "resolved", what="resolved")

    with build_service(cfg).store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        assert ticket.category == "网络问题" and ticket.assignee == ENGINEER
        assert ticket.first_response_at is not None and ticket.resolved_at is not None
        kinds = [e["kind"] for e in ticket_events.listing(tx, ticket.id)]
    assert kinds.count("public_reply") == 2 and kinds.count("changed") >= 2


def test_forged_from_command_is_refused(make_sqlite_config: ConfigFactory) -> None:
    cfg = make_sqlite_config(extra=PEOPLE)
    service = build_service(cfg)
    number = service.ingest(mail(USER, "打印机坏了", "三楼打印机卡纸。", n=10), "t").ticket_number
    forged = mail(f"王工 <{ENGINEER}>", f"Re: [{number}]", "#close\n已处理。", n=11)
    outcome = service.ingest(forged, "t")
    assert outcome.kind == "refused" and "From header alone" in outcome.detail
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None and ticket.status == "new"
        refusal = [r for r in outbox_rows.listing(tx) if r.kind == "command_refused"]
    assert refusal and refusal[0].recipients == (ENGINEER,)


def test_requester_may_close_but_not_reprioritize(make_sqlite_config: ConfigFactory) -> None:
    service = build_service(make_sqlite_config(extra=PEOPLE))
    number = service.ingest(mail(USER, "密码忘了", "请重置密码。", n=20), "t").ticket_number
    with service.store.transaction() as tx:
        ack = next(r for r in outbox_rows.listing(tx) if r.kind == "ack").message_id
    polite = service.ingest(mail(USER, f"Re: [{number}]", "#优先级 紧急", ack, n=21), "t")
    assert polite.kind == "refused"
    claimed = service.ingest(mail(USER, f"Re: [{number}]", "#关闭\n好了", n=23), "t")
    assert claimed.kind == "threaded"  # not a reply to our mail: lands as text only
    with service.store.transaction() as tx:
        kinds = [r.kind for r in outbox_rows.listing(tx) if r.recipients == (USER,)]
        assert kinds.count("claim_notice") == 1  # the real requester is told
        ticket = tickets.view(tx, number)
        assert ticket is not None and ticket.status != "closed"
    closed = service.ingest(
        mail(USER, f"Re: [{number}]", "#关闭\n已经好了，谢谢。", ack, n=22), "t"
    )
    assert closed.kind == "worked"
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None and (ticket.status, ticket.priority) == ("closed", "medium")


def test_stranger_commands_change_nothing_and_are_told(make_sqlite_config: ConfigFactory) -> None:
    service = build_service(make_sqlite_config(extra=PEOPLE))
    number = service.ingest(mail(USER, "打印机坏了", "三楼打印机卡纸。", n=30), "t").ticket_number
    stranger = service.ingest(mail("eve@evil.example", f"Re: [{number}]", "#close", n=31), "t")
    assert stranger.kind == "created" and stranger.ticket_number != number
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None and ticket.status == "new"
        ack = next(r for r in outbox_rows.listing(tx) if r.recipients == ("eve@evil.example",))
        raw = outbox_rows.raw(tx, ack.id) or b""
    assert "命令没有被执行" in email.message_from_bytes(raw).get_payload()[0].get_payload(
        decode=True
    ).decode("utf-8")


def test_engineer_with_a_ticket_of_their_own_replies_like_a_user(
    make_sqlite_config: ConfigFactory,
) -> None:
    service = build_service(make_sqlite_config(extra=PEOPLE))
    number = service.ingest(mail(ENGINEER, "我的显示器坏了", "闪屏。", n=40), "t").ticket_number
    reply = service.ingest(mail(ENGINEER, f"Re: [{number}]", "换了线还是闪。", n=41), "t")
    assert (reply.kind, reply.ticket_number) == ("threaded", number)


def test_a_refused_mail_gives_no_foothold_for_threading(make_sqlite_config: ConfigFactory) -> None:
    """Replying to one's own refused forgery must not thread into the ticket."""
    service = build_service(make_sqlite_config(extra=PEOPLE))
    number = service.ingest(mail(USER, "打印机坏了", "卡纸。", n=50), "t").ticket_number
    forged = mail(f"王工 <{ENGINEER}>", f"Re: [{number}]", "#close", n=51)
    assert service.ingest(forged, "t").kind == "refused"
    forged_id = email.message_from_bytes(forged)["Message-ID"]
    follow = mail("eve@evil.example", "Re: hello", "写进去了吗？", in_reply_to=forged_id, n=52)
    outcome = service.ingest(follow, "t")
    assert outcome.kind == "created" and outcome.ticket_number != number


def test_earlier_prefixes_still_thread(make_sqlite_config: ConfigFactory) -> None:
    cfg = make_sqlite_config(extra='[tickets]\nprefix = "HD"\nother_prefixes = ["IT"]\n')
    service = build_service(cfg)
    number = service.ingest(mail(USER, "显示器", "闪屏。", n=60), "t").ticket_number
    assert number.startswith("HD-")
    old_style = number.replace("HD-", "IT-")
    _set_number(service, number, old_style)
    reply = service.ingest(mail(USER, f"Re: [{old_style}]", "还在闪。", n=61), "t")
    assert (reply.kind, reply.ticket_number) == ("threaded", old_style)


def _set_number(service, number: str, new: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from maildesk.store.base import T_TICKETS

    with service.store.transaction() as tx:
        tx.c.execute(update(T_TICKETS).where(T_TICKETS.c.number == number).values(number=new))


def test_notification_lists_only_kept_attachments_by_safe_name(
    make_sqlite_config: ConfigFactory,
) -> None:
    from .test_attachments import mail_with

    service = build_service(make_sqlite_config(extra=PEOPLE))
    raw = mail_with(("../../evil.txt", "text/plain", b"x"), ("setup.exe", "application/x", b"M"))
    service.ingest(raw, "t")
    with service.store.transaction() as tx:
        note = next(r for r in outbox_rows.listing(tx) if r.kind == "notification")
        body = text_of(email.message_from_bytes(outbox_rows.raw(tx, note.id) or b""))
    assert "evil.txt" in body and "../" not in body and "setup.exe" not in body
