"""`maildesk check` on the rule file and on [[people]]: FAIL stops, WARN only tells."""

from __future__ import annotations

from pathlib import Path

import pytest

from maildesk import checks
from maildesk.checks import Result, Status
from maildesk.config import EngineerConfig
from maildesk.rules import parse_rules

from .conftest import ConfigFactory

RULES = """
[[rule]]
name = "vpn"
match.subject.keywords = ["vpn"]
set.group = "network"

[[rule]]
name = "printers"
match.subject.keywords = ["printer"]
set.group = "printers"

[[rule]]
name = "ceo to the lead"
match.sender = ["ceo@example.com"]
set.group = "vip"
set.assignee = "lead@example.com"
"""


def person(
    email: str, groups: tuple[str, ...], role: str = "engineer", available: bool = True
) -> EngineerConfig:
    return EngineerConfig(email.split("@")[0], email, groups, role, available)


LEAD = person("lead@example.com", (), role="lead")
NET = person("net@example.com", ("network",))
PRINT = person("print@example.com", ("printers",))


def warnings(people: list[EngineerConfig], rules: str | None = RULES) -> list[Result]:
    parsed = parse_rules(rules, Path("rules.toml")) if rules is not None else None
    return [r for r in checks.check_people(people, parsed) if r.status is not Status.OK]


def test_a_staffed_desk_gets_an_ok_line() -> None:
    (result,) = checks.check_people([LEAD, NET, PRINT], parse_rules(RULES, Path("rules.toml")))
    assert result == Result("people", Status.OK, "3 configured; groups: network, printers")


def test_no_people_is_ok_and_says_so() -> None:
    assert checks.check_people([], None) == [
        Result("people", Status.OK, "none configured: no engineer is notified")
    ]


def test_a_routed_group_nobody_belongs_to_is_a_warning() -> None:
    (warning,) = warnings([LEAD, NET])  # not "vip": its rule names an assignee
    assert warning.name == "group printers" and warning.status is Status.WARN
    assert 'rule "printers" (line 7)' in warning.detail and "notify nobody" in warning.detail


def test_a_manager_alone_does_not_work_a_group() -> None:
    manager = person("boss@example.com", ("printers",), role="manager")
    assert [w.name for w in warnings([manager, NET])] == ["group printers"]


def test_a_group_with_everyone_away_is_a_warning() -> None:
    away = person("print@example.com", ("printers",), available=False)
    away_too = person("print2@example.com", ("printers",), available=False)
    (warning,) = warnings([LEAD, NET, away, away_too], rules=None)
    assert warning.name == "group printers"
    assert "print@example.com, print2@example.com" in warning.detail


def test_one_member_present_is_enough() -> None:
    away = person("print2@example.com", ("printers",), available=False)
    assert warnings([LEAD, NET, PRINT, away]) == []


def test_no_lead_or_manager_is_a_warning() -> None:
    (warning,) = warnings([NET, PRINT])
    assert warning.name == "people" and 'role = "lead" or "manager"' in warning.detail
    assert warnings([person("m@example.com", (), role="manager"), NET, PRINT]) == []


def test_warnings_do_not_fail_the_check() -> None:
    warn = Result("people", Status.WARN, "x")
    assert not checks.failed([Result("config", Status.OK, "x"), warn])
    assert checks.failed([warn, Result("database", Status.FAIL, "x")])
    assert warn.line() == "WARN people: x"
    assert Result("database", Status.OK, "x").line() == "ok   database: x"


# --- the rule file, through `maildesk check` ---------------------------------------------

SECRET = '[security]\nsecret = "0123456789abcdef0123"\n'
PEOPLE = """
[[people]]
name = "Lead"
email = "lead@example.com"
role = "lead"

[[people]]
name = "Net"
email = "net@example.com"
groups = ["network"]
"""


def check(
    make_sqlite_config: ConfigFactory, extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    from maildesk.cli import main

    path = make_sqlite_config.write(extra=extra)
    code = main(["--config", str(path), "check"])
    return code, capsys.readouterr().out.splitlines()


def test_check_fails_on_a_missing_rules_file(
    make_sqlite_config: ConfigFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = f'[routing]\nrules_file = "{tmp_path / "absent.toml"}"\n'
    code, lines = check(make_sqlite_config, extra, capsys)
    assert code == 1
    assert f"FAIL routing.rules_file: {tmp_path / 'absent.toml'}: rule file not found" in lines


def test_check_fails_on_an_invalid_rules_file(
    make_sqlite_config: ConfigFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "x"\nmatch.subject.keywords = ["a"]\nset.priority = "p0"\n')
    code, lines = check(make_sqlite_config, f'[routing]\nrules_file = "{rules}"\n', capsys)
    assert code == 1
    (line,) = [line for line in lines if line.startswith("FAIL routing.rules_file")]
    assert "line 4" in line and "set.priority" in line


def test_check_passes_with_warnings(
    make_sqlite_config: ConfigFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    extra = f'[routing]\nrules_file = "{rules}"\n' + SECRET + PEOPLE
    code, lines = check(make_sqlite_config, extra, capsys)
    assert code == 0, lines
    assert f"ok   routing.rules_file: {rules}: 3 rules" in lines
    warned = [line.split(":")[0] for line in lines if line.startswith("WARN")]
    # the calendar's warning depends on the date (tests/test_calendar.py)
    assert [w for w in warned if not w.startswith("WARN calendar")] == ["WARN group printers"]
    assert "ok   database" in "\n".join(lines)


def test_check_loads_the_shipped_rules_by_default(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = check(make_sqlite_config, "", capsys)
    assert code == 0, lines
    assert any(line.startswith("ok   routing rules (shipped): ") for line in lines)
    assert "ok   people: none configured: no engineer is notified" in lines
