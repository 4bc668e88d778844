"""The knowledge base as the mail flow uses it: articles read from the `[kb] folder`,
indexed once, suggested per message, rebuilt when the folder changes.

    kb = open_kb(cfg)                      # reads and indexes (the segmenter loads here)
    for s in kb.suggest(subject + "\\n" + written_text, limit=3):
        s.article.title, s.excerpt, s.score

Whether the folder changed is checked at most every REFRESH_SECONDS, from its listing
(names, sizes, modification times): cheap enough for every message, and a published
draft or an edited article is picked up without a restart.  A rebuild reads and indexes
into a new snapshot and swaps it in; readers keep the old one until then (thread-safe).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from maildesk.config import Config
from maildesk.kb.articles import article_paths, read_folder
from maildesk.kb.index import Index, Weights
from maildesk.kb.markdown import excerpt
from maildesk.kb.model import Article, Problem, Suggestion
from maildesk.kb.settings import KB_SECTION, KbSettings
from maildesk.terms.segment import segmenter

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
EXCERPT_CHARS = 160
Listing = tuple[tuple[str, int, int], ...]


def listing(folder: Path) -> Listing:
    """What a change of the folder changes: each article file's name, size and mtime."""
    out = []
    for path in article_paths(folder):
        try:
            stat = path.stat()
        except OSError:
            continue
        out.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@dataclass(frozen=True)
class Snapshot:
    """One reading of the folder, indexed; never changed once built."""

    listing: Listing
    index: Index
    problems: tuple[Problem, ...]
    built_in: float  # seconds
    by_name: dict[str, Article] = field(default_factory=dict)
    excerpts: dict[str, str] = field(default_factory=dict)  # filled as suggested

    def excerpt(self, article: Article) -> str:
        if article.name not in self.excerpts:
            self.excerpts[article.name] = excerpt(article.body, EXCERPT_CHARS)
        return self.excerpts[article.name]


def build(folder: Path, weights: Weights | None = None) -> Snapshot:
    """Read and index `folder`.  The segmenter starts here (once per process), even for
    an empty folder, so that no message pays for it."""
    segmenter()
    started = time.perf_counter()
    seen = listing(folder)
    read = read_folder(folder)
    index = Index(read.articles, weights)
    by_name = {a.name: a for a in read.articles}
    return Snapshot(seen, index, read.problems, time.perf_counter() - started, by_name)


class KnowledgeBase:
    """The articles of one folder and their index (module docstring)."""

    def __init__(
        self,
        settings: KbSettings,
        weights: Weights | None = None,
        clock: Callable[[], float] = time.monotonic,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self.settings = settings
        self.weights = weights
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._snapshot = build(settings.folder, weights)
        self._checked_at = clock()

    @property
    def folder(self) -> Path:
        return self.settings.folder

    @property
    def articles(self) -> tuple[Article, ...]:
        return self._snapshot.index.articles

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._snapshot.problems

    @property
    def index(self) -> Index:
        return self._snapshot.index

    @property
    def built_in(self) -> float:
        """Seconds the last (re)build took."""
        return self._snapshot.built_in

    def article(self, name: str) -> Article | None:
        return self._snapshot.by_name.get(name)

    def suggest(self, text: str, limit: int = 3) -> tuple[Suggestion, ...]:
        """At most `limit` articles above `[kb] threshold`, best first, one per topic,
        in the request's language when the topic has it.  `text` is the subject, a
        newline, then what the requester wrote (the first line counts double; quoted
        history and signatures only add noise: pass the written text, as MailPlan.text
        holds it, rather than the raw body)."""
        if limit <= 0 or not text.strip():
            return ()
        snapshot = self._snapshot  # no IO here: refresh() looks at the folder
        found = snapshot.index.best(text, limit, self.settings.threshold)
        return tuple(Suggestion(r.article, r.score, snapshot.excerpt(r.article)) for r in found)

    def reindex(self) -> None:
        """Read and index the folder now, changed or not."""
        snapshot = build(self.folder, self.weights)
        with self._lock:
            self._install(snapshot)

    def refresh(self) -> None:
        """Look at the folder now (at most every few seconds) and rebuild if it changed.
        The only method that touches the folder: the daemon calls it before a batch's
        transaction, so suggesting (inside the pure planning) never does IO and a
        rebuild never holds the database; a folder that cannot be read keeps the
        articles indexed last."""
        now = self._clock()
        if now - self._checked_at < self._refresh_seconds:
            return
        with self._lock:  # one thread looks (and rebuilds); the others wait for it
            if now - self._checked_at >= self._refresh_seconds:
                try:
                    if listing(self.folder) != self._snapshot.listing:
                        self._install(build(self.folder, self.weights))
                except OSError as exc:  # a share away, a folder gone: mail goes on
                    log.warning("knowledge base %s not read (%s): keeping the articles "
                                "indexed last", self.folder, exc)  # fmt: skip
                self._checked_at = self._clock()

    def _install(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._checked_at = self._clock()


_open: dict[tuple[KbSettings, Weights | None], KnowledgeBase] = {}
_open_lock = threading.Lock()


def open_kb(cfg: Config, weights: Weights | None = None) -> KnowledgeBase:
    """The knowledge base of `cfg`'s `[kb]`: built on the first call, shared after."""
    settings = cfg.section(KB_SECTION)
    with _open_lock:
        key = (settings, weights)
        if key not in _open:
            _open[key] = KnowledgeBase(settings, weights)
        return _open[key]
