"""Commands at the top of an engineer's reply (``#resolve``, ``#优先级 紧急``, …).  Pure: no IO.

`extract` reads the command block of a reply's visible text and returns the commands,
the text to relay to the requester, the internal note and the errors.  It decides
nothing about who may do what: the caller checks the sender (a requester may only use
`REQUESTER_COMMANDS`), the ticket's state and the people list.

The command block:

* Consecutive lines at the top of the text that start with ``#`` or ``＃`` followed by a
  word (a letter first: ``#12 still broken`` is text).  Blank lines and leading spaces are
  allowed in the block; the first other line ends it and starts the relayed text.  A ``#``
  further down the body is never a command ("see issue #12").
* A command word is English (any case, full-width letters too) or Chinese, from the
  table below; its value follows after spaces (U+3000 too) or a colon (``:``/``：``):
  ``#状态：已解决``, ``#status: resolved``.  A Chinese command word may also run straight
  into its value: ``#优先级紧急``.  Sentence punctuation after a word or value is ignored.
* State, priority and category values are accepted in both languages and come back
  canonical (a `Status` value, a `Priority` value, one of `CATEGORIES`).  Spaces, ``-``
  and ``_`` inside a value are the same: ``in progress``, ``in-progress``, ``in_progress``.

Choices:

* All or nothing: an unknown command, a missing or bad value, or a command that takes no
  value given one, is an error for that line; with any error `Parsed.commands` is empty.
* ``#take``, ``#close``, ``#reopen``, ``#wait`` take no value, and a value is an error rather
  than ignored: ``#take 张伟`` most likely meant ``#assign 张伟``, and silently taking the
  ticket would be wrong.  Put remarks in the text below the block.
* One change of state per reply (``#status <x>``, ``#resolve``, ``#close``, ``#reopen``,
  ``#wait``, ``#escalate``), one change of assignee (``#assign``, ``#take``), and every
  other command at most once: a second one is an error, not "the last one wins".
* ``#note``: the text after it on its line and all the text after the command block form
  the internal note, and nothing is relayed (`Parsed.text` is "").  Command lines after
  ``#note`` still belong to the block and are commands.
* When errors are found, `text` and `note` are still filled in as read, for the caller's
  error mail; nothing must be applied or relayed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from maildesk import vocab
from maildesk.config import CATEGORIES, LOCALES
from maildesk.pipeline.reply_text import normalize
from maildesk.vocab import Both, Reason, Term, reason

__all__ = ["REQUESTER_COMMANDS", "Command", "Parsed", "extract", "help_text"]


@dataclass(frozen=True)
class Command:
    name: str  # canonical: status, status_query, resolve, close, reopen, wait, assign, …
    argument: str  # canonical value (status, priority, category), raw text, or ""
    line: str  # the line as written, for error messages


@dataclass(frozen=True)
class Parsed:
    commands: tuple[Command, ...]  # empty when there are errors
    text: str  # what is relayed to the requester: the reply below the block ("" for #note)
    note: str  # for #note: the internal note, else ""
    errors: tuple[Reason, ...]  # one per bad line; when non-empty nothing must be applied


REQUESTER_COMMANDS = frozenset({"close", "status_query"})


# --- rule tables: values --------------------------------------------------------------------


def _key(word: str) -> str:
    """How words are compared: NFKC, any case, trailing punctuation dropped, runs of
    spaces, ``-`` and ``_`` as one ``_``."""
    word = unicodedata.normalize("NFKC", word).casefold().rstrip(_TRAILING)
    return _SEPARATORS.sub("_", word).strip("_")


_TRAILING = ".。!！,，;；、?？'\"“”‘’"
_LEADING = "，,、"  # after a Chinese command word run into its value
_SEPARATORS = re.compile(r"[\s_-]+")


def _is_chinese(word: str) -> bool:
    return not word.isascii()


class _Values:
    """The accepted values of one kind: canonical value → its names (English first)."""

    def __init__(self, what: str, what_zh: str, names: Mapping[str, tuple[str, ...]]) -> None:
        self.what = what
        self.what_zh = what_zh
        self.names = names
        self.lookup = _index((str(value), (value, *words)) for value, words in names.items())

    def find(self, word: str) -> str | None:
        return self.lookup.get(_key(word))

    def both(self) -> Both:
        return Both(self.listing("zh-CN"), self.listing("en"))

    def listing(self, locale: str) -> str:
        """Each value in the locale's language, then its other names: "urgent (紧急)"."""
        chinese = locale == "zh-CN"
        parts = []
        for value, words in self.names.items():
            names = _distinct((str(value), *words))
            # a reader sees the words of their language (the others work too)
            names = tuple(w for w in names if _is_chinese(w) == chinese) or names
            first = _first(names, chinese)
            others = ", ".join(w for w in names if w != first)
            parts.append(f"{first} ({others})" if others else first)
        return ("、" if chinese else ", ").join(parts)


def _distinct(words: tuple[str, ...]) -> tuple[str, ...]:
    """One name per key: "in_progress" hides "in progress"."""
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(_key(word), word)
    return tuple(seen.values())


def _first(words: tuple[str, ...], chinese: bool) -> str:
    return next((w for w in words if _is_chinese(w) == chinese), words[0])


def _index(entries: Iterable[tuple[str, Iterable[str]]]) -> dict[str, str]:
    """Word key → canonical name; a word may not stand for two things."""
    index: dict[str, str] = {}
    for canonical, words in entries:
        for word in words:
            owner = index.setdefault(_key(word), canonical)
            if owner != canonical:
                raise ValueError(f"{word!r} stands for both {owner!r} and {canonical!r}")
    return index


def _words(kind: str) -> dict[str, tuple[str, ...]]:
    """Each value's names from the vocabulary: English words first, then Chinese."""
    table = {}
    for value, (zh, _) in vocab.TERMS[kind].items():
        aliases = vocab.ALIASES[kind][value]
        english = [w for w in aliases if w.isascii()]
        chinese = [zh, *(w for w in aliases if not w.isascii())]
        table[value] = tuple(dict.fromkeys((*english, *chinese)))
    return table


_STATES = _Values("state", "状态", _words("status"))
_PRIORITIES = _Values("priority", "优先级", _words("priority"))
_CATEGORIES = _Values("category", "分类", _words("category"))
if tuple(_CATEGORIES.names) != CATEGORIES:  # pragma: no cover - a config change
    raise ValueError("commands: the category table does not match config.CATEGORIES")


# --- rule tables: commands ------------------------------------------------------------------


class _LineError(Exception):
    """One bad command line; its reason is written for the engineer in their language."""

    def __init__(self, why: Reason) -> None:
        super().__init__(why.key)
        self.why = why


_Reader = Callable[[str, str, str], Command]  # (name, argument, line) → Command


def _no_argument(name: str, argument: str, line: str) -> Command:
    if argument:
        raise _LineError(reason("takes_no_value", command=_term(name), value=argument, line=line))
    return Command(name, "", line)


def _optional_text(name: str, argument: str, line: str) -> Command:
    return Command(name, argument, line)


def _required_text(missing: str) -> _Reader:
    def read(name: str, argument: str, line: str) -> Command:
        if not argument:
            raise _LineError(reason(missing, command=_term(name), line=line))
        return Command(name, argument, line)

    return read


def _value(values: _Values) -> _Reader:
    def read(name: str, argument: str, line: str) -> Command:
        what, accepted = Term("field", values.what), values.both()
        if not argument:
            raise _LineError(
                reason("needs_value", command=_term(name), what=what, line=line, accepted=accepted)
            )
        found = values.find(argument)
        if found is None:
            raise _LineError(
                reason("unknown_value", what=what, value=argument, line=line, accepted=accepted)
            )
        return Command(name, found, line)

    return read


def _status(name: str, argument: str, line: str) -> Command:
    if not argument:
        return Command("status_query", "", line)
    return _value(_STATES)(name, argument, line)


@dataclass(frozen=True)
class _Spec:
    name: str
    words: tuple[str, ...]  # aliases besides the name, English first
    read: _Reader
    group: str  # commands of one group exclude each other in one reply


_SPECS = (
    _Spec("status", ("state", "状态"), _status, "state"),
    _Spec("resolve", ("resolved", "解决", "已解决", "solved"), _optional_text, "state"),
    _Spec("close", ("关闭",), _no_argument, "state"),
    _Spec("reopen", ("重开", "重新打开"), _no_argument, "state"),
    _Spec("wait", ("等待", "等待用户"), _no_argument, "state"),
    _Spec("assign", ("指派", "分配"), _required_text("needs_engineer"), "assignee"),
    _Spec("take", ("接单", "认领"), _no_argument, "assignee"),
    _Spec("priority", ("优先级",), _value(_PRIORITIES), "priority"),
    _Spec("category", ("分类", "类别"), _value(_CATEGORIES), "category"),
    _Spec("escalate", ("升级",), _required_text("needs_reason"), "state"),
    _Spec("note", ("备注", "内部备注"), _optional_text, "note"),
    _Spec("review", ("复核", "回访复核"), _optional_text, "review"),
    _Spec("kb", ("知识库",), _optional_text, "kb"),
)
_BY_WORD = _index((spec.name, (spec.name, *spec.words)) for spec in _SPECS)
_SPEC = {spec.name: spec for spec in _SPECS}
# Chinese words may run into their value (#优先级紧急): longest first.
_CHINESE_WORDS = sorted((w for w in _BY_WORD if _is_chinese(w)), key=len, reverse=True)
_GROUP_RULE = {"state": "one_state_change", "assignee": "one_assignee_change"}
_ONCE = "once_per_reply"

# "#word rest", "＃ word：rest"; the word starts with a letter (not "#12").
_COMMAND_LINE = re.compile(r"\s*[#＃]\s*(?P<word>[^\W\d_][^\s:：]*)(?P<rest>.*)", re.DOTALL)


def _command_list() -> Both:
    names = [(s.name, _first(s.words, chinese=True)) for s in _SPECS]
    return Both("、".join(f"#{zh}" for _, zh in names), ", ".join(f"#{en}" for en, _ in names))


def _term(name: str) -> Term:
    return Term("command", name)


# --- reading ------------------------------------------------------------------------------


def extract(text: str) -> Parsed:
    """The command block at the top of `text` (a reply's visible text), read."""
    lines = normalize(text).split("\n")
    commands: list[Command] = []
    errors: list[Reason] = []
    note_parts: list[str] = []
    noted = False
    end = len(lines)
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        match = _COMMAND_LINE.fullmatch(raw)
        if match is None:
            end = i
            break
        line = raw.strip()
        try:
            command = _read(match["word"], match["rest"], line)
        except _LineError as error:
            errors.append(error.why)
            continue
        if command.name == "note":
            noted = True
            note_parts.append(command.argument)
            command = Command("note", "", line)
        clash = _clash(command, commands)
        if clash:
            errors.append(clash)
        commands.append(command)
    body = _trimmed(lines[end:])
    if noted:
        note = "\n".join(part for part in (*note_parts, body) if part)
        body = ""
    else:
        note = ""
    return Parsed(() if errors else tuple(commands), body, note, tuple(errors))


def _read(word: str, rest: str, line: str) -> Command:
    name = _BY_WORD.get(_key(word))
    if name is None:
        word, rest = _split_chinese(word, rest)
        name = _BY_WORD.get(_key(word))
    if name is None:
        raise _LineError(reason("unknown_command", word=word, line=line, commands=_command_list()))
    argument = rest.strip()
    if argument[:1] in (":", "："):
        argument = argument[1:].strip()
    return _SPEC[name].read(name, argument, line)


def _split_chinese(word: str, rest: str) -> tuple[str, str]:
    """Split a Chinese command word off its value: 优先级紧急 → 优先级, 紧急;
    解决，已重启 → 解决, 已重启."""
    for known in _CHINESE_WORDS:
        if word.startswith(known) and len(word) > len(known):
            return known, word[len(known) :].lstrip(_LEADING) + rest
    return word, rest


def _clash(command: Command, earlier: list[Command]) -> Reason | None:
    group = _group(command.name)
    for other in earlier:
        if _group(other.name) == group:
            return reason(_GROUP_RULE.get(group, _ONCE), line=command.line, other=other.line)
    return None


def _group(name: str) -> str:
    spec = _SPEC.get(name)
    return spec.group if spec is not None else name  # status_query stands alone


def _trimmed(lines: list[str]) -> str:
    return "\n".join(lines).strip("\n").rstrip()


# --- help -----------------------------------------------------------------------------------

# (command, usage after the word, en text, zh usage, zh text); aliases come from _SPECS.
_HELP = (
    ("status", "<state>", "set the ticket's state", "<状态>", "设置工单状态"),
    ("status", "", "reply with the ticket's state", "", "回复工单当前状态"),
    ("resolve", "[text]", "resolve; the text is the resolution", "[说明]",
     "已解决，说明即解决方案"),
    ("close", "", "close the ticket", "", "关闭工单"),
    ("reopen", "", "reopen the ticket", "", "重新打开工单"),
    ("wait", "", "waiting on the requester", "", "等待用户回复"),
    ("assign", "<engineer>", "assign to an engineer (name or address)", "<工程师>",
     "指派给工程师（姓名或邮箱）"),
    ("take", "", "assign the ticket to yourself", "", "由自己接单"),
    ("priority", "<level>", "set the priority", "<级别>", "设置优先级"),
    ("category", "<name>", "set the category", "<分类>", "设置分类"),
    ("escalate", "<reason>", "escalate, with the reason", "<原因>", "升级工单，需写明原因"),
    ("note", "", "the rest of the mail is an internal note, not sent to the requester", "",
     "邮件其余内容作为内部备注，不发送给用户"),
    ("review", "done", "close the review of a low satisfaction score (a note may follow)",
     "完成", "完成低分满意度评价的复核（其后可写说明）"),
    ("kb", "[title]", "on a resolved ticket: write a draft knowledge-base article from it",
     "[标题]", "已解决的工单：据此写一篇知识库文章草稿"),
)  # fmt: skip

_HELP_TEXT = {
    "en": {
        "intro": (
            "Commands go on the first lines of your reply, one per line, each starting with #"
            " (or ＃); the value follows after a space or a colon. Commands and values may"
            " also be written in Chinese."
        ),
        "also": " (also {})",
        "values": "Accepted values:",
        "label": "  {}: {}",
        "outro": (
            "A reply with an unknown command or a bad value changes nothing: correct it and"
            " send it again. Requesters may only use #close, #status and #solved."
        ),
    },
    "zh-CN": {
        "intro": (
            "命令写在回复的最前面，每行一条，以 # 或 ＃ 开头；值写在空格或冒号之后。"
            "命令和值也可以用英文书写。"
        ),
        "also": "（也可写 {}）",
        "values": "可用的值：",
        "label": "  {}：{}",
        "outro": (
            "含有未知命令或错误值的回复不会执行任何命令，请修改后重新发送。"
            "用户只能使用 #关闭、#状态 和 #已解决。"
        ),
    },
}


def help_text(locale: str) -> str:
    """The commands, their aliases and accepted values, in "zh-CN" or "en"."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}; expected one of {', '.join(LOCALES)}")
    words = _HELP_TEXT[locale]
    chinese = locale == "zh-CN"
    rows = []
    for name, usage_en, text_en, usage_zh, text_zh in _HELP:
        spec = _SPEC[name]
        names = (name, *spec.words)
        first = _first(names, chinese)
        usage = f"#{first} {usage_zh if chinese else usage_en}".rstrip()
        shown = [w for w in names if w != first and _is_chinese(w) == chinese]
        aliases = ("、" if chinese else ", ").join(f"#{w}" for w in shown)
        also = words["also"].format(aliases) if aliases else ""
        rows.append((usage, (text_zh if chinese else text_en) + also))
    width = max(_width(usage) for usage, _ in rows) + 2
    lines = [words["intro"], ""]
    lines += [f"  {usage}{' ' * (width - _width(usage))}{text}" for usage, text in rows]
    lines += ["", words["values"]]
    for values in (_STATES, _PRIORITIES, _CATEGORIES):
        label = values.what_zh if chinese else values.what.capitalize()
        lines.append(words["label"].format(label, values.listing(locale)))
    lines += ["", words["outro"]]
    return "\n".join(lines)


def _width(text: str) -> int:
    """Columns in a fixed-width font: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
