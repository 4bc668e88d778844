"""Visible text of replies from many clients (issue 10, items 9–11): signature blocks
without a sign-off word, Foxmail 6's legacy quote markers, a reply on the line of its
attribution.

`fixtures/replies_clients/*.eml` are whole mails as the clients send them; `expected.json`
gives, for each, what the person wrote (`visible_text`), the signature block a reader
would forgive keeping (`signature`), and what maildesk knows of the sender: their
directory entry (`directory`) and their earlier mails on the ticket (`earlier`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from maildesk.domain import Address, Inbound, Person
from maildesk.pipeline import reply_text
from maildesk.pipeline.parse import parse
from maildesk.pipeline.reply_text import Known, known_sender, visible_text
from maildesk.store import events as ticket_events
from maildesk.store import tickets

from .conftest import ConfigFactory, build_service
from .mails import make_mail
from .test_reply_text import OWN_TEXTS, TOP_HISTORIES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "replies_clients"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "expected.json").read_text(encoding="utf-8")
)


def mail(name: str) -> tuple[Inbound, Known]:
    """The fixture as parsed, and what maildesk would know of its sender."""
    inbound = parse((FIXTURES / name).read_bytes())
    entry = EXPECTED[name].get("directory")
    person = None
    if entry:
        person = Person(inbound.sender.email, entry["name"], entry["department"], "")
    earlier = tuple(EXPECTED[name].get("earlier", ()))
    return inbound, known_sender(inbound.sender, person, earlier)


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").split("\n")]


def cuts_text(out: str, expected: str) -> bool:
    """A line the person wrote is missing from the output (or out of order)."""
    remaining = iter(lines(out))
    return not all(any(seen == line for seen in remaining) for line in lines(expected) if line)


def forgiven(out: str, expected: str, signature: str) -> bool:
    """Right but for (part of) the signature block kept below the text."""
    shown, wanted = lines(out), lines(expected)
    block = {line.strip() for line in signature.split("\n")}
    rest = shown[len(wanted) :]
    return shown[: len(wanted)] == wanted and all(not s.strip() or s.strip() in block for s in rest)


# --- each client mail: exactly what the person wrote -------------------------------------


# Known misses, all on the safe side: the signature stays because the text above it does
# not end like a finished message (an answer under a "key：" line).  Fixing one makes its
# test fail: take it off the list.
KEEPS_SIGNATURE = {
    "foxmail7-content-then-name.eml",
    "qqmail-room-then-name-department.eml",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_client_reply(name: str) -> None:
    inbound, known = mail(name)
    out, case = visible_text(inbound.text, known), EXPECTED[name]
    if name in KEEPS_SIGNATURE:
        assert out != case["visible_text"]
        assert forgiven(out, case["visible_text"], case["signature"]), out
    else:
        assert out == case["visible_text"]


def test_rates_and_nothing_the_person_wrote_is_cut(capsys: pytest.CaptureFixture[str]) -> None:
    exact = kept_signature = cut = 0
    for name, case in EXPECTED.items():
        inbound, known = mail(name)
        out = visible_text(inbound.text, known)
        exact += out == case["visible_text"]
        kept_signature += out != case["visible_text"] and forgiven(
            out, case["visible_text"], case.get("signature", "")
        )
        cut += cuts_text(out, case["visible_text"])
    total = len(EXPECTED)
    with capsys.disabled():
        print(
            f"\nclient replies: exact {exact}/{total}, signature kept {kept_signature}, cut {cut}"
        )
    assert cut == 0
    assert exact / total >= 0.85


def test_fixture_set_covers_the_clients_and_shapes() -> None:
    assert len(EXPECTED) >= 30
    clients = " ".join(case["client"] for case in EXPECTED.values())
    for client in ("Foxmail 6", "Foxmail 7", "QQ Mail", "NetEase 163", "NetEase 126",
                   "Mail Master", "Outlook", "OWA", "Gmail", "Apple Mail", "Thunderbird",
                   "iPhone", "Android", "Lotus Notes"):  # fmt: skip
        assert client in clients, client
    bodies = "\n".join(parse((FIXTURES / name).read_bytes()).text for name in EXPECTED)
    for marker in ("您在来信中写道：=======", "= = = = =", "致\n礼！", "Sounds good. On ",
                   "好的，谢谢。在 ", "罗斌\n投标管理部", "\nTony\n",
                   "彭亮 仓储物流部\n发自我的iPhone", "\n| |\n吴桐\n|\n", "\n收件人\n",
                   "If you have received this email in error"):  # fmt: skip
        assert marker in bodies, marker


# --- without knowing the sender: legacy markers and same-line attributions ----------------

NEED_NOTHING_KNOWN = [
    name for name in sorted(EXPECTED) if name.startswith("foxmail6") or "same-line" in name
]


@pytest.mark.parametrize("name", NEED_NOTHING_KNOWN)
def test_legacy_markers_and_same_line_attribution_need_no_knowledge(name: str) -> None:
    assert (
        visible_text(parse((FIXTURES / name).read_bytes()).text) == EXPECTED[name]["visible_text"]
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Sounds good. On Tue, 22 Nov 2026 at 09:20, Zhang Wei <zw@example.com> wrote:\n> hi",
         "Sounds good."),
        ("好的，谢谢。在 2026年11月22日 09:20，张伟 <zw@example.com> 写道：\n\n> 您好",
         "好的，谢谢。"),
        ("  Fine by me! On Tue, 22 Nov 2026 at 09:20, IT <it@example.com> wrote:", "  Fine by me!"),
        ("See below. The vendor wrote:\n> their answer\n\nmy comment", "See below.\n\nmy comment"),
        # no sentence end before it: the whole line is the attribution, as before
        ("Zhang Wei <zw@example.com> 于2026年11月22日周日 09:20写道：\n> 您好", ""),
        # a time in a sentence that ends in a colon is not an attribution
        ("It failed. On Monday at 09:20 I wrote:\n- step one",
         "It failed. On Monday at 09:20 I wrote:\n- step one"),
        ("致\n礼！", "致\n礼！"),  # nothing written above it: kept
        ("好的\n\n致\n礼！\n\n　　　　王芳\n　　　　wf@example.com\n　　　　　　2026-11-22",
         "好的"),
        ("ok\n\n= = = = = = = = = = = = = = = = = = = =", "ok"),
    ],
)  # fmt: skip
def test_edges_without_knowledge(body: str, expected: str) -> None:
    assert visible_text(body) == expected


# --- what is known of the sender ---------------------------------------------------------

LUO = known_sender(
    Address("罗斌", "luobin@example.com"),
    Person("luobin@example.com", "罗斌", "投标管理部", "E1"),
    ("投标文件已上传。\n\n罗斌\n投标管理部 | 分机 8021\n",),
)
TONY = known_sender(Address("Tony Chen", "tony.chen@example.com"), None, ())


def test_the_sender_is_known_by_names_department_address_and_earlier_endings() -> None:
    assert {"罗斌", "luobin"} <= LUO.names
    assert LUO.departments == {"投标管理部"}
    assert LUO.addresses == {"luobin@examplecom"}
    assert "投标管理部|分机8021" in LUO.endings
    assert {"tonychen", "chentony", "tony", "chen"} <= TONY.names
    assert known_sender(Address("", "it@example.com"), None, ()).names == frozenset()


@pytest.mark.parametrize(
    ("body", "known", "expected"),
    [
        ("好的。\n\n罗斌\n投标管理部", LUO, "好的。"),
        ("好的。\n\nLuo Bin", LUO, "好的。"),
        ("好的。\n\n罗斌\n投标管理部 | 分机 8021", LUO, "好的。"),
        ("好的，谢谢\n罗斌", LUO, "好的，谢谢"),
        ("Done, thanks.\n\nTony", TONY, "Done, thanks."),
        ("Done, thanks.\n\nTony Chen\nIT Manager\n+86 21 5555 0101", TONY, "Done, thanks."),
        ("Done, thanks.\n\nmailto:tony.chen@example.com", TONY, "Done, thanks."),
        ("网络已经恢复了。\n\n罗斌 13800001111", LUO, "网络已经恢复了。"),
        ("好的\n\n--------------\n罗斌\n投标管理部", LUO, "好的"),
        ("Done.\n\nTony Chen | IT Coordinator | ext. 4410", TONY, "Done."),
        ("投影仪已经可以用了\n\n罗斌", LUO, "投影仪已经可以用了"),
        ("Got it\nTony Chen", TONY, "Got it"),
    ],
)
def test_signature_blocks_are_cut(body: str, known: Known, expected: str) -> None:
    assert visible_text(body, known) == expected
    assert visible_text(body) == body  # nothing known: kept, as before


@pytest.mark.parametrize(
    ("body", "known", "expected"),
    [
        # the sender's name set apart above a device footer: their custom signature
        ("还是不行\n\n罗斌\n发自我的iPhone", LUO, "还是不行"),
        ("Still broken\n\nTony Chen\nSent from my iPhone", TONY, "Still broken"),
        # ... unless the text above leads into it, or it is glued to that text
        ("负责人是\n\n罗斌\n发自我的iPhone", LUO, "负责人是\n\n罗斌"),
        ("Please send it to\n\nTony Chen\nSent from my iPhone", TONY,
         "Please send it to\n\nTony Chen"),
        ("请把账号开给\n罗斌\n发自我的iPhone", LUO, "请把账号开给\n罗斌"),
        # a table-layout card signature ("| |" lines) goes with the name in it
        ("好的，谢谢。\n\n| |\n罗斌\n|\n| 投标管理部 |\n|\nluobin@example.com\n|", LUO,
         "好的，谢谢。"),
        ("名单如下：\n\n| |\n罗斌\n|", LUO, "名单如下：\n\n| |\n罗斌\n|"),
    ],
)  # fmt: skip
def test_signature_shapes_of_clients(body: str, known: Known, expected: str) -> None:
    assert visible_text(body, known) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a confidentiality disclaimer: confidential AND not-for-you, a paragraph, last
        ("Done.\n\nThis message is confidential and may be privileged. If you are not the "
         "intended recipient, please delete it.", "Done."),
        ("好的。\n\n本邮件含有保密信息，如果您错收了本邮件，请立即删除。请勿转发本邮件的任何内容。",
         "好的。"),
        ("Done.\n\nCONFIDENTIALITY NOTICE:\nThis e-mail is confidential. If you have received "
         "this e-mail in error, please notify the sender.\n\n本邮件含有保密信息，仅限于发送给"
         "指定收件人使用，如果您错收了本邮件，请删除。", "Done."),
        # the person's own words about confidentiality stay
        ("The attached contract is confidential, please keep it to yourself and the team.",
         "The attached contract is confidential, please keep it to yourself and the team."),
        ("Done.\n\nIf you are not the intended recipient of the new laptop, please tell "
         "me who is.", "Done.\n\nIf you are not the intended recipient of the new laptop, "
         "please tell me who is."),
        ("Please keep it confidential.\n\nIf you are not the intended recipient, tell me.",
         "Please keep it confidential.\n\nIf you are not the intended recipient, tell me."),
        # nothing else written: kept
        ("This message is confidential and may be privileged. If you are not the intended "
         "recipient, please delete it.", "This message is confidential and may be privileged. "
         "If you are not the intended recipient, please delete it."),
        # Lotus Notes' classic header: sender, date, then "To" / "Subject" label lines
        ("OK now.\n\nIT Support/Helpdesk/ACME@ACME\n11/23/2026 09:20 AM\n\nTo\n"
         "Marco Rossi/Plant/ACME@ACME\ncc\n\nSubject\nScanner\n\nPlease retry.", "OK now."),
        ("Routing:\n\nTo\nthe plant office\n\nSubject\nnew scanners",
         "Routing:\n\nTo\nthe plant office\n\nSubject\nnew scanners"),
    ],
)  # fmt: skip
def test_disclaimers_and_notes_headers_without_knowledge(body: str, expected: str) -> None:
    assert visible_text(body) == expected


@pytest.mark.parametrize(
    "own",
    [
        "罗斌",  # nothing else written
        "新同事的信息如下：\n\n王磊\n投标管理部",  # someone else, the sender's department
        "请帮以下同事开通VPN：\n\n王磊 投标管理部\n罗斌 投标管理部",  # a list that ends with them
        "新的邮箱地址请用：\nluobin@example.com",  # the address is the answer
        "需要开通的人：\n\n罗斌",
        "请把账号开给\n罗斌",  # glued to a line that is no sentence
        "负责人是\n\n罗斌",  # leads into the name
        "发票请寄到这个邮箱\n\nluobin@example.com",
        "参会人员\n\n王磊 投标管理部\n\n罗斌 投标管理部",  # a list, one per paragraph
        "You can reach me at\n\ntony.chen@example.com",
        "分机号是多少？罗斌",
        "罗斌要出差，请把电脑准备好。",
        "Please ask Tony.\nTony is on leave until Monday.",
        "Tony Chen, ext. 4410, will pick it up.",
        "Who is it for?\n\nTony asked for it yesterday, please check with him.",
        "Done.\n\nTony\nwill pick it up tomorrow",  # the name begins a sentence
        "好的。\n\nTony Chen\nis on leave until Monday",
    ],
)
def test_text_that_mentions_the_sender_is_never_cut(own: str) -> None:
    for known in (LUO, TONY):
        assert visible_text(own, known) == own
        for history in TOP_HISTORIES[:9]:
            assert visible_text(f"{own}\n\n{history}\n", known) == own, history


@pytest.mark.parametrize("own", OWN_TEXTS)
def test_own_texts_stay_whole_when_the_sender_is_known(own: str) -> None:
    for known in (LUO, TONY):
        assert visible_text(own, known) == own


def test_a_block_from_earlier_endings_alone_needs_two_lines_and_contact_data() -> None:
    def known(earlier: str) -> Known:
        return known_sender(Address("", "x@example.com"), None, (earlier,))

    kept = ("b\n\nPlease advise", "b\n\nPlease advise\nThank you", "b\n\nSales Team\nACME Ltd.")
    for body in kept:
        assert visible_text(body, known("a\n\n" + body.partition("\n\n")[2])) == body
    team = known("a\n\nSales Team\nacme.example | +86 21 5555 0101\n")
    assert visible_text("b, thanks.\n\nSales Team\nacme.example | +86 21 5555 0101", team) == (
        "b, thanks."
    )


# --- hostile bodies: the work grows with the body, never faster ----------------------------


class _Counting:
    """A compiled pattern that adds up the characters it is given."""

    def __init__(self, pattern: re.Pattern[str], tally: list[int]) -> None:
        self.pattern, self.tally = pattern, tally

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.pattern, name)

        def counted(text: str, *args: Any) -> Any:
            self.tally[0] += len(text)
            return method(text, *args)

        return counted


def _count_scanned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    tally = [0]
    modules = [reply_text, *(getattr(reply_text, m) for m in ("history", "tail", "signature"))]
    for module in modules:
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(module, name, _Counting(value, tally))
    return tally


MEGABYTE = (">", "=", " ", "= ", "> = ", ">\n", " \n")
LINES = (
    "=\n",
    "= = = = \n",
    "=======\n",
    "a. On 1:11 wrote:\n",
    "致\n",
    "Tony\n",
    "罗斌 投标管理部\n",
    "好。在 2026 09:20 a@b 写道：\n",
)


@pytest.mark.parametrize(
    ("unit", "size"), [(u, 1_000_000) for u in MEGABYTE] + [(u, 200_000) for u in LINES]
)
def test_hostile_bodies_are_scanned_linearly(
    unit: str, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pattern is handed at most a few times the body: no line is rescanned per
    line (the time test in test_reply_text covers backtracking inside one pattern)."""
    tally = _count_scanned(monkeypatch)
    body = "hi\n" + unit * (size // len(unit))
    visible_text(body, LUO)
    assert 0 < tally[0] <= 40 * len(body), tally[0] / len(body)


# --- end to end: the sender's earlier mails come from the journal --------------------------


def test_a_signature_learnt_from_earlier_mails_is_not_shown(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    sender = "陈静 <chenjing@example.com>"
    signature = "\n\n陈静\n财务部 | 分机 8021\n"
    first = make_mail(1, sender=sender, body="报销系统打不开，提示服务器错误。" + signature)
    number = service.ingest(first, "t").ticket_number
    replies = [
        make_mail(n, sender=sender, subject=f"答复: 【{number}】", body=body + signature)
        for n, body in ((2, "附上截图。"), (3, "现在可以了，谢谢。"))
    ]
    for reply in replies:
        assert service.ingest(reply, "t").kind == "threaded"
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        texts = [e["text"] for e in ticket_events.listing(tx, ticket.id) if e["kind"] == "reply"]
        newest = ticket_events.earlier_texts(tx, ticket.id, "CHENJING@example.com", limit=1)
        nobody = ticket_events.earlier_texts(tx, ticket.id, "zhang.wei@example.com")
    # the block ended her first mail: it is her signature (her name alone is not known:
    # no directory, and the display name is not on a line of its own in the block)
    assert texts == ["附上截图。", "现在可以了，谢谢。"]
    assert newest == ["现在可以了，谢谢。", "报销系统打不开，提示服务器错误。" + signature.rstrip()]
    assert nobody == []
