"""Threading rules as a pure decision: which ticket, trusted or not, reopen or replace."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maildesk import config
from maildesk.domain import (
    Address,
    Facts,
    FollowUp,
    Ignore,
    Inbound,
    NewTicket,
    RecordBounce,
    TicketRef,
)
from maildesk.pipeline import correlate, numbering, plan, tags

from .test_correlate_plan import AUTO_REPLY, HUMAN, Verdict

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SECRET = "0123456789abcdef-threading"
CFG = config.parse(
    '[maildesk]\nsupport_address = "it-support@example.com"\n[tickets]\nother_prefixes = ["HD"]\n'
    f'[security]\nsecret = "{SECRET}"\n',
    Path("/tmp/x/maildesk.toml"),
    env={},
)
PATTERN = numbering.number_pattern(CFG.tickets.number_format, ("IT", "HD"))
REQUESTER = Address("张伟", "zhang.wei@example.com")
TICKET = TicketRef(7, "IT-20261122-0001", "in_progress", "电脑无法开机", REQUESTER.email,
                   watchers=frozenset({"li.na@example.com"}))  # fmt: skip


def mail(sender: Address = REQUESTER, **fields: object) -> Inbound:
    base = Inbound(
        message_id="m2@client.example.com", sender=sender, return_path=None,
        to=(Address("", "it-support@example.com"),), cc=(), subject="Re: 电脑无法开机",
        date=None, in_reply_to="", references=(), text="补充：还是不行。", attachments=(),
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "subject",
    [
        "Re: [IT-20261122-0001] 电脑无法开机",
        "RE: RE: [IT-20261122-0001]",
        "Fwd: IT-20261122-0001",
        "AW: [IT-20261122-0001] x",
        "回复: [IT-20261122-0001] 电脑无法开机",
        "答复：【IT-20261122-0001】电脑无法开机",
        "转发: 【 IT-20261122-0001 】",
        "回复：工单IT-20261122-0001已处理？",
        "re: [it-20261122-0001]",
        "Re: [HD-20261122-0001] old prefix",
    ],
)
def test_ticket_numbers_found_in_every_subject_style(subject: str) -> None:
    numbers = correlate.numbers_in(subject, PATTERN)
    assert numbers and numbers[0].endswith("20261122-0001")


def test_plus_address_names_the_ticket() -> None:
    message = mail(to=(Address("", "it-support+IT-20261122-0001@example.com"),))
    assert correlate.plus_numbers(message, CFG.support_address, PATTERN) == ["IT-20261122-0001"]
    other_domain = mail(to=(Address("", "it-support+IT-20261122-0001@evil.example"),))
    assert correlate.plus_numbers(other_domain, CFG.support_address, PATTERN) == []


def decide(message: Inbound, facts: Facts, auto: Verdict = HUMAN, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return plan.decide(message, facts, CFG, now, auto)


def test_requester_and_watcher_replies_thread_by_subject_number() -> None:
    for sender in (REQUESTER, Address("李娜", "li.na@example.com")):
        decision = decide(mail(sender), Facts(ticket_by_number=TICKET))
        assert isinstance(decision.action, FollowUp)
        assert decision.action.ticket == TICKET and decision.mails == ()


def test_stranger_naming_a_ticket_opens_a_new_linked_ticket() -> None:
    stranger = mail(Address("Eve", "eve@evil.example"))
    for facts in (Facts(ticket_by_number=TICKET), Facts(ticket_by_plus=TICKET)):
        decision = decide(stranger, facts)
        assert isinstance(decision.action, NewTicket)
        assert decision.action.linked_to == TICKET
        assert decision.action.link_reason == "untrusted_reference"
        assert decision.mails[0].notice == ""  # the stranger learns nothing about it


def test_references_prove_the_sender_got_our_mail() -> None:
    colleague = mail(Address("王强", "wang.qiang@example.com"))
    decision = decide(colleague, Facts(ticket_by_reference=TICKET))
    assert isinstance(decision.action, FollowUp)
    assert decision.action.matched_by == "references"


def test_reply_to_a_resolved_ticket_reopens_it() -> None:
    resolved = replace(TICKET, status="resolved")
    decision = decide(mail(), Facts(ticket_by_number=resolved))
    assert isinstance(decision.action, FollowUp) and decision.action.reopened


def test_reply_to_a_recently_closed_ticket_reopens_it_when_proven() -> None:
    closed = replace(TICKET, status="closed", closed_at=NOW - timedelta(days=6))
    ours = tags.signed_message_id(SECRET, TICKET.number, REQUESTER.email, "00112233", "x.com")
    decision = decide(mail(references=(ours,)), Facts(ticket_by_reference=closed))
    assert isinstance(decision.action, FollowUp) and decision.action.reopened
    claimed = decide(mail(), Facts(ticket_by_reference=closed))  # not a reply to our mail
    assert isinstance(claimed.action, FollowUp) and not claimed.action.reopened
    assert claimed.action.status is None and claimed.action.text == "补充：还是不行。"
    assert [m.kind for m in claimed.mails if m.kind == "claim_notice"] == ["claim_notice"]
    someone_elses = tags.signed_message_id(SECRET, TICKET.number, "li.na@example.com", "01", "x")
    leaked = decide(mail(references=(someone_elses,)), Facts(ticket_by_reference=closed))
    assert isinstance(leaked.action, FollowUp) and not leaked.action.reopened


def test_reply_to_a_long_closed_ticket_opens_a_linked_new_one_and_says_so() -> None:
    closed = replace(TICKET, status="closed", closed_at=NOW - timedelta(days=8))
    decision = decide(mail(), Facts(ticket_by_reference=closed))
    assert isinstance(decision.action, NewTicket)
    assert decision.action.linked_to == closed
    assert decision.mails[0].notice == "closed_ticket_replaced"


def test_auto_replies_never_reopen_nor_answer() -> None:
    resolved = replace(TICKET, status="resolved")
    decision = decide(mail(), Facts(ticket_by_reference=resolved), AUTO_REPLY)
    assert isinstance(decision.action, FollowUp)
    assert decision.action.note_only and not decision.action.reopened
    assert decision.mails == ()
    lost = decide(mail(), Facts(), AUTO_REPLY)
    assert isinstance(lost.action, Ignore) and lost.mails == ()


def test_bounce_is_recorded_not_ticketed() -> None:
    bounce = Verdict("bounce", "5.1.1 user unknown", ("gone@example.com",), "maildesk.IT-1.x@e")
    decision = decide(mail(), Facts(ticket_by_reference=TICKET), bounce)
    assert decision.action == RecordBounce("maildesk.IT-1.x@e", ("gone@example.com",),
                                           "5.1.1 user unknown")  # fmt: skip
    assert decision.mails == ()
    assert isinstance(decide(mail(), Facts(), Verdict("delay")).action, Ignore)


def test_cc_colleagues_become_watchers_but_not_our_addresses() -> None:
    cc = (
        Address("李娜", "Li.Na@example.com"),
        Address("", "it-support@example.com"),
        Address("", "it-support+IT-20261122-0001@example.com"),
        REQUESTER,
    )
    decision = decide(mail(cc=cc), Facts())
    assert isinstance(decision.action, NewTicket)
    assert decision.action.watchers == (Address("李娜", "li.na@example.com"),)
    ours = tags.signed_message_id(SECRET, TICKET.number, REQUESTER.email, "00112233", "x.com")
    colleague = (Address("王强", "wang.qiang@example.com"),)
    added = decide(mail(cc=colleague, references=(ours,)), Facts(ticket_by_number=TICKET)).action
    assert isinstance(added, FollowUp)
    assert added.add_watchers == (Address("王强", "wang.qiang@example.com"),)
    claimed = decide(mail(cc=colleague), Facts(ticket_by_number=TICKET))  # a forged From
    assert isinstance(claimed.action, FollowUp) and claimed.action.add_watchers == ()
    notice = [m for m in claimed.mails if m.kind == "claim_notice"]
    assert notice and notice[0].asked == ("watchers",)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (Facts(auto_mails_last_hour=10), "last hour"),
        (Facts(auto_mails_last_day=40), "last day"),
        (Facts(sender_bounced=True), "bounced"),
    ],
)
def test_rate_limits_and_bounce_cooldown_silence_answers(facts: Facts, reason: str) -> None:
    decision = decide(mail(), facts)
    assert isinstance(decision.action, NewTicket)
    assert decision.mails == ()
    assert decision.no_reply_reason and re.search(reason, decision.no_reply_reason)
