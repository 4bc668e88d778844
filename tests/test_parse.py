"""parse(): literal RFC 5322 bytes in, Inbound values out.  Pure, no IO (except the corpus)."""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from maildesk.domain import Address, AttachmentInfo, Inbound
from maildesk.pipeline.parse import ParseError, parse


def mail(*headers: str | bytes, body: str | bytes = b"") -> bytes:
    """Header lines (str → UTF-8, or raw bytes) and a body, joined with CRLF."""
    lines = [h.encode() if isinstance(h, str) else h for h in headers]
    data = body.encode() if isinstance(body, str) else body
    return b"\r\n".join([*lines, b"", data])


def b_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def q_word(text: str, charset: str) -> str:
    return f"=?{charset}?Q?{''.join(f'={b:02X}' for b in text.encode(charset))}?="


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode().strip()


def assert_clean(text: str) -> None:
    assert "\ufffd" not in text, f"replacement character in {text!r}"
    text.encode("utf-8")  # no lone surrogates


# --- plain mail, addresses, ids -----------------------------------------------------------


def test_plain_utf8_mail() -> None:
    raw = mail(
        "From: =?UTF-8?B?5byg5Lyf?= <Zhang.Wei@Example.COM>",
        "To: IT <it-support@example.com>, other@example.com",
        "Cc: =?utf-8?Q?=E6=9D=8E=E5=A8=9C?= <li.na@example.com>",
        "Subject: =?UTF-8?B?55S16ISR5peg5rOV5byA5py6?=",
        "Date: Sun, 22 Nov 2026 09:20:00 +0800",
        "Message-ID: <m1@client.example.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        body="早上开机后黑屏，风扇在转。\r\n谢谢\r\n",
    )
    inbound = parse(raw)
    assert isinstance(inbound, Inbound)
    assert inbound.sender == Address("张伟", "zhang.wei@example.com")
    assert inbound.to == (
        Address("IT", "it-support@example.com"),
        Address("", "other@example.com"),
    )
    assert inbound.cc == (Address("李娜", "li.na@example.com"),)
    assert inbound.subject == "电脑无法开机"
    assert inbound.text == "早上开机后黑屏，风扇在转。\n谢谢"
    assert inbound.date == datetime(2026, 11, 22, 1, 20, tzinfo=UTC)
    assert inbound.message_id == "m1@client.example.com"
    assert inbound.in_reply_to == ""
    assert inbound.references == ()
    assert inbound.return_path is None
    assert inbound.attachments == ()
    assert inbound.header("content-type") == "text/plain; charset=utf-8"


def test_message_id_in_reply_to_and_references() -> None:
    raw = mail(
        "From: a@example.com",
        "Message-ID:   <abc.123@client.example.com>  ",
        "In-Reply-To: <prev@x.example> (Zhang's message of Sunday)",
        "References: <r1@x.example>\r\n <r2@x.example>\t<prev@x.example>",
        body="hi",
    )
    inbound = parse(raw)
    assert inbound.message_id == "abc.123@client.example.com"
    assert inbound.in_reply_to == "prev@x.example"
    assert inbound.references == ("r1@x.example", "r2@x.example", "prev@x.example")


def test_message_id_without_angle_brackets_is_kept() -> None:
    inbound = parse(mail("From: a@example.com", "Message-ID: bare-id@example.com", body="x"))
    assert inbound.message_id == "bare-id@example.com"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Return-Path: <>", ""),
        ("Return-Path: < >", ""),
        ("Return-Path: <Bounce@Example.com>", "bounce@example.com"),
    ],
)
def test_return_path(header: str, expected: str) -> None:
    inbound = parse(mail(header, "From: a@example.com", body="x"))
    assert inbound.return_path == expected
    assert inbound.header("return-path") == header.split(": ", 1)[1]


@pytest.mark.parametrize(
    ("from_header", "expected"),
    [
        ("=?gb2312?B?1cXOsA==?= <a@example.com>", Address("张伟", "a@example.com")),
        ('"=?utf-8?B?5byg5Lyf?=" <a@example.com>', Address("张伟", "a@example.com")),
        (f"{q_word('陳大文', 'big5')} <a@example.com>", Address("陳大文", "a@example.com")),
        ('"Wei, Zhang" <A@Example.com>', Address("Wei, Zhang", "a@example.com")),
        ("a@example.com (Zhang Wei)", Address("Zhang Wei", "a@example.com")),
    ],
)
def test_display_names_are_decoded(from_header: str, expected: Address) -> None:
    assert parse(mail(f"From: {from_header}", body="x")).sender == expected


def test_sender_falls_back_to_sender_header() -> None:
    inbound = parse(mail("Sender: helper@example.com", "Subject: x", body="x"))
    assert inbound.sender == Address("", "helper@example.com")


@pytest.mark.parametrize(
    "raw",
    [
        mail("To: it@example.com", "Subject: no sender", body="hello"),
        mail("From: ", "Subject: empty from", body="hello"),
        mail("From: Zhang Wei", "Subject: no address", body="hello"),
        mail("From: undisclosed-recipients:;", body="hello"),
    ],
    ids=["missing", "empty", "name-only", "group"],
)
def test_no_sender_address_is_missing_not_an_error(raw: bytes) -> None:
    """Delivery reports come from `<>` or a bare MAILER-DAEMON: parse keeps them, with no
    sender address (what is no report is quarantined later, tests/test_bounces.py)."""
    inbound = parse(raw)
    assert inbound.sender_missing and inbound.sender.email == ""


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\r\n", b"\n\t \n"])
def test_empty_input_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"this is not an email at all\njust text\n",
        b"\x00\x01\x02\x03\xff\xfe",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        b"From: \x00\xff\xfe@\r\n\r\n",
        b":::::\r\n:\r\n\r\n",
        b"From a@b Sat Jan  3 01:05:34 1996\nno colon header\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n--x--",
    ],
)
def test_garbage_gives_parse_error_not_another_exception(raw: bytes) -> None:
    """Refused, or kept without a sender address (plan quarantines that: test_bounces)."""
    try:
        inbound = parse(raw)
    except ParseError:
        return
    assert inbound.sender_missing, inbound.sender


def test_random_junk_gives_parse_error_or_a_sane_inbound() -> None:
    alphabet = (
        b'From: a@b.c\r\n=?utf-8?B?Q?="<>;\t boundary=multipart/mixed message/rfc822 \xff\xa1\xe4'
    )
    prefix = b"From: x@y.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    outcomes = {"parsed": 0, "refused": 0}
    for seed in range(150):
        rng = random.Random(seed)
        size = rng.randint(0, 300)
        if seed % 2:
            data = bytes(rng.getrandbits(8) for _ in range(size))
        else:
            data = bytes(rng.choice(alphabet) for _ in range(size))
        if seed % 3 == 0:
            data = prefix + data
        try:
            inbound = parse(data)
        except ParseError:
            outcomes["refused"] += 1
            continue
        except Exception as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"seed {seed}: {type(exc).__name__}: {exc}")
        outcomes["parsed"] += 1
        assert "@" in inbound.sender.email or inbound.sender == Address(inbound.sender.name, "")
        for value in (inbound.text, inbound.subject, inbound.sender.name):
            assert isinstance(value, str)
            value.encode("utf-8")
    assert outcomes["parsed"] > 0 and outcomes["refused"] > 0, outcomes


def test_date_is_parsed_and_bad_dates_are_none() -> None:
    good = parse(mail("From: a@example.com", "Date: Sun, 22 Nov 2026 09:20:11 +0800", body="x"))
    assert good.date == datetime(2026, 11, 22, 1, 20, 11, tzinfo=UTC)
    bad = parse(mail("From: a@example.com", "Date: next tuesday-ish", body="x"))
    assert bad.date is None
    assert parse(mail("From: a@example.com", body="x")).date is None


# --- RFC 2047 subjects in Chinese charsets -----------------------------------------------


@pytest.mark.parametrize(
    ("subject_header", "expected"),
    [
        (b_word("打印机无法打印", "utf-8"), "打印机无法打印"),
        (q_word("打印机无法打印", "utf-8"), "打印机无法打印"),
        (b_word("服务器坏了", "gb2312"), "服务器坏了"),
        (q_word("服务器坏了", "gb2312"), "服务器坏了"),
        (b_word("朱镕基和陶喆", "gbk"), "朱镕基和陶喆"),
        (q_word("朱镕基和陶喆", "GBK"), "朱镕基和陶喆"),
        # GBK-only characters labelled gb2312 (the usual mislabel)
        (b_word("朱镕基和陶喆", "gbk").replace("gbk", "gb2312"), "朱镕基和陶喆"),
        # four-byte GB18030 sequences
        (b_word("生僻字䶮𠀀", "gb18030"), "生僻字䶮𠀀"),
        (q_word("生僻字䶮𠀀", "GB18030"), "生僻字䶮𠀀"),
        (b_word("報告印表機故障", "big5"), "報告印表機故障"),
        (q_word("報告印表機故障", "Big5"), "報告印表機故障"),
        # HKSCS character labelled plain big5
        (b_word("香港㗎", "big5hkscs").replace("big5hkscs", "big5"), "香港㗎"),
        # adjacent encoded words: the whitespace between them disappears
        (f"{b_word('服务器', 'gb2312')} {b_word('坏了', 'gb2312')}", "服务器坏了"),
        (f"{q_word('服务器', 'gbk')}\r\n {b_word('坏了', 'gbk')}", "服务器坏了"),
        (f"{b_word('简体', 'gb2312')} {b_word('繁體', 'big5')}", "简体繁體"),
        (f"{b_word('中文', 'utf-8')}\r\n\t{q_word('标题', 'utf-8')}", "中文标题"),
        # ordinary text around encoded words keeps its spacing
        (f"Re: {b_word('打印机', 'gb2312')} (3F)", "Re: 打印机 (3F)"),
        (f"RE: {q_word('打印机', 'gbk')}", "RE: 打印机"),
    ],
)
def test_encoded_word_subjects(subject_header: str, expected: str) -> None:
    inbound = parse(mail("From: a@example.com", f"Subject: {subject_header}", body="x"))
    assert inbound.subject == expected


@pytest.mark.parametrize("charset", ["utf-8", "gb2312", "gbk", "gb18030", "big5"])
def test_multibyte_character_split_across_adjacent_encoded_words(charset: str) -> None:
    text = "服務器故障" if charset == "big5" else "服务器故障"
    data = text.encode(charset)
    cut = 3 if charset == "utf-8" else 1  # in the middle of the second character
    words = [
        f"=?{charset}?B?{base64.b64encode(part).decode()}?=" for part in (data[:cut], data[cut:])
    ]
    inbound = parse(mail("From: a@example.com", f"Subject: {' '.join(words)}", body="x"))
    assert inbound.subject == text


def test_folded_subject_keeps_the_space_before_an_encoded_word() -> None:
    raw = mail(
        "From: a@example.com",
        f"Subject: Re: IT-20261122-0001\r\n {b_word('打印机坏了', 'utf-8')}",
        body="x",
    )
    assert parse(raw).subject == "Re: IT-20261122-0001 打印机坏了"


def test_folded_plain_subject_is_one_line() -> None:
    raw = mail(
        "From: a@example.com", "Subject: the printer on\r\n\tfloor 3\r\n  is broken", body="x"
    )
    assert parse(raw).subject == "the printer on floor 3 is broken"


# --- raw 8-bit headers (no encoded words) -------------------------------------------------


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_raw_8bit_subject(charset: str) -> None:
    raw = mail(
        b"From: a@example.com",
        "Subject: 回复：服务器坏了 喆".encode(charset),
        body="x",
    )
    assert parse(raw).subject == "回复：服务器坏了 喆"


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_raw_8bit_from_display_name(charset: str) -> None:
    raw = mail("From: 张伟 <Zhang.Wei@example.com>".encode(charset), b"Subject: x", body="x")
    assert parse(raw).sender == Address("张伟", "zhang.wei@example.com")


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_raw_8bit_text_next_to_an_encoded_word(charset: str) -> None:
    header = "Subject: 回复：".encode(charset) + q_word("打印机", "gbk").encode()
    assert parse(mail(b"From: a@example.com", header, body="x")).subject == "回复：打印机"


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_raw_8bit_headers_never_break_parsing(charset: str) -> None:
    """Whatever the header decoding does, the address and the body survive."""
    raw = mail(
        "From: 张伟 <zhang.wei@example.com>".encode(charset),
        "Subject: 服务器坏了".encode(charset),
        b"Content-Type: text/plain; charset=utf-8",
        body="正文",
    )
    inbound = parse(raw)
    assert inbound.sender.email == "zhang.wei@example.com"
    assert inbound.text == "正文"
    inbound.subject.encode("utf-8")
    inbound.sender.name.encode("utf-8")


# --- bodies in Chinese charsets ------------------------------------------------------------


def test_gbk_body_mislabelled_gb2312_decodes_exactly() -> None:
    text = "您好：\r\n我的同事陶喆和朱镕基的电脑都无法登录。\r\n"
    raw = mail(
        "From: a@example.com",
        "Content-Type: text/plain; charset=gb2312",
        "Content-Transfer-Encoding: 8bit",
        body=text.encode("gbk"),
    )
    inbound = parse(raw)
    assert inbound.text == "您好：\n我的同事陶喆和朱镕基的电脑都无法登录。"
    assert_clean(inbound.text)


def test_gbk_body_mislabelled_gb2312_in_base64() -> None:
    raw = mail(
        "From: a@example.com",
        'Content-Type: text/plain; charset="GB2312"',
        "Content-Transfer-Encoding: base64",
        body=b64("请重置喆的密码".encode("gbk")),
    )
    assert parse(raw).text == "请重置喆的密码"


def test_8bit_gbk_body_without_charset() -> None:
    raw = mail(
        "From: a@example.com",
        "Subject: no charset",
        body="打印机卡纸了，陶喆说镕基楼三层。".encode("gbk"),
    )
    inbound = parse(raw)
    assert inbound.text == "打印机卡纸了，陶喆说镕基楼三层。"
    assert_clean(inbound.text)


def test_8bit_gbk_body_with_content_type_but_no_charset() -> None:
    raw = mail(
        "From: a@example.com",
        "MIME-Version: 1.0",
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: 8bit",
        body="无法连接VPN".encode("gbk"),
    )
    assert parse(raw).text == "无法连接VPN"


def test_raw_utf8_body_without_charset() -> None:
    raw = mail("From: a@example.com", body="无法连接 VPN ✓".encode())
    assert parse(raw).text == "无法连接 VPN ✓"


@pytest.mark.parametrize("label", ["big5", "Big5", "x-big5", "cp950"])
def test_big5_body_including_hkscs(label: str) -> None:
    text = "您好，香港辦公室的印表機壞了㗎。"
    raw = mail(
        "From: a@example.com",
        f"Content-Type: text/plain; charset={label}",
        "Content-Transfer-Encoding: base64",
        body=b64(text.encode("big5hkscs")),
    )
    inbound = parse(raw)
    assert inbound.text == text


def test_gb18030_quoted_printable_body() -> None:
    text = "生僻字：䶮 𠀀"
    data = "".join(f"={b:02X}" for b in text.encode("gb18030"))
    raw = mail(
        "From: a@example.com",
        "Content-Type: text/plain; charset=GB18030",
        "Content-Transfer-Encoding: quoted-printable",
        body=data,
    )
    assert parse(raw).text == text


def test_bom_and_crlf_are_cleaned_from_text() -> None:
    raw = mail(
        "From: a@example.com",
        "Content-Type: text/plain; charset=utf-8",
        body="\ufeff\r\n第一行\r\n第二行\r\r\n".encode(),
    )
    assert parse(raw).text == "第一行\n第二行"


# --- HTML ---------------------------------------------------------------------------------

HTML_BODY = """<!DOCTYPE html>
<html><head><meta charset="gb2312"><title>Title must go</title>
<style>p { color: red; } .x::before { content: "STYLE"; }</style>
<script type="text/javascript">var leak = "SCRIPT";</script></head>
<body><div>您好&nbsp;IT：</div>
<p>打印机 &amp; 扫描仪 &lt;3F&gt; 坏了&#65281; &quot;急&quot; &#x4E2D;&#25991;</p>
<ul><li>第一</li><li>第二</li></ul>
<script>document.write("SCRIPT2")</script>
陶喆<br>镕基
</body></html>"""


def test_html_only_mail_becomes_readable_text() -> None:
    raw = mail(
        "From: a@example.com",
        "Content-Type: text/html; charset=gb2312",
        "Content-Transfer-Encoding: base64",
        body=b64(HTML_BODY.encode("gbk")),
    )
    text = parse(raw).text
    assert not re.search(r"</?[A-Za-z!]", text), text
    assert "&nbsp;" not in text and "&amp;" not in text and "&#" not in text
    for gone in ("SCRIPT", "STYLE", "color", "Title must go", "leak"):
        assert gone not in text
    lines = text.splitlines()
    assert lines[0] == "您好 IT："
    assert '打印机 & 扫描仪 <3F> 坏了！ "急" 中文' in lines
    assert "- 第一" in lines and "- 第二" in lines
    assert lines[-2:] == ["陶喆", "镕基"]


def test_html_with_omitted_head_end_tag_keeps_the_body() -> None:
    html = "<html><head><meta charset=utf-8><title>t</title><body><p>VPN 连不上</p></body></html>"
    raw = mail("From: a@example.com", "Content-Type: text/html; charset=utf-8", body=html)
    assert parse(raw).text == "VPN 连不上"


def alternative(plain: str, html: str) -> bytes:
    return mail(
        "From: a@example.com",
        "MIME-Version: 1.0",
        'Content-Type: multipart/alternative; boundary="ALT"',
        body=(
            "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f"{html}\r\n"
            "--ALT\r\nContent-Type: text/plain; charset=gb2312\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
            f"{b64(plain.encode('gbk'))}\r\n"
            "--ALT--\r\n"
        ),
    )


def test_multipart_alternative_picks_the_plain_part() -> None:
    inbound = parse(alternative("纯文本版本：喆", "<p>HTML 版本</p>"))
    assert inbound.text == "纯文本版本：喆"
    assert inbound.attachments == ()


def test_multipart_alternative_ignores_other_text_alternatives() -> None:
    """An Outlook meeting invitation: plain, HTML and text/calendar are alternatives."""
    raw = mail(
        "From: a@example.com",
        'Content-Type: multipart/alternative; boundary="ALT"',
        body=(
            "--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n会议：网络割接\r\n"
            "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>会议</p>\r\n"
            "--ALT\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
            "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
            "--ALT--\r\n"
        ),
    )
    assert parse(raw).text == "会议：网络割接"


def test_multipart_alternative_without_plain_uses_html() -> None:
    raw = mail(
        "From: a@example.com",
        'Content-Type: multipart/alternative; boundary="ALT"',
        body=(
            "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            "<p>只有&nbsp;<b>HTML</b></p>\r\n--ALT--\r\n"
        ),
    )
    assert parse(raw).text == "只有 HTML"


# --- attachments -------------------------------------------------------------------------


def rfc2231(text: str, charset: str, label: str = "") -> str:
    return f"{label or charset}''{quote(text.encode(charset), safe='')}"


def mixed(*parts: str) -> bytes:
    body = "".join(f"--MIX\r\n{p}\r\n" for p in parts) + "--MIX--\r\n"
    return mail(
        "From: Zhang <zhang@example.com>",
        "Subject: with attachments",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="MIX"',
        body=body,
    )


BODY_PART = "Content-Type: text/plain; charset=utf-8\r\n\r\n请看附件。"
PDF_BYTES = b"%PDF-1.4\n" + bytes(range(256)) * 3


def test_attachments_are_listed_with_decoded_chinese_names_types_and_sizes() -> None:
    raw = mixed(
        BODY_PART,
        # RFC 2231, UTF-8, continued over two parameters
        "Content-Type: application/pdf\r\n"
        "Content-Disposition: attachment;\r\n"
        f" filename*0*={rfc2231('网络故障', 'utf-8')};\r\n"
        f" filename*1*={quote('报告.pdf'.encode(), safe='')}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(PDF_BYTES),
        # RFC 2231 in GB2312 (GB2312-only characters)
        "Content-Type: application/vnd.ms-excel\r\n"
        f"Content-Disposition: attachment; filename*={rfc2231('资产清单.xls', 'gb2312')}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(b"\xd0\xcf\x11\xe0" * 10),
        # RFC 2047 in the name= parameter (Outlook/Foxmail style), GBK
        f'Content-Type: image/png; name="{b_word("截图喆.png", "gbk")}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(b"\x89PNG\r\n\x1a\n" + b"\0" * 92),
        # RFC 2047 in filename= of the disposition, Big5
        "Content-Type: application/octet-stream\r\n"
        f'Content-Disposition: attachment; filename="{b_word("報告.docx", "big5")}"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nabc=3Ddef=\r\n",
        # a text attachment stays an attachment
        "Content-Type: text/plain; charset=utf-8\r\n"
        'Content-Disposition: attachment; filename="log.txt"\r\n\r\nnot the body',
    )
    inbound = parse(raw)
    assert inbound.text == "请看附件。"
    assert inbound.attachments == (
        AttachmentInfo("网络故障报告.pdf", "application/pdf", len(PDF_BYTES)),
        AttachmentInfo("资产清单.xls", "application/vnd.ms-excel", 40),
        AttachmentInfo("截图喆.png", "image/png", 100),
        AttachmentInfo("報告.docx", "application/octet-stream", 7),
        AttachmentInfo("log.txt", "text/plain", len(b"not the body")),
    )


def test_attachment_without_name_gets_a_placeholder() -> None:
    raw = mixed(
        BODY_PART,
        "Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(b"PK\x03\x04" + b"\0" * 6),
    )
    assert parse(raw).attachments == (AttachmentInfo("attachment", "application/zip", 10),)


def test_rfc2231_filename_gbk_labelled_gb2312() -> None:
    raw = mixed(
        BODY_PART,
        "Content-Type: application/pdf\r\n"
        f"Content-Disposition: attachment; filename*={rfc2231('陶喆报告.pdf', 'gbk', 'gb2312')}"
        + "\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(b"%PDF"),
    )
    assert parse(raw).attachments[0].filename == "陶喆报告.pdf"


def test_raw_utf8_attachment_filename() -> None:
    part = (
        "Content-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="网络报告.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + b64(b"%PDF")
    )
    assert parse(mixed(BODY_PART, part)).attachments[0].filename == "网络报告.pdf"


def test_nested_message_is_an_attachment_and_not_the_body() -> None:
    inner = (
        "From: boss@example.com\r\n"
        f"Subject: {b_word('原始邮件', 'gb2312')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "INNER SECRET TEXT 内部正文\r\n"
    )
    raw = mixed(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n请帮忙看转发的邮件。",
        "Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + inner,
    )
    inbound = parse(raw)
    assert inbound.text == "请帮忙看转发的邮件。"
    assert "INNER" not in inbound.text
    assert len(inbound.attachments) == 1
    attachment = inbound.attachments[0]
    assert attachment.filename == "forwarded.eml"
    assert attachment.content_type == "message/rfc822"
    assert attachment.size > len("INNER SECRET TEXT")


def test_nested_message_only_mail_has_no_body_text_from_the_inner_message() -> None:
    raw = mixed(
        "Content-Type: message/rfc822\r\n\r\n"
        "From: x@example.com\r\nSubject: fwd\r\n\r\nINNER ONLY\r\n",
    )
    inbound = parse(raw)
    assert "INNER" not in inbound.text
    assert [a.content_type for a in inbound.attachments] == ["message/rfc822"]


def test_kept_headers_are_decoded_and_lower_cased() -> None:
    raw = mail(
        "From: a@example.com",
        "Auto-Submitted: auto-replied",
        "X-Maildesk-Loop: example.com",
        "List-Id: <it.lists.example.com>",
        "X-Mailer: not kept",
        body="x",
    )
    inbound = parse(raw)
    assert inbound.headers == {
        "auto-submitted": "auto-replied",
        "x-maildesk-loop": "example.com",
        "list-id": "<it.lists.example.com>",
    }
    assert inbound.header("Auto-Submitted") == "auto-replied"
    assert inbound.header("x-mailer") == ""


# --- the shared corpus --------------------------------------------------------------------


def corpus_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in (".json", ".md")
    )


def test_every_corpus_file_parses_or_is_refused(corpus: Path) -> None:
    files = corpus_files(corpus)
    assert len(files) > 150, f"corpus looks incomplete: {len(files)} files"
    problems = []
    parsed = 0
    for path in files:
        name = str(path.relative_to(corpus))
        try:
            inbound = parse(path.read_bytes())
        except ParseError:
            continue
        except Exception as exc:
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        parsed += 1
        if not isinstance(inbound.text, str):
            problems.append(f"{name}: text is {type(inbound.text).__name__}")
            continue
        for field, value in (
            ("text", inbound.text),
            ("subject", inbound.subject),
            ("sender", inbound.sender.name),
            *(("attachment", a.filename) for a in inbound.attachments),
        ):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                problems.append(f"{name}: {field} has a lone surrogate: {exc}")
    assert not problems, "\n".join(problems)
    assert parsed > 80


def load_expected(corpus: Path, source: str) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads(
        (corpus / source / "expected.json").read_text(encoding="utf-8")
    )
    return data


def test_kopano_gb2312_labelled_gb18030_text(corpus: Path) -> None:
    expected = load_expected(corpus, "kopano_inetmapi")["gb2312_18030.eml"]
    inbound = parse((corpus / "kopano_inetmapi" / "gb2312_18030.eml").read_bytes())
    assert inbound.sender == Address(str(expected["from_display_name"]), "some.address@some.domain")
    assert inbound.to[0].name == expected["to_display"]
    # The encoded bytes hold literal "?" (0x3F); everything else must decode exactly,
    # including 讀 which is not in GB2312 (needs the GB18030 superset).
    assert inbound.subject == "讀取: ??排??生?a"
    assert inbound.text == "bodytext"


def test_kopano_big5_body_parses(corpus: Path) -> None:
    inbound = parse((corpus / "kopano_inetmapi" / "big5.eml").read_bytes())
    assert inbound.sender.email == "c@y"
    assert inbound.to == (Address(inbound.to[0].name, "r@d"),)
    assert inbound.text == "body"


def test_kopano_big5_raw_8bit_subject(corpus: Path) -> None:
    inbound = parse((corpus / "kopano_inetmapi" / "big5.eml").read_bytes())
    assert inbound.subject == "養樂多線上訂購"
    assert inbound.sender.name == "養樂多"


def test_spamscope_gb2312_mails(corpus: Path) -> None:
    folder = corpus / "spamscope_mail_parser"
    nine = parse((folder / "mail_test_9").read_bytes())
    assert nine.subject.startswith("我把镜头拉近些，你们看看这个是什么")
    assert nine.sender == Address("xwfcpggy", "zyb@sgis.com.cn")
    assert "我把镜头拉近些" in nine.text  # GB2312 HTML body, base64
    assert "<" not in nine.text
    twelve = parse((folder / "mail_test_12").read_bytes())
    assert twelve.subject == "代开各地增值税发票"
    assert twelve.sender == Address("张先生", "baoguan@hotmail.com")
    assert twelve.text.startswith("你好！我公司可代开各类增值税发票，17%专用发票")
    for inbound in (nine, twelve):
        assert_clean(inbound.subject)
        assert_clean(inbound.text)


@pytest.mark.parametrize(
    "name",
    ["all-special-chars.eml", "quoted_printable.eml", "pgp.eml", "utf-nondecodable.eml"],
)
def test_django_helpdesk_expectations(corpus: Path, name: str) -> None:
    expected = load_expected(corpus, "django_helpdesk")[name]
    inbound = parse((corpus / "django_helpdesk" / name).read_bytes())
    assert inbound.subject == expected["subject"]
    if "visible_text" in expected:
        assert inbound.text == expected["visible_text"]
    # utf-nondecodable.eml: its body_contains phrase is only in the HTML alternative,
    # which maildesk rightly skips in favour of the plain part.
    assert_clean(inbound.text)
    assert inbound.text.strip()
    if name == "pgp.eml":
        assert [a.content_type for a in inbound.attachments] == ["application/pgp-signature"]


# --- charset labels that are junk: the label is unknown, the message is parsed --------------

# A NUL makes codecs.lookup raise ValueError (not LookupError); `undefined` raises a bare
# UnicodeError; base64 is no text encoding.  None of them may quarantine a good message.
JUNK_LABELS = ["utf\x00-8", "undefined", "base64", "punycode"]


def junk_word(text: str, label: str) -> str:
    return f"=?{label}?B?{base64.b64encode(text.encode()).decode()}?="


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_junk_label_in_an_encoded_subject_and_from(label: str) -> None:
    raw = mail(
        f"From: {junk_word('Jürgen Weiß', label)} <juergen@example.com>",
        "To: help@example.com",
        f"Subject: {junk_word('Drucker druckt nicht', label)}",
        "Message-ID: <junk-label@example.com>",
        "Content-Type: text/plain; charset=utf-8",
        body="Der Drucker im 2. Stock druckt nicht.",
    )
    inbound = parse(raw)
    assert inbound.subject == "Drucker druckt nicht"
    assert inbound.sender == Address("Jürgen Weiß", "juergen@example.com")
    assert inbound.message_id == "junk-label@example.com"
    assert inbound.text == "Der Drucker im 2. Stock druckt nicht."


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_junk_declared_body_charset(label: str) -> None:
    raw = mail(
        "From: a@example.com",
        "Subject: body",
        f'Content-Type: text/plain; charset="{label}"',
        body="无法登录 VPN",
    )
    assert parse(raw).text == "无法登录 VPN"


@pytest.mark.parametrize("label", JUNK_LABELS)
def test_junk_rfc2231_labels_on_charset_and_filename(label: str) -> None:
    """get_content_charset and get_filename decode RFC 2231 values in their own label."""
    raw = mixed(
        f"Content-Type: text/plain; charset*={label}''utf-8\r\n\r\n请看附件。",
        f"Content-Type: application/pdf; name*={rfc2231('报告.pdf', 'utf-8', label)}\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64(PDF_BYTES)}",
    )
    inbound = parse(raw)
    assert inbound.text == "请看附件。"
    assert [(a.filename, a.size) for a in inbound.attachments] == [("报告.pdf", len(PDF_BYTES))]
