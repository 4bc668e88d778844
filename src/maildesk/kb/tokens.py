"""The terms the knowledge-base index counts: `terms.words` (rjieba with the IT
dictionary) with English words reduced to a stem, plus Chinese character bigrams as a
fallback for words the dictionary lacks, and the request's language.

    index_terms("打印机报错E5")  -> words  ["打印机", "报错", "e5"]
                                   bigrams ["打印", "印机", "机报", "报错"]
    index_terms("Printers dropped")  -> words ["printer", "drop"]

A bigram is a different term from the word with the same characters (marked with
BIGRAM), so the index can weigh the fallback below a whole word.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from maildesk.terms import segment
from maildesk.terms.vocabulary import PLACE_IN_TEXT, STOP

BIGRAM = "\x00"  # prefix of a bigram term: never part of a word
# Characters that make a bigram mean nothing (了, 吗, 我 …): 纸了, 忘了, 我的 are not terms.
PARTICLES = frozenset("的了吗呢吧啊呀哦嗯我你他她它您们这那是在就都也又很太")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_ONLY = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_LATIN = re.compile(r"[A-Za-z]")
_ALPHA = re.compile(r"^[a-z]+$")
_VOWEL = re.compile(r"[aeiouy]")


def _table(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that say nothing about which problem a request has, beyond terms.STOP: time,
# frequency, position, pronouns and verbs every request uses.  They count neither in an
# article nor in a request (rows are data: add a word here, not in code).
KB_STOP = _table(
    """以前 以后 之前 后来 一天 每天 一会儿 一下子 上周 下周 本周 周一 周二 周三 周四 周五 周六
    周日 上午 月底 上面 下面 里面 外面 后面 前面 旁边 这些 那些 这台 那台 这里 那里 哪里 自己 真的
    不然 只能 有个 几个 好几个 继续 尝试 看到 正在 开始 正常 工作 影响 告诉 老是 总是 每次 一次
    几次 多次 好像 感觉 觉得 知道 不知道 应该 需要 一直 马上 立刻 还是 其他 别的 所有 全部
    get gets got getting into onto about above below each every few many much more most last
    next past week weeks day days month months year morning afternoon evening night monday
    tuesday wednesday thursday friday saturday sunday weekend weekends time times minute
    minutes hour hours said say says told tell might may must being been their theirs her
    hers his him ve ll pretty far otherwise whenever anymore already also even ever only
    very really quite something anything everything nothing someone anyone everyone thing
    things way lot lots need needs needed want wants wanted try tried trying look looks see
    seen know think up under meeting meetings"""
)

# English suffixes, longest first: (suffix, replacement).  Only the first that leaves a
# stem of at least STEM_MIN letters with a vowel applies; then a final e and a doubled
# final consonant go (expire/expired -> expir, dropping/dropped -> drop).
SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ations", ""), ("ation", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"),
    ("ions", ""), ("ion", ""), ("edly", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", ""),
)  # fmt: skip
KEEP_ENDINGS = ("ss", "us", "is", "ous")  # access, status, analysis, various: not plurals
STEM_MIN = 3


@dataclass(frozen=True)
class Terms:
    words: tuple[str, ...]
    bigrams: tuple[str, ...]  # each prefixed with BIGRAM

    @property
    def all(self) -> tuple[str, ...]:
        return self.words + self.bigrams


# English verbs whose meaning changes with "up" are one word with it (set up -> setup,
# clean up -> cleanup, start up -> startup), so "up" alone can be a stop word.
PHRASAL_UP = re.compile(
    r"\b(set|clean|back|sign|free|fill|pop|start|boot|speed|lock|log)"
    r"(?:s|ed|ing|ting|ping|ling|ped|led)?\s+up\b",
    re.IGNORECASE,
)


# Short texts recur (您好，/ 谢谢！/ Hi, / a signature line, a subject): their terms are
# remembered, at most REMEMBERED of them (~1 MB).
SHORT = 200
REMEMBERED = 512
# Per-token answers (_in_run, normal_word) remembered: the tokens of recent mail, bounded
# so that a long-running daemon does not grow with its vocabulary.
TOKENS_REMEMBERED = 4096


def index_terms(text: str) -> Terms:
    """The words (stemmed, MARKS added) and the content bigrams of `text`."""
    return _remembered_terms(text) if len(text) <= SHORT else _terms(text)


@functools.lru_cache(maxsize=REMEMBERED)
def _remembered_terms(text: str) -> Terms:
    return _terms(text)


def _terms(text: str) -> Terms:
    """`index_terms`, segmenting the text once (twice when a phrasal verb was joined:
    "set up" -> "setup")."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    tokens = segment.cut(PLACE_IN_TEXT.sub(" ", lowered))
    phrased = PHRASAL_UP.sub(r"\1up", text)
    said = tokens if phrased == text else segment.cut(segment.fold(phrased))
    found = tuple(normal_word(w) for w in segment.words_of(said) if w not in KB_STOP)
    found += tuple(m for m in _marks(lowered) if m not in found)
    pairs = tuple(BIGRAM + p for p in _bigrams(tokens) if not PARTICLES.intersection(p))
    return Terms(found, pairs)


# How people name a thing by a letter, a count or one character, which the segmenter
# drops (Z盘 is "z" and "盘"; 越来越慢 leaves 慢 alone: too short to be words).  Each
# pattern gives the word `marks` counts, in articles and requests alike.  C: is the
# system disk (full, slow); D: and E: are usually local data partitions; a later
# letter is a mapped network drive (U盘 is a USB stick).
MARKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("c盘", re.compile(r"(?<![a-z0-9])c(?::|\s*盘|:?\s+drive\b)")),
    ("映射盘", re.compile(r"(?<![a-z0-9])[f-tv-z](?:\s*盘|:\\|:\s*(?=盘|drive\b)|\s+drive\b)")),
    # a one-time code's six digits (not 至少6位, a password's length)
    (
        "6位",
        re.compile(
            r"(?<![0-9])(?:6|六)\s*位的?(?:数|验证码|动态码|码)|(?<![0-9])(?:6|six)[- ]digit"
        ),
    ),
    # One-character symptoms and things: 越来越慢, 网速好慢 (not 慢慢, slowly);
    # 又蓝了, 全蓝 (not 蓝牙).
    ("慢", re.compile(r"(?<!慢)慢(?!慢)")),
    ("蓝屏", re.compile(r"(?:变|全|又|就|发)蓝(?!牙)|蓝(?:了|屏|瓶)")),
    # 没纸了, 纸用完了, 纸卡住了 (paper; not 壁纸 wallpaper, 报纸, 纸巾, 纸质 documents).
    ("纸", re.compile(r"(?<![壁报餐卫])纸(?![巾质箱])")),
    # 忘了, 想不起来 (forgot); 装个微信, 能装吗 (install; not 装修, 安装 is a word already).
    ("忘记", re.compile(r"忘(?!记)|想不起来")),
    ("forgot", re.compile(r"\bforg(?:ot|et|otten|etting)\b")),
    ("安装", re.compile(r"(?<![安组包假服西伪改])装(?![修饰备置箱])")),
)


# The characters a MARKS pattern can start with (a character class; tests/test_kb_prefilter.py
# checks every row against it): re then skips the other positions at once, 3 times faster.
MARKS_START = "cf-tv-z6六慢变全又就发蓝纸忘想装"
_MARKS = re.compile(
    f"(?=[{MARKS_START}])(?:"
    + "|".join(f"(?P<m{i}>{p.pattern})" for i, (_, p) in enumerate(MARKS))
    + ")"
)


def marks(text: str) -> list[str]:
    """The MARKS words `text` has (each once), found in one pass."""
    return _marks(unicodedata.normalize("NFKC", text).lower())


def _marks(lowered: str) -> list[str]:
    found = {m.lastgroup for m in _MARKS.finditer(lowered)}
    return [word for i, (word, _) in enumerate(MARKS) if f"m{i}" in found]


def content_bigrams(text: str) -> list[str]:
    """Character pairs of the Chinese text between filler and stop words: a filler
    word (请问, 谢谢, 早上, 同事) and the pairs across it (问怎, 么重) say nothing, and
    would dilute the share of the request an article explains.  Single characters the
    segmenter leaves alone stay (秘码 cut into 秘 / 码 still gives 秘码)."""
    return _bigrams(segment.cut(segment.fold(text)))


def _bigrams(tokens: list[str]) -> list[str]:
    """`content_bigrams` of a folded text's tokens."""
    pairs: list[str] = []
    run = ""
    for token in tokens:
        if _in_run(token):
            run += token
        elif run:
            pairs.extend(run[i : i + 2] for i in range(len(run) - 1))
            run = ""
    pairs.extend(run[i : i + 2] for i in range(len(run) - 1))
    return pairs


@functools.lru_cache(maxsize=TOKENS_REMEMBERED)
def _in_run(token: str) -> bool:
    """A Chinese token that is not a filler or stop word."""
    return bool(_CJK_ONLY.match(token)) and token not in STOP and token not in KB_STOP


@functools.lru_cache(maxsize=TOKENS_REMEMBERED)
def normal_word(word: str) -> str:
    """A word as the index keeps it: hyphens out of Latin words (wi-fi -> wifi,
    e-mail -> email), English words stemmed."""
    if "-" in word and not _CJK.search(word):
        word = word.replace("-", "")
    return stem(word) if _ALPHA.match(word) else word


def stem(word: str) -> str:
    """A light English stemmer: consistent, not linguistic (connection, connecting,
    connects -> connect)."""
    if len(word) <= STEM_MIN or word.endswith(KEEP_ENDINGS):
        return word
    for suffix, replacement in SUFFIXES:
        if word.endswith(suffix):
            base = word[: -len(suffix)] + replacement
            if len(base) >= STEM_MIN and _VOWEL.search(base):
                word = base
                break
    if word.endswith("e") and len(word) > STEM_MIN:
        word = word[:-1]
    if len(word) > STEM_MIN and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]
    return word


def language(text: str, share: float = 0.2) -> str:
    """zh-CN when Chinese characters are at least `share` of the letters (Chinese
    characters and Latin letters), else en: "VPN连不上 error 809" is Chinese, an English
    mail signed 张伟 is English."""
    folded = unicodedata.normalize("NFKC", text)
    chinese = len(_CJK.findall(folded))
    latin = len(_LATIN.findall(folded))
    if chinese + latin == 0:
        return "en"
    return "zh-CN" if chinese / (chinese + latin) >= share else "en"


def mentions(text: str, word: str) -> bool:
    """Whether `text` names `word` (an applies_to word): case- and width-insensitive,
    a Latin word only whole (Outlook in "outlook 2016", not in "outlooks")."""
    hay = unicodedata.normalize("NFKC", text).casefold()
    needle = unicodedata.normalize("NFKC", word).casefold().strip()
    if not needle:
        return False
    if _CJK.search(needle):
        return needle in hay
    return re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", hay) is not None
