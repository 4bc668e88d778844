"""`maildesk report`: the figures printed in each format, mailed with --send-to (into
the outbox), and clear errors with a non-zero exit for bad input.  The figures are the
hand-built ones (tests/digest_figures.py); their SQL is tested with a known data set."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maildesk import cli_report
from maildesk.cli import build_parser, main
from maildesk.cli_report import ReportEdges
from maildesk.config import Config
from maildesk.digest import schedule
from maildesk.digest.formats import as_text
from maildesk.digest.model import Figures, Period, PeriodKind
from maildesk.render import Renderer
from maildesk.store import Store

from .conftest import ConfigFactory, build_service
from .digest_figures import week_figures
from .test_digests import PEOPLE, digest_mails, text_mail

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # Wednesday 09:00 in Shanghai


def parse_period(text: str, zone: str, now: datetime) -> Period:
    """day | week | month: the one that has just ended (digest/period.py parses all)."""
    if text not in ("day", "week", "month"):
        raise ValueError("not a period")
    today = now.astimezone(ZoneInfo(zone)).date()
    return schedule.before(schedule.day_containing(PeriodKind(text), today, zone))


def figures_of(store: Store, cfg: Config, period: Period, group: str, now: datetime) -> Figures:
    return replace(week_figures(), period=period, previous=schedule.before(period), group=group)


def html_of(renderer: Renderer, figures: Figures) -> str:
    return f"<html><body>{figures.period.first_day} {figures.group}</body></html>\n"


EDGES = ReportEdges(parse_period, figures_of, html_of, text_mail)


def report(cfg_path: Path, *args: str) -> int:
    return main(["--config", str(cfg_path), "report", *args], build_parser(EDGES))


@pytest.fixture
def cfg_path(make_sqlite_config: ConfigFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cli_report, "NOW", lambda: NOW)
    return make_sqlite_config.write(extra=PEOPLE)


def test_text_for_the_day_that_has_just_ended(
    cfg_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report(cfg_path, "--period", "day") == 0
    out = capsys.readouterr().out
    assert out.startswith("服务台日报 2026-12-01（全部）\n")
    period = parse_period("day", "Asia/Shanghai", NOW)
    expected = replace(week_figures(), period=period, previous=schedule.before(period))
    assert out == as_text(expected, "zh-CN")


def test_csv_json_and_html_of_a_group(cfg_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report(cfg_path, "--period", "week", "--group", "network", "--format", "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    assert "period,first_day,2026-11-23,2026-11-16" in lines
    assert "period,group,network," in lines
    assert report(cfg_path, "--period", "month", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["period"]["first_day"], data["period"]["last_day"]) == ("2026-11-01", "2026-11-30")
    assert report(cfg_path, "--period", "day", "--group", "desktop", "--format", "html") == 0
    assert capsys.readouterr().out == "<html><body>2026-12-01 desktop</body></html>\n"


def test_send_to_queues_the_digest_mail_and_says_so(
    cfg_path: Path, capsys: pytest.CaptureFixture[str], make_sqlite_config: ConfigFactory
) -> None:
    assert report(cfg_path, "--period", "week", "--send-to", "Boss@Example.com") == 0
    out = capsys.readouterr().out
    assert out.startswith("queued the week digest 2026-11-23..2026-11-29 of the whole desk "
                          "for boss@example.com (Message-ID ")  # fmt: skip
    assert out.endswith("): the daemon sends it\n")
    store = build_service(make_sqlite_config(extra=PEOPLE)).store
    (mail,) = digest_mails(store)
    assert mail.recipients == ("boss@example.com",) and mail.status == "pending"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "yesterday"], "maildesk: --period 'yesterday': not a period (expected day"),
        (["--period", "day", "--group", "printers"],
         "maildesk: --group 'printers': unknown group (known: desktop, network)"),
        (["--period", "day", "--send-to", "boss"],
         "maildesk: --send-to: expected an email address like it@example.com, got 'boss'"),
        (["--period", "day", "--send-to", "a,b@evil.example.com"],
         "maildesk: --send-to 'a,b@evil.example.com': one plain address"),
        (["--period", "9999-12-31..9999-12-31"], "maildesk: --period '9999-12-31..9999-12-31'"),
        (["--period", "0001-01-01..0001-01-01"], "maildesk: --period '0001-01-01..0001-01-01'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error(
    cfg_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert report(cfg_path, *args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message) and captured.out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "day", "--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
        (["--format", "text"], "the following arguments are required: --period"),
    ],
)
def test_bad_arguments_exit_2(
    cfg_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        report(cfg_path, *args)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_no_database_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = ConfigFactory(tmp_path, f"sqlite:///{tmp_path / 'none' / 'maildesk.db'}")
    assert report(missing.write(extra=PEOPLE), "--period", "day") == 2
    assert "no database at" in capsys.readouterr().err
