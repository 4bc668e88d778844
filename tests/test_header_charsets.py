"""Headers as Chinese (and other) clients really write them: raw 8-bit bytes in a
message whose declared charsets may be wrong, encoded words with spaces inside or broken
across lines, white space kept as written.  Fixtures: tests/fixtures/charsets/*.eml,
expectations in its expected.json (also read by benchmarks/header_mojibake.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from maildesk.pipeline.charsets import decode_header_value
from maildesk.pipeline.correlate import numbers_in
from maildesk.pipeline.parse import parse
from maildesk.pipeline.plausible import guess_header_bytes, implausible
from maildesk.pipeline.routing import _phrase, fold

FIXTURES = Path(__file__).parent / "fixtures" / "charsets"
EXPECTED: dict[str, dict[str, str]] = json.loads(
    (FIXTURES / "expected.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_subject_and_display_name(name: str) -> None:
    inbound = parse((FIXTURES / name).read_bytes())
    assert inbound.subject == EXPECTED[name]["subject"], EXPECTED[name]["note"]
    assert inbound.sender.name == EXPECTED[name]["from_name"], EXPECTED[name]["note"]


@pytest.mark.parametrize(
    "text",
    ["×ª·¢£º", "·þÎñÆ÷", "L黷kebohle", "R閡nion", "H閘鑞e", "Rйunion", "ЂЃюяЂЃ",
     "瘻랙：륩蛟포뻐죄", "桲帡", "a\ufffdb", "x\x85y"],
)  # fmt: skip
def test_mojibake_is_implausible(text: str) -> None:
    assert implausible(text)


@pytest.mark.parametrize(
    "text",
    ["转发：服务器坏了", "陶喆和朱镕基", "臺灣報告", "会議室の予約", "한국어 메일", "Grüße €",
     "Ää Öö Üü ß", "Привет мир", "IT服务台", "用VPN连接IT部门", "plain ascii", "“quoted”"],
)  # fmt: skip
def test_real_text_is_plausible(text: str) -> None:
    assert implausible(text) == ""


@pytest.mark.parametrize(
    ("text", "codec", "declared"),
    [
        ("转发：服务器坏了", "gbk", ("cp1252",)),  # declared charset that never fails
        ("张伟", "gbk", ("cp1252",)),
        ("臺灣報告", "big5", ()),
        ("会議室の予約", "cp932", ()),
        ("Réunion", "latin-1", ()),
        ("Crème brûlée", "latin-1", ("utf-8",)),
        ("Привет мир", "cp1251", ()),
        ("한국어 메일", "cp949", ("cp949",)),
    ],
)
def test_raw_header_bytes_take_the_first_plausible_charset(
    text: str, codec: str, declared: tuple[str, ...]
) -> None:
    assert guess_header_bytes(text.encode(codec), declared) == text


def test_nothing_plausible_gives_replacement_characters_not_a_wrong_script() -> None:
    assert "\ufffd" in guess_header_bytes(b"\x80\x81\xfe\xff\x80\x81")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?gb2312?B?1tC5?= =?gb2312?B?+g==?=", "中国"),
        ("=?utf-8?Q?hello world?=", "hello world"),
        ("=?utf-8?B?5omT5Y2w 5py6?=", "打印机"),
        ("=?utf-8?B?5omT5Y2w\r\n 5py6?=", "打印机"),
        ("=?utf-8?Q?=E6=89=93=E5=8D=B0=E6=9C=BA_=E5=9D=8F?=", "打印机 坏"),
        ("abc=?utf-8?B?5omT5Y2w5py6?=def", "abc打印机def"),
        ("=?UTF-8?b?5omT5Y2w5py6?=", "打印机"),
        ("=?utf-8*zh?B?5omT5Y2w5py6?=", "打印机"),
        ("=?gb_2312-80?B?tPLTobv6?=", "打印机"),
        ("=?x-gbk?B?tPLTobv6?=", "打印机"),
        ("=?cp936?B?tPLTobv6?=", "打印机"),
        ("=?iso-8859-1?B?tPLTobv6?=", "打印机"),  # mislabelled: GB2312 bytes
        ("=?no-such-charset?Q?r=E9union?=", "réunion"),
    ],
)
def test_encoded_words_as_clients_decode_them(value: str, expected: str) -> None:
    assert decode_header_value(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  printer   not  working  ", "printer   not  working"),
        ("打印机　　无法打印\u3000", "打印机　　无法打印"),
        ("the printer on\r\n\tfloor 3", "the printer on floor 3"),  # unfolding, not collapse
        ("a\tb", "a b"),
    ],
)
def test_white_space_is_kept_and_only_the_ends_trimmed(value: str, expected: str) -> None:
    assert decode_header_value(value) == expected


def test_routing_and_ticket_numbers_do_not_need_collapsed_spaces() -> None:
    """Keyword phrases match across runs of spaces and U+3000 (`\\s+`), ticket numbers
    and plain keywords are single words: nothing downstream relied on collapsing."""
    subjects = ("printer not   working", "Re:  [IT-20261202-0001]　打印机")
    for subject in subjects:
        assert decode_header_value(subject) == subject
    phrase = re.compile(_phrase(fold("not working")))
    assert phrase.search(fold(decode_header_value(subjects[0])))
    assert phrase.search(fold("printer not\u3000working"))
    number = re.compile(r"\b(IT-\d{8}-\d{4})\b", re.IGNORECASE)
    assert numbers_in(decode_header_value(subjects[1]), number) == ["IT-20261202-0001"]


@pytest.mark.parametrize(
    ("header", "names"),
    [
        (b"To: Zhang  Wei <z@example.cn>", ["Zhang  Wei"]),  # unquoted: getaddresses collapses
        ("To: 张  伟 <z@example.cn>".encode(), ["张  伟"]),
        (b'To: "Li  Na" <l@example.cn>, Wang Wu <w@example.cn>', ["Li  Na", "Wang Wu"]),
        (
            b"To: A  B <a@example.cn>, A B <b@example.cn>, C\t\tD <c@example.cn>",
            ["A  B", "A B", "C\t\tD"],
        ),
        ("To: 张　　伟 <z@example.cn>".encode(), ["张　　伟"]),
    ],
)
def test_display_names_keep_their_white_space(header: bytes, names: list[str]) -> None:
    raw = b"From: it@example.cn\r\n" + header + b"\r\nSubject: x\r\n\r\nbody\r\n"
    assert [a.name for a in parse(raw).to] == [n.replace("\t", " ") for n in names]
