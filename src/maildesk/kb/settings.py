"""[kb]: the knowledge base's folder, and when its articles are suggested.

    [kb]
    folder = ""                 # "" = the articles shipped with maildesk; else a folder
                                # (relative to maildesk.toml)
    threshold = 6.0             # relevance an article must reach to be suggested
    max_suggestions = 3         # articles in an acknowledgment (0 = none)
    questions = true            # a subject starting with a prefix asks the knowledge base
    question_prefixes = ["KB:", "KB：", "知识库:", "知识库：", "查询:", "查询："]

Read it with `cfg.section(KB_SECTION)`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maildesk.config import ConfigError, Table, register
from maildesk.config.registry import Context, Values
from maildesk.config.values import flag, positive_number, text, text_list, whole_number
from maildesk.resources import shipped

DEFAULT_THRESHOLD = 6.0
DEFAULT_PREFIXES = ["KB:", "KB：", "知识库:", "知识库：", "查询:", "查询："]


@dataclass(frozen=True)
class KbSettings:
    folder: Path
    threshold: float
    max_suggestions: int
    questions: bool
    question_prefixes: tuple[str, ...]

    def question(self, subject: str) -> str | None:
        """What a subject asks the knowledge base (`KB：VPN 809` -> `VPN 809`), or None
        when questions are off or no prefix starts it.  Width and case do not matter:
        `kb：` is `KB:`."""
        if not self.questions:
            return None
        folded = _fold(subject.lstrip())
        for prefix in self.question_prefixes:
            wanted = _fold(prefix)
            if folded.startswith(wanted):
                return subject.lstrip()[len(wanted) :].strip()
        return None


def _fold(text: str) -> str:
    """Full-width to half-width and lower case, one character for one (so a prefix's
    length in the folded subject is its length in the subject)."""
    return "".join((unicodedata.normalize("NFKC", ch) or ch)[0].lower()[0] for ch in text)


def prefixes(key: str, value: Any) -> tuple[str, ...]:
    found = text_list(key, value)
    for i, prefix in enumerate(found):
        if not prefix.strip():
            raise ConfigError(f"{key}[{i}]: a prefix must not be empty")
    return found


def _folder(value: str, ctx: Context) -> Path:
    if not value:
        return shipped("kb")
    folder = ctx.path(value)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{ctx.key('folder')}: {folder} is a file, expected a folder")
    return folder


def _build(values: Values, ctx: Context) -> KbSettings:
    return KbSettings(
        folder=_folder(values["folder"], ctx),
        threshold=values["threshold"],
        max_suggestions=values["max_suggestions"],
        questions=values["questions"],
        question_prefixes=values["question_prefixes"],
    )


KB_SECTION = register(
    Table(
        "kb",
        {
            "folder": ("", text),
            "threshold": (DEFAULT_THRESHOLD, positive_number),
            "max_suggestions": (3, whole_number(0, 10)),
            "questions": (True, flag),
            "question_prefixes": (DEFAULT_PREFIXES, prefixes),
        },
        _build,
    )
)
