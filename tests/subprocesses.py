"""Run the real daemon as a subprocess, and read what it sent."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .conftest import SmtpSink, wait_until


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "maildesk", "--config", str(config), "run"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_started(proc: subprocess.Popen[bytes], log: Path, node: str = "test") -> None:
    marker = f"running as {node}:{proc.pid}"
    wait_until(lambda: marker in log.read_text(errors="replace"), timeout=30, what=marker)


def acks_by_message_id(sink: SmtpSink) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    with sink.lock:
        for _, _, raw in sink.messages:
            msg = email.message_from_bytes(raw)
            number = str(msg["Subject"]).split("]")[0].strip("[")
            found[(number, str(msg["Message-ID"]))] += 1
    return found
