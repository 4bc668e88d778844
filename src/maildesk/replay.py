"""`maildesk replay`: read .eml files, mbox files and Maildir folders as raw messages."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path


class ReplayError(Exception):
    pass


def kind_of(path: Path) -> str:
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            return "maildir"
        return "folder"
    if not path.exists():
        raise ReplayError(f"{path}: no such file or folder")
    with path.open("rb") as handle:
        start = handle.read(5)
    return "mbox" if start == b"From " else "eml"


def count(path: Path) -> int:
    kind = kind_of(path)
    if kind == "eml":
        return 1
    if kind == "folder":
        return sum(1 for p in sorted(path.iterdir()) if p.is_file())
    return len(_open(path, kind))


def messages(path: Path) -> Iterator[tuple[bytes, str]]:
    """(raw bytes, source label) for every message at `path`."""
    kind = kind_of(path)
    if kind == "eml":
        yield path.read_bytes(), f"replay:{path}"
    elif kind == "folder":
        for item in sorted(path.iterdir()):
            if item.is_file():
                yield item.read_bytes(), f"replay:{item}"
    else:
        box = _open(path, kind)
        for key in box.iterkeys():
            yield box.get_bytes(key), f"replay:{path}#{key}"


def _open(path: Path, kind: str) -> mailbox.Mailbox[mailbox.Message]:
    if kind == "maildir":
        return mailbox.Maildir(str(path), factory=None, create=False)
    return mailbox.mbox(str(path), create=False)
