"""Worst-case time of the pure path (parse + automail.classify + reply_text.visible_text).

Times every file of ../shared/corpus and every fixture under tests/fixtures, plus
generated pathological messages (many parts, deep nesting, a huge base64 part, a
huge header, a huge address list, a long run of HTML tags, a long quoted body), and
prints the slowest.  Each message is timed as the best of --repeat runs, in CPU time
of this process (time.process_time: other work on a shared machine barely moves it);
a message the parser refuses (ParseError: quarantined) is timed up to the refusal.
Run it on another tree to compare: PYTHONPATH=/work/main/src .venv/bin/python -m …

    .venv/bin/python -m benchmarks.parse_worst_case            # top 15 + pathological
    .venv/bin/python -m benchmarks.parse_worst_case --top 40 --repeat 3

No assertion here: the caps themselves are tested by counting in tests/test_parse.py.
"""

from __future__ import annotations

import argparse
import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from maildesk.pipeline import automail
from maildesk.pipeline.parse import ParseError, parse
from maildesk.pipeline.reply_text import visible_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
HEAD = b"From: a@example.com\r\nTo: it@example.com\r\nSubject: x\r\nMessage-ID: <p@x>\r\n"


def _many_parts(n: int) -> bytes:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(n))
    return HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"


def _deep_multipart(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    for level in range(depth):
        b = b"b%d" % level
        body = (
            b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n--' + b + b"\r\n"
            + body + b"\r\n--" + b + b"--\r\n"
        )  # fmt: skip
    return HEAD + body


def _deep_rfc822(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for _ in range(depth):
        body = b"Content-Type: message/rfc822\r\n\r\n" + HEAD + body
    return HEAD + body


def _huge_base64(megabytes: int) -> bytes:
    data = base64.encodebytes(b"\x00\x01binary" * (megabytes * 1024 * 1024 // 8))
    return (
        HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nsee attachment\r\n--b\r\n"
        b"Content-Type: application/octet-stream; name=big.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + data + b"\r\n--b--\r\n"
    )


def _huge_header(size: int) -> bytes:
    words = b" ".join(b"=?utf-8?B?5omT5Y2w5py6?=" for _ in range(size // 24))
    return b"From: a@example.com\r\nSubject: " + words + b"\r\n\r\nbody\r\n"


def _huge_address_list(n: int) -> bytes:
    to = b",\r\n ".join(b"User %d <user%d@example.com>" % (i, i) for i in range(n))
    return b"From: a@example.com\r\nTo: " + to + b"\r\nSubject: x\r\n\r\nbody\r\n"


def _html_tags(n: int) -> bytes:
    html = b"<html><body>" + b"<div><span><b>x</b></span></div>" * n + b"</body></html>"
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html


def _quoted_lines(n: int) -> bytes:
    lines = b"".join(b"> line %d of an old message\r\n" % i for i in range(n))
    return HEAD + b"Content-Type: text/plain\r\n\r\nnew text\r\n\r\n" + lines


def _html_unclosed(n: int) -> bytes:
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + b"<a " * n


def _separators(n: int) -> bytes:
    lines = b"-----Original Message-----\r\n" * n
    return HEAD + b"Content-Type: text/plain\r\n\r\n" + lines


def pathological() -> Iterator[tuple[str, Callable[[], bytes]]]:
    yield "generated: 10,000 parts", lambda: _many_parts(10_000)
    yield "generated: multipart depth 1,000", lambda: _deep_multipart(1_000)
    yield "generated: message/rfc822 depth 1,000", lambda: _deep_rfc822(1_000)
    yield "generated: message/rfc822 depth 300", lambda: _deep_rfc822(300)
    yield "generated: 50 MB base64 part", lambda: _huge_base64(50)
    yield "generated: 1 MB subject", lambda: _huge_header(1024 * 1024)
    yield "generated: 100,000 addresses", lambda: _huge_address_list(100_000)
    yield "generated: 200,000 HTML tags", lambda: _html_tags(50_000)
    yield "generated: 100,000 quoted lines", lambda: _quoted_lines(100_000)
    yield "generated: 20 KB of unclosed <a tags", lambda: _html_unclosed(7_000)
    yield "generated: 36,000 'Original Message' lines", lambda: _separators(36_000)


def files() -> Iterator[tuple[str, Callable[[], bytes]]]:
    roots = [CORPUS, ROOT / "tests" / "fixtures"]
    for root in roots:
        if not root.is_dir():
            print(f"(skipping {root}: absent)")
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix.lower() not in (".json", ".md", ".py"):
                yield str(path.relative_to(root.parent)), path.read_bytes


def pure_path(raw: bytes) -> str:
    try:
        inbound = parse(raw)
    except ParseError as exc:
        return f"quarantined: {exc}"
    except Exception as exc:  # the service would quarantine it as an internal error
        return f"crashed: {type(exc).__name__}"
    automail.classify(raw, inbound)
    visible_text(inbound.text)
    return "ok"


def timed(raw: bytes, repeat: int) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(repeat):
        start = time.process_time()
        outcome = pure_path(raw)
        best = min(best, time.process_time() - start)
    return best, outcome


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-generated", action="store_true")
    args = ap.parse_args()
    results = [(*timed(load(), args.repeat), name) for name, load in files()]
    results.sort(reverse=True)
    print(f"{len(results)} files; slowest {args.top} (best of {args.repeat}):")
    for seconds, outcome, name in results[: args.top]:
        print(f"  {seconds * 1000:9.1f} ms  {name}  [{outcome[:90]}]")
    if not args.no_generated:
        print("generated pathological messages (best of 1):")
        for name, make in pathological():
            raw = make()
            seconds, outcome = timed(raw, 1)
            print(f"  {seconds * 1000:9.1f} ms  {name} ({len(raw):,} bytes)  [{outcome[:90]}]")


if __name__ == "__main__":
    main()
