"""Bounce recall: how many real bounces maildesk recognises, with the failed address.

    .venv/bin/python -m benchmarks.bounce_recall --flufl .cache/fixtures/flufl_bounce-6.0.0 \\
        --bounces /path/to/sisimai/maildir/bsd --bounces ../shared/corpus/flanker/bounce \\
        --human ../shared/corpus --human tests/fixtures

Sources:
- ``--flufl DIR``: flufl.bounce's sdist; its ``tests/data/*.txt`` are bounces (two are
  not: a person's mail and an auto-reply), the addresses each must yield are read from
  its ``tests/test_detectors.py``; warnings must be recognised as bounce or delay.
- ``--bounces DIR``: every file below is a bounce or delay notice (feedback reports
  ``arf-*`` and auto-replies ``rfc3834-*`` of sisimai's set, and ``human*`` files, are left
  out); the address counts as found when one is named (there is no per-file expectation).
- ``--human DIR``: every file below is a person's mail (files under a ``bounce``
  folder, names with ``bounce``/``autoreply``/``oof``/``vacation``/``delay``/``receipt``
  and mailing-list fixtures are left out, unless the name says ``human``): any bounce or
  delay verdict is a false positive.  KNOWN_BOUNCES below are left out: they are bounces.

A message counts as recognised when parse + classify say BOUNCE or DELAY (what plan
records or ignores as machine mail); a ParseError counts as not recognised.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from maildesk.pipeline.automail import AutoMail, Kind, classify
from maildesk.pipeline.parse import ParseError, parse

MACHINE = (Kind.BOUNCE, Kind.DELAY)
FLUFL_NOT_BOUNCES = {"groupwise_03.txt": "a person's reply", "qmail_08.txt": "an auto-reply"}
SKIP_BOUNCES = ("arf-", "rfc3834-")
HUMAN_SKIP = ("bounce", "autoreply", "oof", "vacation", "delay", "receipt", "mailing_list",
              "newsletter", "auto_reply", "autoresponse")  # fmt: skip
# Files of the human sources that are in fact bounces (read, one by one).
KNOWN_BOUNCES = ("msg_16.txt", "msg_25.txt", "msg_43.txt", "mail_malformed_2", "exchange_ndr.eml")
SUFFIXES = (".eml", ".txt", ".msg", "")


@dataclass
class Tally:
    name: str
    total: int = 0
    recognised: int = 0
    with_address: int = 0
    addressed: int = 0  # files with an expected address (or all, without expectations)
    missed: list[str] = field(default_factory=list)
    wrong_address: list[str] = field(default_factory=list)

    def line(self) -> str:
        rate = self.recognised / self.total if self.total else 0.0
        addr = self.with_address / self.addressed if self.addressed else 0.0
        return (f"{self.name}: {self.recognised}/{self.total} recognised ({rate:.1%}), "
                f"address right {self.with_address}/{self.addressed} ({addr:.1%})")  # fmt: skip


def verdict(raw: bytes) -> AutoMail | None:
    try:
        return classify(raw, parse(raw))
    except ParseError:
        return None


def flufl_expectations(root: Path) -> dict[str, tuple[str, ...]]:
    """file name -> addresses, from the DETECTORS table of flufl.bounce's own tests."""
    tree = ast.parse((root / "tests" / "test_detectors.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DETECTORS" for t in node.targets
        ):
            rows = ast.literal_eval(node.value)
            found: dict[str, tuple[str, ...]] = {}
            for _module, name, addresses, _temporary in rows:
                if addresses:
                    found[name] = tuple(a.decode().lower() for a in addresses)
            return found
    raise SystemExit(f"no DETECTORS table in {root}/tests/test_detectors.py")


def measure_flufl(root: Path) -> Tally:
    expected = flufl_expectations(root)
    tally = Tally(f"flufl.bounce {root.name}")
    for path in sorted((root / "tests" / "data").glob("*.txt")):
        if path.name in FLUFL_NOT_BOUNCES:
            continue
        found = verdict(path.read_bytes())
        tally.total += 1
        if found is None or found.kind not in MACHINE:
            tally.missed.append(f"{path.name}: {found.kind if found else 'parse error'}"
                                f" {found.reason if found else ''}".rstrip())  # fmt: skip
            continue
        tally.recognised += 1
        want = expected.get(path.name)
        if want is None:
            continue
        tally.addressed += 1
        if set(want) <= set(found.failed_recipients):
            tally.with_address += 1
        else:
            tally.wrong_address.append(f"{path.name}: want {want} got {found.failed_recipients}")
    return tally


def files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in SUFFIXES and not path.name.startswith("."):
            yield path


def measure_bounces(root: Path) -> Tally:
    tally = Tally(f"bounces {root}")
    for path in files(root):
        if (
            path.name.startswith(SKIP_BOUNCES)
            or path.name == "expected.json"
            or "human" in path.name
        ):
            continue
        found = verdict(path.read_bytes())
        tally.total += 1
        tally.addressed += 1
        if found is None or found.kind not in MACHINE:
            what = f"{found.kind} {found.reason}" if found else "parse error"
            tally.missed.append(f"{path.relative_to(root)}: {what}")
            continue
        tally.recognised += 1
        if found.failed_recipients:
            tally.with_address += 1
        else:
            tally.wrong_address.append(f"{path.relative_to(root)}: no address ({found.reason})")
    return tally


def measure_human(root: Path) -> Tally:
    tally = Tally(f"human {root}")
    for path in files(root):
        lowered = str(path.relative_to(root)).lower()
        human = "human" in path.name
        if path.name in KNOWN_BOUNCES:
            continue
        if path.suffix == ".json" or (any(w in lowered for w in HUMAN_SKIP) and not human):
            continue
        found = verdict(path.read_bytes())
        tally.total += 1
        if found is not None and found.kind in MACHINE:
            tally.recognised += 1
            tally.missed.append(f"{path.relative_to(root)}: {found.kind} {found.reason}")
    return tally


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    args.add_argument("--flufl", action="append", default=[], type=Path)
    args.add_argument("--bounces", action="append", default=[], type=Path)
    args.add_argument("--human", action="append", default=[], type=Path)
    args.add_argument("-v", "--verbose", action="store_true", help="list misses")
    opts = args.parse_args(argv)
    bounce_tallies = [measure_flufl(p) for p in opts.flufl]
    bounce_tallies += [measure_bounces(p) for p in opts.bounces]
    for tally in bounce_tallies:
        print(tally.line())
        if opts.verbose:
            for line in tally.missed + tally.wrong_address:
                print("   ", line)
    for tally in (measure_human(p) for p in opts.human):
        print(f"{tally.name}: {tally.recognised}/{tally.total} taken for bounces (must be 0)")
        for line in tally.missed:
            print("   ", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
