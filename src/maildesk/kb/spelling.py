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
directly: importing pypinyin loads its phrase dictionary too, 0.3 s and 55 MB).  Only
what a key needs is kept: each character's usual reading, for the characters a
Chinese word can have (CJK Ext. A and the unified block), as one 2-byte syllable number
per code point (55 KB, where the file as a dict of strings took 9 MB).  The file is read
line by line, once per process, at the first index build (~0.05 s), never per message.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import threading
from array import array
from collections.abc import Iterable, Mapping
from pathlib import Path

CACHED = 1 << 12  # unknown words whose correction a Speller remembers
LATIN_MIN = 5  # shorter English words have too many neighbours at distance 1
_CJK_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{2,}$")
_LATIN_WORD = re.compile(r"^[a-z]+$")
TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")

# The code points a Chinese word (_CJK_WORD) can have: CJK Ext. A to the end of the
# unified block (the few between them are never looked up).
FIRST_CHAR, LAST_CHAR = 0x3400, 0x9FFF
_ENTRY = re.compile(r'^\s*"(\d+)"\s*:\s*"([^"]*)"')


class Readings:
    """Each character's usual toneless reading (the first in the table), or None."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self.syllables: list[str] = [""]  # number 0: no reading known
        self.numbers = array("H", bytes(2 * (LAST_CHAR - FIRST_CHAR + 1)))
        known: dict[str, int] = {}
        for line in lines:
            found = _ENTRY.match(line)
            point = int(found[1]) if found else -1
            if FIRST_CHAR <= point <= LAST_CHAR and found and found[2]:
                usual = found[2].partition(",")[0].translate(TONES)
                number = known.setdefault(usual, len(self.syllables))
                if number == len(self.syllables):
                    self.syllables.append(usual)
                self.numbers[point - FIRST_CHAR] = number
            elif FIRST_CHAR <= point <= LAST_CHAR:
                self.numbers[point - FIRST_CHAR] = 0  # a later empty entry wins, as in JSON

    def usual(self, char: str) -> str | None:
        point = ord(char) - FIRST_CHAR
        if not 0 <= point < len(self.numbers):
            return None
        number = self.numbers[point]
        return self.syllables[number] if number else None


_lock = threading.Lock()
_readings: Readings | None = None


def readings() -> Readings:
    """The readings of pypinyin's table; none when pypinyin is not installed."""
    global _readings
    with _lock:
        if _readings is None:
            _readings = _load_readings()
        return _readings


def _load_readings() -> Readings:
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        return Readings()
    path = Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"
    try:
        with path.open(encoding="utf-8") as lines:
            return Readings(lines)
    except (OSError, ValueError):
        return Readings()


def pinyin_key(word: str) -> str | None:
    """The toneless pinyin of a Chinese word, each character's usual reading (蓝屏 and
    蓝瓶 -> "lanping"); None for a word that is not Chinese or has a character of no
    known reading."""
    if not _CJK_WORD.match(word):
        return None
    table = readings()
    syllables = []
    for char in word:
        found = table.usual(char)
        if found is None:
            return None
        syllables.append(found)
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
        self.corrected: dict[str, str | None] = {}  # unknown words seen, and their fix
        for word in sorted(set(targets), key=lambda w: (-vocabulary.get(w, 0), w)):
            key = pinyin_key(word)
            if key is not None:
                self.by_sound.setdefault(key, word)
            if _LATIN_WORD.match(word) and len(word) >= LATIN_MIN - 1:
                for key in _deletes(word) | {word}:
                    self.by_delete.setdefault(key, []).append(word)

    def correct(self, word: str) -> str | None:
        """The index word `word` was probably meant as, or None (known words, and
        words with no close index word).  Remembered per word (at most CACHED)."""
        if word in self.vocabulary:
            return None
        try:  # one lookup: another thread may clear the cache between two
            return self.corrected[word]
        except KeyError:
            pass
        if len(self.corrected) >= CACHED:
            self.corrected.clear()
        found = self.corrected[word] = self._correct(word)
        return found

    def _correct(self, word: str) -> str | None:
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
