"""An attachment's bytes must be what its extension promises; programs never pass."""

from __future__ import annotations

import io
import zipfile

import pytest

from maildesk.domain import AttachmentInfo
from maildesk.pipeline.attachment_policy import Limits, check
from maildesk.pipeline.file_content import identify, is_text, refusal
from maildesk.vocab import say

from .files import DOCX, ELF, EXE, GIF, JPEG, MACHO, PDF, PNG, TEXT, ZIP

DEFAULTS = frozenset({"jpg", "jpeg", "png", "gif", "pdf", "txt", "log", "zip", "docx", "xlsx"})
LIMITS = Limits(DEFAULTS, max_file_bytes=10_000_000, max_message_bytes=25_000_000)


@pytest.mark.parametrize(
    ("ext", "data"),
    [
        ("png", PNG),
        ("pdf", PDF),
        ("zip", ZIP),
        ("docx", DOCX),
        ("xlsx", DOCX),  # an Office file is a zip container; we do not unpack it to tell
        ("zip", DOCX),
        ("jpg", JPEG),
        ("jpeg", JPEG),
        ("gif", GIF),
        ("txt", TEXT),
        ("log", TEXT),
        ("log", "日志".encode("gb18030") + b"\r\n"),
        ("txt", "日志\r\n".encode("utf-16")),
        ("log", b"\x1b[31mERROR\x1b[0m disk full\n"),  # terminal colours are text
        ("txt", b"#!/bin/sh\necho hello\n"),  # a script is text: mail carries no x bit
        ("txt", b"MZ-2 printer: offline\n"),  # readable text that starts like a program
        ("txt", b""),
        ("csv", b"name,room\n"),  # an extension without a known kind: programs only
    ],
)
def test_content_that_matches_its_name_is_kept(ext: str, data: bytes) -> None:
    assert refusal(ext, data) is None


@pytest.mark.parametrize(
    ("ext", "data", "english", "chinese"),
    [
        (
            "png",
            EXE,
            "the content is a Windows executable, which does not match .png; "
            "programs are never accepted",
            "文件内容是Windows 可执行程序，与扩展名 .png 不符；可执行程序一律不接受",
        ),
        (
            "txt",
            ELF,
            "the content is a Linux/Unix executable (ELF), which does not match .txt; "
            "programs are never accepted",
            "文件内容是Linux/Unix 可执行程序（ELF），与扩展名 .txt 不符；可执行程序一律不接受",
        ),
        (
            "pdf",
            MACHO,
            "the content is a macOS executable (Mach-O), which does not match .pdf; "
            "programs are never accepted",
            "文件内容是macOS 可执行程序（Mach-O），与扩展名 .pdf 不符；可执行程序一律不接受",
        ),
        (
            "jpg",
            PNG,
            "the content is a PNG image, which does not match .jpg",
            "文件内容是PNG 图片，与扩展名 .jpg 不符",
        ),
        (
            "png",
            TEXT,
            "the content is plain text, which does not match .png",
            "文件内容是纯文本，与扩展名 .png 不符",
        ),
        (
            "txt",
            PDF,
            "the content is a PDF document, which does not match .txt",
            "文件内容是PDF 文档，与扩展名 .txt 不符",
        ),
        (
            "docx",
            b"Rar!\x1a\x07\x00" + bytes(40),
            "the content is another format (WinRAR Compressed Archive file), "
            "which does not match .docx",
            "文件内容是其他格式（WinRAR Compressed Archive file），与扩展名 .docx 不符",
        ),
        (
            "log",
            bytes(range(256)),
            "the content is unrecognised binary data, which does not match .log",
            "文件内容是无法识别的二进制数据，与扩展名 .log 不符",
        ),
        (
            "pdf",
            b"",
            "the content is an empty file, which does not match .pdf",
            "文件内容是空文件，与扩展名 .pdf 不符",
        ),
    ],
)
def test_content_that_does_not_match_is_refused_in_both_languages(
    ext: str, data: bytes, english: str, chinese: str
) -> None:
    why = refusal(ext, data)
    assert why is not None
    assert say(why, "en") == english
    assert say(why, "zh-CN") == chinese


@pytest.mark.parametrize("ext", ["png", "txt", "zip", "csv", "xyz"])
def test_a_program_is_refused_whatever_it_is_called(ext: str) -> None:
    why = refusal(ext, EXE)
    assert why is not None and why.key == "file_executable"


def test_a_self_extracting_zip_is_a_program_not_an_archive() -> None:
    sfx = EXE.ljust(526, b"\x00") + b"PKSpX" + ZIP
    why = refusal("zip", sfx)
    assert why is not None and why.key == "file_executable"


def test_archives_are_judged_by_their_own_signature_only() -> None:
    """A program inside a zip is not looked for: archives are never unpacked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("setup.exe", EXE)
    assert refusal("zip", buffer.getvalue()) is None


def test_text_is_what_decodes_into_readable_characters() -> None:
    assert is_text(TEXT) and is_text("報告".encode("big5hkscs")) and is_text(b"")
    assert not is_text(b"log line\x00\x00\x00") and not is_text(PNG) and not is_text(EXE)
    assert identify(PNG).kinds[0] == "png"


def test_check_refuses_the_disguised_and_keeps_the_genuine() -> None:
    items = tuple(
        AttachmentInfo(name, "application/octet-stream", len(data), data=data)
        for name, data in [
            ("截图.png", PNG),
            ("setup.png", EXE),
            ("报告.pdf", PDF),
            ("ping.txt", ELF),
            ("日志.log", TEXT),
            ("资料.zip", ZIP),
        ]
    )
    verdicts = {v.safe_name: v for v in check(items, LIMITS)}
    kept = {name for name, v in verdicts.items() if not v.refused}
    assert kept == {"截图.png", "报告.pdf", "日志.log", "资料.zip"}
    assert verdicts["setup.png"].refused.startswith("the content is a Windows executable")
    why = verdicts["ping.txt"].why
    assert why is not None and "ELF" in say(why, "zh-CN")
