"""What a file's bytes are, whatever its name says.  Pure: bytes in, verdict out.

puremagic names the formats whose signatures match (it reads the head and tail of
the bytes, never unpacks an archive); we fold its many names into the few kinds
our extensions promise.  Plain text has no signature: it is text when it decodes
(UTF-8, UTF-16 with a BOM, GB18030, Big5-HKSCS, Latin-1) into printable
characters.  An executable signature (Windows MZ/PE, ELF, Mach-O, …) is refused
whatever the name; other content must be the kind its extension promises.
Extensions we have no kind for (an admin may allow more) get the executable check
only.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any

import puremagic

from maildesk.pipeline.charsets import decode_bytes
from maildesk.vocab import Both, Reason, Term, reason

# extension → the kind of content it promises
EXPECTED = {
    "png": "png",
    "jpg": "jpeg",
    "jpeg": "jpeg",
    "gif": "gif",
    "pdf": "pdf",
    "zip": "zip",
    "docx": "zip",  # Office Open XML files are zip containers
    "xlsx": "zip",
    "pptx": "zip",
    "doc": "office97",
    "xls": "office97",
    "ppt": "office97",
    "txt": "text",
    "log": "text",
    "csv": "text",
}

EXECUTABLES = ("windows_executable", "elf_executable", "macos_executable", "executable")
WINDOWS_EXTENSIONS = frozenset(
    {".exe", ".dll", ".sys", ".com", ".drv", ".pif", ".scr", ".cpl", ".ocx"}
)
OFFICE97_EXTENSIONS = frozenset({".doc", ".xls", ".ppt"})
MIME_KINDS = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/x-executable": "executable",
    "application/x-msdownload": "windows_executable",
}
# controls that never occur in text; tab, newlines, \f, \v, bell, backspace and ESC may
NOT_TEXT = re.compile(r"[\x00-\x06\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class Found:
    """What the bytes are: signature kinds (most confident first), and whether text."""

    kinds: tuple[str, ...]
    names: tuple[str, ...]  # the library's name for each match, same order
    text: bool
    empty: bool = False

    def executable(self) -> str | None:
        return next((kind for kind in EXECUTABLES if kind in self.kinds), None)

    def signatures(self) -> list[str]:
        """Our kinds among the matches; an executable signature on readable text is chance."""
        return [k for k in self.kinds if k != "other" and not (self.text and k in EXECUTABLES)]

    def is_kind(self, kind: str) -> bool:
        if kind == "text":
            return self.text and not self.signatures()
        return kind in self.kinds


def identify(data: bytes) -> Found:
    if not data:
        return Found((), (), text=True, empty=True)
    matches = _matches(data)
    return Found(
        tuple(_kind(m) for m in matches), tuple(str(m.name) for m in matches), is_text(data)
    )


def refusal(ext: str, data: bytes) -> Reason | None:
    """Why content named `.ext` is not kept: an executable, or not what `.ext` promises."""
    found = identify(data)
    running = found.executable()
    if running and not found.text:
        return reason("file_executable", content=Term("content", running), ext=ext)
    expected = EXPECTED.get(ext)
    if expected is None or found.is_kind(expected):
        return None
    return reason("file_content_mismatch", content=describe(found), ext=ext)


def describe(found: Found) -> Term | Both:
    """The reader's words for what the content is."""
    if found.empty:
        return Term("content", "empty")
    ours = found.signatures()
    if ours:
        return Term("content", ours[0])
    if found.text:
        return Term("content", "text")
    if found.names:
        return Both(f"其他格式（{found.names[0]}）", f"another format ({found.names[0]})")
    return Term("content", "unknown")


def is_text(data: bytes) -> bool:
    """Decodes into characters a person can read: no NUL or other binary controls."""
    if data.startswith(UTF16_BOMS):
        try:
            return not NOT_TEXT.search(data.decode("utf-16"))
        except UnicodeDecodeError:
            return False
    return not NOT_TEXT.search(decode_bytes(data))


def _matches(data: bytes) -> list[Any]:
    try:
        return list(puremagic.magic_string(data))
    except puremagic.PureError:
        return []


def _kind(match: Any) -> str:
    """Our kind for one of puremagic's matches (`other` when none of ours)."""
    extension, mime, name = str(match.extension), str(match.mime_type), str(match.name)
    if extension in WINDOWS_EXTENSIONS:
        return "windows_executable"
    if "ELF" in name:
        return "elf_executable"
    if "Mach-O" in name:
        return "macos_executable"
    if "executable" in name.lower():
        return "executable"
    if extension in OFFICE97_EXTENSIONS:
        return "office97"
    if mime.startswith("application/vnd.openxmlformats-officedocument."):
        return "zip"
    return MIME_KINDS.get(mime, "other")
