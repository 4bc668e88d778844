"""Which ticket a message belongs to, and what maildesk decides to do about it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maildesk import config
from maildesk.domain import (
    Address,
    Facts,
    FollowUp,
    Ignore,
    Inbound,
    MailKind,
    MailPlan,
    NewTicket,
    Person,
    TicketRef,
)
from maildesk.pipeline import correlate, mails, plan
from maildesk.pipeline.parse import parse


@dataclass(frozen=True)
class Verdict:
    """Stands for automail.classify's result in these pure tests."""

    kind: str
    reason: str = ""
    failed_recipients: tuple[str, ...] = ()
    original_message_id: str = ""


HUMAN = Verdict("human")
AUTO_REPLY = Verdict("auto_reply", "Auto-Submitted: auto-replied")
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)

CFG = config.parse(
    """
[maildesk]
support_address = "it-support@example.com"
own_addresses = ["Helpdesk@Example.com"]

[tickets]
default_priority = "high"
default_category = "网络问题"
default_type = "service_request"
""",
    Path("/tmp/x/maildesk.toml"),
    env={},
)

TICKET = TicketRef(
    id=7,
    number="IT-20261122-0001",
    status="new",
    subject="打印机坏了",
    requester_email="Zhang.Wei@example.com",
)
OTHER_TICKET = replace(TICKET, id=8, number="IT-20261122-0002")
ZHANG = Address("张伟", "zhang.wei@example.com")


def inbound(
    sender: Address = ZHANG,
    *,
    message_id: str = "m2@client.example.com",
    in_reply_to: str = "",
    references: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
    subject: str = "电脑无法开机",
    return_path: str | None = None,
) -> Inbound:
    return Inbound(
        message_id=message_id,
        sender=sender,
        return_path=return_path,
        to=(Address("", "it-support@example.com"),),
        cc=(),
        subject=subject,
        date=None,
        in_reply_to=in_reply_to,
        references=references,
        text="早上开机后黑屏，风扇在转。",
        attachments=(),
        headers=headers or {},
    )


# --- correlate ---------------------------------------------------------------------------


def test_number_from_the_requester_is_trusted() -> None:
    found = correlate.find(inbound(), Facts(ticket_by_number=TICKET))
    assert found == correlate.Match(TICKET, "subject number", trusted=True)


def test_number_from_the_requester_beats_references() -> None:
    facts = Facts(ticket_by_number=TICKET, ticket_by_reference=OTHER_TICKET)
    found = correlate.find(inbound(), facts)
    assert found is not None
    assert (found.ticket, found.matched_by) == (TICKET, "subject number")


def test_number_from_a_stranger_is_not_trusted() -> None:
    stranger = inbound(Address("Eve", "eve@evil.example"))
    found = correlate.find(stranger, Facts(ticket_by_number=TICKET))
    assert found == correlate.Match(TICKET, "subject number", trusted=False)


def test_stranger_with_references_is_matched_by_references() -> None:
    stranger = inbound(Address("李娜", "li.na@example.com"), in_reply_to="ack@example.com")
    facts = Facts(ticket_by_number=TICKET, ticket_by_reference=OTHER_TICKET)
    found = correlate.find(stranger, facts)
    assert found == correlate.Match(OTHER_TICKET, "references", trusted=True)


def test_no_facts_means_no_follow_up() -> None:
    assert correlate.find(inbound(), Facts()) is None


def test_referenced_ids_newest_first_without_duplicates() -> None:
    message = inbound(in_reply_to="c@x", references=("a@x", "b@x", "c@x"))
    assert correlate.referenced_ids(message) == ["c@x", "b@x", "a@x"]
    assert correlate.referenced_ids(inbound()) == []
    assert correlate.referenced_ids(inbound(references=("a@x", "", "b@x"))) == ["b@x", "a@x"]


# --- plan.decide -------------------------------------------------------------------------


def test_own_loop_mail_is_ignored() -> None:
    own = inbound(headers={"x-maildesk-loop": "example.com"})
    decision = plan.decide(own, Facts(ticket_by_reference=TICKET), CFG, NOW, HUMAN)
    assert isinstance(decision.action, Ignore)
    assert "X-Maildesk-Loop" in decision.action.reason
    assert decision.mails == ()


def test_loop_header_of_another_installation_is_not_ignored() -> None:
    other = inbound(headers={"x-maildesk-loop": "other.example"})
    assert isinstance(plan.decide(other, Facts(), CFG, NOW, HUMAN).action, NewTicket)


def test_follow_up_sends_no_mail() -> None:
    reply = inbound(in_reply_to="maildesk.IT-20261122-0001.x@example.com")
    decision = plan.decide(reply, Facts(ticket_by_reference=TICKET), CFG, NOW, HUMAN)
    assert decision.action == FollowUp(TICKET, reply.text, "references")
    assert decision.mails == ()
    assert decision.no_reply_reason is None


def test_new_ticket_gets_an_acknowledgment_threaded_to_the_message() -> None:
    message = inbound(
        message_id="m2@client.example.com",
        in_reply_to="m1@client.example.com",
        references=("m0@client.example.com", "m1@client.example.com"),
    )
    decision = plan.decide(message, Facts(), CFG, NOW, HUMAN)
    assert decision.action == NewTicket(
        subject="电脑无法开机",
        description="早上开机后黑屏，风扇在转。",
        requester=Address("张伟", "zhang.wei@example.com"),
        department="",
        employee_id="",
        priority="high",
        category="网络问题",
        type="service_request",
    )
    assert decision.no_reply_reason is None
    assert decision.mails == (MailPlan(MailKind.ACK, text="早上开机后黑屏，风扇在转。"),)
    ack = mails.address(decision.mails, message.sender, (), frozenset())[0]
    origin = mails.History("m2@client.example.com", ())
    assert mails.thread(ack, origin, message) == mails.Threading(
        "m2@client.example.com",
        ("m0@client.example.com", "m1@client.example.com", "m2@client.example.com"),
    )
    assert ack.to == Address("张伟", "zhang.wei@example.com")


def test_acknowledgment_without_message_id() -> None:
    message = inbound(message_id="", references=("a@x",))
    decision = plan.decide(message, Facts(), CFG, NOW, HUMAN)
    ack = mails.address(decision.mails, message.sender, (), frozenset())[0]
    assert mails.thread(ack, mails.History("", ()), message) == mails.Threading("a@x", ("a@x",))


def test_empty_subject_gets_a_placeholder() -> None:
    action = plan.decide(inbound(subject=""), Facts(), CFG, NOW, HUMAN).action
    assert isinstance(action, NewTicket)
    assert action.subject == "(no subject)"


@pytest.mark.parametrize(
    ("message", "reason_part"),
    [
        (inbound(headers={"auto-submitted": "auto-replied"}), "auto-submitted"),
        (inbound(headers={"precedence": "bulk"}), "bulk"),
        (inbound(return_path=""), "null sender"),
        (inbound(Address("", "MAILER-DAEMON@mx.example.com")), "system sender"),
        (inbound(Address("", "helpdesk@example.com")), "own addresses"),
    ],
)
def test_automatic_mail_opens_a_ticket_but_is_not_answered(
    message: Inbound, reason_part: str
) -> None:
    decision = plan.decide(message, Facts(), CFG, NOW, HUMAN)
    assert isinstance(decision.action, NewTicket)
    assert decision.action.requester.email == message.sender.email
    assert decision.mails == ()
    assert decision.no_reply_reason is not None
    assert reason_part in decision.no_reply_reason.lower()


def test_auto_reply_to_our_ack_is_a_follow_up_without_mail() -> None:
    auto = inbound(
        headers={"auto-submitted": "auto-replied"},
        in_reply_to="maildesk.IT-20261122-0001.abc@example.com",
    )
    decision = plan.decide(auto, Facts(ticket_by_reference=TICKET), CFG, NOW, AUTO_REPLY)
    assert isinstance(decision.action, FollowUp)
    assert decision.mails == ()


def test_directory_person_fills_department_and_employee_id() -> None:
    person = Person("zhang.wei@example.com", "张伟（目录）", "财务部", "E10023")
    with_name = plan.decide(inbound(), Facts(requester=person), CFG, NOW, HUMAN).action
    assert isinstance(with_name, NewTicket)
    assert (with_name.department, with_name.employee_id) == ("财务部", "E10023")
    assert with_name.requester == Address("张伟", "zhang.wei@example.com")  # mail name wins

    nameless = inbound(Address("", "zhang.wei@example.com"))
    action = plan.decide(nameless, Facts(requester=person), CFG, NOW, HUMAN).action
    assert isinstance(action, NewTicket)
    assert action.requester == Address("张伟（目录）", "zhang.wei@example.com")


def test_decide_on_parsed_mail() -> None:
    raw = (
        "From: =?UTF-8?B?5byg5Lyf?= <Zhang.Wei@Example.com>\r\n"
        "To: it-support@example.com\r\n"
        "Subject: =?gb2312?B?tPLTobv6?=\r\n"
        "Message-ID: <new-1@client.example.com>\r\n"
        "\r\n"
        "打印机卡纸。\r\n"
    ).encode()
    message = parse(raw)
    decision = plan.decide(message, Facts(), CFG, NOW, HUMAN)
    assert isinstance(decision.action, NewTicket)
    assert decision.action.subject == "打印机"
    assert decision.action.description == "打印机卡纸。"
    assert decision.mails[0].kind is MailKind.ACK
    ack = mails.address(decision.mails, message.sender, (), frozenset())[0]
    assert ack.to == Address("张伟", "zhang.wei@example.com")
    threading = mails.thread(ack, mails.History("new-1@client.example.com", ()), message)
    assert threading.in_reply_to == "new-1@client.example.com"
    assert threading.references == ("new-1@client.example.com",)
