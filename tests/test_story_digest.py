"""The weekly digest end to end, on the known data set of test_digest_figures (SQLite and
PostgreSQL): the real daemon with the shipped figures and mail, a TestClock just after
Monday's 08:30 send time in Shanghai, [[people]] with a manager and a desktop lead,
[outbox] over SMTP to aiosmtpd.  The manager gets the desk's week, the lead the desktop
group's, each once (a second tick and a restart add nothing); the figures are read
back from the mail's text and compared with the hand-computed literals.  Then
`maildesk report` on the same data, in every format, against the same literals."""

from __future__ import annotations

import csv
import email
import io
import json
import re
from dataclasses import asdict
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from maildesk import cli_report, db
from maildesk.calendar.usecases import ensure_seeded
from maildesk.cli import main
from maildesk.clock import TestClock
from maildesk.daemon import Daemon
from maildesk.digest.model import Durations, Figures, Satisfaction
from maildesk.outbox import make_transport
from maildesk.store import Store
from maildesk.store.base import T_OUTBOX
from maildesk.supervise import Heartbeat

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .test_daemon import running
from .test_digest_figures import SHANGHAI, SHANGHAI_DESKTOP, TICKETS, fill

MANAGER, LEAD = "zhao@example.com", "chen@example.com"
DESK = f"""
[security]
secret = "0123456789abcdef-test-secret"

[tickets]
timezone = "Asia/Shanghai"

[sla]
calendar = {{ urgent = "24x7" }}

[[people]]
name = "赵经理"
email = "{MANAGER}"
role = "manager"

[[people]]
name = "陈组长"
email = "{LEAD}"
groups = ["desktop"]
role = "lead"
"""
# Monday 30 November 2026, 08:31 in Shanghai: the week of 23 November was due at 08:30
# (and Sunday's daily digest)
MONDAY = datetime(2026, 11, 30, 0, 31, tzinfo=UTC)
TARGETS = {"response": "首次响应", "resolution": "解决"}
PRIORITIES = {"urgent": "紧急", "high": "高", "medium": "中", "low": "低"}


@pytest.fixture
def desk_url(db_url: str) -> str:
    """The known data set (its first ticket opened before the week: the desk's periods
    from then on are reported, see digest/usecases.send_due)."""
    assert min(t[0] for t in TICKETS.values()) < SHANGHAI.period.start
    assert TICKETS[1][0] < SHANGHAI.period.end  # desk_started: the first row by id
    engine = db.make_engine(db_url)
    store = Store(engine)
    fill(store)
    with store.transaction() as tx:  # as a daemon that ran before left it: no reseeding at
        assert ensure_seeded(tx, MONDAY)  # start (it would recompute the open tickets'
    engine.dispose()  # targets for this config, which has none: their SLA rows would go)
    return db_url


# --- reading the mail ---------------------------------------------------------------------


def weekly(sink: SmtpSink, to: str) -> list[EmailMessage]:
    found = []
    for _, rcpts, raw in sink.messages:
        mail = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(mail, EmailMessage)
        if rcpts == [to] and "周报" in str(mail["Subject"]):
            found.append(mail)
    return found


def digests_at(sink: SmtpSink) -> list[tuple[str, str]]:
    """(recipient, subject) of every digest the sink received (the data set's ticket 3
    also escalates its missed response to the lead and the manager: not a digest)."""
    out = []
    for _, rcpts, raw in sink.messages:
        subject = str(email.message_from_bytes(raw, policy=default_policy)["Subject"])
        if not subject.startswith("[IT-"):
            out.append((rcpts[0], subject))
    return out


def parts(mail: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    """(text, HTML, PNG by Content-ID) of a multipart/related digest."""
    assert mail.get_content_type() == "multipart/related"
    alternative, *images = mail.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, html = alternative.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    pngs = {}
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get_content_disposition() == "inline"
        pngs[str(image["Content-ID"]).strip("<>")] = image.get_payload(decode=True)
    return text.get_content(), html.get_content(), pngs


class Tags(HTMLParser):
    """Every start tag with its attributes, and every table row's cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tags_of(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    return tags


def check_html(html: str, pngs: dict[str, bytes]) -> None:
    """Each chart referenced by cid: with width, height and alt; nothing remote, no script."""
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    images = [a for t, a in tags_of(html).tags if t == "img"]
    assert sorted(a["src"] for a in images) == sorted(f"cid:{c}" for c in pngs)
    for attrs in images:
        assert int(attrs["width"]) > 0 and int(attrs["height"]) > 0 and attrs["alt"].strip()
        png = pngs[attrs["src"][4:]]
        assert len(png) < 20_000
        with Image.open(io.BytesIO(png)) as picture:
            picture.load()
            assert picture.format == "PNG"
            assert picture.size[0] >= int(attrs["width"])  # drawn at least at its size
    for _, attrs in tags_of(html).tags:
        for name in ("src", "href", "background", "style"):
            assert not re.search(r"(https?:)?//", attrs.get(name, "")), attrs
    assert not re.search(r"url\(|@import", html)


# --- the text part, parsed ------------------------------------------------------------------

NUMBER = r"(\d+(?:\.\d+)?)"
UNITS = {"分钟": 1, "小时": 60, "天": 1440}


def sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    lines: list[str] = out.setdefault("", [])
    for line in text.splitlines():
        heading = re.fullmatch(r"【(.+)】", line.strip())
        if heading:
            lines = out.setdefault(heading.group(1), [])
        elif line.strip():
            lines.append(line.strip())
    return out


def minutes(text: str) -> float | None:
    """ "1.5 小时" → 90.0; "–" → None."""
    if text.strip() == "–":
        return None
    found = re.fullmatch(NUMBER + r" ?(分钟|小时|天)", text.strip())
    assert found, text
    return float(found.group(1)) * UNITS[found.group(2)]


def about(shown: float | None, exact: float | None, unit: int = 60) -> bool:
    """A duration shown with one decimal of hours (or days) against the exact minutes."""
    if exact is None or shown is None:
        return shown == exact
    return abs(shown - exact) <= 0.05 * (1440 if shown >= 1440 else unit) + 1e-9


def labelled(lines: list[str]) -> dict[str, tuple[str, str]]:
    """ "新建：5 ↑（上期 4）" → {"新建": ("5", "4")}."""
    out = {}
    for line in lines:
        found = re.fullmatch(r"(.+?)：(.+?)(?: [↑↓])?（上期 (.+)）", line)
        if found:
            out[found.group(1)] = (found.group(2), found.group(3))
    return out


def table(lines: list[str], cells: int) -> dict[str, list[str]]:
    """Rows of a text table whose last `cells` columns are numbers: name → cells."""
    out = {}
    for line in lines:
        words = line.split()
        if len(words) == cells + 1 and all(re.fullmatch(r"[\d.%–]+", w) for w in words[1:]):
            out[words[0]] = words[1:]
    return out


COUNTS = (
    ("新建", "opened"),
    ("已解决", "resolved"),
    ("已关闭", "closed"),
    ("重新打开", "reopened"),
)
BREAKDOWNS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("按分类", "by_category", {}),
    ("按优先级", "by_priority", PRIORITIES),
    ("按组", "by_group", {}),
    ("按工程师", "by_engineer", {"": "未指派"}),
)


def check_text(text: str, f: Figures) -> None:
    """Every figure of `f` the digest's text shows, read back from the text."""
    part = sections(text)
    tickets = labelled(part["工单"])
    for label, key in COUNTS:
        now, before = getattr(f.counts, key), getattr(f.previous_counts, key)
        assert tickets[label] == (str(now), str(before)), label
    daily = table(part["工单"], 2)
    assert daily == {f"{d.day:%m-%d}": [str(d.opened), str(d.resolved)] for d in f.daily}

    backlog = labelled(part["积压"])
    assert backlog["期末未完成工单"] == (str(f.backlog.open), str(f.previous_backlog.open))
    assert backlog["超过 7 天未完成"] == (
        str(f.backlog.older_than_week), str(f.previous_backlog.older_than_week))  # fmt: skip
    age, age_before = backlog["工单年龄中位数"]
    assert about(minutes(age), f.backlog.median_age_hours * 60)
    assert about(minutes(age_before), f.previous_backlog.median_age_hours * 60)

    check_sla(part["服务时限达成"], f)
    check_times(part["响应与解决用时"], f)
    for title, key, names in BREAKDOWNS:
        shares = getattr(f, key)
        expected = {names.get(s.name, s.name): [str(s.opened), str(s.resolved),
                                                 str(s.open_at_end)] for s in shares}  # fmt: skip
        assert table(part[title], 3) == expected, title
    check_satisfaction(part["满意度"], f.satisfaction, f.previous_satisfaction)
    assert "2027" in "".join(part["节假日日历"])  # f.missing_calendar_years
    assert f.missing_calendar_years == (2027,)


def check_sla(lines: list[str], f: Figures) -> None:
    rates = {}
    for line in lines:
        found = re.fullmatch(r"(.+?)：达成率 ([\d.]+)%(?: [↑↓])?（上期 ([\d.]+%|–)）；"
                             r"达成 (\d+)，超时 (\d+)(?:；含 (\d+) 项暂定\*)?", line)  # fmt: skip
        if found:
            rates[found.group(1)] = found.groups()[1:]
    before = {s.target: s for s in f.previous_sla}
    assert set(rates) == {TARGETS[s.target] for s in f.sla}
    for s in f.sla:
        rate, previous, met, missed, provisional = rates[TARGETS[s.target]]
        assert (int(met), int(missed), int(provisional or 0)) == (s.met, s.missed, s.provisional)
        assert s.rate is not None and float(rate) == round(100 * s.rate, 1)
        was = before[s.target].rate
        assert previous == ("–" if was is None else f"{100 * was:.1f}%")
    weeks = table(lines, 3)
    assert {k: v[:2] for k, v in weeks.items()} == {
        f"{w.week_start:%m-%d}": [str(w.met), str(w.missed)] for w in f.weekly_sla}  # fmt: skip
    late = [re.fullmatch(r"(IT-\d+) +超时 (.+?)（(.+?)） +(.+)", line) for line in lines]
    found = [m.groups() for m in late if m]
    assert [(n, TARGETS_BACK[t], who) for n, _, t, who in found] == [
        (b.number, b.target, b.assignee or "未指派") for b in f.breaches]  # fmt: skip
    for (_, shown, _, _), b in zip(found, f.breaches, strict=True):
        assert about(minutes(shown), b.late_minutes), b.number
    subjects = [lines[lines.index(m.group(0)) + 1] for m in late if m]
    assert subjects == [b.subject for b in f.breaches]


TARGETS_BACK = {v: k for k, v in TARGETS.items()}


def check_times(lines: list[str], f: Figures) -> None:
    shown = {}
    for line in lines:
        found = re.fullmatch(r"(.+?)（(\d+) 个工单）：中位数 (.+?)(?: [↑↓])?（上期 (.+?)），"
                             r"90 分位 (.+?)(?: [↑↓])?（上期 (.+?)）", line)  # fmt: skip
        if found:
            shown[found.group(1)] = found.groups()[1:]
    for label, key in (("首次响应", "response_time"), ("解决", "resolution_time")):
        now, before = getattr(f, key), getattr(f, f"previous_{key}")
        count, median, median_before, p90, p90_before = shown[label]
        assert int(count) == now.count, label
        for text, d, key in ((median, now, "median_minutes"), (p90, now, "p90_minutes"),
                             (median_before, before, "median_minutes"),
                             (p90_before, before, "p90_minutes")):  # fmt: skip
            assert about(minutes(text), value(d, key)), (label, key, text)


def value(d: Durations, key: str) -> float | None:
    return getattr(d, key) if d.count else None


def check_satisfaction(lines: list[str], s: Satisfaction, before: Satisfaction) -> None:
    found = labelled(lines)
    answers = re.fullmatch(r"(\d+) / (\d+) 份调查", found["评价数"][0])
    assert answers and (int(answers[1]), int(answers[2])) == (s.answers, s.surveys_sent)
    assert found["评价数"][1] == str(before.answers)
    averages = tuple("–" if a is None else f"{a:.2f}" for a in (s.average, before.average))
    assert found["平均分（1–5）"] == averages
    rows = [re.fullmatch(r"(\d) 分 +(\d+) +([\d.]+)%", line) for line in lines]
    scores = {int(m[1]): int(m[2]) for m in rows if m}
    assert scores == {n: s.distribution[n - 1] for n in range(1, 6)}
    reviews = re.search(r"本期新开 (\d+) 项，已完成 (\d+) 项，尚未完成 (\d+) 项", "".join(lines))
    assert reviews and tuple(map(int, reviews.groups())) == (
        s.reviews_opened, s.reviews_closed, s.reviews_open_at_end)  # fmt: skip


# --- the story ----------------------------------------------------------------------------


def digest_rows(store: Store) -> list[tuple[str, str]]:
    """(recipients, status) of the digest mails in the outbox (read by kind: the data
    set's survey rows carry a bare address where the store writes a JSON list)."""
    query = select(T_OUTBOX.c.recipients, T_OUTBOX.c.status).where(T_OUTBOX.c.kind == "digest")
    with store.transaction() as tx:
        return [(json.loads(r.recipients)[0], r.status) for r in tx.c.execute(query)]


def test_the_weekly_digest_reaches_the_manager_and_the_lead_once(
    desk_url: str, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    cfg = ConfigFactory(tmp_path, desk_url)(transport="smtp", smtp_port=smtp_sink.port,
                                            extra=DESK)  # fmt: skip
    clock = TestClock(MONDAY)
    with running(cfg, clock) as daemon:
        # the catch-up at start: the week and Sunday, for the desk and for desktop
        smtp_sink.wait_for(4)
        store = daemon.store
        wait_until(lambda: all(s == "sent" for _, s in digest_rows(store)), what="sent")
        assert daemon.send_digests() == 0  # the next tick
        clock.advance(minutes=1)
        assert daemon.send_digests() == 0
    restarted = Daemon(cfg, build_service(cfg, clock), make_transport(cfg.outbox),
                       clock=clock.now)  # fmt: skip
    restarted.stop.set()  # the loop's start only: its catch-up tick, then the stop
    restarted._digests_loop(Heartbeat(restarted.store, "digests", "test", clock.now))
    assert restarted.send_digests() == 0
    rows = digest_rows(restarted.store)
    assert sorted(rows) == [(LEAD, "sent")] * 2 + [(MANAGER, "sent")] * 2
    assert sorted(digests_at(smtp_sink)) == [
        (LEAD, "IT服务台周报 2026-11-23 – 2026-11-29（desktop 组）"),
        (LEAD, "IT服务台日报 2026-11-29（desktop 组）"),
        (MANAGER, "IT服务台周报 2026-11-23 – 2026-11-29"),
        (MANAGER, "IT服务台日报 2026-11-29"),
    ]

    for to, expected in ((MANAGER, SHANGHAI), (LEAD, SHANGHAI_DESKTOP)):
        (mail,) = weekly(smtp_sink, to)
        assert "2026-11-23" in str(mail["Subject"]) and mail["Auto-Submitted"] == "auto-generated"
        text, html, pngs = parts(mail)
        assert len(pngs) == 2  # opened/resolved per day, SLA per week
        check_html(html, pngs)
        check_text(text, expected)


# --- maildesk report -------------------------------------------------------------------------


def report(cfg_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> str:
    period = f"{SHANGHAI.period.first_day}..{SHANGHAI.period.last_day}"
    assert main(["--config", str(cfg_path), "report", "--period", period, "--format", fmt]) == 0
    return capsys.readouterr().out


def test_maildesk_report_in_every_format(
    desk_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(cli_report, "NOW", lambda: MONDAY)
    path = ConfigFactory(tmp_path, desk_url).write(extra=DESK)
    f = SHANGHAI

    data = json.loads(report(path, capsys, "json"))
    expected = json.loads(json.dumps(asdict(f), default=str))
    for key in ("counts", "previous_counts", "backlog", "previous_backlog", "by_category",
                "by_priority", "by_group", "by_engineer", "response_time", "resolution_time",
                "previous_response_time", "previous_resolution_time"):  # fmt: skip
        assert data[key] == expected[key], key
    assert [{k: r[k] for k in ("target", "met", "missed", "provisional")} for r in data["sla"]] \
        == expected["sla"]  # fmt: skip
    assert [(b["number"], b["target"], b["late_minutes"]) for b in data["breaches"]] == [
        (b.number, b.target, b.late_minutes) for b in f.breaches]  # fmt: skip
    for key in ("surveys_sent", "answers", "distribution", "reviews_opened",
                "reviews_open_at_end", "reviews_closed"):  # fmt: skip
        assert data["satisfaction"][key] == expected["satisfaction"][key], key
    assert data["satisfaction"]["average"] == pytest.approx(11 / 3)
    assert (data["period"]["first_day"], data["period"]["days"]) == ("2026-11-23", 7)

    rows = list(csv.reader(io.StringIO(report(path, capsys, "csv"))))
    assert rows[0] == ["section", "name", "value", "previous"]
    cells = {(r[0], r[1]): (r[2], r[3]) for r in rows[1:]}
    assert cells["counts", "opened"] == ("5", "4") and cells["counts", "resolved"] == ("4", "0")
    assert cells["backlog", "open"] == ("4", "4")
    assert cells["backlog", "median_age_hours"] == ("132.75", "74")
    assert cells["sla.response", "met"] == ("3", "2") and cells["sla.response", "missed"] == (
        "2", "0")  # fmt: skip
    assert cells["sla.resolution", "rate"] == ("0.5", "0")
    assert {k[1]: float(v[0]) for k, v in cells.items() if k[0].startswith("breaches.")} == {
        b.number: b.late_minutes for b in f.breaches}  # fmt: skip
    assert cells["resolution_time", "median_minutes"] == ("1545", "")
    assert cells["satisfaction", "answers"] == ("3", "1")
    assert cells["satisfaction", "average"] == ("3.6667", "1")
    assert cells["by_engineer.opened", ""] == ("2", "")

    text = report(path, capsys, "text")
    lines = [line.split() for line in text.splitlines()]
    assert ["新建", "5", "4", "+1", "(+25%)"] in lines and ["已解决", "4", "0", "+4"] in lines
    assert ["未结", "4", "4", "0"] in lines and ["超过", "7", "天", "1", "1", "0"] in lines
    assert ["首次响应*", "3", "2", "60%", "100%"] in lines
    assert ["解决*", "2", "2", "50%", "0%"] in lines
    assert ["首次响应", "4", "1h00m", "3h30m", "1h00m"] in lines
    assert ["解决", "4", "25h45m", "45h00m", "-"] in lines
    late = [w for w in lines if w and re.fullmatch(r"IT-\d+", w[0])]
    assert [(w[0], w[2]) for w in late] == [
        (b.number, f"{int(b.late_minutes) // 60}h{int(b.late_minutes) % 60:02d}m")
        for b in f.breaches]  # fmt: skip
    assert ["分布", "1–5", "0", "1", "0", "1", "1", "1", "0", "0", "0", "0"] in lines

    html = report(path, capsys, "html")
    assert "cid:" not in html and "<script" not in html.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    sources = [a["src"] for t, a in tags_of(html).tags if t == "img"]
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    rows_html = tags_of(html).rows
    for d in f.daily:
        assert [f"{d.day:%m-%d}", str(d.opened), str(d.resolved)] in rows_html
    for w in f.weekly_sla:
        assert [f"{w.week_start:%m-%d}", str(w.met), str(w.missed)] == next(
            r[:3] for r in rows_html if len(r) == 4 and r[0] == f"{w.week_start:%m-%d}"
        )
    for s in f.by_group + f.by_category:
        assert [s.name, str(s.opened), str(s.resolved), str(s.open_at_end)] in rows_html
    shown = {r[0]: r[-1] for r in rows_html if r and re.fullmatch(r"IT-\d+", r[0])}
    assert shown == {b.number: f"{b.late_minutes / 60:.1f} 小时" for b in f.breaches}


def test_text_parser_reads_a_figure_that_changed() -> None:
    """The checks above can fail: a digest of other figures is told apart."""
    from dataclasses import replace

    from maildesk.digest.model import Counts

    wrong = replace(SHANGHAI, counts=Counts(opened=6, resolved=4, closed=1, reopened=2))
    text = _render_text(SHANGHAI)
    with pytest.raises(AssertionError):
        check_text(text, wrong)
    check_text(text, SHANGHAI)


def _render_text(f: Figures) -> str:
    import tempfile

    from maildesk.digest.render import chart_list, image, render_pair
    from maildesk.render import make_renderer

    with tempfile.TemporaryDirectory() as folder:
        cfg = ConfigFactory(Path(folder), "sqlite:///unused.db")()
    images: dict[str, Any] = {c.name: image(c, "cid:x") for c in chart_list(f)}
    return render_pair(make_renderer(cfg), f, images, "", None)[1]
