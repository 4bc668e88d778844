"""The business calendar in the database: seeding, import (.ics, YAML), `calendar show`,
and `maildesk check` warning about a missing year from 1 November."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maildesk import checks, db
from maildesk.calendar import seed, usecases
from maildesk.calendar.business import add_business, is_provisional
from maildesk.calendar.files import ScheduleError, read_file
from maildesk.calendar.model import DayKind
from maildesk.calendar.settings import CALENDAR_SECTION
from maildesk.cli import main
from maildesk.clock import TestClock
from maildesk.config import ConfigError
from maildesk.store import Store
from maildesk.store import calendar as rows

from .conftest import ConfigFactory

FIXTURES = Path(__file__).parent / "fixtures" / "calendar"
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 3, tzinfo=UTC)


# --- the store, on SQLite and PostgreSQL -------------------------------------------------


def test_first_use_seeds_the_official_years_once(make_config: ConfigFactory) -> None:
    cfg = make_config()
    store = Store(db.make_engine(cfg.database_url))
    settings = cfg.section(CALENDAR_SECTION)
    cal = usecases.load_calendar(store, settings, NOW)
    assert cal.official_years == seed.official_years()
    start = datetime(2026, 2, 13, 17, tzinfo=SH)
    assert add_business(cal, start, 240) == datetime(2026, 2, 14, 12, tzinfo=SH)
    assert is_provisional(cal, datetime(2027, 1, 4, 10, tzinfo=SH))
    with store.transaction() as tx:
        assert usecases.ensure_seeded(tx, NOW) == []  # nothing twice
        years = rows.official_years(tx)
    assert {r.source for r in years} == {seed.SOURCE}
    assert years[-1].imported_at == NOW


def test_import_replaces_its_years_and_reports_the_change(make_config: ConfigFactory) -> None:
    cfg = make_config()
    store = Store(db.make_engine(cfg.database_url))
    usecases.load_calendar(store, cfg.section(CALENDAR_SECTION), NOW)
    parsed = read_file(FIXTURES / "china-2027.yaml")
    with store.transaction() as tx:
        change = usecases.import_schedule(tx, parsed, "china-2027.yaml", NOW)
    assert change.years == change.newly_official == (2027,)
    assert change.ranges[0] == (date(2027, 1, 1), date(2027, 1, 1))
    assert (date(2027, 2, 6), date(2027, 2, 14)) in change.ranges
    cal = usecases.load_calendar(store, cfg.section(CALENDAR_SECTION), NOW)
    assert not is_provisional(cal, datetime(2027, 2, 8, 10, tzinfo=SH))
    # Friday 5 Feb 17:00 + 2 h: 春节 closes 6-13 Feb, Sunday 14 Feb is a make-up day
    assert add_business(cal, datetime(2027, 2, 5, 17, tzinfo=SH), 120) == datetime(
        2027, 2, 14, 10, tzinfo=SH
    )
    with store.transaction() as tx:  # the same file again: official, nothing changed
        again = usecases.import_schedule(tx, parsed, "china-2027.yaml", NOW)
    assert again.years == (2027,) and not again.changed


def test_a_run_from_december_adds_that_day_without_replacing_its_year(
    make_config: ConfigFactory,
) -> None:
    cfg = make_config()
    store = Store(db.make_engine(cfg.database_url))
    with store.transaction() as tx:
        usecases.import_schedule(tx, read_file(FIXTURES / "china-2027.yaml"), "a.yaml", NOW)
        change = usecases.import_schedule(
            tx, read_file(FIXTURES / "new-year-from-december.yaml"), "b.yaml", NOW
        )
        schedule = rows.read(tx, range(2027, 2029))
    assert change.years == (2028,)
    days = {s.day: s for s in schedule.days}
    assert days[date(2027, 12, 31)].kind is DayKind.HOLIDAY
    assert days[date(2027, 2, 14)].kind is DayKind.WORKDAY  # 2027 kept its days
    assert schedule.official_years == {2027, 2028}


# --- files -------------------------------------------------------------------------------


def test_ics_as_public_feeds_publish_it() -> None:
    parsed = read_file(FIXTURES / "china-2027.ics")
    assert parsed.years == {2027}
    kinds = {day: (s.kind, s.name) for day, s in parsed.days.items()}
    assert kinds[date(2027, 1, 3)] == (DayKind.HOLIDAY, "元旦")
    assert kinds[date(2027, 2, 13)] == (DayKind.HOLIDAY, "春节")
    assert kinds[date(2027, 2, 14)] == (DayKind.WORKDAY, "春节")  # 春节 补班
    assert kinds[date(2027, 9, 26)] == (DayKind.WORKDAY, "国庆节")  # 国庆节调休上班
    assert kinds[date(2027, 10, 9)] == (DayKind.WORKDAY, "国庆节")  # CATEGORIES:上班
    assert kinds[date(2027, 10, 7)] == (DayKind.HOLIDAY, "国庆节")  # X-MAILDESK-KIND
    assert len(parsed.days) == 21
    assert {d: s for d, s in read_file(FIXTURES / "china-2027.yaml").days.items()} == {
        d: s for d, s in parsed.days.items() if d.month != 1 or d.day == 1
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ambiguous-tiaoxiu.ics", "ambiguous-tiaoxiu.ics:8: SUMMARY '春节调休' says 调休"),
        ("timed-event.ics", "timed-event.ics:3: DTSTART '20270206T090000Z' is not an all-day"),
        ("bad-range.yaml", "bad-range.yaml: holidays[1]: ends (2027-02-06) before it starts"),
    ],
)
def test_bad_files_name_the_line_or_entry(name: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        read_file(FIXTURES / name)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year: 2027\nholidays:\n  - {date: 2027-13-01}\n", "holidays[0]: date: expected a date"),
        (
            "year: 2027\nholidays:\n  - {date: 2028-01-01}\n",
            "holidays[0]: 2028-01-01 is not in 2027",
        ),
        ("year: 27\n", "year: expected a year like 2027"),
        ("year: 2027\nholiday: []\n", "unknown key 'holiday'"),
        (
            "year: 2027\nholidays:\n  - {date: 2027-02-14}\nworkdays:\n  - {date: 2027-02-14}\n",
            "workdays[0]: 2027-02-14 is both a holiday",
        ),
    ],
)
def test_bad_yaml_entries(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScheduleError, match=re.escape(message)):
        read_file(path)


# --- config ------------------------------------------------------------------------------

MINIMAL = '[maildesk]\nsupport_address = "it-support@example.com"\n'


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[calendar]\nhours.mon = ["09:00-12:00", "13:00"]\n', "calendar.hours.mon[1]: expected"),
        (
            '[calendar]\nhours.mon = ["09:00-13:00", "12:00-18:00"]\n',
            "calendar.hours.mon[1]: 12:00",
        ),
        ('[calendar]\nhours.tue = ["18:00-09:00"]\n', "calendar.hours.tue[0]: the span ends"),
        ("[calendar]\nhours.fun = []\n", "calendar.hours.fun: unknown weekday"),
        ('[calendar]\nmakeup_day_hours = "monday"\n', "calendar.makeup_day_hours"),
        ('[calendar]\ntimezone = "Asia/Peking"\n', "calendar.timezone"),
        (
            "[calendar]\nhours = { mon = [], tue = [], wed = [], thu = [], fri = [] }\n",
            "calendar.hours: no working hours",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, extra: str, key: str) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(MINIMAL + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        from maildesk import config

        config.load(path)
    assert str(caught.value).startswith(key)
    assert main(["--config", str(path), "calendar", "show", "2026"]) == 2


def test_configured_hours_and_a_24_hour_end(tmp_path: Path) -> None:
    from maildesk import config

    path = tmp_path / "maildesk.toml"
    extra = '[calendar]\nhours.sat = ["10:00-14:00"]\nhours.sun = ["20:00-24:00"]\n'
    path.write_text(MINIMAL + extra + 'makeup_day_hours = "sat"\n', encoding="utf-8")
    settings = config.load(path).section(CALENDAR_SECTION)
    assert [s.text() for s in settings.hours[5]] == ["10:00-14:00"]
    assert [s.text() for s in settings.hours[6]] == ["20:00-24:00"]
    assert [s.text() for s in settings.hours[0]] == ["09:00-12:00", "13:00-18:00"]
    cal = settings.calendar(seed.schedule()[2026], {2026})
    # make-up Saturday 14 Feb 2026 has Saturday's hours, 10:00-14:00
    assert add_business(cal, datetime(2026, 2, 14, 9, tzinfo=SH), 240) == datetime(
        2026, 2, 14, 14, tzinfo=SH
    )


# --- the commands ------------------------------------------------------------------------


def test_calendar_import_and_show(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(make_sqlite_config.write())
    assert main(["--config", path, "calendar", "show", "2027"]) == 0
    assert "provisional (no official schedule for 2027)" in capsys.readouterr().out
    assert main(["--config", path, "calendar", "import", str(FIXTURES / "china-2027.ics")]) == 0
    out = capsys.readouterr().out
    assert "2027: official now (was provisional), from china-2027.ics" in out
    assert "2027-02-14 ordinary day -> workday 春节" in out
    assert main(["--config", path, "calendar", "show", "2027"]) == 0
    out = capsys.readouterr().out
    assert "Asia/Shanghai (+08:00): official: china-2027.ics, imported 20" in out
    assert "2027-02-06 to 2027-02-13  春节 (8 days)" in out
    assert "2027-02-14 Sun  春节" in out
    assert main(["--config", path, "calendar", "show", "2026", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["official"] and shown["source"] == seed.SOURCE
    assert shown["imported_at"].endswith("(+08:00)")
    assert {"from": "2026-10-01", "to": "2026-10-07", "days": 7, "name": "国庆节"} in shown[
        "holidays"
    ]
    assert {"date": "2026-02-14", "weekday": "Sat", "name": "春节"} in shown["workdays"]
    assert shown["hours"]["sat"] == [] and shown["business_hours"] == 1984


def test_a_bad_file_imports_nothing(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(make_sqlite_config.write())
    bad = FIXTURES / "ambiguous-tiaoxiu.ics"
    assert main(["--config", path, "calendar", "import", str(bad)]) == 1
    assert "X-MAILDESK-KIND" in capsys.readouterr().err
    assert main(["--config", path, "calendar", "show", "2027"]) == 0
    assert "provisional" in capsys.readouterr().out


# --- maildesk check ----------------------------------------------------------------------


def calendar_lines(cfg_path: Path, now: datetime) -> list[str]:
    from maildesk import config

    results = checks.run_all(config.load(cfg_path), now)
    return [r.line() for r in results if r.name.startswith("calendar")]


def test_check_warns_from_first_november(make_sqlite_config: ConfigFactory) -> None:
    path = make_sqlite_config.write()
    clock = TestClock(datetime(2026, 10, 31, 15, 59, tzinfo=UTC))  # 23:59 in Shanghai
    assert calendar_lines(path, clock.now()) == ["ok   calendar: official schedule for 2026"]
    clock.advance(minutes=1)
    (line,) = calendar_lines(path, clock.now())
    assert line.startswith("WARN calendar 2027: no official holiday schedule for 2027")
    assert "maildesk calendar import" in line
    assert (
        main(["--config", str(path), "calendar", "import", str(FIXTURES / "china-2027.yaml")]) == 0
    )
    assert calendar_lines(path, clock.now()) == ["ok   calendar: official schedule for 2026"]
    clock.set(datetime(2027, 11, 1, tzinfo=SH))
    assert [x.split(":")[0] for x in calendar_lines(path, clock.now())] == ["WARN calendar 2028"]


def test_check_warns_when_the_current_year_is_missing(make_sqlite_config: ConfigFactory) -> None:
    path = make_sqlite_config.write()
    lines = calendar_lines(path, datetime(2027, 3, 1, tzinfo=SH))
    assert [x.split(":")[0] for x in lines] == ["WARN calendar 2027"]
