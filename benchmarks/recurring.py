"""Recurring problems (`digest/recurring.find`) over N generated tickets in the period
and N in the previous one: the requests of tests/digest_requests.py, each made unique
(a name, a department and a sentence of its own), and optionally long descriptions.

    .venv/bin/python -m benchmarks.recurring --n 3000
    .venv/bin/python -m benchmarks.recurring --n 3000 --chars 2000
    .venv/bin/python -m benchmarks.recurring --corpus ../shared/corpus

With --corpus: every message file under the folder (parsed by maildesk's own parser, the
description its visible text, as a ticket's first message; a file without headers read
as a body), each folder one category
(its own, twice: all in one period and all in the one before, to list every term the
folder's mail shares with min_tickets 2); prints the terms found.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tests.digest_requests import CURRENT, PREVIOUS

from maildesk.digest.recurring import TicketText, find
from maildesk.pipeline.parse import ParseError, parse
from maildesk.pipeline.reply_text import visible_text
from maildesk.terms import words

FILL = (
    "我们这边同事都遇到了，昨天下午开始的，重启过电脑也没用，麻烦尽快帮忙处理一下。",
    "It started after the update yesterday; restarting did not help. Screenshot attached.",
    "部门下周有审计，急需使用，辛苦各位老师了。",
)
PEOPLE = ("张伟", "王芳", "李娜", "刘洋", "陈静", "Tom", "Alice", "Wang Lei")


def tickets(model: list[TicketText], n: int, chars: int, seed: int) -> list[TicketText]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        base = model[i % len(model)]
        extra = f"\n{rng.choice(PEOPLE)} 分机{rng.randint(1000, 9999)}。" + "".join(
            rng.choice(FILL) for _ in range(3)
        )
        description = (base.description + extra) * max(1, chars // (len(base.description) + 80))
        out.append(
            replace(base, number=f"{base.number}-{i}", description=description[: chars or None])
        )
    return out


def corpus_tickets(folder: Path) -> list[TicketText]:
    found = []
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix not in (".json", ".md"))
    for path in files:
        raw = path.read_bytes()
        try:
            inbound = parse(raw)
            subject, body = inbound.subject, inbound.text
        except ParseError:  # the reply parsers' bodies have no headers: read them as text
            subject, body = "", raw.decode("utf-8", "replace")
        category = path.relative_to(folder).parts[0]
        at = datetime(2026, 11, 23, tzinfo=UTC)
        text = visible_text(body)
        found.append(TicketText(f"{category}/{path.name}", category, subject, text, at))
    return found


def corpus(folder: Path) -> None:
    found = corpus_tickets(folder)
    begun = time.perf_counter()
    terms = find(found, [], limit=1000, per_category=1000)
    took = time.perf_counter() - begun
    print(f"{len(found)} messages parsed; find took {took:.3f} s; {len(terms)} terms")
    for term in terms:
        examples = ", ".join(e.number.split("/", 1)[1] for e in term.examples)
        print(f"  {term.category:<24} {term.term!r:<32} {term.count:>3}  ({examples})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--chars", type=int, default=0, help="description length (0: as written)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--corpus", type=Path, help="a folder of raw messages instead")
    args = parser.parse_args()
    if args.corpus:
        corpus(args.corpus)
        return
    words("打印机")  # load rjieba and the dictionary once, as the daemon does
    current = tickets(CURRENT, args.n, args.chars, 1)
    previous = tickets(PREVIOUS, args.n, args.chars, 2)
    size = statistics.mean(len(t.subject) + len(t.description) for t in current)
    times, cpu = [], []
    for _ in range(args.repeat):
        begun, begun_cpu = time.perf_counter(), time.process_time()
        found = find(current, previous)
        times.append(time.perf_counter() - begun)
        cpu.append(time.process_time() - begun_cpu)
    print(f"{args.n} + {args.n} tickets, {size:.0f} characters each on average")
    print(f"find: median {statistics.median(times):.3f} s, min {min(times):.3f} s wall; "
          f"min {min(cpu):.3f} s CPU")  # fmt: skip
    for term in found:
        print(f"  {term.category}  {term.term}  {term.count} (before {term.previous})")


if __name__ == "__main__":
    main()
