"""How well maildesk reads labelled mail: what kind each message is, and what a reply's
author newly wrote.

    .venv/bin/python -m benchmarks.reading_mail tests/fixtures/heldout

A folder with `kinds/expected.json` ({file: {"kind": human|auto_reply|bounce|delay|list|
alert, "failed": address?}}) is scored for kinds; one with `replies/expected.json`
({file: {"visible": text, "signature": text, "sender_name"?, "department"?}}) for visible
text.  Figures:

- automatic recall: labelled automatic (anything but human) and not read as human;
- false positives: labelled human and read as anything else (the worse error: no ticket);
- exact kind; bounces with the failed address found;
- visible text exact; exact if a kept signature is forgiven; and "cut": replies where a
  line the person wrote is missing from what maildesk shows (must be 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from maildesk.domain import Person
from maildesk.pipeline import automail
from maildesk.pipeline.parse import ParseError, parse
from maildesk.pipeline.reply_text import known_sender, visible_text


@dataclass
class KindScore:
    automatic: int = 0
    recalled: int = 0
    human: int = 0
    false_positive: int = 0
    exact: int = 0
    bounces: int = 0
    address_found: int = 0
    misses: list[str] = field(default_factory=list)


@dataclass
class ReplyScore:
    total: int = 0
    exact: int = 0
    forgiven: int = 0
    cut: int = 0
    name_only: int = 0  # only a lone sign-off name is missing: the issue calls it a signature
    misses: list[str] = field(default_factory=list)


def read_kind(raw: bytes) -> automail.AutoMail | None:
    try:
        inbound = parse(raw)
    except ParseError:
        return None
    return automail.classify(raw, inbound)


def score_kinds(folder: Path) -> KindScore:
    score = KindScore()
    for name, label in json.loads((folder / "expected.json").read_text("utf-8")).items():
        expected = label["kind"] if isinstance(label, dict) else label
        found = read_kind((folder / name).read_bytes())
        kind = found.kind.value if found else "unparsed"
        if expected == "human":
            score.human += 1
            score.false_positive += kind != "human"
        else:
            score.automatic += 1
            score.recalled += kind not in ("human", "unparsed")
        score.exact += kind == expected
        failed = label.get("failed", "") if isinstance(label, dict) else ""
        if expected == "bounce" and failed:
            score.bounces += 1
            score.address_found += bool(found) and failed.lower() in found.failed_recipients
        if kind != expected:
            score.misses.append(f"{name}: expected {expected}, read {kind}")
    return score


def shown(raw: bytes, label: dict[str, str]) -> tuple[str, str]:
    """What maildesk shows of the reply, and the sender's display name."""
    inbound = parse(raw)
    person = None
    if label.get("sender_name") or label.get("department"):
        name, department = label.get("sender_name", ""), label.get("department", "")
        person = Person(inbound.sender.email, name, department, "")
    return visible_text(inbound.text, known_sender(inbound.sender, person, ())), inbound.sender.name


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def score_replies(folder: Path) -> ReplyScore:
    score = ReplyScore()
    for name, label in json.loads((folder / "expected.json").read_text("utf-8")).items():
        expected = label.get("visible", label.get("visible_text", "")).strip()
        got, sender = shown((folder / name).read_bytes(), label)
        score.total += 1
        alternatives = (expected, label.get("visible_html_decoded", expected).strip())
        expected = next((e for e in alternatives if _lines(e) == _lines(got)), expected)
        same = _lines(got) == _lines(expected)
        kept = _lines(got)
        score.exact += same
        signature = set(_lines(label.get("signature", "")))
        extra = [line for line in kept if line not in _lines(expected)]
        forgiven = same or (kept[: len(_lines(expected))] == _lines(expected)
                            and all(line in signature for line in extra))  # fmt: skip
        score.forgiven += forgiven
        missing = [line for line in _lines(expected) if line not in kept]
        names = {w.casefold() for w in sender.replace(",", " ").split()}
        lone_name = bool(missing) and all(line.casefold() in names for line in missing)
        score.name_only += lone_name
        score.cut += bool(missing) and not lone_name
        if not same:
            what = f"cut {missing[:2]}" if missing else f"kept {extra[:3]}"
            score.misses.append(f"{name}: {what}")
    return score


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100 * part / whole:.1f} %" if whole else "none"


def report(root: Path, verbose: bool) -> None:
    kinds, replies = root / "kinds", root / "replies"
    if (kinds / "expected.json").exists():
        s = score_kinds(kinds)
        print(f"{root} kinds: automatic recall {_share(s.recalled, s.automatic)}; "
              f"false positives {_share(s.false_positive, s.human)}; "
              f"exact kind {_share(s.exact, s.automatic + s.human)}; "
              f"bounce address {_share(s.address_found, s.bounces)}")  # fmt: skip
        for miss in s.misses if verbose else ():
            print("   ", miss)
    if (replies / "expected.json").exists():
        r = score_replies(replies)
        print(
            f"{root} replies: exact {_share(r.exact, r.total)}; "
            f"signature forgiven {_share(r.forgiven, r.total)}; cut {r.cut} "
            f"(and {r.name_only} where only a lone sign-off name went)"
        )
        for miss in r.misses if verbose else ():
            print("   ", miss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args(argv)
    for folder in args.folders:
        report(folder, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
