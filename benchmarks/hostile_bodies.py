"""How long visible_text takes on hostile bodies (long lines, runs of look-alike lines):
the timing that tests/test_reply_text.py must not assert.

    .venv/bin/python -m benchmarks.hostile_bodies
"""

from __future__ import annotations

import time

from tests.test_reply_text import HOSTILE_BODIES

from maildesk.pipeline.reply_text import visible_text


def main() -> None:
    for body in HOSTILE_BODIES:
        best = min(_seconds(body) for _ in range(3))
        print(f"{best * 1000:8.1f} ms  {len(body):>9,} chars  {body[:40]!r}")


def _seconds(body: str) -> float:
    started = time.perf_counter()
    visible_text(body)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
