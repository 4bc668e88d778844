"""Read the articles of a knowledge-base folder: `*.md` files with YAML front matter.

    ---
    title: VPN 连接失败（错误 809、691、超时）
    keywords: [VPN, 809, 691]        # a list, or one string separated by commas
    category: 网络问题                # one of the desk's categories
    language: zh-CN                  # zh-CN or en (the file name's suffix when absent)
    applies_to: []                   # optional: words a request must share
    ---
    Steps …

An article that cannot be read becomes a Problem (file, 1-based line, message) and is
skipped: one broken file never stops the others, nor the daemon.  README.md and the
`drafts/` folder are not articles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from maildesk.config.values import CATEGORIES, LOCALES
from maildesk.kb.model import Article, Problem

MAX_BYTES = 256 * 1024  # an article is a page of steps, not a manual
NOT_ARTICLES = frozenset({"readme.md"})
FENCE = "---"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 1,000 articles in 0.1 s
_LIST_SEPARATORS = re.compile(r"[,，、;；]")


class ArticleError(Exception):
    """What is wrong with one article, and where (1-based line; 0 = the whole file)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Folder:
    """What a folder holds: its readable articles by name order, and the problems."""

    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]


def article_paths(folder: Path) -> list[Path]:
    """The files that count as articles: `*.md` directly in the folder, README excepted."""
    if not folder.is_dir():
        return []
    found = (p for p in folder.iterdir() if p.suffix.lower() == ".md" and p.is_file())
    return sorted(p for p in found if p.name.lower() not in NOT_ARTICLES)


def read_folder(folder: Path) -> Folder:
    """Every article of `folder`; a file that cannot be read is a Problem, not an error."""
    articles: list[Article] = []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    if not folder.is_dir():
        return Folder((), (Problem(folder, 0, "the knowledge-base folder does not exist"),))
    for path in article_paths(folder):
        try:
            article = read_article(path)
        except ArticleError as exc:
            problems.append(Problem(path, exc.line, exc.message))
            continue
        first = seen.setdefault(article.name.casefold(), path)
        if first != path:
            problems.append(Problem(path, 0, f"duplicate name: {first.name} has the same name"))
            continue
        articles.append(article)
    return Folder(tuple(articles), tuple(problems))


def read_article(path: Path) -> Article:
    """One article file; ArticleError says what is wrong and on which line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleError(0, f"cannot read the file: {exc.strerror or exc}") from exc
    return parse_article(path, data)


def parse_article(path: Path, data: bytes) -> Article:
    if len(data) > MAX_BYTES:
        raise ArticleError(0, f"too large: {len(data):,} bytes (at most {MAX_BYTES:,})")
    text = _decoded(data)
    lines = text.splitlines()
    front, body_start = _front_matter(lines)
    values, key_lines = _yaml_mapping(front)
    name = path.name[: -len(path.suffix)]
    body = "\n".join(lines[body_start:]).strip("\n")
    if not body.strip():
        raise ArticleError(body_start, "the article has no text below the front matter")
    fields = _Fields(values, key_lines, closing=body_start)
    return Article(
        name=name,
        title=fields.title(),
        keywords=fields.words("keywords"),
        category=fields.category(),
        language=fields.language(name),
        applies_to=fields.words("applies_to"),
        body=body,
        path=path,
    )


def _decoded(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = f"not UTF-8: byte 0x{data[exc.start]:02x} cannot be decoded"
        raise ArticleError(line, message) from None
    return text.removeprefix("\ufeff")  # a BOM written by Windows Notepad


def _front_matter(lines: list[str]) -> tuple[list[str], int]:
    """The front matter's lines (file lines 2..), and the 1-based line of its closing
    fence, which is also the 0-based index of the first body line."""
    if not lines or lines[0].rstrip() != FENCE:
        raise ArticleError(1, "no front matter: the file must start with a line '---'")
    for index in range(1, len(lines)):
        if lines[index].rstrip() == FENCE:
            return lines[1:index], index + 1
    raise ArticleError(1, "the front matter opened on this line is never closed by '---'")


def _yaml_mapping(front: list[str]) -> tuple[dict[str, Any], dict[str, int]]:
    """The front matter's values, and the file line of each key (the YAML starts on
    file line 2)."""
    loader = Loader("\n".join(front))
    try:
        node = loader.get_single_node()
        if node is None or not isinstance(node, yaml.MappingNode):
            raise ArticleError(2, "the front matter must be 'key: value' lines (title: …)")
        key_lines = _key_lines(node)
        values = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = min(mark.line, len(front) - 1) + 2 if mark is not None else 1
        raise ArticleError(line, f"front matter is not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ArticleError(1, f"front matter is not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return values, key_lines


def _key_lines(node: yaml.MappingNode) -> dict[str, int]:
    lines: dict[str, int] = {}
    for key, _value in node.value:
        line = key.start_mark.line + 2
        if not isinstance(key, yaml.ScalarNode):
            raise ArticleError(line, "a front-matter key must be a plain word (title, …)")
        if key.value in lines:
            first = lines[key.value]
            raise ArticleError(line, f"{key.value!r} is given twice (first on line {first})")
        lines[key.value] = line
    return lines


@dataclass(frozen=True)
class _Fields:
    """The front matter's values, each checked with the line to blame."""

    values: dict[str, Any]
    key_lines: dict[str, int]
    closing: int  # the closing fence: where a missing key should have been

    def line(self, key: str) -> int:
        return self.key_lines.get(key, self.closing)

    def title(self) -> str:
        value = self.values.get("title")
        if value is None:
            raise ArticleError(self.closing, "no title: add 'title: …' to the front matter")
        if not isinstance(value, str | int | float) or not str(value).strip():
            raise ArticleError(self.line("title"), "the title must be a line of text")
        return " ".join(str(value).split())

    def words(self, key: str) -> tuple[str, ...]:
        value = self.values.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return _split(_LIST_SEPARATORS.split(value))
        if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
            return _split(str(v) for v in value)
        raise ArticleError(self.line(key), f"{key}: expected a list of words or 'a, b, c'")

    def category(self) -> str:
        value = self.values.get("category")
        known = ", ".join(CATEGORIES)
        if value is None:
            raise ArticleError(self.closing, f"no category: add 'category: …' ({known})")
        if value not in CATEGORIES:
            raise ArticleError(self.line("category"), f"unknown category {value!r} ({known})")
        return str(value)

    def language(self, name: str) -> str:
        suffix = name.rsplit(".", 1)[-1] if "." in name else ""
        value = self.values.get("language", suffix if suffix in LOCALES else None)
        if value is None:
            raise ArticleError(self.closing, "no language: add 'language: zh-CN' or 'en'")
        line = self.line("language")
        if value not in LOCALES:
            raise ArticleError(line, f"unknown language {value!r} ({', '.join(LOCALES)})")
        if suffix in LOCALES and value != suffix:
            raise ArticleError(line, f"language {value} does not match the name's .{suffix}")
        return str(value)


def _split(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in (" ".join(i.split()) for i in items) if w))


def topic(article: Article) -> str:
    """The name without its language: `vpn.zh-CN` and `vpn.en` are one topic, `vpn`."""
    stem, _, suffix = article.name.rpartition(".")
    return stem if stem and suffix in LOCALES else article.name
