"""format=flowed (RFC 3676): soft line breaks joined, so a ticket shows the lines the
person wrote, not the wraps their client made."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk.pipeline.flowed import unflow
from maildesk.pipeline.parse import parse
from maildesk.pipeline.reply_text import visible_text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "flowed"


@pytest.mark.parametrize(
    ("flowed", "delsp", "expected"),
    [
        ("one \ntwo\nthree", False, "one two\nthree"),  # a soft break joins, keeping its space
        ("一二 \n三", True, "一二三"),  # delsp=yes deletes the space of the soft break
        ("a \n> b", False, "a \n> b"),  # no join across a change of quote depth
        ("> a \n> b", False, "> a b"),  # joined inside one quote depth
        (">> a \n>> b\n> c", False, ">> a b\n> c"),
        ("-- \nName", False, "-- \nName"),  # the signature separator is never flowed
        (" >not a quote", False, ">not a quote"),  # space-stuffing removed
        ("  two spaces", False, " two spaces"),
        ("last \n", False, "last "),  # a soft break before the end joins nothing
        ("", False, ""),
    ],
)
def test_unflow(flowed: str, delsp: bool, expected: str) -> None:
    assert unflow(flowed, delsp) == expected


def test_thunderbird_reply_shows_its_sentences_unwrapped() -> None:
    inbound = parse((FIXTURES / "thunderbird-flowed.eml").read_bytes())
    assert visible_text(inbound.text) == (
        "The printer is PRN-3F-02, the one next to the meeting room on the third floor. "
        'It shows "Paper jam in tray 2" but there is no paper stuck, I looked twice.'
    )


def test_apple_mail_delsp_joins_chinese_without_a_space() -> None:
    inbound = parse((FIXTURES / "applemail-delsp-zh.eml").read_bytes())
    assert (
        inbound.text
        == "打印机还是连不上，我已经按照你们说的重启了电脑和打印机，但是打印的时候还是提示脱机。"
    )


def test_text_not_marked_flowed_keeps_its_line_breaks() -> None:
    raw = (FIXTURES / "thunderbird-flowed.eml").read_bytes().replace(b"; format=flowed", b"")
    assert "third \nfloor" in parse(raw).text


def test_a_huge_flowed_body_is_cut_to_the_text_cap() -> None:
    """A flowed body that is one endless paragraph is cut to the body-text cap (the
    joining is linear: benchmarks, not a timed assert)."""
    head = (FIXTURES / "applemail-delsp-zh.eml").read_bytes().split(b"\r\n\r\n", 1)[0]
    inbound = parse(head + b"\r\n\r\n" + b"a \r\n" * 300_000)
    assert 0 < len(inbound.text) <= 200_000 + 200
