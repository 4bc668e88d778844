"""A tiny real knowledge base for the mail-flow tests: hand-built articles, ranked by
how many of a request's words (`terms.words`) are the article's keywords or title
words.  The engine's BM25 index (kb/index.py) takes its place in the daemon."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maildesk.kb import flow
from maildesk.kb.model import Article, Suggestion
from maildesk.kb.settings import DEFAULT_PREFIXES, KbSettings
from maildesk.terms import words


def article(name: str, title: str, keywords: tuple[str, ...], body: str,
            category: str = "网络问题") -> Article:  # fmt: skip
    language = name.rsplit(".", 1)[1]
    return Article(name, title, keywords, category, language, (), body, Path(f"/kb/{name}.md"))


VPN = article(
    "vpn.zh-CN",
    "VPN 连接失败（错误 809、691、超时）",
    ("VPN", "809", "691", "连接失败", "连不上"),
    "## 错误 809\n\n1. 确认网络可以上网。\n2. 重启路由器后再连接 VPN。\n\n"
    "## 错误 691\n\n用户名或密码错误。",
)
PRINTER = article(
    "printer.zh-CN",
    "打印机脱机、报错、卡纸",
    ("打印机", "卡纸", "脱机", "E5"),
    "1. 打开前盖取出卡住的纸。\n2. 重新开机。",
    category="硬件故障",
)
VPN_EN = article(
    "vpn.en",
    "VPN connection fails (error 809, 691, timeouts)",
    ("vpn", "809", "691", "timeout"),
    "## Error 809\n\n1. Check that you are online.\n2. Restart your router and connect again.",
)


@dataclass
class TinyKb:
    articles: tuple[Article, ...] = (VPN, PRINTER, VPN_EN)
    threshold: float = 3.0
    asked: list[str] = field(default_factory=list)

    def suggest(self, text: str, limit: int = 3) -> tuple[Suggestion, ...]:
        self.asked.append(text)
        wanted = {w.casefold() for w in words(text)}
        scored = []
        for one in self.articles:
            terms = {k.casefold() for k in one.keywords} | {w.casefold() for w in words(one.title)}
            score = float(len(wanted & terms))
            if score >= self.threshold:
                scored.append(Suggestion(one, score, one.body.split("\n")[0].lstrip("# ")))
        scored.sort(key=lambda s: (-s.score, s.article.name))
        return tuple(scored[:limit])

    def article(self, name: str) -> Article | None:
        return next((a for a in self.articles if a.name == name), None)

    def refresh(self) -> None:
        """Nothing to look at: the articles are in memory."""


def desk(folder: Path, kb: TinyKb | None = None, **settings: Any) -> flow.Desk:
    """The tiny knowledge base with `[kb]` settings as the engine reads them."""
    values: dict[str, Any] = {
        "folder": folder,
        "threshold": 3.0,
        "max_suggestions": 3,
        "questions": True,
        "question_prefixes": tuple(DEFAULT_PREFIXES),
    }
    return flow.Desk(kb or TinyKb(), KbSettings(**{**values, **settings}))  # fmt: skip
