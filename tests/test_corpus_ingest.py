"""Every message of the shared corpus goes through ingestion: none crashes the daemon,
each ends ticketed, threaded, noted, recorded as a bounce, or set aside with a reason."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from maildesk.store import journal

from .conftest import ConfigFactory, build_service

ENDINGS = {"created", "threaded", "ignored", "bounce", "quarantined", "duplicate"}


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix not in (".json", ".md"))


def test_every_corpus_message_is_accounted_for(
    corpus: Path, make_sqlite_config: ConfigFactory
) -> None:
    service = build_service(make_sqlite_config(extra="[loops]\nmax_auto_replies_per_hour = 1000\n"))
    outcomes: Counter[str] = Counter()
    for path in corpus_files(corpus):
        outcome = service.ingest(path.read_bytes(), f"corpus:{path.relative_to(corpus)}")
        assert outcome.kind in ENDINGS, f"{path}: {outcome}"
        assert outcome.kind != "quarantined" or outcome.detail, f"{path}: no reason"
        assert not outcome.detail.startswith("internal error"), f"{path}: {outcome.detail}"
        outcomes[outcome.kind] += 1
    print(f"\ncorpus ingestion: {dict(outcomes)}")
    assert sum(outcomes.values()) == len(corpus_files(corpus))
    with service.store.transaction() as tx:
        assert journal.pending_ids(tx, 10) == []
        reasons = {q.reason for q in journal.quarantined(tx)}
    assert all(reasons)
    assert outcomes["created"] >= 90  # 95 today; many files share a Message-ID (duplicates)
