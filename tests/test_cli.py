"""The `maildesk` command as a user runs it."""

from __future__ import annotations

import json
import mailbox
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maildesk.cli import build_parser, main

from .conftest import ConfigFactory, free_port
from .mails import make_mail


def run_cli(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "maildesk", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


@pytest.fixture
def initialized(tmp_path: Path) -> Path:
    assert main(["init", str(tmp_path / "desk")]) == 0
    return tmp_path / "desk" / "maildesk.toml"


def test_init_writes_config_and_database(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert initialized.exists()
    assert (initialized.parent / "data" / "maildesk.db").exists()
    assert main(["init", str(initialized.parent)]) == 1  # no silent overwrite
    assert "exists already" in capsys.readouterr().err
    assert main(["init", "--force", str(initialized.parent)]) == 0


def test_config_error_names_key_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "maildesk.toml"
    bad.write_text('[maildesk]\nsupport_address = "it@example.com"\n[smtp_intake]\nport = "x"\n')
    code, _, err = run_cli("--config", str(bad), "run")
    assert code == 2
    assert "smtp_intake.port" in err and "whole number" in err
    code, _, err = run_cli("tickets", "list", env={"MAILDESK_CONFIG": str(tmp_path / "none.toml")})
    assert code == 2 and "none.toml" in err and "not found" in err


def test_run_refuses_a_database_without_schema(tmp_path: Path) -> None:
    cfg = tmp_path / "maildesk.toml"
    cfg.write_text('[maildesk]\nsupport_address = "it@example.com"\n')
    code, _, err = run_cli("--config", str(cfg), "run", "--once")
    assert code == 2 and "maildesk db upgrade" in err
    assert main(["--config", str(cfg), "db", "upgrade"]) == 0
    assert run_cli("--config", str(cfg), "run", "--once")[0] == 0


def test_deliver_stores_and_exits_0_or_75(initialized: Path, tmp_path: Path) -> None:
    code, _, err = run_cli("--config", str(initialized), "deliver", stdin=make_mail(1))
    assert code == 0, err
    assert len(list((initialized.parent / "data" / "outbox").glob("*"))) == 0  # queued, not sent
    code, out, _ = run_cli("--config", str(initialized), "tickets", "list", "--json")
    assert [t["subject"] for t in json.loads(out)] == ["电脑无法开机 #1"]
    down = tmp_path / "down.toml"
    down.write_text(
        '[maildesk]\nsupport_address = "it@example.com"\n[database]\n'
        f'url = "postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x"\n'
    )
    code, _, err = run_cli("--config", str(down), "deliver", stdin=make_mail(2))
    assert code == 75 and "could not store" in err
    code, _, err = run_cli("--config", str(tmp_path / "missing.toml"), "deliver", stdin=b"x")
    assert code == 75 and "config error" in err


def test_replay_eml_mbox_maildir_and_folder(initialized: Path, tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(make_mail(1))
    box = mailbox.mbox(str(tmp_path / "box.mbox"))
    for n in range(2, 5):
        box.add(make_mail(n))
    box.flush()
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    for n in range(5, 7):
        maildir.add(make_mail(n))
    folder = tmp_path / "emls"
    folder.mkdir()
    (folder / "a.eml").write_bytes(make_mail(7))
    (folder / "b.eml").write_bytes(make_mail(1))  # the same as one.eml: a duplicate
    code, out, err = run_cli(
        "--config", str(initialized), "replay", str(eml), str(tmp_path / "box.mbox"),
        str(tmp_path / "Maildir"), str(folder),
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == "7 created, 1 duplicate"
    assert run_cli("--config", str(initialized), "replay", str(tmp_path / "nope"))[0] == 1


def test_tickets_outbox_quarantine_commands(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ["--config", str(initialized)]
    garbage = initialized.parent / "garbage.eml"
    garbage.write_bytes(b"Subject: who am I\r\n\r\nno sender\r\n")
    mail = initialized.parent / "mail.eml"
    mail.write_bytes(make_mail(1))
    assert main([*cfg, "replay", "--quiet", str(garbage), str(mail)]) == 0
    capsys.readouterr()

    assert main([*cfg, "tickets", "list", "--json"]) == 0
    tickets = json.loads(capsys.readouterr().out)
    number = tickets[0]["number"]
    assert main([*cfg, "tickets", "show", number.lower(), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["events"][0]["kind"] == "created"
    assert main([*cfg, "tickets", "show", number]) == 0
    assert "风扇在转" in capsys.readouterr().out
    assert main([*cfg, "tickets", "show", "IT-19990101-0001"]) == 1

    assert main([*cfg, "outbox", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["pending"]
    assert main([*cfg, "run", "--once"]) == 0
    assert main([*cfg, "outbox", "list"]) == 0
    assert "sent" in capsys.readouterr().out
    assert main([*cfg, "outbox", "retry", "--all"]) == 1  # nothing failed
    assert "0 failed mail(s)" in capsys.readouterr().out

    assert main([*cfg, "quarantine", "list", "--json"]) == 0
    quarantined = json.loads(capsys.readouterr().out)
    assert len(quarantined) == 1 and "no sender" in quarantined[0]["reason"]
    qid = str(quarantined[0]["id"])
    code, out, _ = run_cli(*cfg, "quarantine", "show", qid)
    assert code == 0 and "no sender" in out
    assert main([*cfg, "quarantine", "retry", qid]) == 0
    assert "quarantined" in capsys.readouterr().out


UNSET = "MAILDESK_TEST_UNSET_VAR"
UNSET_IMAP_PASSWORD = f"""
[[imap]]
name = "support"
host = "imap.example.com"
username = "it-support@example.com"
password_env = "{UNSET}"
"""
PERSON = """
[[people]]
name = "王工"
email = "wang.gong@example.com"
"""


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda text: text + UNSET_IMAP_PASSWORD, "imap[0].password_env"),
        (
            lambda text: text.replace('secret_env = ""', f'secret_env = "{UNSET}"') + PERSON,
            "security.secret_env",
        ),
    ],
    ids=["imap-password", "security-secret"],
)
def test_read_only_commands_need_no_secrets_from_the_environment(
    initialized: Path,
    edit: Callable[[str], str],
    key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    initialized.write_text(edit(initialized.read_text(encoding="utf-8")), encoding="utf-8")
    cfg = ["--config", str(initialized)]
    mail = initialized.parent / "mail.eml"
    mail.write_bytes(make_mail(1))
    for read_only in (["tickets", "list"], ["outbox", "list"], ["quarantine", "list"],
                      ["rules", "test", str(mail)]):  # fmt: skip
        assert main([*cfg, *read_only]) == 0, read_only
    for read_only in (["tickets", "show", "IT-19990101-0001"], ["quarantine", "show", "9"]):
        assert main([*cfg, *read_only]) == 1, read_only  # loaded the config, found nothing
    capsys.readouterr()
    for needs_secrets in (["check"], ["run", "--once"], ["outbox", "retry", "--all"]):
        assert main([*cfg, *needs_secrets]) == 2, needs_secrets
        err = capsys.readouterr().err
        assert err.startswith(f"maildesk: config error: {key}: environment variable {UNSET}")


def test_check_reports_each_part(make_sqlite_config: ConfigFactory) -> None:
    path = make_sqlite_config.write(imap={"port": free_port()})
    code, out, _ = run_cli("--config", str(path), "check")
    assert code == 1
    assert "ok   database" in out
    assert "FAIL imap support" in out
    assert "ok   outbox (file)" in out


@pytest.mark.parametrize(
    "argv",
    [[], ["tickets"], ["tickets", "list"], ["outbox", "retry"], ["quarantine"], ["db"], ["run"]],
)
def test_help_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: maildesk" in capsys.readouterr().out
