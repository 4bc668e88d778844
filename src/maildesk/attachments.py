"""The attachment store (an edge): files on disk, addressed by their SHA-256.

`<folder>/ab/cd/<sha256>`: a file is written once (atomically, via a temporary
name), never overwritten, and shared by every ticket that received the same bytes.
The names people gave their files live in the database, never in the path.
Files are 0600 and the folders we create 0700: only maildesk's user reads them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from maildesk.private_files import make_private_folder


class AttachmentStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, sha256: str) -> Path:
        return self.folder / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store the bytes (once) and return their SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest
        make_private_folder(target.parent)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
