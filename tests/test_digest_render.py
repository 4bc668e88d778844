"""The digest mail and the HTML report (digest/render.py, digest/charts.py): the text and
the HTML say the same figures, charts travel by Content-ID, nothing a person wrote becomes
markup, nothing is fetched, and an empty period is one line."""

from __future__ import annotations

import email
import email.policy
import io
import re
from collections.abc import Iterator
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime
from email.message import EmailMessage
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from maildesk import config
from maildesk.digest import charts
from maildesk.digest.formats import as_text
from maildesk.digest.model import ArticleUse, Counts, DayCount, Figures, SelfService, WeekSla
from maildesk.digest.render import INLINER, digest_mail, report_html
from maildesk.digest.view import view
from maildesk.domain import Address, MailKind
from maildesk.render import Renderer, environment
from tests import digests

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
MANAGER = Address("周经理", "manager@example.com")
LOCALES = ("zh-CN", "en")


@cache
def renderer(locale: str) -> Renderer:
    text = (
        f'[maildesk]\nsupport_address = "it-support@example.com"\nlocale = "{locale}"\n'
        'support_name = "IT服务台"\n[security]\nsecret = "ssssssssssssssssssss"\n'
        '[[people]]\nname = "王工"\nemail = "wang.gong@example.com"\ngroups = ["network"]\n'
    )
    return Renderer(environment(REPO / "templates"), config.parse(text, Path("/x.toml"), env={}))


def mail(figures: Figures, locale: str, to: Address = MANAGER) -> EmailMessage:
    out = digest_mail(renderer(locale), figures, to, NOW)
    assert out.kind == MailKind.DIGEST.value and out.recipients == (to.email,)
    msg = email.message_from_bytes(out.raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def part(msg: EmailMessage, subtype: str) -> str:
    found = msg.get_body((subtype,))
    assert found is not None
    content = found.get_content()
    assert isinstance(content, str)
    return content


class Page(HTMLParser):
    """The tags, attributes and visible text of an HTML part."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def leaves(value: Any) -> Iterator[str]:
    """Every string the templates are given to show (the figures and names)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("table", "title", "heading"):
                yield from leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item)
    elif is_dataclass(value):
        for field in fields(value):
            yield from leaves(getattr(value, field.name))


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("build", [digests.realistic, digests.hostile])
def test_text_and_html_say_every_figure(locale: str, build: Any) -> None:
    figures = build()
    shown = [s for s in leaves(view(figures, renderer(locale).cfg, locale)) if s.strip()]
    msg = mail(figures, locale)
    text, html = flat(part(msg, "plain")), Page(part(msg, "html")).visible()
    assert len(shown) > 100
    for value in shown:
        assert flat(value) in text, f"text part lacks {value!r}"
        assert flat(value) in html, f"HTML part lacks {value!r}"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_text_part_alone_has_the_headline_figures(locale: str) -> None:
    text = part(mail(digests.realistic(), locale), "plain")
    expected = {
        "zh-CN": [
            "新建：155 ↑（上期 140）",
            "期末未完成工单：62 ↑（上期 52）",
            "首次响应：达成率 94.6% ↑（上期 92.9%）；达成 140，超时 8",
            "含 3 项暂定",
            "IT-20261124-0001  超时 10.0 小时（解决）  王工",
            "中位数 38 分钟 ↓（上期 45 分钟），90 分位 2.9 小时 ↑（上期 2.7 小时）",
            "硬件故障    48      44          20",
            "平均分（1–5）：4.24 ↑（上期 4.13）",
            "打印机（硬件故障）：14 个工单，+8（上期 6）",
            "尚未导入 2027 年的节假日安排",
            "有 12 个由用户借助知识库文章自行解决（8.3%）",
        ],
        "en": [
            "Opened: 155 ↑ (previous 140)",
            "Open tickets at the end: 62 ↑ (previous 52)",
            "First response: 94.6% met ↑ (previous 92.9%); 140 met, 8 missed",
            "3 provisional",
            "IT-20261124-0001  late by 10.0 h (resolution)  王工",
            "median 38 min ↓ (previous 45 min), 90th percentile 2.9 h ↑ (previous 2.7 h)",
            "Hardware fault          48        44           20",
            "Average score (1–5): 4.24 ↑ (previous 4.13)",
            "打印机 (Hardware fault): 14 tickets, +8 (previous 6)",
            "holiday calendar for 2027 is not loaded",
            "12 of 145 resolved tickets",
        ],
    }
    for line in expected[locale]:
        assert line in text, line


@pytest.mark.parametrize("locale", LOCALES)
def test_subject_names_the_period_and_the_group(locale: str) -> None:
    msg = mail(digests.realistic(group="network"), locale)
    subject = {
        "zh-CN": "IT服务台周报 2026-11-23 – 2026-11-29（network 组）",
        "en": "IT服务台 weekly digest 2026-11-23 – 2026-11-29 – group network",
    }
    assert msg["Subject"] == subject[locale]
    assert msg["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize("locale", LOCALES)
def test_charts_travel_by_content_id_with_size_and_alt_text(locale: str) -> None:
    msg = mail(digests.realistic(), locale)
    assert msg.get_content_type() == "multipart/related"
    images = {
        str(p["Content-ID"]).strip("<>"): p.get_payload(decode=True)
        for p in msg.walk()
        if p.get_content_type() == "image/png"
    }
    tags = [attrs for tag, attrs in Page(part(msg, "html")).tags if tag == "img"]
    assert len(tags) == 2 == len(images)
    for attrs in tags:
        src = str(attrs["src"])
        assert src.startswith("cid:") and src[4:] in images
        data = images[src[4:]]
        assert isinstance(data, bytes) and len(data) < 8000, len(data)
        picture = Image.open(io.BytesIO(data))
        assert picture.size == (2 * int(str(attrs["width"])), 2 * int(str(attrs["height"])))
        assert len(str(attrs["alt"])) > 5


@pytest.mark.parametrize("locale", LOCALES)
def test_hostile_names_stay_text_and_nothing_is_remote(locale: str) -> None:
    name = '<b onmouseover="x()">张伟</b>\r\nBcc: y@evil.test'
    msg = mail(digests.hostile(), locale, to=Address(name, "manager@example.com"))
    html = part(msg, "html")
    page = Page(html)
    found = {tag for tag, _ in page.tags}
    assert not found & {"script", "iframe", "a", "link", "svg"}, found
    assert [t for t, _ in page.tags].count("img") == 2  # the charts, no image of theirs
    for _, attrs in page.tags:
        assert not [k for k in attrs if k.startswith("on")]
        for key in ("src", "href", "background"):
            assert not str(attrs.get(key) or "").startswith(("http:", "https:", "//")), attrs
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Bcc" not in msg and len(msg.get_all("Subject") or []) == 1
    for header, value in msg.items():
        assert "\n" not in str(value).replace("\n ", "").replace("\n\t", ""), header
    assert len(msg.as_bytes()) < 400_000  # 10,000-character subjects are shortened


def test_counts_beyond_any_float_are_written_out() -> None:
    figures = replace(digests.realistic(), counts=Counts(opened=10**400))
    text = part(mail(figures, "en"), "plain")
    assert "Opened: " + f"{10**400:,}" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_css_is_inlined_into_style_attributes(locale: str) -> None:
    html = part(mail(digests.realistic(), locale), "html")
    assert "<style" not in html and "{" not in html
    cells = [a for t, a in Page(html).tags if t == "td" and "num" in str(a.get("class"))]
    assert cells and all("text-align: right" in str(a.get("style")) for a in cells)


def test_the_inliner_fetches_nothing() -> None:
    remote = (
        '<html><head><link rel="stylesheet" href="http://192.0.2.1/x.css">'
        "<style>p{color:red}</style></head><body><p>x</p></body></html>"
    )
    out = INLINER.inline(remote)
    assert "192.0.2.1" not in out and 'style="color: red;"' in out


@pytest.mark.parametrize("locale", LOCALES)
def test_breaches_are_capped_most_late_first(locale: str) -> None:
    text = part(mail(digests.realistic(breaches=25), locale), "plain")
    numbers = re.findall(r"IT-20261124-(\d{4})  ", text)
    assert numbers == [f"{i:04d}" for i in range(1, 21)]
    assert ("另有 5 项" if locale == "zh-CN" else "and 5 more") in text


@pytest.mark.parametrize("locale", LOCALES)
def test_an_empty_period_says_so_in_one_line(locale: str) -> None:
    msg = mail(digests.zero(), locale)
    text = part(msg, "plain")
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 4, lines  # title, comparison, the one line, the desk
    assert ("本期没有任何工单" if locale == "zh-CN" else "Nothing happened") in lines[2]
    assert msg.get_content_type() == "multipart/alternative"  # no pictures of nothing
    assert "<img" not in part(msg, "html")


@pytest.mark.parametrize("locale", LOCALES)
def test_no_self_service_section_until_the_knowledge_base_exists(locale: str) -> None:
    with_kb = part(mail(digests.realistic(), locale), "plain")
    without = part(mail(replace(digests.realistic(), self_service=None), locale), "plain")
    heading = "【自助解决】" if locale == "zh-CN" else "SELF-SERVICE"
    assert heading in with_kb and heading not in without


@pytest.mark.parametrize("locale", LOCALES)
def test_articles_suggested_but_never_helpful_are_named(locale: str) -> None:
    uses = (ArticleUse("vpn", "VPN 重新连接", 30, 8), ArticleUse("wifi", "Wi-Fi <b>", 9, 0))
    figures = replace(digests.realistic(), self_service=SelfService(8, 145, uses))
    msg = mail(figures, locale)
    label = "推荐过但从未帮上忙：" if locale == "zh-CN" else "Suggested but never helpful: "
    assert f"{label}Wi-Fi <b>" in part(msg, "plain")
    assert f"{label}Wi-Fi &lt;b&gt;" in part(msg, "html")
    text = as_text(figures, locale)
    assert "Wi-Fi <b>" in next(
        line for line in text.splitlines() if "never" in line or "从未" in line
    )


def test_report_html_is_one_page_with_images_as_data() -> None:
    html = report_html(renderer("en"), digests.realistic())
    sources = [str(a["src"]) for t, a in Page(html).tags if t == "img"]
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "cid:" not in html and html.count("<html") == 1


def test_charts_are_small_sharp_and_the_same_bytes_each_time() -> None:
    figures = digests.realistic()
    first = charts.daily_chart(figures.daily)
    again = charts.daily_chart(figures.daily)
    assert first is not None and again is not None and first.png == again.png
    assert len(first.png) < 8000
    month = tuple(DayCount(date(2026, 10, d), d * 37 % 90, d * 11 % 80) for d in range(1, 32))
    drawn = charts.daily_chart(month)
    assert drawn is not None and len(drawn.png) < 10000
    assert Image.open(io.BytesIO(drawn.png)).mode == "P"


def test_charts_of_nothing_and_of_huge_counts() -> None:
    assert charts.daily_chart(()) is None and charts.weekly_sla_chart(()) is None
    zero = charts.weekly_sla_chart((WeekSla(date(2026, 11, 23), 0, 0),))
    assert zero is not None
    huge = charts.daily_chart(
        (DayCount(date(2026, 11, 23), 10**400, 1), DayCount(date(2026, 11, 24), -5, 3))
    )
    assert huge is not None and Image.open(io.BytesIO(huge.png)).size == (1184, 400)


def test_tick_labels_stay_short() -> None:
    assert charts.nice_ticks(0) == (0, 1)
    assert charts.nice_ticks(37) == (0, 10, 20, 30, 40)
    assert charts.short_number(1200) == "1.2k" and charts.short_number(3 * 10**6) == "3M"
    assert len(charts.short_number(charts.CAP)) <= 6
