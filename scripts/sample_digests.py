"""Render sample digests to PNG with headless Chromium, to look at what managers see.

    .venv/bin/python scripts/sample_digests.py [OUT_DIR]      (default: docs/digest)

Builds a realistic week and a realistic day of figures by hand (no database), renders each
digest mail in both locales with digest/render.py, writes the .eml files and then a PNG of
each as a mail client shows it (scripts/render_mail_png.py: cid: images from the mail's
own parts, every remote resource forbidden): at desktop width, at phone width, and once with
images blocked (the charts' alt text and figure tables).  Needs Debian's `chromium`, and a
CJK font for Chinese (`fonts-noto-cjk` or `fonts-wqy-microhei`); the mail ships no font.
"""

from __future__ import annotations

import html
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import render_mail_png as png
from PIL import Image, ImageChops

from maildesk import config
from maildesk.digest import model as m
from maildesk.digest.render import digest_mail
from maildesk.domain import Address
from maildesk.render import make_renderer

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
MANAGER = ("周经理", "manager@example.com")
CONFIG = """[maildesk]
support_address = "it-support@example.com"
support_name = "{name}"
locale = "{locale}"
[security]
secret = "sample-secret-0123456789"
[[people]]
name = "王工"
email = "wang.gong@example.com"
groups = ["network"]
[[people]]
name = "Li Lei"
email = "li.lei@example.com"
groups = ["desktop"]
[[people]]
name = "陈组长"
email = "chen.lead@example.com"
groups = ["network"]
role = "lead"
"""
DESKTOP, PHONE = (760, 5200), (390, 9000)


def period(kind: m.PeriodKind, first: date, days: int) -> m.Period:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=8)
    return m.Period(
        kind,
        first,
        first + timedelta(days=days - 1),
        start,
        start + timedelta(days=days),
        "Asia/Shanghai",
    )


SUBJECTS = (
    "三楼彩色打印机卡纸，无法打印",
    "VPN 连接后几分钟就断开",
    "共享盘 \\\\fs01\\财务 无法访问",
    "新员工入职需要开通邮箱和 OA 账号",
    "Outlook 一直提示输入密码",
    "会议室投影仪没有信号",
)
ENGINEERS = ("wang.gong@example.com", "li.lei@example.com", "zhao.min@example.com", "")


def weekly() -> m.Figures:
    first = date(2026, 11, 23)
    day_counts = [(31, 22), (27, 30), (24, 26), (29, 25), (35, 33), (6, 4), (3, 5)]
    return figures(
        period(m.PeriodKind.WEEK, first, 7),
        period(m.PeriodKind.WEEK, first - timedelta(7), 7),
        tuple(m.DayCount(first + timedelta(i), o, r) for i, (o, r) in enumerate(day_counts)),
    )


def daily() -> m.Figures:
    day = date(2026, 11, 29)
    counts = [
        (33, 30),
        (28, 31),
        (30, 24),
        (7, 6),
        (2, 4),
        (31, 22),
        (27, 30),
        (24, 26),
        (29, 25),
        (35, 33),
        (6, 4),
        (3, 5),
        (26, 28),
        (38, 29),
    ]
    f = figures(
        period(m.PeriodKind.DAY, day, 1),
        period(m.PeriodKind.DAY, day - timedelta(1), 1),
        tuple(m.DayCount(day - timedelta(13 - i), o, r) for i, (o, r) in enumerate(counts)),
    )
    return replace(
        f,
        counts=m.Counts(38, 29, 24, 1),
        previous_counts=m.Counts(26, 28, 30, 0),
        breaches=f.breaches[:4],
        recurring=f.recurring[:1],
        by_category=(m.Share("硬件故障", 13, 10, 20), m.Share("网络问题", 11, 9, 13),
                     m.Share("账号权限", 9, 7, 9), m.Share("软件异常", 5, 3, 12)),
        by_priority=(m.Share("urgent", 2, 2, 1), m.Share("high", 8, 6, 10),
                     m.Share("medium", 23, 17, 40), m.Share("low", 5, 4, 3)),
        by_group=(m.Share("desktop", 21, 15, 30), m.Share("network", 17, 14, 24)),
        by_engineer=(m.Share("wang.gong@example.com", 14, 11, 19),
                     m.Share("li.lei@example.com", 12, 9, 16),
                     m.Share("zhao.min@example.com", 10, 9, 14), m.Share("", 2, 0, 5)),
        backlog=m.Backlog(54, 49.0, 9), previous_backlog=m.Backlog(45, 44.0, 8),
        sla=(m.SlaFigure("response", 35, 2), m.SlaFigure("resolution", 26, 3)),
        previous_sla=(m.SlaFigure("response", 25, 1), m.SlaFigure("resolution", 27, 2)),
        response_time=m.Durations(37, 34.0, 150.0),
        previous_response_time=m.Durations(25, 41.0, 170.0),
        resolution_time=m.Durations(29, 380.0, 1500.0),
        previous_resolution_time=m.Durations(28, 400.0, 1700.0),
        satisfaction=m.Satisfaction(22, 9, (0, 1, 1, 3, 4), 1, 0, 2),
        previous_satisfaction=m.Satisfaction(25, 11, (1, 0, 2, 3, 5), 1, 1, 1),
    )  # fmt: skip


def figures(now: m.Period, before: m.Period, days: tuple[m.DayCount, ...]) -> m.Figures:
    breaches = tuple(
        m.Breach(
            f"IT-202611{24 + i % 5:02d}-{i * 7 % 97:04d}",
            SUBJECTS[i % len(SUBJECTS)],
            ENGINEERS[i % len(ENGINEERS)],
            "resolution" if i % 3 else "response",
            datetime(2026, 11, 24, 2, tzinfo=UTC),
            1500.0 / (i + 1) + 12,
        )
        for i in range(23)
    )
    return m.Figures(
        period=now,
        previous=before,
        group="",
        counts=m.Counts(155, 145, 120, 4),
        previous_counts=m.Counts(140, 150, 131, 4),
        backlog=m.Backlog(62, 52.5, 9),
        previous_backlog=m.Backlog(52, 40.0, 11),
        by_category=(
            m.Share("硬件故障", 48, 44, 20),
            m.Share("网络问题", 41, 40, 13),
            m.Share("账号权限", 37, 36, 9),
            m.Share("软件异常", 21, 19, 12),
            m.Share("其他", 8, 6, 8),
        ),
        by_priority=(
            m.Share("urgent", 9, 9, 1),
            m.Share("high", 30, 28, 10),
            m.Share("medium", 96, 90, 40),
            m.Share("low", 20, 18, 11),
        ),
        by_group=(m.Share("desktop", 85, 79, 37), m.Share("network", 70, 66, 25)),
        by_engineer=(
            m.Share("wang.gong@example.com", 52, 50, 19),
            m.Share("li.lei@example.com", 47, 44, 21),
            m.Share("zhao.min@example.com", 51, 51, 17),
            m.Share("", 5, 0, 5),
        ),
        sla=(m.SlaFigure("response", 140, 8), m.SlaFigure("resolution", 120, 12, 3)),
        previous_sla=(m.SlaFigure("response", 130, 10), m.SlaFigure("resolution", 125, 9)),
        breaches=breaches,
        response_time=m.Durations(148, 38.0, 175.0),
        previous_response_time=m.Durations(140, 45.0, 160.0),
        resolution_time=m.Durations(145, 410.0, 1900.0),
        previous_resolution_time=m.Durations(150, 380.0, 2100.0),
        satisfaction=m.Satisfaction(90, 41, (2, 1, 4, 12, 22), 3, 2, 1),
        previous_satisfaction=m.Satisfaction(80, 30, (1, 2, 3, 10, 14), 1, 1, 1),
        recurring=(
            m.RecurringTerm(
                "硬件故障",
                "打印机",
                14,
                6,
                (
                    m.TicketRef("IT-20261127-0003", "三楼彩色打印机卡纸，无法打印"),
                    m.TicketRef("IT-20261125-0011", "打印机无法连接"),
                ),
                has_article=True,
            ),
            m.RecurringTerm(
                "网络问题",
                "VPN",
                9,
                9,
                (
                    m.TicketRef("IT-20261126-0002", "VPN 连接后几分钟就断开"),
                    m.TicketRef("IT-20261124-0019", "在家连不上 VPN"),
                ),
                has_article=True,
            ),
            m.RecurringTerm(
                "账号权限",
                "共享盘",
                6,
                2,
                (m.TicketRef("IT-20261128-0001", "共享盘 财务 无法访问"),),
            ),
            m.RecurringTerm(
                "其他",
                "门禁卡",
                5,
                0,
                (
                    m.TicketRef("IT-20261127-0014", "新员工门禁卡开通"),
                    m.TicketRef("IT-20261126-0008", "门禁卡刷不开"),
                ),
            ),
        ),
        self_service=m.SelfService(
            12,
            145,
            (
                m.ArticleUse(
                    "vpn.zh-CN", "VPN 连接失败（错误 809、691、789、812、超时、掉线）", 30, 8
                ),
                m.ArticleUse("printer.zh-CN", "打印机脱机、报错、卡纸与打印队列卡住", 21, 3),
                m.ArticleUse("password-reset.zh-CN", "忘记密码、密码过期与账号锁定", 9, 1),
                m.ArticleUse("mailbox-full.zh-CN", "邮箱已满（超过配额）怎么办", 6, 0),
            ),
        ),
        daily=days,
        weekly_sla=tuple(
            m.WeekSla(date(2026, 11, 23) - timedelta(weeks=7 - i), met, missed)
            for i, (met, missed) in enumerate(
                [
                    (241, 12),
                    (250, 9),
                    (236, 18),
                    (244, 11),
                    (229, 25),
                    (252, 8),
                    (255, 19),
                    (260, 20),
                ]
            )
        ),
        missing_calendar_years=(2027,),
    )


def write_mail(figures: m.Figures, locale: str, out: Path) -> Path:
    name = "IT服务台" if locale == "zh-CN" else "IT service desk"
    text = CONFIG.format(locale=locale, name=name)
    cfg = config.parse(text, Path("/tmp/sample/maildesk.toml"), env={})
    mail = digest_mail(make_renderer(cfg), figures, Address(*MANAGER), NOW)
    path = out / f"{figures.period.kind.value}.{locale}.eml"
    path.write_bytes(mail.raw)
    return path


def shoot(
    chromium: str, message: EmailMessage, target: Path, size: tuple[int, int], images: bool = True
) -> None:
    """One screenshot of the mail as render_mail_png.py shows it, trimmed at the bottom."""
    uris = png.inline_parts(message) if images else {}
    body = png.replace_cids(png.body_html(message), uris)
    page = png.PAGE.format(
        csp=png.CSP, title="", rows=png.header_rows(message), body=html.escape(body, quote=True)
    )
    flags = tuple(f for f in png.CHROMIUM_FLAGS if not f.startswith("--window-size"))
    with tempfile.TemporaryDirectory(prefix="sample_digest_") as tmp:
        page_path = Path(tmp) / "mail.html"
        page_path.write_text(page, "utf-8")
        saved, png.CHROMIUM_FLAGS = (
            png.CHROMIUM_FLAGS,
            (*flags, f"--window-size={size[0]},{size[1]}"),
        )
        try:
            error = png.screenshot(chromium, page_path, target.resolve(), Path(tmp))
        finally:
            png.CHROMIUM_FLAGS = saved
    if error:
        raise SystemExit(f"{target}: {error}")
    trim(target)
    print(target)


def trim(path: Path) -> None:
    """Cut the empty page below the mail, and keep the file small."""
    image = Image.open(path).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    if box:
        image = image.crop((0, 0, image.width, min(image.height, box[3] + 16)))
    image.quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else REPO / "docs" / "digest"
    out.mkdir(parents=True, exist_ok=True)
    chromium = png.find_chromium()
    if chromium is None:
        return png.missing_chromium()
    for figures in (weekly(), daily()):
        for locale in ("zh-CN", "en"):
            eml = write_mail(figures, locale, out)
            message = png.load(eml)
            shoot(chromium, message, out / f"{eml.stem}.png", DESKTOP)
            if figures.period.kind is m.PeriodKind.WEEK and locale == "zh-CN":
                shoot(chromium, message, out / f"{eml.stem}.phone.png", PHONE)
                shoot(chromium, message, out / f"{eml.stem}.no-images.png", DESKTOP, images=False)
            eml.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
