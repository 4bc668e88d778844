"""Every message of the shared corpus goes through ingestion: none crashes the daemon,
each ends ticketed, threaded, noted, recorded as a bounce, or set aside with a reason;
and none is dropped as a duplicate of a message with different content."""

from __future__ import annotations

import email.parser
from collections import Counter
from pathlib import Path

from maildesk.pipeline.fingerprint import normalised
from maildesk.service import Outcome, Service
from maildesk.store import journal

from .conftest import ConfigFactory, build_service

ENDINGS = {"created", "threaded", "ignored", "bounce", "quarantined", "duplicate"}


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".json", ".md"))


def as_written(raw: bytes) -> tuple[str, ...]:
    """What the author wrote, read without the fingerprint's code: a second opinion."""
    msg = email.parser.BytesParser().parsebytes(raw)
    fields = (str(msg.get(name, "")) for name in ("From", "To", "Cc", "Subject", "Date"))
    body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")[2].rstrip()
    return (*fields, body.decode("latin-1"))


def distinct_dropped(service: Service, dropped: list[tuple[Path, Outcome]]) -> list[str]:
    """The duplicates whose content differs from the journaled message they matched."""
    with service.store.transaction() as tx:
        kept = {o.inbound_id: journal.raw(tx, o.inbound_id) or b"" for _, o in dropped}
    return [
        f"{path.name} is not journal entry #{o.inbound_id}"
        for path, o in dropped
        if normalised(path.read_bytes()) != normalised(kept[o.inbound_id])
        or as_written(path.read_bytes()) != as_written(kept[o.inbound_id])
    ]


def test_every_corpus_message_is_accounted_for(
    corpus: Path, make_sqlite_config: ConfigFactory
) -> None:
    service = build_service(make_sqlite_config(extra="[loops]\nmax_auto_replies_per_hour = 1000\n"))
    outcomes: Counter[str] = Counter()
    dropped: list[tuple[Path, Outcome]] = []
    for path in corpus_files(corpus):
        outcome = service.ingest(path.read_bytes(), f"corpus:{path.relative_to(corpus)}")
        assert outcome.kind in ENDINGS, f"{path}: {outcome}"
        assert outcome.kind != "quarantined" or outcome.detail, f"{path}: no reason"
        assert not outcome.detail.startswith("internal error"), f"{path}: {outcome.detail}"
        outcomes[outcome.kind] += 1
        if outcome.kind == "duplicate":
            dropped.append((path, outcome))
    wrongly = distinct_dropped(service, dropped)
    print(f"\ncorpus ingestion: {dict(sorted(outcomes.items()))}; distinct dropped: {len(wrongly)}")
    assert sum(outcomes.values()) == len(corpus_files(corpus))
    assert wrongly == [], "distinct messages dropped as duplicates:\n" + "\n".join(wrongly)
    with service.store.transaction() as tx:
        assert journal.pending_ids(tx, 10) == []
        reasons = {q.reason for q in journal.quarantined(tx)}
    assert all(reasons)
    assert outcomes["created"] >= 90
    assert outcomes["duplicate"] <= 20  # files that repeat another file's bytes (was 51)
