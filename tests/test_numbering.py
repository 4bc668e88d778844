"""Ticket numbers: formatting them, their per-day counters, and finding them in subjects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from maildesk.pipeline.correlate import numbers_in
from maildesk.pipeline.numbering import counter_key, format_number, number_pattern

DEFAULT = "{prefix}-{date:%Y%m%d}-{seq:04d}"
SHANGHAI = "Asia/Shanghai"
# 17:00 UTC on the 21st is 01:00 on the 22nd in Shanghai (UTC+8)
LATE_UTC = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)


def test_default_format_uses_the_local_date() -> None:
    assert format_number(DEFAULT, "IT", LATE_UTC, SHANGHAI, 1) == "IT-20261122-0001"


def test_default_format_just_before_local_midnight() -> None:
    before = datetime(2026, 11, 21, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    assert format_number(DEFAULT, "IT", before, SHANGHAI, 12) == "IT-20261121-0012"


def test_format_with_other_offsets_and_zones() -> None:
    plus8 = datetime(2026, 11, 22, 0, 30, tzinfo=timezone(timedelta(hours=8)))
    assert format_number(DEFAULT, "IT", plus8, SHANGHAI, 3) == "IT-20261122-0003"
    assert format_number(DEFAULT, "IT", LATE_UTC, "UTC", 3) == "IT-20261121-0003"
    assert format_number(DEFAULT, "IT", LATE_UTC, "America/New_York", 3) == "IT-20261121-0003"


def test_sequence_wider_than_its_padding() -> None:
    assert format_number(DEFAULT, "HD", LATE_UTC, SHANGHAI, 123456) == "HD-20261122-123456"


def test_format_without_date() -> None:
    assert format_number("{prefix}{seq:06d}", "IT", LATE_UTC, SHANGHAI, 42) == "IT000042"


def test_format_with_a_separated_date() -> None:
    fmt = "{prefix}-{date:%Y-%m-%d}-{seq:03d}"
    assert format_number(fmt, "IT", LATE_UTC, SHANGHAI, 7) == "IT-2026-11-22-007"


def test_counter_key_is_per_local_day() -> None:
    assert counter_key(DEFAULT, LATE_UTC, SHANGHAI) == "20261122"
    assert counter_key(DEFAULT, LATE_UTC - timedelta(hours=1, seconds=1), SHANGHAI) == "20261121"
    assert counter_key(DEFAULT, LATE_UTC, "UTC") == "20261121"


def test_counter_key_without_date_never_resets() -> None:
    assert counter_key("{prefix}-{seq:06d}", LATE_UTC, SHANGHAI) == "all"
    assert counter_key("{seq}", LATE_UTC + timedelta(days=400), SHANGHAI) == "all"


# --- finding numbers in subjects ---------------------------------------------------------

PATTERN = number_pattern(DEFAULT, ("IT",))


@pytest.mark.parametrize(
    ("subject", "found"),
    [
        ("Re: [IT-20261122-0001] 打印机坏了", ["IT-20261122-0001"]),
        ("回复：【IT-20261122-0001】打印机坏了", ["IT-20261122-0001"]),
        ("RE:IT-20261122-0012", ["IT-20261122-0012"]),
        ("re: it-20261122-0001 still broken", ["IT-20261122-0001"]),
        ("Fwd: (It-20261122-0001)", ["IT-20261122-0001"]),
        ("工单 IT-20261122-0001。", ["IT-20261122-0001"]),
        ("IT-20261122-0001, IT-20261123-0002", ["IT-20261122-0001", "IT-20261123-0002"]),
        ("Re: IT-20261122-0001.", ["IT-20261122-0001"]),
        ("#IT-20261122-0001#", ["IT-20261122-0001"]),
        # the sequence outgrows its padding after 9999 tickets a day: still a number
        ("IT-20261122-12345", ["IT-20261122-12345"]),
        # not inside longer tokens
        ("XIT-20261122-0001", []),
        ("IT-20261122-00012-3", []),
        ("IT-20261122-0001-3", []),
        ("PRE-IT-20261122-0001", []),
        ("IT-20261122-0001a", []),
        ("_IT-20261122-0001", []),
        ("IT-20261122-0001_x", []),
        ("IT_20261122_0001", []),
        ("IT-2026-11-22-0001", []),
        ("IT20261122-0001", []),
        ("no number here", []),
        ("", []),
    ],
)
def test_number_pattern_in_subjects(subject: str, found: list[str]) -> None:
    assert numbers_in(subject, PATTERN) == found


def test_match_group_is_the_number_as_written() -> None:
    match = PATTERN.search("回复：【it-20261122-0001】")
    assert match is not None
    assert match.group(1) == "it-20261122-0001"


def test_multiple_prefixes() -> None:
    pattern = number_pattern(DEFAULT, ("IT", "HR", "A.B"))
    subject = "HR-20261122-0001 / IT-20261122-0002 / a.b-20261122-0003 / AxB-20261122-0004"
    assert numbers_in(subject, pattern) == [
        "HR-20261122-0001",
        "IT-20261122-0002",
        "A.B-20261122-0003",
    ]
    assert numbers_in("OA-20261122-0001", pattern) == []


def test_pattern_for_a_format_without_separators_or_date() -> None:
    pattern = number_pattern("{prefix}{seq:06d}", ("HD",))
    assert numbers_in("Re: [HD000042] 密码重置", pattern) == ["HD000042"]
    assert numbers_in("HDX000042", pattern) == []


def test_every_formatted_number_is_found_again() -> None:
    fmt = "{prefix}#{date:%y%m%d}/{seq:05d}"
    number = format_number(fmt, "T", LATE_UTC, SHANGHAI, 9)
    assert number == "T#261122/00009"
    assert numbers_in(f"Re: [{number}] x", number_pattern(fmt, ("T",))) == [number]


def test_numbers_with_a_separated_date_are_found_again() -> None:
    fmt = "{prefix}-{date:%Y-%m-%d}-{seq:04d}"
    number = format_number(fmt, "IT", LATE_UTC, SHANGHAI, 1)
    assert number == "IT-2026-11-22-0001"
    assert numbers_in(f"Re: [{number}] 打印机", number_pattern(fmt, ("IT",))) == [number]


@pytest.mark.parametrize(
    "subject",
    ["工单IT-20261122-0001已处理吗", "回复：关于IT-20261122-0001的问题", "IT-20261122-0001打印机"],
)
def test_number_next_to_chinese_text_is_found(subject: str) -> None:
    assert numbers_in(subject, PATTERN) == ["IT-20261122-0001"]
