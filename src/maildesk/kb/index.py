"""BM25F over the articles, built once, asked per message (pure Python, no IO).

Each article has three fields, title, keywords and body, weighted (Weights) before the
term frequency saturates (BM25F), so a word in the title counts more than the same word
in the body.  Terms are `tokens.index_terms`: segmented words plus Chinese bigrams,
a bigram counting `bigram` of a word.  Everything that does not depend on the request
is computed at build time: a term's posting list holds, per article (per topic when
its variants are merged, see `merge`), its finished contribution (idf × saturated
weighted frequency), so a request costs one dictionary look-up per distinct term and
one addition per posting.

Ranking a request (Index.rank):
0. a request word no article has is replaced by the title or keyword word it was
   probably meant as (kb/spelling.py: same pinyin 秘码 -> 密码, one letter off
   pasword -> password), at `corrected` of its weight;
1. per article, sum the contributions of the request's distinct terms (the first line,
   the subject, counts `subject` times), and the share of the request's idf it matches
   (a word no article has counts `unknown` of the rarest idf); the relevance is
       BM25F × share ** coverage / (request's summed idf) ** length
   so an article that shares many minor words with a long mail but not its main ones
   (a projector, a door badge: words no article has) stays low, and a long mail does
   not outscore a short one by its length alone;
   a term counts, for every variant of a topic, at its best variant (`merge`: a mixed
   中英 mail counts the words of both);
   an article that does not answer a request for something new the mail makes (buy,
   restore, guest access … kb/intents.py) scores `service` of that;
   a mail of several paragraphs is also scored as the subject with each paragraph
   alone, at `paragraph` of that: the article's best view counts, so a problem told in
   the third paragraph, after thanks for last week, is not diluted by them;
2. drop articles whose `applies_to` words the request does not mention;
3. one entry per topic (vpn.zh-CN and vpn.en are the topic vpn): the topic scores its
   best variant, and shows the variant in the request's language when there is one
   (an English error code in a Chinese mail still finds the topic); a topic with no
   variant in that language scores `other_language` of its best;
4. highest first, ties by name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from maildesk.kb.articles import topic
from maildesk.kb.intents import INTENTS, Intent, answers, asked
from maildesk.kb.model import Article
from maildesk.kb.spelling import Speller
from maildesk.kb.tokens import BIGRAM, Terms, index_terms, language, mentions

FIELDS = ("title", "keywords", "body")
# A request's first characters say what it is about; the rest (quoted history, legal
# notices) costs time and adds noise.  Bounds the time per message.
MAX_REQUEST_CHARS = 3000
PARAGRAPH_BREAK = re.compile(r"\n[ \t\u3000]*\n")


@dataclass(frozen=True)
class Weights:
    """The index's tuning, every number in one place (see the module docstring).
    Calibrated on tests/fixtures/kb_requests and, since its held-out round, on
    tests/fixtures/kb_heldout against the shipped articles (tests/test_kb_quality.py);
    change them together with `[kb] threshold`."""

    title: float = 3.0
    keywords: float = 3.0
    body: float = 0.5
    bigram: float = 0.2  # a bigram's share of a word's weight
    k1: float = 2.0  # saturation of a term's weighted frequency
    b_body: float = 0.75  # length normalisation of the body
    b_short: float = 0.3  # of the title and the keywords (short fields)
    other_language: float = 0.8  # a topic without a variant in the request's language
    chinese_share: float = 0.2  # share of Chinese characters that makes a request zh-CN
    # A second or third suggestion must reach this share of the first (no filler).
    relative: float = 0.5
    # Relevance is BM25F × (share of the request's idf the article matches) ** coverage:
    # a request whose main words no article has (projector, badge) is not covered, however
    # many of its other words an article shares.
    coverage: float = 0.5
    unknown: float = 0.15  # idf of a word no article has, as a share of the rarest's
    subject: float = 2.0  # weight of the request's first line (its subject)
    length: float = 0.25  # relevance divided by the request's summed idf to this power
    corrected: float = 0.8  # weight of a misspelt word's correction (kb/spelling.py)
    # A topic's variants (vpn.zh-CN, vpn.en) count each term at the best of them, so a
    # mixed 中英 mail is explained by the words of both.
    merge: bool = True
    # A request for something new (kb/intents.py: buy, restore, guest access …) scores
    # an article that does not answer such requests at this share.
    service: float = 0.4
    # A paragraph of a longer mail (with the subject) scores this share of its relevance.
    paragraph: float = 0.9

    def field(self, name: str) -> float:
        return {"title": self.title, "keywords": self.keywords, "body": self.body}[name]

    def b(self, name: str) -> float:
        return self.b_body if name == "body" else self.b_short


@dataclass(frozen=True)
class Ranked:
    article: Article
    score: float


class Index:
    """The articles' posting lists; immutable once built, safe to share between threads."""

    def __init__(self, articles: Sequence[Article], weights: Weights | None = None) -> None:
        self.weights = weights or Weights()
        self.articles = tuple(articles)
        self.topics = tuple(topic(a) for a in self.articles)
        self.variants = {
            (t, a.language): i
            for i, (t, a) in enumerate(zip(self.topics, self.articles, strict=True))
        }
        fields = [_fields(a) for a in self.articles]
        postings = _postings(fields, self.weights)
        self.idf = {term: _idf(len(found), len(self.articles)) for term, found in postings.items()}
        # Articles scored together: a topic's variants when merged (they share every
        # term's contribution), else each article alone; postings by group.
        self.groups, self.postings = (
            _merged(postings, self.topics)
            if self.weights.merge
            else (tuple((doc,) for doc in range(len(self.articles))), postings)
        )
        self.answering = {
            intent.name: frozenset(
                doc for doc, a in enumerate(self.articles) if answers(intent, a.title, a.keywords)
            )
            for intent in INTENTS
        }
        self.unknown_idf = self.weights.unknown * _idf(0, len(self.articles))
        # term -> (idf, share: `bigram` for a bigram else 1, postings): one look-up a term
        self.scoring = {
            term: (self.idf[term], self.weights.bigram if term[:1] == BIGRAM else 1.0, found)
            for term, found in self.postings.items()
        }
        self.speller = Speller(
            {t: len(found) for t, found in postings.items() if not t.startswith(BIGRAM)},
            (w for f in fields for name in ("title", "keywords") for w in f[name].words),
        )

    def __len__(self) -> int:
        return len(self.articles)

    def scores(self, text: str) -> list[float]:
        """Per article (by position): its relevance to the request (over the first
        MAX_REQUEST_CHARS characters), or, when the body has several `paragraphs`, to
        the subject with one of them at `paragraph` of that, whichever is best: a long
        mail whose problem is in one paragraph is scored on that paragraph."""
        text = text[:MAX_REQUEST_CHARS]
        subject, _, body = text.partition("\n")
        in_subject = set(index_terms(subject).all)
        parts = paragraphs(body)
        terms = [set(index_terms(p).all) for p in parts]
        plan = self._plan(in_subject, in_subject.union(*terms))
        intents = asked(text)
        best = self._relevance(self._weighted_terms(in_subject, set().union(*terms), plan))
        self._discount(best, intents)
        if len(parts) > 1:
            for part, found in zip(parts, terms, strict=True):
                view = self._relevance(self._weighted_terms(in_subject, found, plan))
                self._discount(view, asked(f"{subject}\n{part}") if intents else ())
                for doc, score in view.items():
                    best[doc] = max(best.get(doc, 0.0), self.weights.paragraph * score)
        return [best.get(doc, 0.0) for doc in range(len(self.articles))]

    def _relevance(self, factors: dict[str, float]) -> dict[int, float]:
        """Per article sharing a term (by position): the BM25F sum over the weighted
        terms times the share of the request it explains (module docstring) to the
        power `coverage`, divided by the request's summed idf to the power `length`.
        Summed per group (a topic's variants get the same sums: `_merged`), in lists."""
        count = len(self.groups)
        acc = [0.0] * count
        explained = [0.0] * count
        scoring, unknown, bigram = self.scoring, self.unknown_idf, self.weights.bigram
        whole = 0.0
        for term, factor in factors.items():
            entry = scoring.get(term)
            if entry is None:  # a term no article has
                weight = factor * unknown
                if term[:1] == BIGRAM:
                    weight *= bigram
                whole += weight
                continue
            idf, share, postings = entry
            weight = factor * idf * share  # `* 1.0` is exact: a word's weight unchanged
            whole += weight
            for group, impact in postings:
                acc[group] += factor * impact
                explained[group] += weight
        power, scale = self.weights.coverage, whole**self.weights.length if whole else 1.0
        found: dict[int, float] = {}
        for group, a in enumerate(acc):
            if a:
                found.update(
                    dict.fromkeys(
                        self.groups[group], a * (explained[group] / whole) ** power / scale
                    )
                )
        return found

    def _discount(self, relevance: dict[int, float], intents: Sequence[Intent]) -> None:
        """An article that does not answer a request for something new the text makes
        (kb/intents.py) at `service` of its relevance."""
        for doc in relevance if intents else ():
            if not all(doc in self.answering[i.name] for i in intents):
                relevance[doc] *= self.weights.service

    def _plan(self, in_subject: set[str], terms: set[str]) -> dict[str, tuple[str, float]]:
        """Each of the request's terms as it counts, worked out once per request: the
        term or its correction (kb/spelling.py), which replaces an unknown word, and its
        factor: `subject` for the first line's, times `corrected` for a correction."""
        plan: dict[str, tuple[str, float]] = {}
        for term in terms:
            factor = self.weights.subject if term in in_subject else 1.0
            fixed = None if term.startswith(BIGRAM) else self.speller.correct(term)
            plan[term] = (
                (term, factor) if fixed is None else (fixed, factor * self.weights.corrected)
            )
        return plan

    def _weighted_terms(
        self, in_subject: set[str], in_body: set[str], plan: dict[str, tuple[str, float]]
    ) -> dict[str, float]:
        """The distinct terms of the subject and `in_body`, as they count (`_plan`), each
        at its best factor."""
        factors: dict[str, float] = {}
        for term in in_subject | in_body:
            counted, factor = plan[term]
            known = factors.get(counted)
            factors[counted] = known if known is not None and known > factor else factor
        return factors

    def rank(self, text: str, limit: int | None = None) -> list[Ranked]:
        """The `limit` best topics sharing terms with the request (all when None),
        best first (module docstring).  Articles are visited best first and the walk
        stops once no later one can beat the topics found: a topic never scores more
        than its best article."""
        wanted = language(text, self.weights.chinese_share)
        scores = self.scores(text)
        ranked: dict[str, Ranked] = {}
        for doc in sorted(range(len(scores)), key=scores.__getitem__, reverse=True):
            score = scores[doc]
            if score <= 0 or (limit is not None and _enough(ranked, limit, score)):
                break
            name = self.topics[doc]
            if name not in ranked and self._applies(doc, text):
                ranked[name] = self._shown(name, doc, score, wanted, text)
        return sorted(ranked.values(), key=lambda r: (-r.score, r.article.name))[:limit]

    def _shown(self, name: str, doc: int, score: float, wanted: str, text: str) -> Ranked:
        """The topic's article in the request's language when it has one, else its best
        article at a discount."""
        variant = self.variants.get((name, wanted))
        if variant is not None and self._applies(variant, text):
            return Ranked(self.articles[variant], score)
        return Ranked(self.articles[doc], score * self.weights.other_language)

    def _applies(self, doc: int, text: str) -> bool:
        """An article with `applies_to` words only for a request naming one of them."""
        words = self.articles[doc].applies_to
        return not words or any(mentions(text, w) for w in words)

    def best(self, text: str, limit: int, threshold: float) -> list[Ranked]:
        """At most `limit` topics above `threshold`, each at least `relative` of the
        first: nothing rather than filler."""
        ranked = self.rank(text, limit)
        if not ranked or ranked[0].score < threshold:
            return []
        floor = max(threshold, ranked[0].score * self.weights.relative)
        return [r for r in ranked if r.score >= floor]


def paragraphs(body: str) -> list[str]:
    """The body's paragraphs (blank-line separated, empty ones dropped): the greeting,
    the thanks for last week and the signature are not the problem."""
    return [p.strip() for p in PARAGRAPH_BREAK.split(body) if p.strip()]


def _enough(ranked: dict[str, Ranked], limit: int, next_score: float) -> bool:
    """`limit` topics found, and the weakest of them beats an article scoring
    `next_score` (and so every later one)."""
    if len(ranked) < limit:
        return False
    return sorted(r.score for r in ranked.values())[-limit] > next_score


def _fields(article: Article) -> dict[str, Terms]:
    return {
        "title": index_terms(article.title),
        "keywords": index_terms("\n".join(article.keywords)),
        "body": index_terms(article.body),
    }


Posting = tuple[int, float]


def _postings(docs: list[dict[str, Terms]], w: Weights) -> dict[str, tuple[Posting, ...]]:
    """term -> ((article, contribution), …): BM25F with the field weights applied to
    the frequencies before saturation."""
    counts = [{f: Counter(terms.all) for f, terms in doc.items()} for doc in docs]
    average = {f: _mean(sum(c[f].values()) for c in counts) for f in FIELDS}
    weighted: dict[str, list[Posting]] = {}
    for position, doc in enumerate(counts):
        norms = {f: _norm(sum(doc[f].values()), average[f], w.b(f)) for f in FIELDS}
        frequency: dict[str, float] = {}
        for f in FIELDS:
            for term, count in doc[f].items():
                frequency[term] = frequency.get(term, 0.0) + w.field(f) * count / norms[f]
        for term, tf in frequency.items():
            weighted.setdefault(term, []).append((position, tf))
    total = len(docs)
    return {
        term: tuple((doc, _impact(term, tf, len(found), total, w)) for doc, tf in found)
        for term, found in weighted.items()
    }


def _merged(
    postings: dict[str, tuple[Posting, ...]], topics: Sequence[str]
) -> tuple[tuple[tuple[int, ...], ...], dict[str, tuple[Posting, ...]]]:
    """Each term's contribution to an article raised to the best of its topic's variants:
    the variants of a topic are one answer in two languages, so a mixed mail (管理员权限,
    need administrator permission) counts the words each variant has.  As the variants
    then share every contribution, a topic is scored once: its articles (by topic,
    in order of first appearance), and term -> ((topic, contribution), …)."""
    by_topic: dict[str, list[int]] = {}
    for doc, name in enumerate(topics):
        by_topic.setdefault(name, []).append(doc)
    number = {name: group for group, name in enumerate(by_topic)}
    merged: dict[str, tuple[Posting, ...]] = {}
    for term, found in postings.items():
        best: dict[str, float] = {}
        for doc, impact in found:
            best[topics[doc]] = max(impact, best.get(topics[doc], 0.0))
        merged[term] = tuple((number[name], impact) for name, impact in best.items())
    return tuple(tuple(docs) for docs in by_topic.values()), merged


def _idf(df: int, total: int) -> float:
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def _impact(term: str, tf: float, df: int, total: int, w: Weights) -> float:
    idf = _idf(df, total)
    share = w.bigram if term.startswith(BIGRAM) else 1.0
    return share * idf * tf * (w.k1 + 1) / (w.k1 + tf)


def _norm(length: int, average: float, b: float) -> float:
    return 1 - b + b * (length / average if average else 1.0)


def _mean(values: Iterable[int]) -> float:
    listed = list(values)
    return sum(listed) / len(listed) if listed else 0.0
