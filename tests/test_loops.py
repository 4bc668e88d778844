"""May maildesk answer this message automatically?  Is it our own mail?"""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk import config
from maildesk.domain import Address, Inbound
from maildesk.pipeline.loops import LOOP_HEADER, is_own_mail, reply_refusal
from maildesk.pipeline.parse import parse

CFG = config.parse(
    """
[maildesk]
support_address = "IT-Support@Example.com"
own_addresses = ["Helpdesk@Example.com", "it@example.org"]
""",
    Path("/tmp/x/maildesk.toml"),
    env={},
)
OWN = CFG.all_own_addresses


def inbound(
    sender: str = "zhang.wei@example.com",
    headers: dict[str, str] | None = None,
    return_path: str | None = "zhang.wei@example.com",
) -> Inbound:
    return Inbound(
        message_id="m1@client.example.com",
        sender=Address("张伟", sender),
        return_path=return_path,
        to=(Address("", "it-support@example.com"),),
        cc=(),
        subject="电脑无法开机",
        date=None,
        in_reply_to="",
        references=(),
        text="早上开机后黑屏。",
        attachments=(),
        headers=headers or {},
    )


def test_own_addresses_are_lower_cased_in_the_config() -> None:
    assert frozenset({"it-support@example.com", "helpdesk@example.com", "it@example.org"}) == OWN


def test_a_normal_user_is_answered() -> None:
    assert reply_refusal(inbound(), OWN) is None


def test_a_normal_user_without_return_path_is_answered() -> None:
    assert reply_refusal(inbound(return_path=None), OWN) is None


@pytest.mark.parametrize(
    ("headers", "reason_part"),
    [
        ({"auto-submitted": "auto-replied"}, "auto-submitted"),
        ({"auto-submitted": "auto-generated"}, "auto-submitted"),
        ({"auto-submitted": "Auto-Replied; owner-email=x@example.com"}, "auto-submitted"),
        ({"auto-submitted": "auto-notified"}, "auto-submitted"),
        ({"x-autoreply": "yes"}, "auto-submitted"),
        ({"x-autorespond": "Out of office"}, "auto-submitted"),
        ({"precedence": "bulk"}, "bulk"),
        ({"precedence": "junk"}, "bulk"),
        ({"precedence": "list"}, "bulk"),
        ({"precedence": " Bulk "}, "bulk"),
        ({"precedence": "auto_reply"}, "bulk"),
        ({"list-id": "<it-news.lists.example.com>"}, "bulk"),
    ],
)
def test_automatic_mail_is_not_answered(headers: dict[str, str], reason_part: str) -> None:
    reason = reply_refusal(inbound(headers=headers), OWN)
    assert reason is not None
    assert reason_part in reason.lower()


@pytest.mark.parametrize(
    "headers",
    [
        {"auto-submitted": "no"},
        {"auto-submitted": " No "},
        {"precedence": "first-class"},
        {"precedence": "normal"},
        {"x-mailer": "Foxmail 7.2"},
    ],
)
def test_ordinary_headers_do_not_refuse(headers: dict[str, str]) -> None:
    assert reply_refusal(inbound(headers=headers), OWN) is None


def test_null_return_path_is_not_answered() -> None:
    reason = reply_refusal(inbound(return_path=""), OWN)
    assert reason is not None and "null sender" in reason


@pytest.mark.parametrize(
    "sender",
    ["mailer-daemon@mx.example.com", "MAILER-DAEMON@example.com", "postmaster@example.com"],
)
def test_system_senders_are_not_answered(sender: str) -> None:
    reason = reply_refusal(inbound(sender=sender), OWN)
    assert reason is not None and "system sender" in reason


def test_a_localpart_merely_containing_postmaster_is_answered() -> None:
    assert reply_refusal(inbound(sender="postmaster.wang@example.com"), OWN) is None


@pytest.mark.parametrize(
    "sender",
    ["it-support@example.com", "IT-SUPPORT@EXAMPLE.COM", "helpdesk@example.com", "It@Example.org"],
)
def test_own_addresses_are_not_answered_case_insensitively(sender: str) -> None:
    reason = reply_refusal(inbound(sender=sender), OWN)
    assert reason is not None and "own addresses" in reason


def test_similar_but_foreign_address_is_answered() -> None:
    assert reply_refusal(inbound(sender="it-support@example.com.cn"), OWN) is None


def test_refusal_from_parsed_mail() -> None:
    raw = (
        b"Return-Path: <>\r\n"
        b"From: MAILER-DAEMON@mx.example.com\r\n"
        b"Auto-Submitted: auto-replied\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n\r\nbounce"
    )
    assert reply_refusal(parse(raw), OWN) == "null sender (Return-Path <>)"
    raw = b"From: Boss <boss@example.com>\r\nPrecedence: list\r\nSubject: x\r\n\r\nhello"
    assert reply_refusal(parse(raw), OWN) == "message is bulk or list mail"
    raw = b"From: Boss <boss@example.com>\r\nAuto-Submitted: no\r\nSubject: x\r\n\r\nhello"
    assert reply_refusal(parse(raw), OWN) is None


def test_x_auto_response_suppress_is_not_answered() -> None:
    assert reply_refusal(inbound(headers={"x-auto-response-suppress": "All"}), OWN) is not None


def test_list_unsubscribe_is_not_answered() -> None:
    headers = {"list-unsubscribe": "<mailto:unsubscribe@news.example.com>"}
    assert reply_refusal(inbound(headers=headers), OWN) is not None


def test_multipart_report_is_not_answered() -> None:
    headers = {"content-type": "multipart/report; report-type=delivery-status; boundary=x"}
    assert reply_refusal(inbound(sender="bounces@mail.example.com", headers=headers), OWN)


# --- our own mail -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "own"),
    [
        ("example.com", True),
        ("Example.COM", True),
        ("  example.com  ", True),
        ("other.example.com", False),
        ("example.com.evil", False),
        ("", False),
    ],
)
def test_is_own_mail_by_loop_header(value: str, own: bool) -> None:
    assert is_own_mail(inbound(headers={"x-maildesk-loop": value}), "example.com") is own


def test_mail_without_loop_header_is_not_own() -> None:
    assert is_own_mail(inbound(), "example.com") is False


def test_is_own_mail_from_parsed_mail() -> None:
    raw = f"From: it-support@example.com\r\n{LOOP_HEADER}: example.com\r\n\r\nack".encode()
    assert is_own_mail(parse(raw), CFG.message_id_domain)
    assert CFG.message_id_domain == "Example.com"
    assert not is_own_mail(parse(raw), "example.org")
