"""Everyone hears what concerns them, in their language, through the real pipeline."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from maildesk.service import Service
from maildesk.store import outbox as outbox_rows
from maildesk.store import tickets

from .conftest import ConfigFactory, build_service
from .test_engineers import ENGINEER, USER, mail

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
groups = ["desktop"]
[[people]]
name = "陈组长"
email = "lead@example.com"
groups = ["network"]
role = "lead"
[[people]]
name = "赵经理"
email = "boss@example.com"
role = "manager"
"""


def sent(service: Service, to: str) -> list[EmailMessage]:
    with service.store.transaction() as tx:
        rows = [r for r in reversed(outbox_rows.listing(tx, limit=1000)) if to in r.recipients]
        raws = [outbox_rows.raw(tx, r.id) or b"" for r in rows]
    out = []
    for raw in raws:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def ack(service: Service) -> str:
    """The acknowledgment's Message-ID: a reply to it proves the requester."""
    return str(sent(service, USER)[0]["Message-ID"]).strip().strip("<>")


def started(make_sqlite_config: ConfigFactory) -> tuple[Service, str, EmailMessage]:
    service = build_service(make_sqlite_config(extra=PEOPLE))
    number = service.ingest(
        mail(f"张伟 <{USER}>", "VPN 连不上", "交换机坏了。", n=1), "t"
    ).ticket_number
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
    assert ticket is not None and ticket.assignee == ENGINEER
    return service, number, sent(service, ENGINEER)[0]


def engineer(service: Service, sender: str, body: str, parent: EmailMessage, n: int) -> str:
    parent_id = "".join(str(parent["Message-ID"]).split())
    return service.ingest(mail(sender, f"Re: {parent['Subject']}", body, parent_id, n), "t").kind


def test_new_assignee_is_told_and_can_command_at_once(make_sqlite_config: ConfigFactory) -> None:
    service, number, note = started(make_sqlite_config)
    assert engineer(service, f"王工 <{ENGINEER}>", "#指派 李工", note, 2) == "worked"
    told = sent(service, "li.gong@example.com")
    assert len(told) == 1 and "已指派给您" in text(told[0])
    assert engineer(service, "李工 <li.gong@example.com>", "#解决 已换网线", told[0], 3) == "worked"
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
    assert ticket is not None and ticket.status == "resolved"


def test_escalation_and_urgent_reach_lead_and_manager(make_sqlite_config: ConfigFactory) -> None:
    service, _, note = started(make_sqlite_config)
    assert (
        engineer(service, f"王工 <{ENGINEER}>", "#升级 需要厂商支持\n#优先级 紧急", note, 2)
        == "worked"
    )
    lead, boss = sent(service, "lead@example.com"), sent(service, "boss@example.com")
    assert len(lead) == 1 and len(boss) == 1  # once each, although two things happened
    assert "已升级" in text(lead[0]) and "紧急" in text(boss[0])


def test_follow_up_says_who_wrote_and_that_it_reopened(make_sqlite_config: ConfigFactory) -> None:
    service, number, note = started(make_sqlite_config)
    assert engineer(service, f"王工 <{ENGINEER}>", "#resolve 已修复", note, 2) == "worked"
    again = mail(f"张伟 <{USER}>", f"Re: [{number}] VPN 连不上", "又断了。", n=3)
    assert service.ingest(again, "t").kind == "threaded"
    latest = sent(service, ENGINEER)[-1]
    assert "来自 张伟" in text(latest) and "工单已重新打开" in text(latest)
    assert str(note["Message-ID"]).strip() in str(latest["References"])


def test_requesters_words_with_close_reach_the_assignee(make_sqlite_config: ConfigFactory) -> None:
    service, number, _ = started(make_sqlite_config)
    closing = mail(
        f"张伟 <{USER}>", f"Re: [{number}]", "#关闭\n谢谢，四楼也好了。", ack(service), 2
    )
    assert service.ingest(closing, "t").kind == "worked"
    latest = sent(service, ENGINEER)[-1]
    assert "已关闭工单" in text(latest) and "四楼也好了" in text(latest)


def test_requesters_status_shows_names_not_addresses(make_sqlite_config: ConfigFactory) -> None:
    service, number, _ = started(make_sqlite_config)
    asked = mail(f"张伟 <{USER}>", f"Re: [{number}]", "#状态", ack(service), 2)
    assert service.ingest(asked, "t").kind == "worked"
    answer = sent(service, USER)[-1]
    assert "处理人：王工" in text(answer) and ENGINEER.encode() not in answer.as_bytes()
    assert "新建" in text(answer) or "已指派" in text(answer)


def test_a_forgery_gives_a_stranger_no_way_into_the_ticket(
    make_sqlite_config: ConfigFactory,
) -> None:
    """A claimed mail's Message-ID is not remembered: replying to one's own forgery
    threads nowhere, and the stranger hears nothing of the ticket."""
    service, number, _ = started(make_sqlite_config)
    forged = mail(f"张伟 <{USER}>", f"Re: [{number}]", "#关闭\n好了", n=2)
    assert service.ingest(forged, "t").kind == "threaded"  # lands as text, closes nothing
    forged_id = str(email.message_from_bytes(forged)["Message-ID"]).strip("<>")
    follow = mail("attacker@evil.example", "Re: hello", "看看里面有什么", forged_id, 3)
    outcome = service.ingest(follow, "t")
    assert outcome.kind == "created" and outcome.ticket_number != number
    to_attacker = sent(service, "attacker@evil.example")
    assert [str(m["Subject"]) for m in to_attacker] == [f"[{outcome.ticket_number}] Re: hello"]
    with service.store.transaction() as tx:
        notices = [r.recipients for r in outbox_rows.listing(tx) if r.kind == "claim_notice"]
    assert notices == [(USER,)]  # the real requester heard of the forgery, nobody else
