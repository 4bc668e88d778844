"""Segment a request into the words that say what it is about (see terms/__init__)."""

from __future__ import annotations

import gzip
import importlib.machinery
import importlib.util
import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from maildesk.terms.vocabulary import IT_WORDS, PLACE_IN_TEXT, PLACE_PATTERN, REPLY_PREFIX, STOP

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORDLIKE = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)
_TICKET_TAG = re.compile(r"\[[A-Za-z]{1,10}-\d{6,8}-\d{2,6}\]")
_INLINE_SPACE = re.compile(r"[ \t\u00a0\u3000]+")

# Per-token answers remembered: the tokens of recent mail, bounded so that a long-running
# daemon does not grow with its vocabulary (65,536 of each took up to ~20 MB).  4,096
# still answer 97-98 % of the look-ups (6,000 benchmark messages).
REMEMBERED = 4096

# jieba's words seen at least 20 times in its corpus, and its single characters (83,664
# of 349,046; licence and how it is made: JIEBA-LICENSE.txt, scripts/jieba_words.py):
# ~7 MB built, where rjieba's whole default dictionary takes 33 MB; the knowledge
# base's labelled sets give the same suggestions with either.
WORDS = Path(__file__).with_name("jieba_words.txt.gz")

_lock = threading.Lock()
_segmenter: Any = None


def segmenter() -> Any:
    """rjieba with jieba's common words and the IT words, built once per process (not
    per message)."""
    global _segmenter
    with _lock:
        if _segmenter is None:
            _segmenter = _built()
        return _segmenter


def _built() -> Any:
    jieba = _jieba_class().empty()
    with gzip.open(WORDS, "rt", encoding="utf-8") as lines:
        for line in lines:
            word, freq = line.split(" ")
            jieba.add_word(word, int(freq), None)
    for word in IT_WORDS:  # the text is lower-cased before it is cut
        jieba.add_word(word.lower(), None, None)
    return jieba


def _jieba_class() -> Any:
    """rjieba's Jieba, from its compiled module alone: `import rjieba` also builds its
    whole default dictionary (33 MB resident), which would never be used here."""
    package = importlib.util.find_spec("rjieba")
    folders = package.submodule_search_locations if package else None
    for folder in folders or ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"rjieba{suffix}"
            spec = importlib.util.spec_from_file_location("rjieba.rjieba", path)
            if path.is_file() and spec is not None and spec.loader is not None:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                return module.Jieba
    import rjieba  # laid out otherwise: the package itself, default dictionary and all

    return rjieba.Jieba


def strip_reply_prefixes(subject: str) -> str:
    """`Re: 回复：[IT-20261122-0001] VPN` -> `VPN`."""
    return _TICKET_TAG.sub(" ", REPLY_PREFIX.sub("", subject)).strip()


def words(text: str) -> list[str]:
    """The meaningful words of `text`, in order: Latin lower-cased, full-width folded,
    one-character Chinese words, filler, places and stop words dropped."""
    return words_of(cut(fold(text)))


def fold(text: str) -> str:
    """`text` as it is segmented: full-width folded, lower-cased, places cut out."""
    return PLACE_IN_TEXT.sub(" ", unicodedata.normalize("NFKC", text).lower())


def cut(folded: str) -> list[str]:
    """The segmenter's tokens of a `fold`ed text (spaces and punctuation included)."""
    tokens: list[str] = segmenter().cut(folded, True)
    return tokens


def words_of(tokens: Iterable[str]) -> list[str]:
    """`words` of the tokens of a `fold`ed text: for a caller that also needs the
    tokens themselves (segmenting once)."""
    return [t for t in (tok.strip() for tok in tokens) if _counts(t)]


def runs(text: str) -> list[list[str]]:
    """`words`, in runs that punctuation and line breaks end (spaces do not): the words
    of one run were written next to each other, so their pairs are phrases.

        runs("共享盘打不开。VPN 809") -> [["共享盘", "打不开"], ["vpn", "809"]]
    """
    folded = PLACE_IN_TEXT.sub(" ", unicodedata.normalize("NFKC", text).lower())
    found: list[list[str]] = [[]]
    for token in segmenter().cut(folded, True):
        word = _word_or_break(token)
        if word:
            found[-1].append(word)
        elif word is None and found[-1]:
            found.append([])
    return [run for run in found if run]


@lru_cache(maxsize=REMEMBERED)
def _word_or_break(token: str) -> str | None:
    """The word a token counts as; "" for one that counts for nothing; None for a
    break (punctuation, a line break)."""
    word = token.strip()
    if _counts(word):
        return word
    if _WORDLIKE.search(token) or _INLINE_SPACE.fullmatch(token):
        return ""
    return None


def bigrams(text: str) -> list[str]:
    """Character pairs of every Chinese run (the fallback for words the dictionary
    lacks: 打印机报错 shares 打印 and 印机 with 打印机)."""
    folded = unicodedata.normalize("NFKC", text)
    pairs: list[str] = []
    for run in _CJK_RUN.findall(folded):
        pairs.extend(run[i : i + 2] for i in range(len(run) - 1))
    return pairs


@lru_cache(maxsize=REMEMBERED)
def _counts(token: str) -> bool:
    if not token or not _WORDLIKE.search(token) or token in STOP:
        return False
    if PLACE_PATTERN.match(token):
        return False
    if _CJK.search(token):
        return len(token) > 1
    return len(token) > 1
