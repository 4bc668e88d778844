"""The knowledge base as plain values: the contract between the articles on disk
(`kb/articles.py`), the index (`kb/index.py`) and the mail flow (acknowledgment
suggestions, `#solved`, `#kb`, `KB:` questions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Article:
    """One Markdown file with front matter, published (in the kb folder) or a draft."""

    name: str  # the file's stem, unique in the folder: "vpn-809.zh-CN"
    title: str
    keywords: tuple[str, ...]
    category: str  # one of the desk's categories (硬件故障 … 其他)
    language: str  # "zh-CN" | "en"
    applies_to: tuple[str, ...]  # optional words the request must share (e.g. "Foxmail")
    body: str  # Markdown, without the front matter
    path: Path


@dataclass(frozen=True)
class Problem:
    """An article that could not be read: reported with its file and line, then skipped."""

    path: Path
    line: int  # 1-based; 0 when the whole file is at fault
    message: str


@dataclass(frozen=True)
class Suggestion:
    article: Article
    score: float  # relevance, comparable to `[kb] threshold`
    excerpt: str  # plain text, a few lines of the article, for the acknowledgment
