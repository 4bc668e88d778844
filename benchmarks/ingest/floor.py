"""The floor of issue 14, in its own process: FETCH and parse, store nothing.

    python -m benchmarks.ingest.floor --host 127.0.0.1 --port 10143 --user support \
        --password secret [--chunk 200]

One imaplib connection: LOGIN, SELECT (read only), UID SEARCH ALL, UID FETCH
BODY.PEEK[] in chunks of 200 UIDs; each message parsed with
`BytesParser(policy=policy.default)`, reading its subject, its sender, its plain or
HTML body and the content of every attachment (decoded). Nothing is stored.

Prints one JSON line: messages, bytes, wall seconds (from connect to the last
message parsed), CPU seconds and peak RSS of this process. The interpreter's start
is not part of the floor (the parent times the whole process too).
"""

from __future__ import annotations

import argparse
import imaplib
import json
import sys
import time
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser

CHUNK = 200
PARSER = BytesParser(policy=policy.default)


def read_message(raw: bytes) -> int:
    """What any ingester must read of a message; returns a size so nothing is skipped."""
    msg = PARSER.parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    size = len(str(msg["subject"] or "")) + len(str(msg["from"] or ""))
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        size += len(_content(body))
    for part in msg.iter_attachments():
        size += len(_content(part))
    return size


def _content(part: MIMEPart) -> str | bytes:
    try:
        content = part.get_content()
    except (LookupError, ValueError, KeyError):  # an unknown charset, a broken part
        payload = part.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""
    return content if isinstance(content, str | bytes) else b""


def fetch_and_parse(host: str, port: int, user: str, password: str, chunk: int) -> dict[str, float]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    conn = imaplib.IMAP4(host, port, timeout=300)
    messages = size = chars = 0
    try:
        conn.login(user, password)
        conn.select("INBOX", readonly=True)
        _, data = conn.uid("SEARCH", "ALL")
        uids = data[0].split() if data and data[0] else []
        for start in range(0, len(uids), chunk):
            batch = b",".join(uids[start : start + chunk]).decode()
            _, items = conn.uid("FETCH", batch, "(BODY.PEEK[])")
            for item in items:
                if isinstance(item, tuple):
                    chars += read_message(item[1])
                    messages += 1
                    size += len(item[1])
    finally:
        conn.logout()
    return {
        "messages": messages,
        "bytes": size,
        "chars_read": chars,
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": time.process_time() - cpu0,
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """VmHWM: this process's own peak (ru_maxrss would include the parent's at fork)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest.floor")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--chunk", type=int, default=CHUNK)
    args = parser.parse_args(argv)
    result = fetch_and_parse(args.host, args.port, args.user, args.password, args.chunk)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
