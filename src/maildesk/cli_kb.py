"""`maildesk kb list|show NAME|reindex|check|publish NAME`: the knowledge base's
articles (the `[kb] folder`, or --folder), their problems, and publishing a draft."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from maildesk.cli import EX_FAIL, EX_OK, CommandError, load_config, print_table, shown_path
from maildesk.kb.articles import ArticleError, article_paths, read_article, read_folder
from maildesk.kb.index import Index
from maildesk.kb.markdown import to_html, to_text
from maildesk.kb.model import Article, Problem
from maildesk.kb.settings import KB_SECTION
from maildesk.terms.segment import segmenter

DRAFTS = "drafts"


def add_kb(sub: Any) -> None:
    kb = sub.add_parser("kb", help="knowledge base: list, show, check and publish articles")
    kb.add_argument("--folder", help="the articles' folder (default: [kb] folder)")
    ksub = kb.add_subparsers(dest="kb_command", required=True, metavar="ACTION")
    lst = ksub.add_parser("list", help="the articles: name, language, category, title")
    lst.add_argument("--drafts", action="store_true", help="the drafts waiting in drafts/")
    lst.add_argument("--json", action="store_true", help="JSON for scripts")
    lst.set_defaults(func=cmd_kb_list)
    show = ksub.add_parser("show", help="one article as the mail's text (or --html)")
    show.add_argument("name", help="the file name without .md, e.g. vpn.zh-CN")
    show.add_argument("--html", action="store_true", help="the HTML part instead of text")
    show.set_defaults(func=cmd_kb_show)
    ksub.add_parser(
        "reindex", help="read and index the folder now; print the counts and the time"
    ).set_defaults(func=cmd_kb_reindex)
    ksub.add_parser(
        "check", help="print each article problem as FILE:LINE: message; exit 1 if any"
    ).set_defaults(func=cmd_kb_check)
    publish = ksub.add_parser(
        "publish",
        help="move drafts/NAME.md into the folder, after checking it",
        description="Check the draft drafts/NAME.md and move it into the knowledge-base "
        "folder, where the next suggestions find it. Nothing moves when the draft has "
        "a problem or an article of that name exists.",
    )
    publish.add_argument("name", help="the draft's file name, with or without .md")
    publish.set_defaults(func=cmd_kb_publish)


def folder_of(args: argparse.Namespace) -> Path:
    if args.folder:
        return Path(args.folder)
    return load_config(args, secrets=False).section(KB_SECTION).folder


def cmd_kb_list(args: argparse.Namespace) -> int:
    folder = folder_of(args)
    read = read_folder(folder / DRAFTS if args.drafts else folder)
    if args.json:
        print(json.dumps([_as_json(a) for a in read.articles], ensure_ascii=False, indent=2))
    elif not read.articles:
        print("no drafts" if args.drafts else f"no articles in {shown_path(folder)}")
    else:
        rows = [(a.name, a.language, a.category, a.title) for a in read.articles]
        print_table(("NAME", "LANGUAGE", "CATEGORY", "TITLE"), rows)
    _mention_problems(read.problems)
    return EX_OK


def _as_json(article: Article) -> dict[str, Any]:
    return {
        "name": article.name, "title": article.title, "keywords": list(article.keywords),
        "category": article.category, "language": article.language,
        "applies_to": list(article.applies_to), "path": str(article.path),
    }  # fmt: skip


def _mention_problems(problems: tuple[Problem, ...]) -> None:
    if problems:
        print(f"({len(problems)} file(s) skipped: `maildesk kb check` says why)")


def cmd_kb_show(args: argparse.Namespace) -> int:
    folder = folder_of(args)
    name = args.name.removesuffix(".md")
    path = folder / f"{name}.md"
    if not path.is_file() and (folder / DRAFTS / f"{name}.md").is_file():
        path = folder / DRAFTS / f"{name}.md"
    if not path.is_file():
        raise CommandError(f"no article {name} in {shown_path(folder)} (see `maildesk kb list`)")
    article = _readable(path)
    if args.html:
        print(to_html(article.body), end="")
        return EX_OK
    print(article.title)
    print(f"{article.language} · {article.category} · {', '.join(article.keywords)}")
    if article.applies_to:
        print(f"applies to: {', '.join(article.applies_to)}")
    print()
    print(to_text(article.body), end="")
    return EX_OK


def _readable(path: Path) -> Article:
    try:
        return read_article(path)
    except ArticleError as exc:
        raise CommandError(f"{shown_path(path)}:{exc.line}: {exc.message}") from exc


def cmd_kb_reindex(args: argparse.Namespace) -> int:
    folder = folder_of(args)
    started = time.perf_counter()
    segmenter()
    loaded = time.perf_counter()
    read = read_folder(folder)
    index = Index(read.articles)
    done = time.perf_counter()
    languages = sorted({a.language for a in read.articles})
    print(f"{len(index)} articles ({', '.join(languages) or 'none'}), "
          f"{len(index.postings)} terms, indexed in {(done - loaded) * 1000:.0f} ms "
          f"(segmenter start-up {(loaded - started) * 1000:.0f} ms)")  # fmt: skip
    print("the daemon picks up changes to the folder by itself within seconds")
    _mention_problems(read.problems)
    return EX_OK


def cmd_kb_check(args: argparse.Namespace) -> int:
    folder = folder_of(args)
    read = read_folder(folder)
    drafts = read_folder(folder / DRAFTS) if (folder / DRAFTS).is_dir() else None
    problems = read.problems + (drafts.problems if drafts else ())
    for problem in problems:
        print(f"{shown_path(problem.path)}:{problem.line}: {problem.message}")
    waiting = f", {len(drafts.articles)} draft(s)" if drafts else ""
    verdict = f"{len(problems)} problem(s)" if problems else "no problems"
    print(f"{len(read.articles)} article(s){waiting}: {verdict}")
    return EX_FAIL if problems else EX_OK


def cmd_kb_publish(args: argparse.Namespace) -> int:
    folder = folder_of(args)
    name = args.name.removesuffix(".md")
    draft = folder / DRAFTS / f"{name}.md"
    if not draft.is_file():
        raise CommandError(f"no draft {shown_path(draft)}")
    article = _readable(draft)
    taken = {p.name.casefold() for p in article_paths(folder)}
    target = folder / draft.name
    if target.name.casefold() in taken:
        raise CommandError(f"{shown_path(target)} exists already: edit it, or rename the draft")
    draft.replace(target)
    print(f"published {article.name}: {article.title}")
    return EX_OK
