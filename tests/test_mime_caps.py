"""Bounded work per message: the caps in pipeline/mime_caps.py, tested by counting (the
parser refuses exactly past each cap, names it and the numbers), never by the clock.
Timing lives in benchmarks/parse_worst_case.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maildesk.pipeline import html_text
from maildesk.pipeline.mime_caps import (
    ADDRESSES,
    CAPS,
    DEPTH,
    HEADER_BYTES,
    HTML_CHARS,
    PARTS,
    TEXT_CHARS,
    over_cap,
)
from maildesk.pipeline.parse import ParseError, parse

HEAD = b"From: Zhang Wei <zhang.wei@example.cn>\r\nSubject: caps\r\nMessage-ID: <c@x>\r\n"


def many_parts(n: int) -> bytes:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(n))
    return HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"


def nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for level in range(depth):
        b = b"=_level%d" % level
        body = (
            b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n--' + b + b"\r\n"
            + body + b"\r\n--" + b + b"--\r\n"
        )  # fmt: skip
    return HEAD + body


def recipients(n: int) -> bytes:
    to = b",\r\n ".join(b"<u%d@example.com>" % i for i in range(n))
    return HEAD + b"To: " + to + b"\r\n\r\nbody\r\n"


def test_every_cap_names_itself_and_both_numbers_in_its_reason() -> None:
    for cap in CAPS:
        reason = cap.reason(cap.limit + 1)
        assert cap.name in reason and f"{cap.limit:,}" in reason and f"{cap.limit + 1:,}" in reason
        assert cap.name in cap.beyond() and f"more than {cap.limit:,}" in cap.beyond()


def test_parts_up_to_the_cap_parse_and_one_more_is_refused() -> None:
    assert len(parse(many_parts(PARTS.limit)).text.split("part ")) == PARTS.limit + 1
    with pytest.raises(ParseError, match=f"MIME part cap: more than {PARTS.limit:,} MIME parts"):
        parse(many_parts(PARTS.limit + 1))


def test_the_part_count_stops_at_the_cap() -> None:
    assert over_cap(many_parts(50_000)) == PARTS.beyond()


def test_depth_up_to_the_cap_parses_and_one_more_is_refused() -> None:
    assert parse(nested(DEPTH.limit)).text == "innermost"
    with pytest.raises(ParseError, match=f"MIME depth cap: more than {DEPTH.limit:,} levels"):
        parse(nested(DEPTH.limit + 1))


def test_siblings_are_not_depth() -> None:
    wide = many_parts(PARTS.limit // 2)
    assert over_cap(wide) == ""


def test_nested_forwarded_messages_are_refused_past_the_depth_cap() -> None:
    body = b"Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for _ in range(DEPTH.limit):
        body = b"Content-Type: message/rfc822\r\n\r\n" + HEAD + body
    assert parse(HEAD + body).attachments[0].filename == "forwarded.eml"
    for _ in range(300):  # used to end in a RecursionError while flattening
        body = b"Content-Type: message/rfc822\r\n\r\n" + HEAD + body
    with pytest.raises(ParseError, match="MIME depth cap: more than"):
        parse(HEAD + body)


def test_header_size_cap() -> None:
    filler = b"X-Filler: " + b"a" * (HEADER_BYTES.limit + 10) + b"\r\n"
    with pytest.raises(ParseError, match="header size cap"):
        parse(HEAD + filler + b"\r\nbody\r\n")


def test_address_cap() -> None:
    assert len(parse(recipients(ADDRESSES.limit)).to) == ADDRESSES.limit
    with pytest.raises(ParseError, match=f"address cap: {ADDRESSES.limit + 1:,} addresses"):
        parse(recipients(ADDRESSES.limit + 1))


def test_body_text_over_its_cap_is_cut_and_says_so() -> None:
    raw = HEAD + b"Content-Type: text/plain\r\n\r\n" + b"x" * (TEXT_CHARS.limit + 100)
    text = parse(raw).text
    assert text.startswith("x" * TEXT_CHARS.limit)
    assert text.count("x") == TEXT_CHARS.limit + text.count("x", TEXT_CHARS.limit)
    assert "body text cap" in text and f"{TEXT_CHARS.limit + 100:,}" in text


def test_html_over_its_cap_is_cut_before_conversion_and_says_so() -> None:
    unit = b"<b>y</b>"  # markup-heavy, as HTML mail is: its text is within the text cap
    html = unit * (HTML_CHARS.limit // len(unit) + 100)
    raw = HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html
    text = parse(raw).text
    assert text.count("y") == HTML_CHARS.limit // len(unit)
    assert "HTML cap" in text and "body text cap" not in text


def test_flanker_endless_enclosures_are_quarantined_with_the_cap(corpus: Path) -> None:
    raw = (corpus / "flanker" / "enclosed-endless.eml").read_bytes()
    with pytest.raises(ParseError, match="MIME part cap"):
        parse(raw)


@pytest.mark.parametrize(
    "markup",
    ["<a " * 20_000, '<a x="' * 20_000, "<!--" * 20_000, "</" * 20_000, "<p>" * 20_000],
    ids=["unclosed-tags", "unclosed-quotes", "unclosed-comments", "end-tag-starts", "blocks"],
)
def test_hostile_html_is_one_pass(markup: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """html.parser rescanned unclosed constructs (20 KB of `<a ` took 5 s); the
    converter now makes at most one regex match per construct: counted, not timed."""
    calls = 0
    real = html_text.MARKUP

    class Counting:
        def search(self, text: str, pos: int) -> re.Match[str] | None:
            nonlocal calls
            calls += 1
            return real.search(text, pos)

    monkeypatch.setattr(html_text, "MARKUP", Counting())
    html_text.html_to_text(markup)
    assert calls <= markup.count("<") + 1


def test_html_conversion_keeps_text_blocks_entities_and_skips_scripts() -> None:
    markup = (
        "<html><head><title>t</title><style>p {color: red}</style></head><body>"
        "<p class='x' title=\"a > b\">打印机 &amp; 扫描仪</p><ul><li>一</li><li>二</li></ul>"
        "<script>if (a < b) document.write('<p>no</p>')</script>陶喆<br />镕基"
        "<meta http-equiv='Content-Type' charset=iso-8859-1'>尾</body></html>"
    )
    assert html_text.html_to_text(markup) == "打印机 & 扫描仪\n\n- 一\n\n- 二\n\n陶喆\n镕基尾"


def test_parts_are_counted_whatever_the_case_of_the_parameter_and_the_boundary() -> None:
    raw = (
        many_parts(PARTS.limit + 1)
        .replace(b'boundary="b"', b"BOUNDARY=Ab_C")
        .replace(b"--b", b"--Ab_C")
    )
    assert over_cap(raw) == PARTS.beyond()
    assert over_cap(raw.replace(b"BOUNDARY=Ab_C", b"boundary=ab_c")) == ""  # not its boundary
