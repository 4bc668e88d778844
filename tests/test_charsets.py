"""The charset fallback chain: declared charset widened, then UTF-8, GB18030, Big5-HKSCS,
Latin-1.  Never raises, never produces U+FFFD for text some codec in the chain can read."""

from __future__ import annotations

import base64
import random

import pytest

from maildesk.pipeline.charsets import decode_bytes, decode_header_value, normalize

GBK_ONLY = "陶喆和朱镕基"  # 喆 and 镕 are in GBK but not in GB2312
HKSCS_ONLY = "香港㗎"  # 㗎 is in Big5-HKSCS but not in plain Big5


def test_the_test_strings_really_need_the_supersets() -> None:
    with pytest.raises(UnicodeEncodeError):
        GBK_ONLY.encode("gb2312")
    with pytest.raises(UnicodeEncodeError):
        HKSCS_ONLY.encode("big5")


@pytest.mark.parametrize(
    ("declared", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GB2312", "gb18030"),
        ('"gb2312"', "gb18030"),
        (" gbk ", "gb18030"),
        ("cp936", "gb18030"),
        ("x-gbk", "gb18030"),
        ("euc-cn", "gb18030"),
        ("gb18030", "gb18030"),
        ("big5", "big5hkscs"),
        ("Big5", "big5hkscs"),
        ("x-big5", "big5hkscs"),
        ("cp950", "big5hkscs"),
        ("iso-8859-1", "cp1252"),
        ("us-ascii", "utf-8"),
        ("unknown-8bit", "utf-8"),
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ("shift_jis", "cp932"),
    ],
)
def test_normalize_widens_declared_charsets(declared: str, codec: str) -> None:
    assert normalize(declared) == codec


@pytest.mark.parametrize("declared", [None, "", "x-no-such-charset", "utf-8*en", '""'])
def test_normalize_unknown_or_absent_is_none(declared: str | None) -> None:
    assert normalize(declared) is None


@pytest.mark.parametrize(
    ("text", "encoding", "declared"),
    [
        (GBK_ONLY, "gbk", "gb2312"),
        (GBK_ONLY, "gbk", "GB2312"),
        ("生僻字䶮𠀀", "gb18030", "gb2312"),
        (HKSCS_ONLY, "big5hkscs", "big5"),
        ("繁體中文報告", "big5", "big5"),
        ("Grüße €", "cp1252", "iso-8859-1"),
        ("日本語のメール", "cp932", "shift_jis"),
    ],
)
def test_declared_charset_is_widened_to_its_superset(
    text: str, encoding: str, declared: str
) -> None:
    assert decode_bytes(text.encode(encoding), declared) == text


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        # no charset: UTF-8 first
        ("无法登录 ✓".encode(), None, "无法登录 ✓"),
        # no charset, not UTF-8: GB18030 next
        (GBK_ONLY.encode("gbk"), None, GBK_ONLY),
        # declared wrongly as ASCII (widened to UTF-8), really GBK
        (GBK_ONLY.encode("gbk"), "us-ascii", GBK_ONLY),
        # declared Big5 but really UTF-8: the declared codec fails, UTF-8 is next
        ("数据安全 ✓".encode(), "big5", "数据安全 ✓"),
        # declared UTF-8 but really GBK
        ("服务器坏了".encode("gbk"), "utf-8", "服务器坏了"),
        # an unknown declared charset falls through to the chain
        ("服务器坏了".encode("gbk"), "x-made-up", "服务器坏了"),
        # nothing in the chain can read it: Latin-1, byte for byte
        (b"caf\xe9 \xff", None, "caf\xe9 \xff"),
        (b"\x80\xff", "utf-8", "\x80\xff"),
        (b"", None, ""),
        (b"", "gb2312", ""),
    ],
)
def test_fallback_chain(data: bytes, declared: str | None, expected: str) -> None:
    assert decode_bytes(data, declared) == expected


def test_gb18030_is_tried_before_big5() -> None:
    """Undeclared bytes valid in both are read as GB18030 (the chain's order)."""
    data = "中文".encode("gb18030")
    assert decode_bytes(data) == "中文"
    assert decode_bytes(data, "big5") == data.decode("big5hkscs") != "中文"


def test_never_raises_and_never_leaves_surrogates_on_random_bytes() -> None:
    declared_choices = [None, "gb2312", "big5", "utf-8", "iso-8859-1", "bogus", "utf-16"]
    seen_latin1 = 0
    for seed in range(200):
        rng = random.Random(seed)
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        declared = declared_choices[seed % len(declared_choices)]
        text = decode_bytes(data, declared)
        assert isinstance(text, str)
        text.encode("utf-8")
        if text == data.decode("latin-1") and data and max(data) > 0x7F:
            seen_latin1 += 1
    assert seen_latin1 > 0  # the last resort is exercised


# --- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        ("plain ascii", "plain ascii"),
        ("folded\r\n over\r\n\tthree lines", "folded over three lines"),
        ("  lots   of    space  ", "lots   of    space"),  # kept as written, ends trimmed
        ("=?utf-8?B?5omT5Y2w5py6?=", "打印机"),
        ("=?UTF-8?Q?=E6=89=93=E5=8D=B0=E6=9C=BA_=E5=9D=8F?=", "打印机 坏"),
        ("=?gb2312?B?tPLTobv6?=", "打印机"),
        ("=?gbk?B?zNWGtA==?=", "陶喆"),
        ("=?gb2312?B?zNWGtA==?=", "陶喆"),
        ("=?big5?B?pKSk5Q==?=", "中文"),
        # folded between adjacent encoded words: joined without the whitespace
        ("=?utf-8?B?5omT5Y2w?=\r\n =?utf-8?B?5py6?=", "打印机"),
        ("Re: =?gb2312?B?tPLTobv6?= (3F)", "Re: 打印机 (3F)"),
        # an unknown charset in an encoded word: decoded through the chain
        ("=?x-unknown-thing?B?5omT5Y2w5py6?=", "打印机"),
    ],
)
def test_decode_header_value(value: str | None, expected: str) -> None:
    assert decode_header_value(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "=?utf-8?B?5omT5Y2w5py6",  # unterminated
        "=?utf-8?Q?abc",
        "=?utf-8?B?5omT5Y2w5p?=",  # bad base64 padding
        "=?utf-8?B?!!!?=",
        "=??B?5omT?=",
        "=?utf-8?X?abc?=",  # unknown encoding
        "=?gb2312?B?/////w==?=",  # bytes that are not GB2312
        "=?utf-16?Q?=fe=ff=00?=",  # odd-length UTF-16
        "=?=?=?=?",
        "=?utf-8?B?5omT?= \udce4\udcb8",  # an encoded word next to raw 8-bit
    ],
)
def test_malformed_encoded_words_do_not_raise(value: str) -> None:
    result = decode_header_value(value)
    assert isinstance(result, str)
    result.encode("utf-8")
    assert "\r" not in result and "\n" not in result


def test_unterminated_encoded_word_keeps_the_raw_text() -> None:
    assert decode_header_value("=?utf-8?Q?abc") == "=?utf-8?Q?abc"
    assert decode_header_value("Re: =?utf-8?B?5omT5Y2w5py6") == "Re: =?utf-8?B?5omT5Y2w5py6"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Re: [IT-20261122-0001]\r\n =?utf-8?B?5omT5Y2w5py6?=", "Re: [IT-20261122-0001] 打印机"),
        ("=?gb2312?B?tPLTobv6?=\r\n\t(3F)", "打印机 (3F)"),
    ],
)
def test_fold_between_text_and_encoded_word_keeps_the_space(value: str, expected: str) -> None:
    assert decode_header_value(value) == expected


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_surrogate_escaped_raw_8bit_is_decoded(charset: str) -> None:
    """What `email` gives for raw 8-bit header bytes when read as surrogate escapes."""
    escaped = "回复：服务器坏了 喆".encode(charset).decode("ascii", "surrogateescape")
    assert decode_header_value(escaped) == "回复：服务器坏了 喆"


# --- labels that are no charset: unknown, never an exception -------------------------------

# codecs.lookup raises ValueError (not LookupError) for a NUL or a lone surrogate; base64,
# rot13, hex are no text encodings; undefined and punycode raise a bare UnicodeError.
JUNK_LABELS = [
    "utf\x00-8", "utf-8\x00", "\x00", "utf\udcff8", "base64", "rot13", "hex", "zlib",
    "undefined", "punycode", "idna", "unicode_escape", "raw_unicode_escape",
]  # fmt: skip


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_a_junk_label_is_unknown(label: str) -> None:
    assert normalize(label) is None


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_a_body_with_a_junk_label_decodes_through_the_chain(label: str) -> None:
    assert decode_bytes("Grüße, 无法登录".encode(), label) == "Grüße, 无法登录"


@pytest.mark.parametrize("label", JUNK_LABELS)
@pytest.mark.parametrize("encoding", ["B", "Q"])
def test_an_encoded_word_with_a_junk_label_is_read_as_unknown(label: str, encoding: str) -> None:
    data = "Rückfrage zu 无法登录".encode()
    text = (
        base64.b64encode(data).decode() if encoding == "B" else "".join(f"={b:02X}" for b in data)
    )
    word = f"=?{label}?{encoding}?{text}?="
    assert decode_header_value(f"Re: {word} [#12]") == "Re: Rückfrage zu 无法登录 [#12]"
