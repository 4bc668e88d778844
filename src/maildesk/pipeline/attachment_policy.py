"""Which attachments are kept, under which safe name.  Pure.

Defaults follow our service standard: jpg, png, gif, pdf, txt, log, zip, docx,
xlsx, at most 10 MB a file.  The bytes must be what the extension promises
(`file_content`): a Windows program named `setup.png` is refused.  Names lose any
path, control characters and leading dots, so a name can neither climb out of a
folder nor hide; storage is by content hash, so no name can overwrite another file
either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from maildesk.domain import AttachmentInfo, AttachmentVerdict
from maildesk.pipeline import file_content
from maildesk.vocab import Reason, reason, say

MAX_NAME = 150
UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


@dataclass(frozen=True)
class Limits:
    allowed_extensions: frozenset[str]
    max_file_bytes: int
    max_message_bytes: int


def safe_filename(name: str) -> str:
    """The last path component, printable, no leading dots, at most 150 characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = " ".join(UNSAFE.sub("", name).split()).lstrip(". ")
    if len(name) > MAX_NAME:
        ext = extension(name)
        keep = MAX_NAME - len(ext) - 1 if 0 < len(ext) <= 10 else MAX_NAME
        name = name[:keep] + (f".{ext}" if keep < MAX_NAME else "")
    return name or "attachment"


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def check(attachments: tuple[AttachmentInfo, ...], limits: Limits) -> tuple[AttachmentVerdict, ...]:
    """Judge each attachment in order; the message total counts kept ones only."""
    verdicts = []
    total = 0
    for item in attachments:
        name = safe_filename(item.filename)
        why = _refusal(item, name, limits, total)
        if why is None:
            total += item.size
        verdicts.append(AttachmentVerdict(item, name, say(why, "en") if why else "", why))
    return tuple(verdicts)


def _refusal(item: AttachmentInfo, name: str, limits: Limits, total: int) -> Reason | None:
    ext = extension(name)
    if ext not in limits.allowed_extensions:
        allowed = ", ".join(sorted(limits.allowed_extensions))
        return reason("file_type", ext=ext or "?", accepted=allowed)
    if item.size > limits.max_file_bytes:
        return reason("file_too_big", size=_mb(item.size), limit=_mb(limits.max_file_bytes))
    mismatch = file_content.refusal(ext, item.data)
    if mismatch is not None:
        return mismatch
    if total + item.size > limits.max_message_bytes:
        return reason("files_too_big", limit=_mb(limits.max_message_bytes))
    return None


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
