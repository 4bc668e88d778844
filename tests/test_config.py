"""maildesk.toml: the shipped example, validation errors that name the key, derived values."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from maildesk import config
from maildesk.config import ConfigError, core, registry
from maildesk.config.values import text, whole_number
from maildesk.sla.settings import SLA_SECTION

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config" / "maildesk.example.toml"
PATH = Path("/tmp/x/maildesk.toml")
BASE = Path("/tmp/x").resolve()
MINIMAL = '[maildesk]\nsupport_address = "it-support@example.com"\n'

IMAP = """
[[imap]]
name = "support"
host = "imap.example.com"
username = "it-support@example.com"
"""


def parse(text: str, env: dict[str, str] | None = None) -> config.Config:
    return config.parse(text, PATH, env={} if env is None else env)


def example_block(name: str) -> str:
    """The commented-out [[name]] example of the shipped file, uncommented."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"# [[{name}]]")
    block = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        block.append(line[2:])
    return "\n".join(block) + "\n"


SECTIONS = config.sections()
TABLES = [s for s in SECTIONS if isinstance(s, config.Table)]
REPEATED = [s for s in SECTIONS if isinstance(s, config.Tables)]


# --- the shipped example -----------------------------------------------------------------


def test_example_parses_with_the_documented_defaults() -> None:
    cfg = parse(EXAMPLE.read_text(encoding="utf-8"))
    assert cfg.support_address == "it-support@example.com"
    assert cfg.locale == "zh-CN"
    assert cfg.message_id_domain == "example.com"
    assert cfg.database_url == f"sqlite:///{BASE}/data/maildesk.db"
    assert cfg.tickets.number_format == "{prefix}-{date:%Y%m%d}-{seq:04d}"
    assert cfg.tickets.timezone == "Asia/Shanghai"
    assert cfg.outbox.folder == BASE / "data" / "outbox"
    assert cfg.imap == ()


def test_example_values_equal_the_schema_defaults() -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section in TABLES:
        for key, (default, _check) in section.schema.items():
            if default is not None:
                assert raw[section.name][key] == default, f"{section.name}.{key}"


@pytest.mark.parametrize("section", TABLES, ids=lambda s: s.name)
def test_example_documents_every_key(section: config.Table[Any]) -> None:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(raw[section.name]) == set(section.schema)
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in section.schema:
        assert re.search(rf"^{key}(\.\w+)? = ", text, re.MULTILINE), key


@pytest.mark.parametrize("section", REPEATED, ids=lambda s: s.name)
def test_example_documents_every_key_of_repeated_tables(section: config.Tables[Any]) -> None:
    raw = tomllib.loads(example_block(section.name))
    assert set(raw[section.name][0]) == set(section.schema)


def test_every_registered_section_is_compared_with_the_example() -> None:
    assert {s.name for s in SECTIONS} == {*(s.name for s in TABLES), *(s.name for s in REPEATED)}
    assert "sla" in {s.name for s in TABLES}


def test_example_imap_block_is_valid_when_uncommented() -> None:
    text = EXAMPLE.read_text(encoding="utf-8") + example_block("imap")
    cfg = parse(text, env={"MAILDESK_IMAP_PASSWORD": "s3cret"})
    (mailbox,) = cfg.imap
    assert mailbox.name == "support"
    assert mailbox.host == "imap.example.com"
    assert mailbox.password == "s3cret"
    assert (mailbox.port, mailbox.security, mailbox.on_done) == (993, "tls", "seen")


# --- errors name the key -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[maildesk]\nsuport_address = "it@example.com"\n', "maildesk.suport_address"),
        (MINIMAL + '[smtp_intake]\nport = "x"\n', "smtp_intake.port"),
        (MINIMAL + "[smtp_intake]\nport = 70000\n", "smtp_intake.port"),
        (MINIMAL + "[smtp_intake]\nenabled = 1\n", "smtp_intake.enabled"),
        (MINIMAL + "[outbox]\ntimeout = 0\n", "outbox.timeout"),
        (MINIMAL + "[outbox]\nmax_attempts = true\n", "outbox.max_attempts"),
        ('[maildesk]\nsupport_address = "it@example.com"\nlocale = "fr"\n', "maildesk.locale"),
        ('[maildesk]\nlocale = "en"\n', "maildesk.support_address"),
        ("", "maildesk.support_address"),
        ('[maildesk]\nsupport_address = "not-an-address"\n', "maildesk.support_address"),
        (
            '[maildesk]\nsupport_address = "it@example.com"\nown_addresses = ["a@b.cc", "x"]\n',
            "maildesk.own_addresses[1]",
        ),
        (MINIMAL + '[tickets]\ndefault_category = "打印机"\n', "tickets.default_category"),
        (MINIMAL + '[tickets]\ntimezone = "Mars/Olympus_Mons"\n', "tickets.timezone"),
        (MINIMAL + '[tickets]\ntimezone = ""\n', "tickets.timezone"),
        (
            MINIMAL + '[tickets]\nnumber_format = "{prefix}-{date:%Y%m%d}"\n',
            "tickets.number_format",
        ),
        (MINIMAL + '[tickets]\nnumber_format = "{prefix}-{nope}-{seq}"\n', "tickets.number_format"),
        (MINIMAL + '[tickets]\nnumber_format = "{prefix}-{seq:04d"\n', "tickets.number_format"),
        (MINIMAL + '[tickets]\nnumber_format = "{prefix}-{seq:%Y}"\n', "tickets.number_format"),
        (MINIMAL + '[tickets]\nnumber_format = "{0}-{seq}"\n', "tickets.number_format"),
        (MINIMAL + '[database]\nurl = "mysql://x/y"\n', "database.url"),
        (MINIMAL + "[tikets]\nprefix = 'X'\n", "tikets"),
        (MINIMAL + "maildesk_extra = 1\n", "maildesk.maildesk_extra"),
        ('imap = "x"\n' + MINIMAL, "imap"),
        (MINIMAL + IMAP + 'on_done = "move"\n', "imap[0].move_to"),
        (MINIMAL + IMAP + 'on_done = "delete"\n', "imap[0].on_done"),
        (MINIMAL + IMAP + 'security = "plain"\n', "imap[0].security"),
        (MINIMAL + IMAP + 'password_env = "MAILDESK_TEST_UNSET_VAR"\n', "imap[0].password_env"),
        (MINIMAL + IMAP + IMAP, "imap[].name"),
        (MINIMAL + IMAP.replace('host = "imap.example.com"\n', ""), "imap[0].host"),
        (MINIMAL + IMAP + IMAP.replace("support", "second") + "prot = 1\n", "imap[1].prot"),
        (MINIMAL + '[outbox]\npassword_env = "MAILDESK_TEST_UNSET_VAR"\n', "outbox.password_env"),
        (MINIMAL + "[sla]\nresponse_hours = { critical = 1 }\n", "sla.response_hours.critical"),
        (MINIMAL + "[sla]\nresponse_hours = { high = 0 }\n", "sla.response_hours.high"),
        (MINIMAL + "[sla]\nresponse_hours = { low = true }\n", "sla.response_hours.low"),
        (MINIMAL + "[sla]\nresponse_hours = 4\n", "sla.response_hours"),
        (MINIMAL + "[sla]\nresponse_hour = {}\n", "sla.response_hour"),
        (MINIMAL + "[sla]\nupdate_hours = { critical = 2 }\n", "sla.update_hours.critical"),
        (MINIMAL + "[sla]\nupdate_hours = { low = -1 }\n", "sla.update_hours.low"),
        ("sla = 1\n" + MINIMAL, "sla"),
    ],
)
def test_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    message = str(info.value)
    assert message.startswith(key), message


def test_unset_password_env_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="MAILDESK_TEST_UNSET_VAR is not set"):
        parse(MINIMAL + IMAP + 'password_env = "MAILDESK_TEST_UNSET_VAR"\n')


def test_plain_imap_error_explains_why() -> None:
    with pytest.raises(ConfigError, match="unencrypted"):
        parse(MINIMAL + IMAP + 'security = "plain"\n')


def test_unknown_section_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"^slas: unknown section \(known: .*sla, .*tickets"):
        parse(MINIMAL + "[slas]\n")


def test_unknown_key_lists_the_known_keys() -> None:
    with pytest.raises(ConfigError, match="support_address"):
        parse('[maildesk]\nsuport_address = "it@example.com"\n')


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        parse("[maildesk\nsupport_address = 'x'")
    assert str(info.value).startswith(f"{PATH}: not valid TOML")


@pytest.mark.parametrize("fmt", ["{prefix}-{seq[0]}", "{prefix.x}-{seq}"])
def test_number_format_errors_are_config_errors(fmt: str) -> None:
    with pytest.raises(ConfigError, match=r"^tickets\.number_format"):
        parse(MINIMAL + f'[tickets]\nnumber_format = "{fmt}"\n')


def test_number_format_with_escaped_seq_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^tickets\.number_format"):
        parse(MINIMAL + '[tickets]\nnumber_format = "{prefix}-{date:%Y%m%d}-{{seq}}"\n')


# --- accepted values and derived values --------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_plain_imap_is_allowed_on_loopback(host: str) -> None:
    text = MINIMAL + IMAP.replace("imap.example.com", host) + 'security = "plain"\n'
    assert parse(text).imap[0].security == "plain"


def test_move_with_a_folder_is_accepted() -> None:
    cfg = parse(MINIMAL + IMAP + 'on_done = "move"\nmove_to = "Done/已处理"\n')
    assert (cfg.imap[0].on_done, cfg.imap[0].move_to) == ("move", "Done/已处理")


def test_password_from_the_environment() -> None:
    text = (
        MINIMAL
        + IMAP
        + 'password = "ignored"\npassword_env = "IMAP_PW"\n'
        + '[outbox]\npassword_env = "SMTP_PW"\n'
    )
    cfg = parse(text, env={"IMAP_PW": "imap-秘密", "SMTP_PW": "smtp-secret"})
    assert cfg.imap[0].password == "imap-秘密"
    assert cfg.outbox.password == "smtp-secret"
    assert not hasattr(cfg.imap[0], "password_env")


def test_inline_password_without_env() -> None:
    cfg = parse(MINIMAL + IMAP + 'password = "inline"\n')
    assert cfg.imap[0].password == "inline"


def test_relative_paths_resolve_against_the_config_folder() -> None:
    text = (
        '[maildesk]\nsupport_address = "it@example.com"\ndata_dir = "var"\n'
        'templates_dir = "tpl"\ndirectory_csv = "staff/people.csv"\n'
        '[database]\nurl = "sqlite:///db/maildesk.db"\n'
        '[outbox]\nfolder = "/srv/outbox"\n'
    )
    cfg = parse(text)
    assert cfg.database_url == f"sqlite:///{BASE}/db/maildesk.db"
    assert cfg.data_dir == BASE / "var"
    assert cfg.templates_dir == BASE / "tpl"
    assert cfg.directory_csv == BASE / "staff" / "people.csv"
    assert cfg.outbox.folder == Path("/srv/outbox")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/maildesk/maildesk.db",
        "sqlite:///:memory:",
        "postgresql+psycopg://maildesk:pw@db.example.com/maildesk",
        "postgresql://localhost/maildesk",
    ],
)
def test_absolute_and_server_database_urls_are_kept(url: str) -> None:
    assert parse(MINIMAL + f'[database]\nurl = "{url}"\n').database_url == url


def test_defaults_and_message_id_domain() -> None:
    cfg = parse(MINIMAL)
    assert cfg.message_id_domain == "example.com"
    assert cfg.templates_dir is None and cfg.directory_csv is None
    assert cfg.tickets.prefix == "IT"
    assert cfg.smtp_intake.port == 8025
    custom = parse(MINIMAL + 'message_id_domain = "tickets.example.net"\n')
    assert custom.message_id_domain == "tickets.example.net"


def test_all_own_addresses_are_lower_case() -> None:
    text = (
        '[maildesk]\nsupport_address = "IT-Support@Example.com"\n'
        'own_addresses = ["Helpdesk@Example.COM"]\n'
    )
    assert parse(text).all_own_addresses == frozenset(
        {"it-support@example.com", "helpdesk@example.com"}
    )


# --- finding the file --------------------------------------------------------------------


def test_find_path_prefers_the_explicit_path() -> None:
    env = {config.CONFIG_ENV: "/etc/maildesk/env.toml"}
    assert config.find_path("/opt/explicit.toml", env) == Path("/opt/explicit.toml")


def test_find_path_then_the_environment() -> None:
    env = {config.CONFIG_ENV: "/etc/maildesk/env.toml"}
    assert config.find_path(None, env) == Path("/etc/maildesk/env.toml")
    assert config.find_path("", env) == Path("/etc/maildesk/env.toml")


def test_find_path_then_the_current_folder() -> None:
    assert config.find_path(None, {}) == Path("maildesk.toml")
    assert config.find_path(None, {config.CONFIG_ENV: ""}) == Path("maildesk.toml")


def test_config_env_name() -> None:
    assert config.CONFIG_ENV == "MAILDESK_CONFIG"


def test_load_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "absent.toml", env={})


def test_load_reads_and_resolves(tmp_path: Path) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(MINIMAL + '[database]\nurl = "sqlite:///maildesk.db"\n', encoding="utf-8")
    cfg = config.load(path, env={})
    assert cfg.path == path
    assert cfg.database_url == f"sqlite:///{tmp_path.resolve()}/maildesk.db"


# --- [sla] -------------------------------------------------------------------------------


def test_sla_defaults_are_the_service_standard() -> None:
    sla = parse(MINIMAL).section(SLA_SECTION)
    assert dict(sla.response_hours) == {"urgent": 1, "high": 2, "medium": 4, "low": 8}


def test_sla_priorities_left_out_keep_their_default() -> None:
    sla = parse(MINIMAL + "[sla]\nresponse_hours = { high = 1.5, low = 24 }\n").section(SLA_SECTION)
    assert dict(sla.response_hours) == {"urgent": 1, "high": 1.5, "medium": 4, "low": 24}


def test_sla_targets_in_minutes_per_priority() -> None:
    text = "[sla]\nresponse_hours = { urgent = 0.5 }\nresolution_hours = { urgent = 9 }\n"
    sla = parse(MINIMAL + text + 'calendar = { urgent = "24x7" }\n').section(SLA_SECTION)
    assert sla.target_minutes("response", "urgent") == 30
    assert sla.target_minutes("response", "low") == 8 * 60
    assert sla.target_minutes("resolution", "urgent") == 9 * 60
    assert sla.target_minutes("resolution", "low") is None  # no resolution target
    assert sla.around_the_clock("urgent") and not sla.around_the_clock("high")
    assert sla.escalation_hours["medium"] == (4,) and sla.remind_at == 0.75


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('calendar = { low = "weekends" }', "sla.calendar.low"),
        ("remind_at = 1", "sla.remind_at"),
        ("escalation_hours = { high = [4, 2] }", "sla.escalation_hours.high"),
        ("resolution_hours = { critical = 2 }", "sla.resolution_hours.critical"),
    ],
)
def test_sla_bad_values_name_their_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(key)):
        parse(MINIMAL + "[sla]\n" + text + "\n")


# --- the registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    size: int
    folder: Path


@pytest.fixture
def demo_section(monkeypatch: pytest.MonkeyPatch) -> config.Table[Demo]:
    """A section a feature might declare, registered for one test only."""
    monkeypatch.setattr(registry, "_SECTIONS", dict(registry._SECTIONS))
    schema: config.Schema = {"size": (3, whole_number(1, 9)), "folder": ("demo", text)}
    return config.register(
        config.Table("demo", schema, lambda v, ctx: Demo(v["size"], ctx.path(v["folder"])))
    )


def test_a_registered_section_is_checked_built_and_typed(demo_section: config.Table[Demo]) -> None:
    assert parse(MINIMAL).section(demo_section) == Demo(3, BASE / "demo")
    cfg = parse(MINIMAL + "[demo]\nsize = 5\nfolder = '/srv/demo'\n")
    assert cfg.section(demo_section) == Demo(5, Path("/srv/demo"))
    with pytest.raises(ConfigError, match=r"^demo\.size: expected a whole number from 1 to 9"):
        parse(MINIMAL + "[demo]\nsize = 10\n")
    with pytest.raises(ConfigError, match=r"^demo\.sise: unknown key \(known keys: folder, size\)"):
        parse(MINIMAL + "[demo]\nsise = 1\n")


def test_a_section_name_is_declared_once(demo_section: config.Table[Demo]) -> None:
    with pytest.raises(ValueError, match=r"\[demo\] is declared twice"):
        config.register(config.Table("demo", {}, lambda v, ctx: None))


def test_reading_a_section_that_was_not_built_says_so() -> None:
    unregistered = config.Table("nowhere", {}, lambda v, ctx: 1)
    with pytest.raises(LookupError, match="FEATURE_MODULES"):
        parse(MINIMAL).section(unregistered)


def test_core_sections_are_the_named_attributes() -> None:
    cfg = parse(MINIMAL + IMAP)
    assert cfg.section(core.TICKETS) is cfg.tickets
    assert cfg.section(core.OUTBOX) is cfg.outbox
    assert cfg.section(core.IMAP) == cfg.imap
    assert cfg.own_addresses == () and cfg.tickets.other_prefixes == ()  # defaults checked too


# --- secrets=False: read-only commands ---------------------------------------------------

UNSET = "MAILDESK_TEST_UNSET_VAR"
PEOPLE = '[[people]]\nname = "王工"\nemail = "wang@example.com"\n'


def test_without_secrets_an_unset_variable_leaves_the_secret_empty() -> None:
    text = (
        MINIMAL + f'[outbox]\npassword_env = "{UNSET}"\n[security]\nsecret_env = "{UNSET}"\n'
        + PEOPLE + IMAP + f'password_env = "{UNSET}"\n'
    )  # fmt: skip
    cfg = config.parse(text, PATH, env={}, secrets=False)
    assert (cfg.imap[0].password, cfg.outbox.password, cfg.security.secret) == ("", "", "")
    with pytest.raises(ConfigError, match=r"^security\.secret_env: .* is not set"):
        config.parse(text, PATH, env={})


def test_without_secrets_a_set_variable_is_still_read() -> None:
    text = MINIMAL + IMAP + 'password_env = "IMAP_PW"\n'
    cfg = config.parse(text, PATH, env={"IMAP_PW": "pw"}, secrets=False)
    assert cfg.imap[0].password == "pw"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (MINIMAL + '[security]\nsecret = "short"\n' + PEOPLE, "security.secret"),
        (MINIMAL + f'[outbox]\npassword_env = "{UNSET}"\nport = 0\n', "outbox.port"),
        (MINIMAL + IMAP + f'password_env = "{UNSET}"\nsecurity = "plain"\n', "imap[0].security"),
    ],
)
def test_without_secrets_everything_else_is_still_checked(text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{re.escape(key)}:"):
        config.parse(text, PATH, env={}, secrets=False)


def test_load_without_secrets(tmp_path: Path) -> None:
    path = tmp_path / "maildesk.toml"
    path.write_text(MINIMAL + f'[outbox]\npassword_env = "{UNSET}"\n', encoding="utf-8")
    assert config.load(path, env={}, secrets=False).outbox.password == ""
    with pytest.raises(ConfigError, match=r"^outbox\.password_env"):
        config.load(path, env={})
