"""Count mojibake in decoded headers (subject and display names of From, To, Cc).

Over every file of ../shared/corpus (mail written by other projects) and the fixtures
in tests/fixtures/charsets (whose true values are in its expected.json).  A decoded
header counts as mojibake when it has any of (judged independently of maildesk's own
plausibility test, so that the measure does not grade itself):

* `fffd`: U+FFFD, or a C1 control character (U+0080-U+009F);
* `pua`: a private-use character (what a wrong CJK codec gives for unassigned bytes);
* `encoded-word`: an RFC 2047 word left undecoded (`=?gb2312?B?…`);
* `latin1-salad`: three or more Latin-1/Windows-1252 non-ASCII characters in a row
  (`×ª·¢£º`, `ÕÅÎ°`): real European text has at most two;
* `han-in-word`: one or two Han characters inside a Latin word (`R閡nion`);
* `wrong`: for a fixture, anything other than its expected value.

Headers are decoded the way parse() does (its `_charset_hint` and `_addresses`), from
the headers alone, so quarantined messages are measured too.  Run it on another tree
to measure before/after:

    .venv/bin/python -m benchmarks.header_mojibake [--all-fixtures]
    PYTHONPATH=/work/main/src .venv/bin/python -m benchmarks.header_mojibake   # main
"""

from __future__ import annotations

import email
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from maildesk.pipeline import parse as parse_module
from maildesk.pipeline.charsets import decode_header_value

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures" / "charsets"
SIGNS = (
    ("fffd", re.compile("[\ufffd\u0080-\u009f]")),
    ("pua", re.compile("[\ue000-\uf8ff]")),
    ("encoded-word", re.compile(r"=\?[^?\s]+\?[bBqQ]\?")),
    (
        "latin1-salad",
        re.compile(
            "[\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
            "\u0192\u02c6\u02dc\u2013-\u2022\u2026\u2030\u2039\u203a"
            "\u20ac\u2122]{3,}"
        ),
    ),
    ("han-in-word", re.compile(r"[A-Za-z][\u3400-\u9fff]{1,2}[a-z]")),
)


def headers(raw: bytes) -> dict[str, str]:
    msg = email.message_from_bytes(raw, policy=parse_module.RAW_HEADERS)
    hint = parse_module._charset_hint(msg)
    found = {"subject": decode_header_value(msg.get("Subject"), hint)}
    for field in ("From", "To", "Cc"):
        for n, address in enumerate(parse_module._addresses(msg, field, hint)):
            found[f"{field.lower()}[{n}]"] = address.name
    return found


def signs(value: str) -> list[str]:
    return [name for name, pattern in SIGNS if pattern.search(value)]


def files(everything: bool) -> Iterator[tuple[str, Path]]:
    if CORPUS.is_dir():
        for path in sorted(CORPUS.rglob("*")):
            if path.is_file() and path.suffix.lower() not in (".json", ".md"):
                yield "corpus", path
    else:
        print(f"(skipping {CORPUS}: absent)")
    for path in sorted(FIXTURES.glob("*.eml")):
        yield "fixtures", path
    if everything:  # the other test fixtures (written by hand, no truth to compare)
        for path in sorted((ROOT / "tests" / "fixtures").rglob("*.eml")):
            if path.parent != FIXTURES:
                yield "other fixtures", path


def main() -> None:
    everything = "--all-fixtures" in sys.argv
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    totals: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    for source, path in files(everything):
        try:
            values = headers(path.read_bytes())
        except Exception as exc:  # measured, not judged: report and go on
            print(f"  error   {path.name}: {type(exc).__name__}: {exc}")
            continue
        truth = expected.get(path.name, {}) if source == "fixtures" else {}
        wanted = {"subject": truth.get("subject"), "from[0]": truth.get("from_name")}
        for field, value in values.items():
            totals[source] += 1
            found = signs(value)
            if wanted.get(field) is not None and value != wanted[field]:
                found.append("wrong")
            if found:
                bad[source] += 1
                print(f"  {','.join(found):28} {source}/{path.name} {field}: {value[:70]!r}")
    for source in ("corpus", "fixtures", *(("other fixtures",) if everything else ())):
        print(f"{source}: {bad[source]} mojibake of {totals[source]} decoded headers")


if __name__ == "__main__":
    main()
