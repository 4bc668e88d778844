"""Misspelt request words mapped to the index's words, built once with the index.

- Chinese: an input method types by pinyin, so a wrong word sounds like the right one
  (秘码 for 密码, 登陆 for 登录, 油箱 for 邮箱, 蓝瓶 for 蓝屏).  A request word the index
  does not know becomes the index word with the same toneless pinyin (each character's
  usual reading, its first in the table: rare readings of polyphonic characters match
  too much).
- English: a request word of at least LATIN_MIN letters the index does not know becomes
  the index word at edit distance 1 (one letter left out, added, changed, or two
  swapped: pasword, passowrd), found through a symmetric-delete dictionary.

Only unknown words are corrected, and only towards a word of an article's title or
keywords (what an article is about, not any word of its text): a word an article uses
is never replaced, so a correction can add a match, never take one away.  When several
index words fit, the one most articles use wins (then the first by name), so the choice
does not depend on the order of the articles.

The character readings come from pypinyin's single-character table (its JSON file, read
directly: importing pypinyin loads its phrase dictionary too, 0.3 s and 55 MB); read once
per process, at the first index build (~0.1 s, +7 MB resident), never per message.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

LATIN_MIN = 5  # shorter English words have too many neighbours at distance 1
_CJK_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,}$")
_LATIN_WORD = re.compile(r"^[a-z]+$")
TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")

_lock = threading.Lock()
_readings: dict[str, str] | None = None


def readings() -> Mapping[str, str]:
    """Code point (decimal, as text) -> its toneless readings, comma-separated
    ("31192" -> "mi,bi,bie"); empty when pypinyin is not installed."""
    global _readings
    with _lock:
        if _readings is None:
            _readings = _load_readings()
        return _readings


def _load_readings() -> dict[str, str]:
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    try:
        table = json.loads(path.read_text(encoding="utf-8").translate(TONES))
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def pinyin_key(word: str) -> str | None:
    """The toneless pinyin of a Chinese word, each character's usual reading (蓝屏 and
    蓝瓶 -> "lanping"); None for a word that is not Chinese or has a character of no
    known reading."""
    if not _CJK_WORD.match(word):
        return None
    table = readings()
    syllables = []
    for char in word:
        found = table.get(str(ord(char)))
        if not found:
            return None
        syllables.append(found.partition(",")[0])
    return "".join(syllables)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance ≤ 1 (one deletion, insertion, substitution, or
    transposition of neighbours)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i = diff[0]
        return len(diff) == 2 and diff[1] == i + 1 and a[i] == b[i + 1] and a[i + 1] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


class Speller:
    """Corrections towards the words of one index (module docstring)."""

    def __init__(self, vocabulary: Mapping[str, int], targets: Iterable[str]) -> None:
        """`vocabulary`: each index word and the number of articles using it;
        `targets`: the words a correction may give (titles' and keywords')."""
        self.vocabulary = vocabulary
        self.by_sound: dict[str, str] = {}
        self.by_delete: dict[str, list[str]] = {}
        for word in sorted(set(targets), key=lambda w: (-vocabulary.get(w, 0), w)):
            key = pinyin_key(word)
            if key is not None:
                self.by_sound.setdefault(key, word)
            if _LATIN_WORD.match(word) and len(word) >= LATIN_MIN - 1:
                for key in _deletes(word) | {word}:
                    self.by_delete.setdefault(key, []).append(word)

    def correct(self, word: str) -> str | None:
        """The index word `word` was probably meant as, or None (known words, and
        words with no close index word)."""
        if word in self.vocabulary:
            return None
        if _CJK_WORD.match(word):
            return self._by_sound(word)
        if _LATIN_WORD.match(word) and len(word) >= LATIN_MIN:
            return self._by_spelling(word)
        return None

    def _by_sound(self, word: str) -> str | None:
        key = pinyin_key(word)
        return None if key is None else self.by_sound.get(key)

    def _by_spelling(self, word: str) -> str | None:
        candidates = _flatten(self.by_delete.get(k, ()) for k in _deletes(word) | {word})
        fitting = [c for c in candidates if within_one_edit(word, c)]
        if not fitting:
            return None
        return min(fitting, key=lambda w: (-self.vocabulary.get(w, 0), w))


def _flatten(lists: Iterable[Iterable[str]]) -> list[str]:
    return list(dict.fromkeys(itertools.chain.from_iterable(lists)))
