"""Headers folded and encoded directly (render/fold.py) are the email package's bytes.

The oracle is the email package itself (compat32, CRLF, 76) and, for whole mails, the
header values as render/mime.py built them before fold.py existed (`old_headers`, kept
here verbatim): every mail kind in both locales, with hostile values, must be the same
bytes, and so parse to the same headers and bodies.
"""

from __future__ import annotations

import email.base64mime
import email.policy
import email.utils
import random
from collections.abc import Callable, Iterator
from email.header import Header, decode_header, make_header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from maildesk.pipeline.loops import LOOP_HEADER
from maildesk.render import fold, mime
from maildesk.render.mime import Envelope, _one_line, msgid
from tests import test_mail_kinds as kinds

STOCK = email.policy.compat32.clone(linesep="\r\n", max_line_length=76)

PIECES = (
    "a", "VPN", "张伟", "打印机坏了", "é", "Zoë", "𠀀", "😀", "𝔘𝔫𝔦", " ", "  ", "\t", ";", ",",
    "(", ")", "\\", '"', "<b>x</b>", "=?utf-8?b?5byg?=", "\r\n", "\r\nBcc: x@evil.test", "\x00",
    "\x1b[31m", "\x85", "\u2028", "\u202e", "\x7f", "x" * 70, "长" * 40, "w" * 200, "a;b,c",
    "Re: [IT-20261122-0001] ", "] ", "\udc80", "<m1@client.example.com>", "_", "=", "?", ":",
    "From:",
)  # fmt: skip


def hostile(seed: int, count: int) -> Iterator[str]:
    picks = random.Random(seed)
    for _ in range(count):
        yield "".join(picks.choice(PIECES) for _ in range(picks.randint(1, 12)))
    yield "字" * 3000  # huge
    yield "é" * 2000 + "😀" * 500
    yield "x" * 5000
    yield "one, two three " * 12
    yield "(a) \\b\\ " * 12


def same_or_same_error(name: str, value: str | fold.Words) -> None:
    """fold's bytes are the email package's (a Words value as its Header), or both refuse
    (the Header may refuse to be made: the old code made it in `headers`)."""
    try:
        stock = value.header(name) if isinstance(value, fold.Words) else value
        expected = STOCK.fold_binary(name, stock)  # type: ignore[arg-type]  # Header too
    except Exception as error:  # the email package refuses: so must the new writer
        with pytest.raises(type(error)):
            fold.fold(name, value)
        return
    assert fold.fold(name, value) == expected


@pytest.mark.parametrize("name", ["To", "Subject", "References", "X-Loop"])
def test_a_str_value_is_folded_as_compat32_folds_it(name: str) -> None:
    for value in hostile(1, 600):
        same_or_same_error(name, value)


SHAPES: dict[str, Callable[[str, str], fold.Words]] = {
    "name <addr>": lambda a, b: fold.words((a, fold.UTF8), (f"<{b}>", fold.ASCII)),
    "subject": lambda a, b: fold.words((a, fold.ASCII), (b, fold.ASCII), named=True),
    "ascii then utf-8": lambda a, b: fold.words((a, fold.ASCII), (b, fold.UTF8), named=True),
    "three": lambda a, b: fold.words((a, fold.UTF8), (b, fold.ASCII), (a, fold.UTF8)),
    "one": lambda a, b: fold.words((a + b, fold.ASCII)),
    "one named": lambda a, b: fold.words((a + b, fold.ASCII), named=True),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_header_values_are_folded_as_their_header_is(shape: str) -> None:
    build = SHAPES[shape]
    values = list(hostile(2, 300))
    for a, b in zip(values, reversed(values), strict=True):
        same_or_same_error("From", build(a, b))


def mismatches(name: str, values: list[str]) -> int:
    """How many values the two write differently (of those the email package writes)."""
    count = 0
    for value in values:
        try:
            expected = STOCK.fold_binary(name, value)
        except Exception:  # refused (an embedded header): not a folding question
            continue
        count += fold.fold(name, value) != expected
    return count


@pytest.mark.parametrize(
    "broken", [("MAXLEN", 77), ("MAXLEN", 75), ("SPLITCHARS", ", ;\t"), ("CHROME", 11)]
)
def test_the_comparison_sees_a_broken_fold(
    monkeypatch: pytest.MonkeyPatch, broken: tuple[str, object]
) -> None:
    """The comparisons above fail when the folding is changed."""
    values = ["张伟" * 30, "Zoë " * 30, "a; b, c " * 20, "x" * 70 + " 张伟", *hostile(3, 100)]
    values += ["one, two three " * 12, "(a) \\b\\ " * 12]
    assert mismatches("To", values) == 0
    monkeypatch.setattr(fold, "_folded", fold._folded.__wrapped__)  # nothing folded before
    monkeypatch.setattr(fold, *broken)
    assert mismatches("To", values) > 0


# --- whole mails --------------------------------------------------------------------


def old_headers(env: Envelope) -> list[tuple[str, Any]]:
    """render/mime.py's `headers` before fold.py (398d9b5), verbatim but for names."""

    def subject(text: str) -> Header:
        prefix, sep, rest = _one_line(text).partition("] ")
        if not sep:
            prefix, rest = "", prefix
        header = Header(prefix + sep.rstrip(), "us-ascii", header_name="Subject")
        if rest:
            header.append(rest, "us-ascii" if rest.isascii() else "utf-8")
        return header

    def address(name: str, addr: str) -> str | Header:
        name, addr = _one_line(name), _one_line(addr)
        if name.isascii():
            return email.utils.formataddr((name, addr))
        header = Header(name, "utf-8")
        header.append(f"<{addr}>", "us-ascii")
        return header

    def address_list(people: tuple[tuple[str, str], ...]) -> str:
        return ", ".join(
            email.utils.formataddr((_one_line(name), _one_line(addr)), charset="utf-8")
            for name, addr in people
        )

    local = env.date.astimezone(ZoneInfo(env.timezone))
    out: list[tuple[str, Any]] = [
        ("From", address(env.from_name, env.from_address)),
        ("To", address(env.to_name, env.to_address)),
        *([("Cc", address_list(env.cc))] if env.cc else []),
        ("Subject", subject(env.subject)),
        ("Date", email.utils.format_datetime(local)),
        ("Message-ID", f"<{env.message_id}>"),
    ]
    if env.in_reply_to:
        out.append(("In-Reply-To", msgid(env.in_reply_to)))
    if env.references:
        out.append(("References", Header(" ".join(msgid(r) for r in env.references), "us-ascii")))
    if env.reply_to:
        out.append(("Reply-To", address(env.from_name, env.from_address)))
    if env.auto_submitted:
        out.append(("Auto-Submitted", env.auto_submitted))
    out += [("X-Auto-Response-Suppress", "All"), (LOOP_HEADER, env.loop_domain)]
    return out


def old_bytes(env: Envelope, text: str, html: str, inline: tuple[mime.InlineImage, ...]) -> bytes:
    """The email package writes the tree (with the boundaries assemble chose)."""
    token = random.randrange(0)
    body = MIMEMultipart("alternative", boundary=mime.boundary(token))
    body.attach(MIMEText(text, "plain", "utf-8"))
    body.attach(MIMEText(html, "html", "utf-8"))
    msg = mime._related(body, inline, mime.boundary(token + 1)) if inline else body
    for name, value in old_headers(env):
        msg[name] = value
    return msg.as_bytes(policy=STOCK)


def parsed(raw: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, bytes]]]:
    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    parts = [(p.get_content_type(), p.get_payload(decode=True) or b"") for p in msg.walk()]
    return [(k, str(v)) for k, v in msg.items()], parts


HOSTILE_VALUES = {
    "hostile": {"subject": kinds.HOSTILE["subject"], "name": kinds.HOSTILE["name"],
                "text": kinds.HOSTILE["body"][:3000], "file": kinds.HOSTILE["file"]},
    "long": {"subject": "Re: 回复: [IT-20261122-0001] " + "VPN,连不上;" * 60 + "😀𠀀" * 30,
             "name": "Zoë " * 40 + "\x00\x1b\u202e" + "w" * 120, "text": "x" * 3000},
    "huge": {"subject": "主题很长" * 300 + "😀" * 100, "name": "名" * 1000 + "w" * 1000,
             "text": kinds.HOSTILE["body"][:8_000], "file": "x" * 3000},
    "ascii": {"subject": "printer, scanner; and VPN (again) " * 8, "name": "Dr. O'Neil, Jr.",
              "text": "hello"},
}  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "values"),
    [
        ("zh-CN", "hostile"),
        ("en", "hostile"),
        ("zh-CN", "long"),
        ("en", "long"),
        ("en", "ascii"),
        ("zh-CN", "huge"),
    ],
)
def test_every_mail_kind_is_the_bytes_the_email_package_wrote(
    monkeypatch: pytest.MonkeyPatch, locale: str, values: str
) -> None:
    seen: list[tuple[bytes, tuple[Any, ...]]] = []
    real = mime.assemble

    def recorded(*args: Any, **kw: Any) -> bytes:
        raw = real(*args, **kw)
        seen.append((raw, (*args, kw.get("inline", args[3] if len(args) > 3 else ()))))
        return raw

    monkeypatch.setattr(random, "randrange", lambda *_: 4_242_424_242)
    for module in ("maildesk.render", "maildesk.kb.steps", "maildesk.digest.render"):
        monkeypatch.setattr(f"{module}.assemble", recorded)
    given = HOSTILE_VALUES[values]
    kinds.render_all(locale, **given)
    kinds.render_summaries(locale, **given)
    threaded = Envelope("王工 | IT服务台", "it@example.com", given.get("name", "张伟"),
                        "zhang@example.com", given.get("subject", "x"), "m.1@example.com",
                        kinds.NOW, "Asia/Shanghai", "example.com", in_reply_to="<a@b>\r\n",
                        references=tuple(f"<r{i}@client.example.com>" for i in range(12)),
                        cc=(("李娜", "li.na@example.com"), (given.get("name", "Bob"), "b@x")),
                        auto_submitted="auto-replied", reply_to=True)  # fmt: skip
    recorded(threaded, "text", "<p>html</p>")
    assert len(seen) > 30
    for raw, (env, text, html, inline) in seen:
        expected = old_bytes(env, text, html, inline)
        assert longest(raw) <= 998
        if longest(expected) > 998:  # a long Cc name was one encoded-word: see mime.py
            assert decoded(raw) == decoded(expected)
            continue
        assert parsed(raw) == parsed(expected)
        assert raw == expected
        assert longest(raw, head=True) <= max(78, longest(expected, head=True))


def decoded(raw: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, bytes]]]:
    """The header values with their encoded-words decoded as RFC 2047 6.2 says (the white
    space between two encoded-words dropped: email.policy.default keeps it in a display
    name), one line each; and the parts."""
    msg = BytesParser(policy=email.policy.compat32).parsebytes(raw)
    parts = [(p.get_content_type(), p.get_payload(decode=True) or b"") for p in msg.walk()]
    heads = [(k, str(make_header(decode_header(v))).replace("\r\n", "")) for k, v in msg.items()]
    return heads, parts


def longest(raw: bytes, head: bool = False) -> int:
    """The longest line (of the header when `head`), in octets."""
    text = raw.split(b"\r\n\r\n", 1)[0] if head else raw
    return max(len(line) for line in text.split(b"\r\n"))


def test_a_body_is_the_base64_the_email_package_writes() -> None:
    picks = random.Random(5)
    for size in (0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 4000, 40_001):
        data = picks.randbytes(size)
        expected = email.base64mime.body_encode(data).replace("\n", "\r\n").encode("ascii")
        assert mime.base64_lines(data) == expected, size


# --- no header line over 998 octets (RFC 5322 2.1.1), whatever the values -------------------

LONG_ID = "r" * 1500 + "@client.example.com"
LONG_VALUES = {
    "one word": {"subject": "x" * 1500, "name": "y" * 1500, "text": "hello"},
    "a word inside": {"subject": "printer " + "x" * 1200 + " broken, again", "text": "hello",
                      "name": "Dr. " + "y" * 1200 + " Jr."},
    "in the prefix": {"subject": "[" + "x" * 1200 + "] printer", "name": "名" * 700},
    "non-ascii": {"subject": "打印机" * 500, "name": "名" * 700 + "w" * 1000},
}  # fmt: skip


def rfc2047(value: str) -> str:
    """A header value decoded as RFC 2047 6.2 says (email.policy.default keeps the white
    space between two encoded-words of a display name)."""
    return str(make_header(decode_header(value.replace("\r\n", ""))))


def assert_written_as_given(raw: bytes, env: Envelope) -> None:
    """Every header line within 998 octets; every header reads back as the value given
    (made one line, as render/mime.py does), but message-ids too long for any line."""
    assert longest(raw) <= 998
    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    plain = BytesParser(policy=email.policy.compat32).parsebytes(raw)
    assert str(msg["Subject"]).strip() == _one_line(env.subject)

    def people(name: str) -> list[tuple[str, str]]:
        return email.utils.getaddresses([rfc2047(v) for v in plain.get_all(name, [])])

    one = [(_one_line(env.from_name), env.from_address)]
    assert people("From") == one
    assert people("Reply-To") == (one if env.reply_to else [])
    assert people("To") == [(_one_line(env.to_name), env.to_address)]
    assert people("Cc") == [(_one_line(n), a) for n, a in env.cc]
    assert [a.addr_spec for a in msg["To"].addresses] == [env.to_address]
    fitting = [msgid(r) for r in env.references if len(msgid(r)) <= 997]  # on a line: " <…>"
    assert str(msg.get("References", "")).split() == fitting
    reply = msgid(env.in_reply_to) if env.in_reply_to else ""
    assert str(msg.get("In-Reply-To", "")).strip() == (reply if len(reply) <= 997 else "")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
@pytest.mark.parametrize("values", sorted(LONG_VALUES))
def test_every_mail_kind_keeps_header_lines_within_998_octets(
    monkeypatch: pytest.MonkeyPatch, locale: str, values: str
) -> None:
    seen: list[tuple[bytes, Envelope]] = []
    real = mime.assemble

    def recorded(env: Envelope, *args: Any, **kw: Any) -> bytes:
        raw = real(env, *args, **kw)
        seen.append((raw, env))
        return raw

    for module in ("maildesk.render", "maildesk.kb.steps", "maildesk.digest.render"):
        monkeypatch.setattr(f"{module}.assemble", recorded)
    given = LONG_VALUES[values]
    kinds.render_all(locale, **given)
    kinds.render_summaries(locale, **given)
    name, subject = given["name"], given["subject"]
    threaded = Envelope(name, "it@example.com", name, "zhang@example.com", subject,
                        "m.1@example.com", kinds.NOW, "Asia/Shanghai", "example.com",
                        in_reply_to=LONG_ID, references=("first@x", LONG_ID, "mid@x", "last@x"),
                        cc=(("李娜", "li.na@example.com"), (name, "b@x"), ("Bob", "bob@x"),
                            (name, "c@x")),
                        auto_submitted="auto-replied", reply_to=True)  # fmt: skip
    recorded(threaded, "text", "<p>html</p>")
    image = mime.InlineImage("chart-1", "image/png", b"\x89PNG")
    recorded(threaded, "text", '<img src="cid:chart-1">', (image,))  # the email package's fold
    assert len(seen) > 30
    for raw, env in seen:
        assert_written_as_given(raw, env)


@pytest.mark.parametrize("size", [996, 997, 998, 1500])
def test_a_message_id_too_long_for_a_line_is_left_out(size: int) -> None:
    """RFC 5322 3.6.4 lets References be shortened; the first and last ids stay."""
    long_id = "i" * (size - len("<@x>")) + "@x"
    env = Envelope("IT", "it@example.com", "Bob", "bob@example.com", "x", "m.1@example.com",
                   kinds.NOW, "UTC", "example.com", in_reply_to=long_id,
                   references=("first@x", long_id, "last@x"))  # fmt: skip
    raw = mime.assemble(env, "t", "h")
    assert_written_as_given(raw, env)
    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    kept = size <= 997  # folded onto a line of its own: " <…>"
    middle = [f"<{long_id}>"] if kept else []
    assert str(msg["References"]).split() == ["<first@x>", *middle, "<last@x>"]
    assert ("In-Reply-To" in msg) == kept
