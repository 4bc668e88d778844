"""Automatic-mail recall and false positives of `automail.classify`, over folders of mail.

    python -m benchmarks.automatic_recall DIR [DIR …] [--list]

A folder with an `expected.json` mapping file names (paths relative to the folder) to a
label is measured against it.  Labels: "human" (a person's mail), "auto_reply" (an
out-of-office notice, another system's acknowledgment, system mail: no ticket),
"alert" (monitoring: a ticket without an answer), "list" (list or bulk mail), "bounce",
"delay".  A folder without one is reported by kind only (each message's verdict with
--list), for mail nobody labelled: read the verdicts to judge them.

Figures: recall = automatic mail (every label but "human") classified as anything but
HUMAN; false positives = human mail classified as automatic (the worse error: a person
gets no ticket); exact = the kind matches the label.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from maildesk.pipeline import automail
from maildesk.pipeline.parse import ParseError, parse

SKIPPED_SUFFIXES = (".json", ".md", ".py")


def verdict(path: Path) -> automail.AutoMail:
    raw = path.read_bytes()
    try:
        inbound = parse(raw)
    except ParseError:
        return automail.AutoMail(automail.Kind.HUMAN, "unparseable")
    return automail.classify(raw, inbound)


def files(folder: Path) -> list[Path]:
    found = (p for p in folder.rglob("*") if p.is_file())
    return sorted(p for p in found if p.suffix.lower() not in SKIPPED_SUFFIXES)


def measure(folder: Path, show: bool) -> dict[str, int]:
    labels_file = folder / "expected.json"
    found_labels = json.loads(labels_file.read_text("utf-8")) if labels_file.exists() else {}
    labels = {k: v for k, v in found_labels.items() if isinstance(v, str)}  # ours, not others'
    counts: Counter[str] = Counter()
    for path in files(folder):
        name = str(path.relative_to(folder))
        found = verdict(path)
        label = labels.get(name)
        counts[f"kind {found.kind.value}"] += 1
        wrong = ""
        if label is not None:
            automatic = label != "human"
            counts["automatic" if automatic else "human"] += 1
            counts["recalled"] += automatic and found.kind is not automail.Kind.HUMAN
            counts["false positives"] += not automatic and found.kind is not automail.Kind.HUMAN
            counts["exact"] += found.kind.value == label
            wrong = "" if found.kind.value == label else f"  <-- expected {label}"
        if show or wrong:
            print(f"  {name}: {found.kind.value} ({found.reason}){wrong}")
    return dict(counts)


def report(folder: Path, counts: dict[str, int]) -> str:
    kinds = ", ".join(f"{k[5:]} {v}" for k, v in sorted(counts.items()) if k.startswith("kind "))
    line = (
        f"{folder}: {sum(v for k, v in counts.items() if k.startswith('kind '))} messages ({kinds})"
    )
    automatic, human = counts.get("automatic", 0), counts.get("human", 0)
    if automatic or human:
        recall = counts.get("recalled", 0) / automatic if automatic else 1.0
        line += (
            f"\n  recall {counts.get('recalled', 0)}/{automatic} = {recall:.1%}; "
            f"false positives {counts.get('false positives', 0)}/{human}; "
            f"exact kind {counts.get('exact', 0)}/{automatic + human}"
        )
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--list", action="store_true", help="every message's verdict")
    args = parser.parse_args(argv)
    for folder in args.folders:
        print(report(folder, measure(folder, args.list)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
