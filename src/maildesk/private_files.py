"""Files only their owner may open (an edge): the config with its secrets, the
database, stored attachments.

Modes are given where a file or folder is created (`os.open`, `mkdir`), never by
changing the process umask, which other threads share.  A umask can only take more
rights away, so what we create is at most 0600 (files) and 0700 (folders).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
OTHERS = 0o077  # any right for the group or for everyone else


def make_private_folder(path: Path) -> None:
    """Create `path` and its missing parents 0700; folders that exist keep their mode."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another thread made it first
            folder.mkdir(mode=PRIVATE_FOLDER)


def write_private_text(path: Path, text: str) -> None:
    """Write `path` for its owner only, also when it existed with wider rights."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)  # before a byte of it is written
        handle.write(text)


def create_private_file(path: Path) -> None:
    """An empty file, 0600, unless `path` exists already (its mode is then left alone)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def open_to_others(path: Path) -> int | None:
    """The mode of `path` when its group or others have any right to it, else None."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    return mode if mode & OTHERS else None
