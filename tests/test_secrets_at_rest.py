"""Secrets at rest: what `init` creates only its owner opens, `check` warns about wider
modes, and no password or signing secret shows in `check` output, errors or logs."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from maildesk import config as config_mod
from maildesk import db
from maildesk.attachments import AttachmentStore
from maildesk.cli import main
from maildesk.private_files import make_private_folder
from maildesk.redact import RedactingFormatter, config_secrets, mask_urls, redact

from .conftest import ConfigFactory, free_port


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common 022, under which plain writes are world-readable (0644)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("usual_umask")
def test_init_creates_everything_for_its_owner_only(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "desk")]) == 0
    desk = tmp_path / "desk"
    assert mode(desk / "maildesk.toml") == 0o600
    assert mode(desk / "data") == 0o700
    assert mode(desk / "data" / "maildesk.db") == 0o600
    assert mode(desk / "data" / "attachments") == 0o700
    assert mode(desk / "data" / "outbox") == 0o700
    cfg = config_mod.load(desk / "maildesk.toml")
    engine = db.make_engine(cfg.database_url)
    with engine.connect() as conn:  # the -wal and -shm files exist while it is open
        conn.execute(text("CREATE TABLE probe (x INTEGER)"))
        wal, shm = db.sqlite_files(cfg.database_url)[1:]
        assert mode(wal) == 0o600 and mode(shm) == 0o600
    engine.dispose()


@pytest.mark.usefixtures("usual_umask")
def test_init_force_narrows_an_open_config_and_data_folder(tmp_path: Path) -> None:
    desk = tmp_path / "desk"
    (desk / "data").mkdir(parents=True, mode=0o755)
    (desk / "maildesk.toml").write_text("old")
    os.chmod(desk / "maildesk.toml", 0o644)
    assert main(["init", "--force", str(desk)]) == 0
    assert mode(desk / "maildesk.toml") == 0o600
    assert mode(desk / "data") == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_stored_attachments_are_private(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "files")
    path = store.path_for(store.put(b"%PDF-1.7 report"))
    assert mode(path) == 0o600
    assert [mode(folder) for folder in (path.parent, path.parent.parent)] == [0o700, 0o700]
    assert mode(tmp_path / "files") == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_folders_that_exist_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    make_private_folder(shared / "new" / "deeper")
    assert mode(shared) == 0o755
    assert mode(shared / "new") == 0o700 and mode(shared / "new" / "deeper") == 0o700


def run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--config", str(path), "check"])
    return code, capsys.readouterr().out.splitlines()


def test_check_warns_about_a_config_others_can_read(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_sqlite_config.write()
    code, lines = run_check(path, capsys)
    assert lines[0] == f"ok   config: {path}"
    os.chmod(path, 0o644)
    code, lines = run_check(path, capsys)
    assert code == 0  # a warning: it still runs
    assert lines[0] == (
        f"WARN config: {path} is mode 0644: other users can read its secrets and passwords; "
        f"fix: chmod 600 {path}"
    )


def test_check_warns_about_a_database_others_can_read(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_sqlite_config.write()
    database = db.sqlite_path(config_mod.load(path).database_url)
    assert database is not None
    os.chmod(database, 0o640)
    code, lines = run_check(path, capsys)
    assert code == 0
    assert f"WARN database file: {database} is mode 0640: other users can read every " in (
        "\n".join(lines)
    )
    assert f"fix: chmod 600 {database}" in "\n".join(lines)
    os.chmod(database, 0o600)
    warned = [line for line in run_check(path, capsys)[1] if line.startswith("WARN")]
    assert not [w for w in warned if not w.startswith("WARN calendar")]  # date-dependent


@pytest.mark.parametrize(
    ("shown", "masked"),
    [
        (
            "postgresql+psycopg://desk:Hunter2!x@db.example.com:5432/maildesk",
            "postgresql+psycopg://desk:***@db.example.com:5432/maildesk",
        ),
        ("postgresql://desk:p@ss/w0rd@db/maildesk", "postgresql://desk:***@db/maildesk"),
        (
            "could not connect: postgresql://u:pw@h/d failed",
            "could not connect: postgresql://u:***@h/d failed",
        ),
        ("host=db user=desk password=Hunter2 dbname=x", "host=db user=desk password=*** dbname=x"),
        ("postgresql://desk@db/maildesk", "postgresql://desk@db/maildesk"),
        ("sqlite:////var/lib/maildesk/maildesk.db", "sqlite:////var/lib/maildesk/maildesk.db"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
    ],
)
def test_urls_show_no_password(shown: str, masked: str) -> None:
    assert mask_urls(shown) == masked


def test_check_shows_a_postgresql_url_without_its_password(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+psycopg://desk:Hunter2-pw@127.0.0.1:{free_port()}/maildesk"
    code, lines = run_check(make_sqlite_config.write(db_url=url), capsys)
    output = "\n".join(lines)
    assert code == 1 and "FAIL database:" in output
    assert "Hunter2-pw" not in output


def test_check_names_the_masked_url_of_a_reachable_database(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Trust authentication ignores the password, so the check gets through to say the URL."""
    with_password = pg_url.replace("://postgres@", "://postgres:Hunter2-pw@")
    code, lines = run_check(ConfigFactory(tmp_path, with_password).write(), capsys)
    assert code == 0, lines
    (line,) = [line for line in lines if line.startswith("ok   database:")]
    assert "postgres:***@" in line and "Hunter2-pw" not in "\n".join(lines)


def test_a_config_error_does_not_repeat_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(
        '[maildesk]\nsupport_address = "it@example.com"\n'
        '[database]\nurl = "mysql://desk:Hunter2-pw@db/maildesk"\n'
    )
    assert main(["--config", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert "database.url" in err and "mysql://desk:***@db/maildesk" in err
    assert "Hunter2-pw" not in err


def test_config_secrets_and_log_lines(make_sqlite_config: ConfigFactory) -> None:
    cfg = make_sqlite_config(
        db_url="postgresql+psycopg://desk:db-Hunter2@db/maildesk",
        imap={"port": 1143},
        extra='[security]\nsecret = "sign-0123456789abcdef"\n',
    )
    assert set(config_secrets(cfg)) == {"db-Hunter2", "secret", "sign-0123456789abcdef"}
    formatter = RedactingFormatter("%(levelname)s %(message)s", config_secrets(cfg))
    try:
        raise RuntimeError("login failed with db-Hunter2")
    except RuntimeError:
        record = logging.LogRecord(
            "maildesk", logging.ERROR, __file__, 1, "key %s", ("sign-0123456789abcdef",),
            sys.exc_info(),
        )  # fmt: skip
    line = formatter.format(record)
    assert line.startswith("ERROR key ***") and "RuntimeError: login failed with ***" in line
    assert "db-Hunter2" not in line and "sign-0123456789abcdef" not in line


def test_short_values_are_not_searched_for() -> None:
    assert redact("the abc of it", ["abc"]) == "the abc of it"
