"""The knowledge base's one-pass regexes skip positions by a class of first characters
(kb/intents.ASKS_START, kb/tokens.MARKS_START).  That is only right while every row can
start with nothing else: worked out here from each row's parsed pattern, so a row added
with another first character fails this test instead of silently never matching."""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

import pytest

from maildesk.kb.intents import ASKS_START, INTENTS, asked
from maildesk.kb.tokens import MARKS, MARKS_START, marks

First = tuple[set[int] | None, bool]  # first code points (None: any), can match empty


def _sequence(items: Any) -> First:
    found: set[int] = set()
    for op, arg in items:
        chars, empty = _item(op, arg)
        if chars is None:
            return None, False
        found |= chars
        if not empty:
            return found, False
    return found, True


def _item(op: Any, arg: Any) -> First:
    if op is c.LITERAL:
        return {arg}, False
    if op is c.IN:
        found: set[int] = set()
        for kind, value in arg:
            if kind is c.LITERAL:
                found.add(value)
            elif kind is c.RANGE:
                found |= set(range(value[0], value[1] + 1))
            else:  # a negated class, a category (\s, \d): anything
                return None, False
        return found, False
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # \b, lookarounds: zero width
        return set(), True
    if op is c.SUBPATTERN:
        return _sequence(arg[-1])
    if op is c.BRANCH:
        union: set[int] = set()
        empty = False
        for branch in arg[1]:
            chars, nullable = _sequence(branch)
            if chars is None:
                return None, False
            union |= chars
            empty = empty or nullable
        return union, empty
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, _high, inner = arg
        chars, nullable = _sequence(inner)
        return chars, nullable or low == 0
    return None, False  # ., a negated literal, a back reference: anything


def first_characters(pattern: str) -> set[str]:
    chars, empty = _sequence(_parser.parse(pattern))
    assert chars is not None, f"{pattern!r} can start with any character"
    assert not empty, f"{pattern!r} can match the empty string"
    return {chr(point) for point in chars}


@pytest.mark.parametrize(
    ("patterns", "start"),
    [
        pytest.param([i.asks.pattern for i in INTENTS], ASKS_START, id="intents"),
        pytest.param([p.pattern for _, p in MARKS], MARKS_START, id="marks"),
    ],
)
def test_every_row_starts_with_a_character_of_the_class(patterns: list[str], start: str) -> None:
    allowed = re.compile(f"[{start}]")
    for pattern in patterns:
        outside = sorted(ch for ch in first_characters(pattern) if not allowed.match(ch))
        assert not outside, f"{pattern!r} can start with {outside}"


def test_the_worked_out_first_characters_are_those_of_the_pattern() -> None:
    assert first_characters(r"\bfrom (?:a )?backup|误删|(?:恢复|找回)?x") == {
        "f",
        "误",
        "恢",
        "找",
        "x",
    }
    with pytest.raises(AssertionError, match="any character"):
        first_characters(r"\s*盘")


def test_rows_are_still_found_in_one_pass() -> None:
    assert [i.name for i in asked("请问能帮我采购一台新电脑吗？\n另外误删了文件")] == [
        "purchase",
        "restore",
    ]
    assert [i.name for i in asked("Could we get a new projector for room 3?")] == [
        "new equipment",
        "meeting-room AV",
    ]
    assert marks("电脑越来越慢，C盘满了，又蓝了") == ["c盘", "慢", "蓝屏"]
    assert marks("forgot my password") == ["forgot"]
