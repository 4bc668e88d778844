"""The reference threading algorithm (tests/jwz.py) on literal RFC 822 header blocks.

A thread is written as a shape: ``a(b(c) d)`` is a root a with children b and d, and c under
b; ids are the local parts of the Message-IDs; ``?x(...)`` is a root whose message x was never
seen.  Every run is bounded in time, so an algorithm that loops fails instead of hanging."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy

import pytest

from .jwz import Thread, msg_ids, normalize_subject, thread_roots

Mail = bytes | str


def rfc822(headers: str, body: str = "早上开机后黑屏，风扇在转。\n") -> bytes:
    """Header lines as written here (a leading newline dropped), with CRLF line ends."""
    text = headers.lstrip("\n") + "\n" + body
    return text.replace("\n", "\r\n").encode("utf-8")


A = rfc822("""
From: 张伟 <zhang.wei@example.com>
To: IT服务台 <it-support@example.com>
Subject: 电脑无法开机
Date: Sun, 22 Nov 2026 09:00:00 +0800
Message-ID: <a@example.com>
""")
B = rfc822("""
From: IT服务台 <it-support@example.com>
To: 张伟 <zhang.wei@example.com>
Subject: Re: 电脑无法开机
Message-ID: <b@example.com>
In-Reply-To: <a@example.com>
References: <a@example.com>
""")
C = rfc822("""
From: 张伟 <zhang.wei@example.com>
Subject: =?UTF-8?B?5Zue5aSNOiBSZTog55S16ISR5peg5rOV5byA5py6?=
Message-ID: <c@example.com>
In-Reply-To: <b@example.com>
References: <a@example.com>
 <b@example.com>
""")
D = rfc822("""
From: 李娜 <li.na@example.com>
Subject: Re: 电脑无法开机
Message-ID: <d@example.com>
In-Reply-To: <b@example.com>
References: <a@example.com> <b@example.com>
""")
X = rfc822("""
From: 王芳 <wang.fang@example.com>
Subject: 打印机卡纸
Message-ID: <x@example.com>
""")


def reply(
    msg_id: str, references: str = "", in_reply_to: str = "", subject: str = "Re: 电脑"
) -> bytes:
    lines = [f"Subject: {subject}", "From: 张伟 <zhang.wei@example.com>"]
    lines += [f"Message-ID: <{msg_id}@example.com>"] if msg_id else []
    lines += [f"References: {references}"] if references else []
    lines += [f"In-Reply-To: {in_reply_to}"] if in_reply_to else []
    return rfc822("\n".join(lines) + "\n")


def local(msg_id: str) -> str:
    return msg_id.split("@", 1)[0]


def shape(thread: Thread, node: str | None = None) -> str:
    node = thread.root if node is None else node
    mark = "?" if node == thread.root and thread.root_is_empty else ""
    below = " ".join(shape(thread, child) for child in thread.children(node))
    return mark + local(node) + (f"({below})" if below else "")


def run(mails: list[bytes], **options: bool) -> list[Thread]:
    """thread_roots within 10 s, in a daemon thread so that an endless loop fails the test."""
    result: list[list[Thread]] = []
    worker = threading.Thread(
        target=lambda: result.append(thread_roots(mails, **options)), daemon=True
    )
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "thread_roots did not finish: a loop in the parent links?"
    assert result, "thread_roots raised (see the thread's traceback above)"
    return result[0]


def shapes(mails: list[bytes], **options: bool) -> list[str]:
    return [shape(thread) for thread in run(mails, **options)]


CASES: dict[str, tuple[list[bytes], list[str]]] = {
    "linear conversation": ([A, B, C], ["a(b(c))"]),
    "linear, replies arrive first": ([C, B, A], ["a(b(c))"]),
    "two replies to one message": ([A, B, C, D], ["a(b(c d))"]),
    "two unrelated mails": ([A, X], ["a", "x"]),
    "unrelated mails keep their order": ([X, A, B], ["x", "a(b)"]),
    "missing parent, ancestor known: the empty container is pruned": ([A, C], ["a(c)"]),
    "two replies to a missing middle message join the ancestor": ([A, C, D], ["a(c d)"]),
    "missing root with two replies: the empty root is kept": (
        [reply("p", "<x@example.com>"), reply("q", "<x@example.com>")],
        ["?x(p q)"],
    ),
    "missing root with one reply: the reply becomes the root": (
        [reply("p", "<x@example.com> <y@example.com>")],
        ["p"],
    ),
    "missing root, missing middles: promoted to the kept empty root": (
        [reply("p", "<x@example.com> <y@example.com>"), reply("q", "<x@example.com> <z@e.com>")],
        ["?x(p q)"],
    ),
    "cycle between two messages": (
        [reply("a", "<b@example.com>"), reply("b", "<a@example.com>")],
        ["b(a)"],
    ),
    "cycle inside one References": (
        [reply("c", "<a@example.com> <b@example.com> <a@example.com>")],
        ["c"],
    ),
    "cycle across two References": (
        [
            reply("p", "<m@example.com> <n@example.com>"),
            reply("q", "<n@example.com> <m@example.com>"),
        ],
        ["?m(p q)"],
    ),
    "References points to the message itself": (
        [reply("a", "<a@example.com>"), reply("b", "<a@example.com> <b@example.com>")],
        ["a(b)"],
    ),
    "In-Reply-To points to the message itself": (
        [reply("a", in_reply_to="<a@example.com>")],
        ["a"],
    ),
    "a link already made is not moved by a later References": (
        [A, B, reply("z", "<x@example.com> <b@example.com>")],
        ["a(b(z))"],
    ),
    "a message's own empty References override a presumed parent": (
        [X, reply("p", "<x@example.com> <b@example.com>"), reply("b")],
        ["x", "b(p)"],
    ),
    "In-Reply-To only": ([A, reply("b", in_reply_to="<a@example.com>")], ["a(b)"]),
    "In-Reply-To with extra text: the last <...> counts": (
        [
            A,
            reply(
                "b",
                in_reply_to='"Zhang Wei" <zhang.wei@example.com>\'s message of\n'
                '\t"Sun, 22 Nov 2026 09:00:00 +0800" <a@example.com>',
            ),
        ],
        ["a(b)"],
    ),
    "References win over In-Reply-To": (
        [A, X, reply("b", "<a@example.com>", in_reply_to="<x@example.com>")],
        ["a(b)", "x"],
    ),
    "References with junk, whitespace and folded lines": (
        [
            A,
            B,
            reply(
                "c",
                "(forwarded) <a@example.com>,   junk text\n\t\t<b@example.com\n >  \n  trailing",
            ),
        ],
        ["a(b(c))"],
    ),
    "References only junk: In-Reply-To is used": (
        [A, reply("b", "no ids here at all", in_reply_to="<a@example.com>")],
        ["a(b)"],
    ),
    "bare id without brackets": ([A, reply("b", "a@example.com")], ["a(b)"]),
    "same subject, no references: separate threads by default": (
        [A, reply("r", subject="回复: 电脑无法开机")],
        ["a", "r"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_threads(name: str) -> None:
    mails, expected = CASES[name]
    assert shapes(mails) == expected


def test_every_message_is_in_exactly_one_thread() -> None:
    for mails, _ in CASES.values():
        ids = [msg_id for thread in run(mails) for msg_id in thread.message_ids]
        assert len(ids) == len(set(ids)) == len(mails)


def test_missing_message_ids_are_synthesized_and_unique() -> None:
    nameless = rfc822("From: 张伟 <zhang.wei@example.com>\nSubject: 无主题\n")
    junk_id = rfc822("Subject: x\nMessage-ID: no id here\n")
    threads = run([nameless, A, nameless, junk_id])
    ids = [thread.root for thread in threads]
    assert ids == [
        "no-message-id-0@jwz.invalid",
        "a@example.com",
        "no-message-id-2@jwz.invalid",
        "no-message-id-3@jwz.invalid",
    ]


def test_duplicate_message_ids_stay_separate_messages() -> None:
    again = rfc822("Subject: 电脑无法开机 (resent)\nMessage-ID: <a@example.com>\n")
    threads = run([A, again, B, again])
    assert [t.root for t in threads] == ["a@example.com", "a@example.com#2", "a@example.com#3"]
    assert shape(threads[0]) == "a(b)"
    threads = run([B, A, again])
    assert [t.message_ids for t in threads] == [
        ("a@example.com", "b@example.com"),
        ("a@example.com#2",),
    ]


def test_a_reply_seen_before_its_parent_is_filled_in_place() -> None:
    (thread,) = run([D, A, B])
    assert thread.message_ids == ("a@example.com", "b@example.com", "d@example.com")
    assert thread.parent == {"b@example.com": "a@example.com", "d@example.com": "b@example.com"}
    assert not thread.root_is_empty


def test_parsed_messages_thread_like_raw_bytes() -> None:
    mails = [C, A, X, D, B]
    parsed = [message_from_bytes(mail, policy=policy.default) for mail in mails]
    compat = [message_from_bytes(mail) for mail in mails]
    assert [shape(t) for t in thread_roots(parsed)] == shapes(mails) == ["a(b(c d))", "x"]
    assert [shape(t) for t in thread_roots(compat)] == shapes(mails)


def test_subject_grouping_is_opt_in() -> None:
    r = reply("r", subject="回复: 电脑无法开机")
    assert shapes([A, r]) == ["a", "r"]
    assert shapes([A, r], group_by_subject=True) == ["a(r)"]
    assert shapes([r, A], group_by_subject=True) == ["a(r)"]
    assert shapes([A, r, X], group_by_subject=True) == ["a(r)", "x"]


def test_subject_grouping_of_two_originals_makes_an_empty_root() -> None:
    twin = reply("t", subject="电脑无法开机")
    (thread,) = run([A, twin], group_by_subject=True)
    assert thread.root_is_empty
    assert set(thread.children(thread.root)) == {"a@example.com", "t@example.com"}


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        ("<a@x>", ["a@x"]),
        ("  <a@x>\r\n\t<b@x>  ", ["a@x", "b@x"]),
        ("(comment) <a@x>, junk <b\r\n @x>", ["a@x", "b@x"]),
        ("<>  <a@x>", ["a@x"]),
        ("a@x", ["a@x"]),
        ("junk without any id", []),
        ("", []),
    ],
)
def test_msg_ids(value: str, ids: list[str]) -> None:
    assert msg_ids(value) == ids


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("电脑无法开机", ("电脑无法开机", False)),
        ("Re: 电脑无法开机", ("电脑无法开机", True)),
        ("RE: Fwd:  电脑无法开机", ("电脑无法开机", True)),
        ("回复：电脑无法开机", ("电脑无法开机", True)),
        ("Re[2]: AW: Printer", ("printer", True)),
        ("Regarding the printer", ("regarding the printer", False)),
    ],
)
def test_normalize_subject(subject: str, expected: tuple[str, bool]) -> None:
    assert normalize_subject(subject) == expected
