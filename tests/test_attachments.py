"""Attachments: safe names, type and size limits, content-addressed storage, and the
sender told about what was not kept."""

from __future__ import annotations

import email
from email.message import EmailMessage
from pathlib import Path

import pytest

from maildesk.attachments import AttachmentStore
from maildesk.domain import AttachmentInfo
from maildesk.pipeline.attachment_policy import Limits, check, safe_filename
from maildesk.store import events as ticket_events
from maildesk.store import outbox as outbox_rows
from maildesk.store import participants, tickets

from .conftest import ConfigFactory, build_service
from .files import EXE, PDF, PNG

LIMITS = Limits(frozenset({"png", "pdf", "txt", "log"}), max_file_bytes=100, max_message_bytes=150)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/abs/path/报告.pdf", "报告.pdf"),
        (".hidden.txt", "hidden.txt"),
        ("bad\x00na\x1bme\r\n.log", "badname.log"),
        ('a<b>c:"d"|e?f*.txt', "abcdef.txt"),
        ("", "attachment"),
        ("...", "attachment"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_types_sizes_and_message_total() -> None:
    items = (
        _info("ok.png", PNG.ljust(60, b"\x00")),
        _info("virus.exe", EXE[:10]),
        _info("big.pdf", PDF[:101]),
        _info("second.txt", b"t" * 60),
        _info("third.log", b"l" * 80),
        _info("NOEXT", b"x"),
    )
    verdicts = check(items, LIMITS)
    refused = {v.safe_name: v.refused for v in verdicts}
    assert refused["ok.png"] == "" and refused["second.txt"] == ""
    assert ".exe is not accepted" in refused["virus.exe"]
    assert "per file" in refused["big.pdf"]
    assert "per message" in refused["third.log"]
    assert ".? is not accepted" in refused["NOEXT"]


def _info(name: str, data: bytes) -> AttachmentInfo:
    return AttachmentInfo(name, "application/octet-stream", len(data), data=data)


def test_store_is_content_addressed_and_never_overwrites(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "files")
    first = store.put(b"hello")
    path = store.path_for(first)
    mtime = path.stat().st_mtime_ns
    assert store.put(b"hello") == first and path.stat().st_mtime_ns == mtime
    assert store.get(first) == b"hello"
    assert path.parent.parent.parent == tmp_path / "files"
    assert not list(path.parent.glob(".incoming-*"))


def mail_with(*parts: tuple[str, str, bytes], subject: str = "附件测试") -> bytes:
    msg = EmailMessage()
    msg["From"] = "张伟 <zhang.wei@example.com>"
    msg["To"] = "it-support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<att-{abs(hash(subject))}@example.com>"
    msg.set_content("见附件。")
    for name, ctype, data in parts:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def test_kept_and_refused_attachments_on_a_new_ticket(make_config: ConfigFactory) -> None:
    cfg = make_config(extra="[attachments]\nmax_file_mb = 0.001\n")
    service = build_service(cfg)
    raw = mail_with(
        ("网络拓扑.png", "image/png", PNG),
        ("setup.exe", "application/octet-stream", EXE),
        ("huge.pdf", "application/pdf", PDF + b"0" * 2000),
        ("../../evil.txt", "text/plain", b"ha"),
    )
    number = service.ingest(raw, "t").ticket_number
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        stored = participants.attachments(tx, ticket.id)
        events = [e["kind"] for e in ticket_events.listing(tx, ticket.id)]
        ack = email.message_from_bytes(outbox_rows.raw(tx, outbox_rows.listing(tx)[0].id) or b"")
    names = {a["filename"]: a for a in stored}
    assert set(names) == {"网络拓扑.png", "setup.exe", "huge.pdf", "evil.txt"}
    assert (
        names["网络拓扑.png"]["refused_reason"] == "" and names["evil.txt"]["refused_reason"] == ""
    )
    assert service.files.get(names["网络拓扑.png"]["sha256"]).startswith(b"\x89PNG")
    assert names["setup.exe"]["sha256"] == "" and ".exe" in names["setup.exe"]["refused_reason"]
    assert events.count("attachment_refused") == 2
    text = ack.get_payload()[0].get_payload(decode=True).decode("utf-8")
    assert "setup.exe" in text and "huge.pdf" in text and "未被保存" in text
    assert cfg.attachments.folder in service.files.path_for(names["evil.txt"]["sha256"]).parents


def test_refused_attachment_in_a_follow_up_is_answered(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    number = service.ingest(mail_with(), "t").ticket_number
    reply = mail_with(("macro.xlsm", "application/vnd.ms-excel", b"x"), subject=f"Re: [{number}]")
    assert service.ingest(reply, "t").kind == "threaded"
    with service.store.transaction() as tx:
        kinds = [r.kind for r in outbox_rows.listing(tx)]
    assert kinds == ["attachment_refused", "ack"]


def test_a_program_named_png_is_refused_and_the_sender_told_in_chinese(
    make_config: ConfigFactory,
) -> None:
    service = build_service(make_config())
    raw = mail_with(("setup.png", "image/png", EXE), ("截图.png", "image/png", PNG))
    number = service.ingest(raw, "t").ticket_number
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        stored = {a["filename"]: a for a in participants.attachments(tx, ticket.id)}
        ack = email.message_from_bytes(outbox_rows.raw(tx, outbox_rows.listing(tx)[0].id) or b"")
    assert stored["setup.png"]["sha256"] == ""
    assert stored["setup.png"]["refused_reason"] == (
        "the content is a Windows executable, which does not match .png; "
        "programs are never accepted"
    )
    assert stored["截图.png"]["refused_reason"] == ""
    assert service.files.get(stored["截图.png"]["sha256"]) == PNG
    text = ack.get_payload()[0].get_payload(decode=True).decode("utf-8")
    assert "setup.png" in text and "文件内容是Windows 可执行程序，与扩展名 .png 不符" in text
