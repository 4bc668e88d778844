"""Quality of the knowledge base's suggestions on three labelled sets against the shipped
articles, as an acknowledgment would show them: `KnowledgeBase.suggest(subject + body)`
with the default [kb] settings.

- tests/fixtures/kb_requests (106 requests), written from the topic table without
  reading the articles or this code: the set the index is tuned on;
- tests/fixtures/kb_heldout (70 requests), written independently by someone who saw
  neither the articles, the engine nor the first set.  It was held out once: measured
  before and after the first tuning (42/55, 42/55, 3/15, then 45/55, 46/55, 4/15), the
  honest figures on mail the index was not fitted to.  Since then it is a development
  set too: its misses were looked at and fixed by general rules only (service requests,
  paragraphs scored on their own, symptom words, drive letters), never by words taken
  from its sentences; its rates are no longer a held-out measurement.

- top-1 precision: covered requests whose first suggestion is the expected topic;
- top-3 recall: covered requests with the expected topic among the (≤ 3) suggestions;
- false suggestions: uncovered requests (expected: null) that got any suggestion.

Issue 13 aims at top-1 ≥ 0.85, top-3 ≥ 0.95, false suggestions ≤ 10 %; the floors below
guard what the index reaches on each set (run with -s to see the rates and the misses).
- tests/fixtures/kb_blind (60 requests), the third set, written blind (no articles,
  engine, code or earlier set seen) after the tuning: measured once, never tuned on.
  Its rates are the honest figure on unseen mail: 38/45, 38/45, 4/15.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from maildesk.kb.articles import topic
from maildesk.kb.model import Suggestion
from maildesk.kb.settings import DEFAULT_PREFIXES, DEFAULT_THRESHOLD, KbSettings
from maildesk.kb.usecases import KnowledgeBase
from maildesk.pipeline.reply_text import visible_text
from maildesk.resources import shipped
from maildesk.terms import strip_reply_prefixes

FIXTURES = Path(__file__).parent / "fixtures"
REQUESTS = FIXTURES / "kb_requests" / "requests.yaml"
HELDOUT = FIXTURES / "kb_heldout" / "requests.yaml"
BLIND = FIXTURES / "kb_blind" / "requests.yaml"


@dataclass(frozen=True)
class Floors:
    top1: float
    top3: float
    false: float  # a ceiling


# Reached on 2026-12-02 (kb-quality2): service requests discounted (kb/intents.py),
# each paragraph with the subject scored on its own, drive letters, one-character
# symptoms and phrasal verbs as terms, symptom keywords in the articles.  Before it:
# 79/84, 81/84, 2/22 on kb_requests; 45/55, 46/55, 4/15 on kb_heldout.
TUNED = Floors(top1=0.988, top3=0.988, false=0.0)  # 83/84, 83/84, 0/22
# A development set since then (module docstring), no longer held out.
HELDOUT_FLOORS = Floors(top1=0.963, top3=0.963, false=0.0)  # 53/55, 53/55, 0/15
# Measured once, blind (2026-12-02, after kb-quality2), and never tuned on: the honest
# figure.  Floors at what it reached, so a change that loses ground shows.
BLIND_FLOORS = Floors(top1=0.844, top3=0.844, false=0.267)  # 38/45, 38/45, 4/15


@dataclass
class Rates:
    covered: int = 0
    uncovered: int = 0
    top1: int = 0
    top3: int = 0
    false: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def top1_precision(self) -> float:
        return self.top1 / self.covered

    @property
    def top3_recall(self) -> float:
        return self.top3 / self.covered

    @property
    def false_rate(self) -> float:
        return self.false / self.uncovered

    def summary(self) -> str:
        return (
            f"top-1 precision {self.top1_precision:.3f} ({self.top1}/{self.covered}), "
            f"top-3 recall {self.top3_recall:.3f} ({self.top3}/{self.covered}), "
            f"false suggestions {self.false_rate:.3f} ({self.false}/{self.uncovered})"
        )


def requests(path: Path = REQUESTS) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data["requests"])


def request_text(request: dict[str, Any]) -> str:
    """What an acknowledgment's plan holds of a new mail: the subject without reply
    prefixes, then what the sender wrote (no quoted history, no signature)."""
    body = visible_text(request.get("body") or "")
    return f"{strip_reply_prefixes(request['subject'])}\n{body}"


def raw_text(request: dict[str, Any]) -> str:
    return f"{request['subject']}\n{request.get('body') or ''}"


def measure(
    kb: KnowledgeBase, labelled: list[dict[str, Any]], text: Callable[[dict[str, Any]], str]
) -> Rates:
    rates = Rates()
    for request in labelled:
        found = kb.suggest(text(request), limit=3)
        topics = [topic(s.article) for s in found]
        expected = request["expected"]
        if expected is None:
            rates.uncovered += 1
            rates.false += bool(found)
            if found:
                rates.misses.append(f"{request['id']} (none expected): {_shown(found)}")
            continue
        rates.covered += 1
        rates.top1 += topics[:1] == [expected]
        rates.top3 += expected in topics
        if topics[:1] != [expected]:
            rates.misses.append(f"{request['id']} ({expected}): {_shown(found) or 'nothing'}")
    return rates


def _shown(found: tuple[Suggestion, ...]) -> str:
    return ", ".join(f"{s.article.name} {s.score:.1f}" for s in found)


@pytest.fixture(scope="module")
def shipped_kb() -> KnowledgeBase:
    settings = KbSettings(shipped("kb"), DEFAULT_THRESHOLD, 3, True, tuple(DEFAULT_PREFIXES))
    return KnowledgeBase(settings)


SETS = [
    pytest.param(REQUESTS, TUNED, (80, 20), id="kb_requests"),
    pytest.param(HELDOUT, HELDOUT_FLOORS, (55, 15), id="kb_heldout"),
    pytest.param(BLIND, BLIND_FLOORS, (45, 15), id="kb_blind"),
]


@pytest.mark.parametrize(("path", "floors", "sizes"), SETS)
def test_the_labelled_set_is_large_enough_and_names_real_topics(
    shipped_kb: KnowledgeBase, path: Path, floors: Floors, sizes: tuple[int, int]
) -> None:
    labelled = requests(path)
    topics = {topic(a) for a in shipped_kb.articles}
    assert shipped_kb.problems == ()
    assert {r["expected"] for r in labelled} - {None} <= topics
    assert sum(r["expected"] is not None for r in labelled) >= sizes[0]
    assert sum(r["expected"] is None for r in labelled) >= sizes[1]


@pytest.mark.parametrize(("path", "floors", "sizes"), SETS)
def test_suggestions_on_the_labelled_requests(
    shipped_kb: KnowledgeBase, path: Path, floors: Floors, sizes: tuple[int, int]
) -> None:
    rates = measure(shipped_kb, requests(path), request_text)
    print(f"\nkb quality ({path.parent.name}): {rates.summary()}")
    for miss in rates.misses:
        print(f"  {miss}")
    raw = measure(shipped_kb, requests(path), raw_text)
    print(f"kb quality on the raw subject and body (quotes, signatures): {raw.summary()}")
    assert rates.top1_precision >= floors.top1, rates.summary()
    assert rates.top3_recall >= floors.top3, rates.summary()
    assert rates.false_rate <= floors.false, rates.summary()
