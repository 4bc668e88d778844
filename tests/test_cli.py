"""The `maildesk` command as a user runs it."""

from __future__ import annotations

import json
import mailbox
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from maildesk import config as config_mod
from maildesk.cli import build_parser, main, open_store
from maildesk.domain import Change, OutgoingMail
from maildesk.kb.settings import KB_SECTION
from maildesk.store import bounces, tickets
from maildesk.store import outbox as outbox_rows

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


def test_init_gives_the_desk_its_own_copy_of_the_articles(initialized: Path) -> None:
    """The starter articles have placeholders a desk adapts (kb/README.md): init copies
    them beside the config and points [kb] folder there; a second init keeps the copy."""
    kb = initialized.parent / "kb"
    assert (kb / "vpn.zh-CN.md").is_file() and (kb / "README.md").is_file()
    cfg = config_mod.load(initialized)
    assert cfg.section(KB_SECTION).folder == kb
    (kb / "vpn.zh-CN.md").write_text("adapted", encoding="utf-8")
    assert main(["init", "--force", str(initialized.parent)]) == 0
    assert (kb / "vpn.zh-CN.md").read_text(encoding="utf-8") == "adapted"


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
    assert main([*cfg, "quarantine", "retry", qid]) == 1  # quarantined again: not a success
    retried = capsys.readouterr()
    assert "quarantined" in retried.out and "1 message(s) quarantined again" in retried.err


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


# --- newcomer and CLI ----------------------------------------------------------------------


def _next_command(out: str) -> list[str]:
    line = next(line for line in out.splitlines() if "then run: " in line)
    return shlex.split(line.split("then run: ", 1)[1])


def test_init_prints_the_command_that_starts_it_from_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "desk"]) == 0
    command = _next_command(capsys.readouterr().out)
    assert command.index("--config") < command.index("run") == len(command) - 1
    assert command[command.index("--config") + 1] == "desk/maildesk.toml"
    assert Path(command[0]).is_file()  # the executable, absolute or relative to here
    proc = subprocess.run([*command, "--once"], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    script = tmp_path / "elsewhere" / "bin" / "maildesk"  # as if run as bin/maildesk
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    monkeypatch.setattr(sys, "argv", [str(script), "init", str(tmp_path / "other")])
    assert main(["init", str(tmp_path / "other")]) == 0
    command = _next_command(capsys.readouterr().out)
    assert command == ["bin/maildesk", "--config", str(tmp_path / "other" / "maildesk.toml"),
                       "run"]  # fmt: skip


def test_lists_have_a_header_and_say_when_empty(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ["--config", str(initialized)]
    empty = {("tickets", "list"): "no tickets", ("outbox", "list"): "no outgoing mail",
             ("quarantine", "list"): "no quarantined messages"}  # fmt: skip
    for command, sentence in empty.items():
        assert main([*cfg, *command]) == 0
        assert capsys.readouterr().out.strip() == sentence
        assert main([*cfg, *command, "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []
    assert main([*cfg, "tickets", "list", "--status", "closed"]) == 0
    assert capsys.readouterr().out.strip() == "no tickets with status closed"

    mail = initialized.parent / "mail.eml"
    mail.write_bytes(make_mail(1))
    assert main([*cfg, "replay", "--quiet", str(mail)]) == 0
    capsys.readouterr()
    assert main([*cfg, "tickets", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["NUMBER", "STATUS", "PRIORITY", "CREATED", "REQUESTER", "SUBJECT"]
    assert row.startswith("IT-") and row.index("new") == header.index("STATUS")
    assert row.index("zhang.wei@") == header.index("REQUESTER")


def test_outbox_list_accepts_every_outbox_state(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ["--config", str(initialized)]
    mail = initialized.parent / "mail.eml"
    mail.write_bytes(make_mail(1))
    assert main([*cfg, "replay", "--quiet", str(mail)]) == 0
    store = open_store(config_mod.load(initialized))
    with store.transaction() as tx:
        [queued] = outbox_rows.listing(tx)
        bounces.record_bounce(tx, queued.message_id, [], "550 no such user", datetime.now(UTC))
    capsys.readouterr()
    for state in ("pending", "sending", "sent", "failed", "held"):
        assert main([*cfg, "outbox", "list", "--status", state, "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == []
    assert main([*cfg, "outbox", "list", "--status", "bounced", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [queued.id]


def test_held_mail_is_listed_with_its_reason_and_released_by_retry_id(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ["--config", str(initialized)]
    mail = initialized.parent / "mail.eml"
    mail.write_bytes(make_mail(1))
    assert main([*cfg, "replay", "--quiet", str(mail)]) == 0
    store = open_store(config_mod.load(initialized))
    with store.transaction() as tx:
        [ack] = outbox_rows.listing(tx)
        held = OutgoingMail("notification", ack.mail_from, ("wang.gong@example.com",),
                            "[IT-1] 电脑无法开机", "<held@desk.example>", b"raw")  # fmt: skip
        outbox_rows.hold(tx, held, None, None, datetime.now(UTC), "flood: 5 per 10 minutes")
        [held_row] = outbox_rows.listing(tx, "held")
    capsys.readouterr()
    assert main([*cfg, "outbox", "list", "--status", "held"]) == 0
    out = capsys.readouterr().out
    assert f"#{held_row.id}" in out and "[held: flood: 5 per 10 minutes]" in out
    assert f"#{ack.id}" not in out
    assert main([*cfg, "outbox", "list", "--status", "held", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["held_reason"] == "flood: 5 per 10 minutes" and listed["lane"] == "interactive"
    assert main([*cfg, "outbox", "retry", "--all"]) == 1  # failed mail only
    assert "0 failed mail(s)" in capsys.readouterr().out
    assert main([*cfg, "outbox", "retry", str(ack.id)]) == 1  # pending: neither failed nor held
    assert f"#{ack.id}: no failed or held mail" in capsys.readouterr().out
    assert main([*cfg, "outbox", "retry", str(held_row.id)]) == 0
    assert f"#{held_row.id} queued again" in capsys.readouterr().out
    assert main([*cfg, "outbox", "list", "--status", "held", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main([*cfg, "run", "--once"]) == 0  # and it is sent
    with store.transaction() as tx:
        assert {r.id: r.status for r in outbox_rows.listing(tx)} == {
            ack.id: "sent",
            held_row.id: "sent",
        }


def test_times_are_in_the_configured_zone_with_its_offset(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = initialized.read_text(encoding="utf-8")
    initialized.write_text(text.replace('"Asia/Shanghai"', '"Asia/Kolkata"'), encoding="utf-8")
    cfg = ["--config", str(initialized)]
    garbage = initialized.parent / "garbage.eml"
    garbage.write_bytes(b"Subject: who am I\r\n\r\nno sender\r\n")
    mail = initialized.parent / "mail.eml"
    mail.write_bytes(make_mail(1))
    assert main([*cfg, "replay", "--quiet", str(garbage), str(mail)]) == 0
    capsys.readouterr()
    shown = r"\d{4}-\d\d-\d\d \d\d:\d\d \(\+05:30\)"
    for command in (["tickets", "list"], ["outbox", "list"], ["quarantine", "list"]):
        assert main([*cfg, *command]) == 0
        assert re.search(shown, capsys.readouterr().out.splitlines()[1]), command
        assert main([*cfg, *command, "--json"]) == 0
        row = json.loads(capsys.readouterr().out)[0]
        assert row.get("created_at", row.get("received_at")).endswith("+05:30"), command
    assert main([*cfg, "outbox", "list", "--json"]) == 0
    number = json.loads(capsys.readouterr().out)[0]["ticket_number"]
    assert main([*cfg, "tickets", "show", number]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"created_at: {shown}", out)
    assert re.search(rf"^{shown}  created", out, re.MULTILINE)  # the event log
    assert "first_response_at: -" in out
    assert main([*cfg, "tickets", "show", number, "--json"]) == 0
    shown_json = json.loads(capsys.readouterr().out)
    assert shown_json["updated_at"].endswith("+05:30")
    assert shown_json["events"][0]["at"].endswith("+05:30")


def test_tickets_show_links_both_ways_and_names_the_assignee(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    initialized.write_text(initialized.read_text(encoding="utf-8") + PERSON, encoding="utf-8")
    cfg = ["--config", str(initialized)]
    first = initialized.parent / "first.eml"
    first.write_bytes(make_mail(1))
    assert main([*cfg, "replay", "--quiet", str(first)]) == 0
    capsys.readouterr()
    assert main([*cfg, "tickets", "list", "--json"]) == 0
    [original] = json.loads(capsys.readouterr().out)
    other = initialized.parent / "other.eml"  # a stranger names the ticket: a linked one
    other.write_bytes(make_mail(2, sender="李娜 <li.na@example.com>",
                                subject=f"关于 {original['number']} 我也一样"))  # fmt: skip
    assert main([*cfg, "replay", "--quiet", str(other)]) == 0
    store = open_store(config_mod.load(initialized, secrets=False))
    with store.transaction() as tx:
        assign = Change("assignee", "", "wang.gong@example.com")
        tickets.change(tx, original["id"], [assign], datetime.now(UTC), "test", None)
    capsys.readouterr()
    assert main([*cfg, "tickets", "list", "--json"]) == 0
    linked = json.loads(capsys.readouterr().out)[0]["number"]

    assert main([*cfg, "tickets", "show", linked]) == 0
    assert re.search(rf"linked_number: {original['number']}$", capsys.readouterr().out, re.M)
    assert main([*cfg, "tickets", "show", linked, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["linked_number"] == original["number"]
    assert main([*cfg, "tickets", "show", original["number"]]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"linked_from: {linked}$", out, re.M)
    assert re.search(r"assignee: 王工 <wang.gong@example.com>$", out, re.M)
    assert main([*cfg, "tickets", "show", original["number"], "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["linked_from"] == [linked] and shown["assignee"] == "wang.gong@example.com"


def test_read_only_commands_need_no_write_lock(
    initialized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An admin looking at the desk never waits for (or blocks) the daemon's writes."""
    import sqlite3

    cfg = ["--config", str(initialized)]
    mail = initialized.parent / "mail.eml"
    mail.write_bytes(make_mail(1))
    assert main([*cfg, "replay", "--quiet", str(mail)]) == 0
    database = str(initialized.parent / "data" / "maildesk.db")
    writer = sqlite3.connect(database, isolation_level=None, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")  # the daemon, in the middle of a write
    try:
        for command in (["tickets", "list"], ["outbox", "list"], ["quarantine", "list"]):
            capsys.readouterr()
            assert main([*cfg, *command]) == 0, command
        capsys.readouterr()
        number = json.loads(_json(capsys, main([*cfg, "tickets", "list", "--json"])))[0]["number"]
        assert main([*cfg, "tickets", "show", number]) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def _json(capsys: pytest.CaptureFixture[str], code: int) -> str:
    assert code == 0
    return capsys.readouterr().out
