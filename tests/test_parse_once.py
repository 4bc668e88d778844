"""Issue 14: a message's header block is read by the parser once in full, and automail's
look at the headers Inbound does not keep reads the header block alone, never the body.

`parse.top_headers` must give exactly what the standard library's header parser gives
on the whole message (compat32 as parse() reads it): checked on our fixtures (line
endings LF, CR, CR LF and mixed, no blank line, no body, an mbox `From ` line, body
lines that look like headers), on every fixture under tests/fixtures and on the shared
corpus.  Counted, not timed: what classify hands the header parser for a message with
a large body.
"""

from __future__ import annotations

import email.feedparser
import email.message
import email.parser
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from maildesk.pipeline import automail, charsets
from maildesk.pipeline.automail import notices
from maildesk.pipeline.header_fields import RAW_HEADERS, top_headers
from maildesk.pipeline.parse import KEPT_HEADERS, parse

FIXTURES = Path(__file__).parent / "fixtures"
OURS = FIXTURES / "header_block"


def mail_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in (".json", ".md")
    )


def whole_message_headers(raw: bytes) -> list[tuple[str, str]]:
    """The headers as the header parser reads them from the whole message."""
    msg = email.parser.BytesHeaderParser(policy=RAW_HEADERS).parsebytes(raw)
    return [(name, str(value)) for name, value in msg.items()]


@pytest.mark.parametrize("path", mail_files(OURS), ids=lambda p: p.name)
def test_header_block_gives_the_headers_of_the_whole_message(path: Path) -> None:
    raw = path.read_bytes()
    assert top_headers(raw) == whole_message_headers(raw)


def test_body_lines_that_look_like_headers_stay_body() -> None:
    cases = {
        "body-looks-like-headers-lf.eml": ("auto-submitted", "x-failed-recipients"),
        "cr-only-line-endings.eml": ("precedence",),
        "no-blank-line.eml": ("x-autoreply", "list-id"),
        "mixed-lf-crlf.eml": ("x-autoreply",),
    }
    for name, body_only in cases.items():
        found = {field.lower() for field, _ in top_headers((OURS / name).read_bytes())}
        assert "subject" in found, name
        assert not found & set(body_only), name


def test_first_occurrence_and_mbox_line() -> None:
    fields = top_headers((OURS / "mbox-from-line.eml").read_bytes())
    assert [v for k, v in fields if k == "X-Mailer"] == ["first", "second"]
    assert all(not k.startswith("From ") for k, _ in fields)


def test_every_fixture_gives_the_same_headers() -> None:
    files = mail_files(FIXTURES)
    assert len(files) > 300
    differ = [
        str(p)
        for p in files
        if top_headers(p.read_bytes()) != whole_message_headers(p.read_bytes())
    ]
    assert differ == []


def test_every_corpus_message_gives_the_same_headers(corpus: Path) -> None:
    files = mail_files(corpus)
    differ = [
        str(p)
        for p in files
        if top_headers(p.read_bytes()) != whole_message_headers(p.read_bytes())
    ]
    assert differ == []


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of characters each use of the standard library's parser was fed."""
    sizes: list[int] = []
    original = email.feedparser.FeedParser.feed

    def feed(self: email.feedparser.FeedParser, data: str) -> None:
        sizes.append(len(data))
        original(self, data)

    monkeypatch.setattr(email.feedparser.FeedParser, "feed", feed)
    yield sizes


def header_block_size(raw: bytes) -> int:
    """Bytes up to and with the line break before the first empty line."""
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i >= 0]
    return min(ends) + 1 if ends else len(raw)


def ordinary_mail(body_lines: int) -> bytes:
    head = (
        b"From: =?utf-8?B?5byg5Lyf?= <zhang.wei@example.cn>\r\n"
        b"To: it-support@example.com\r\n"
        b"Subject: =?utf-8?B?5omT5Y2w5py6?=\r\n"
        b"Message-ID: <big-body@example.cn>\r\n"
        b"X-Mailer: Foxmail 7.2.25.228[cn]\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    return head + b"".join(f"日志第 {i} 行：卡纸\r\n".encode() for i in range(body_lines))


def test_classify_reads_the_header_block_not_the_body(fed: list[int]) -> None:
    raw = ordinary_mail(5000)
    inbound = parse(raw)
    assert sum(fed) >= len(raw)  # parse() reads the message once, whole
    fed.clear()
    assert automail.classify(raw, inbound) == automail.HUMAN
    assert 0 < sum(fed) <= header_block_size(raw)


def test_classify_does_not_parse_an_ordinary_message_again(fed: list[int]) -> None:
    for path in mail_files(FIXTURES / "replies_clients"):
        raw = path.read_bytes()
        inbound = parse(raw)
        fed.clear()
        if automail.classify(raw, inbound) == automail.HUMAN:
            assert sum(fed) <= header_block_size(raw), path.name


def test_declared_charsets_are_worked_out_once_per_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every header is decoded with the message's declared charsets as candidates; they
    are worked out once, not once per header (counted in charsets.normalize)."""
    asked: list[str | None] = []
    normalize = charsets.normalize
    monkeypatch.setattr(charsets, "normalize", lambda name: asked.append(name) or normalize(name))
    charsets.declared_charsets.cache_clear()
    inbound = parse((OURS / "maildir-lf-foxmail.eml").read_bytes())
    assert inbound.subject == "打印机卡纸"
    # once for the declared charsets, once for the body, once per encoded word (From, Subject)
    assert asked == ["gb2312"] * 4


def test_ticket_numbers_are_looked_for_only_in_acknowledgments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The acknowledgment rule needs wording and a ticket number; the number (a long
    pattern) is looked for only when the wording is there."""
    searched: list[str] = []

    class Recording:
        def __init__(self, pattern: re.Pattern[str]) -> None:
            self.pattern = pattern

        def search(self, text: str) -> re.Match[str] | None:
            searched.append(text)
            return self.pattern.search(text)

    monkeypatch.setattr(notices, "TICKET_NUMBER", Recording(notices.TICKET_NUMBER))
    person = ordinary_mail(3)
    assert automail.classify(person, parse(person)) == automail.HUMAN
    assert searched == []
    ack = (FIXTURES / "automatic" / "ack_cn_gongdan_noreply_gbk.eml").read_bytes()
    assert automail.classify(ack, parse(ack)).reason.startswith("acknowledgment: ")
    assert len(searched) == 1


def test_parse_reads_the_top_level_fields_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Message.get, get_all and `in` go through every field, lower-casing each name, per
    call; parse() reads the fields it keeps from one pass over them instead."""
    addresses = ("from", "sender", "reply-to", "to", "cc", "return-path")
    others = ("subject", "date", "message-id", "in-reply-to", "references")
    read = {*addresses, *others, *KEPT_HEADERS} - {"content-type"}  # parts' types: Message's
    asked: list[str] = []
    message = email.message.Message
    for method in ("get", "get_all", "__contains__"):
        original = getattr(message, method)

        def recording(self: email.message.Message, name: str, *rest: object, _o=original) -> object:
            asked.append(name.lower())
            return _o(self, name, *rest)

        monkeypatch.setattr(message, method, recording)
    for name in ("maildir-lf-foxmail.eml", "mbox-from-line.eml"):
        inbound = parse((OURS / name).read_bytes())
        assert inbound.sender.email
    assert [name for name in asked if name in read] == []


def test_each_part_charset_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A part's declared charset is a hint for the headers and the codec of its text:
    read once (get_content_charset parses the Content-Type parameters each time)."""
    read: list[int] = []
    original = email.message.Message.get_content_charset

    def recording(self: email.message.Message, failobj: object = None) -> object:
        read.append(id(self))
        return original(self, failobj)

    monkeypatch.setattr(email.message.Message, "get_content_charset", recording)
    for path in mail_files(FIXTURES / "replies_clients"):
        read.clear()
        parse(path.read_bytes())
        assert len(read) == len(set(read)), path.name
