"""Pure pieces of engineers' work: signed tags, DKIM/SPF results, assignment, and what
commands change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from maildesk.cli import main
from maildesk.config import EngineerConfig
from maildesk.domain import Change, TicketRef
from maildesk.pipeline import assign, commands, tags, work
from maildesk.vocab import say

SECRET = "0123456789abcdef-secret"
WANG = EngineerConfig("王工", "wang.gong@example.com", ("network",), "engineer", True)
LI = EngineerConfig("李工", "li.gong@example.com", ("network",), "engineer", True)
OFF = EngineerConfig("休假", "off@example.com", ("network",), "engineer", False)
BOSS = EngineerConfig("赵经理", "zhao@example.com", ("network",), "manager", True)
PEOPLE = (WANG, LI, OFF, BOSS)
TICKET = TicketRef(1, "IT-20261122-0001", "new", "VPN", "zhang.wei@example.com")


def test_signed_message_id_proves_ticket_and_engineer() -> None:
    mid = tags.signed_message_id(SECRET, TICKET.number, WANG.email, "0a1b2c3d4e5f6071", "x.com")
    assert tags.proves([mid], SECRET, TICKET.number, WANG.email)
    assert tags.proves(["other@x", mid], SECRET, TICKET.number.lower(), WANG.email.upper())
    assert not tags.proves([mid], SECRET, TICKET.number, LI.email)  # someone else's
    assert not tags.proves([mid], SECRET, "IT-20261122-0002", WANG.email)  # other ticket
    assert not tags.proves([mid], "another-secret-0000", TICKET.number, WANG.email)
    forged = mid[:-20] + "0" * 8 + mid[-12:]
    assert not tags.proves([forged], SECRET, TICKET.number, WANG.email)
    assert not tags.proves([mid], "", TICKET.number, WANG.email)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("mx.example.com; dkim=pass header.d=example.com; spf=fail", True),
        ("mx.example.com; spf=pass smtp.mailfrom=wang.gong@example.com", True),
        ("mx.example.com; dkim=pass header.d=mail.example.com", False),
        ("mx.example.com; dkim=fail header.d=example.com", False),
        ("evil.example; dkim=pass header.d=example.com", False),  # untrusted authserv-id
        ("", False),
    ],
)
def test_authentication_results(header: str, ok: bool) -> None:
    assert tags.authenticated(header, WANG.email, ("mx.example.com",)) is ok


def test_round_robin_and_fewest_open_skip_unavailable_and_managers() -> None:
    assert assign.pick("network", PEOPLE, "round_robin", {}, "") == WANG
    assert assign.pick("network", PEOPLE, "round_robin", {}, WANG.email) == LI
    assert assign.pick("network", PEOPLE, "round_robin", {}, LI.email) == WANG
    counts = {WANG.email: 3, LI.email: 1}
    assert assign.pick("network", PEOPLE, "fewest_open", counts, "") == LI
    assert assign.pick("desktop", PEOPLE, "round_robin", {}, "") is None
    assert assign.resolve("李工", PEOPLE) == LI and assign.resolve("wang.gong", PEOPLE) == WANG


@pytest.mark.parametrize(
    ("reply", "changes"),
    [
        ("#status in_progress", {("status", "new", "in_progress")}),
        ("#解决 已重置", {("status", "new", "resolved")}),
        ("#take\n#优先级 紧急", {("assignee", "", WANG.email), ("status", "new", "assigned"),
                                  ("priority", "medium", "urgent")}),
        ("#指派 李工", {("assignee", "", LI.email), ("status", "new", "assigned")}),
        ("#分类 网络", {("category", "其他", "网络问题")}),
        ("#note 只是备注", set()),
        ("#status", set()),
    ],
)  # fmt: skip
def test_commands_become_changes(reply: str, changes: set[tuple[str, str, str]]) -> None:
    ticket = TicketRef(1, "IT-1", "new", "x", "u@example.com", category="其他")
    parsed = commands.extract(reply)
    assert not parsed.errors
    got, errors = work.changes_for(ticket, parsed.commands, WANG, PEOPLE)
    assert errors == () and {(c.field, c.old, c.new) for c in got} == changes


def test_unknown_engineer_applies_nothing() -> None:
    parsed = commands.extract("#status in_progress\n#assign 不存在的人")
    got, errors = work.changes_for(TICKET, parsed.commands, WANG, PEOPLE)
    assert got == () and "不存在的人" in say(errors[0], "zh-CN")


@pytest.mark.parametrize(
    ("status", "reply", "refused"),
    [
        ("closed", "#wait", True),
        ("closed", "#escalate 紧急", True),
        ("rejected", "#resolve", True),
        ("resolved", "#status in_progress", True),
        ("new", "#status new", True),
        ("closed", "#reopen", False),
        ("in_progress", "#wait", False),
        ("waiting_on_user", "#status in_progress", False),
        ("resolved", "#close", False),
        ("closed", "#assign 李工", True),
    ],
)
def test_commands_follow_the_lifecycle(status: str, reply: str, refused: bool) -> None:
    ticket = TicketRef(1, "IT-1", status, "x", "u@example.com", assignee=WANG.email)
    got, errors = work.changes_for(ticket, commands.extract(reply).commands, WANG, PEOPLE)
    assert bool(errors) is refused and (got == ()) is refused
    if refused:
        zh, en = say(errors[0], "zh-CN"), say(errors[0], "en")
        assert reply.split()[0] in zh and "_" not in zh.replace(reply, "")
        assert reply.split()[0] in en


def test_reopen_returns_to_assigned_or_new() -> None:
    closed = TicketRef(1, "IT-1", "closed", "x", "u@example.com", assignee=WANG.email)
    got, _ = work.changes_for(closed, commands.extract("#reopen").commands, WANG, PEOPLE)
    assert got == (Change("status", "closed", "assigned"),)


def test_rules_test_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(tmp_path)]) == 0
    eml = tmp_path / "m.eml"
    eml.write_text("From: a@example.com\nSubject: VPN 连不上\n\n交换机坏了\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(tmp_path / "maildesk.toml"), "rules", "test", str(eml)]) == 0
    out = capsys.readouterr().out
    assert "MATCH" in out and "category=网络问题" in out and "group=network" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\nmatch.subject.keywords = ["a"]\nset.category = "nope"\n')
    cfg = (tmp_path / "maildesk.toml").read_text()
    cfg = cfg.replace('rules_file = ""', f'rules_file = "{bad}"', 1)
    (tmp_path / "maildesk.toml").write_text(cfg)
    assert main(["--config", str(tmp_path / "maildesk.toml"), "rules", "test", str(eml)]) == 2
    assert "line 4" in capsys.readouterr().err


def test_notification_targets() -> None:
    from maildesk import config as config_mod
    from maildesk.pipeline import notify

    cfg = config_mod.parse(
        '[maildesk]\nsupport_address = "it@example.com"\n[security]\nsecret = "x' + "y" * 20
        + '"\n[[people]]\nname = "王工"\nemail = "wang.gong@example.com"\ngroups = ["network"]\n'
        '[[people]]\nname = "组长"\nemail = "lead@example.com"\nrole = "lead"\n',
        Path("/tmp/x/maildesk.toml"),
        env={},
    )  # fmt: skip
    emails = lambda *a: [p.email for p in notify.targets(*a, cfg)]  # noqa: E731
    assert emails("wang.gong@example.com", "network") == ["wang.gong@example.com"]
    assert emails("", "network") == ["wang.gong@example.com"]
    assert emails("gone@example.com", "network") == ["wang.gong@example.com"]
    assert emails("", "") == ["lead@example.com"]


def test_past_the_hourly_limit_a_repeated_text_is_held_and_a_new_one_delivered() -> None:
    """Breaks a loop of two auto-responders talking through relay and notification,
    without silencing the person: only the same words again are held."""
    from datetime import UTC, datetime, timedelta

    from maildesk import config as config_mod
    from maildesk.domain import Address, Facts, Inbound, LastReply
    from maildesk.pipeline import plan

    from .test_correlate_plan import HUMAN

    cfg = config_mod.parse(
        '[maildesk]\nsupport_address = "it@example.com"\n[security]\nsecret = "' + "s" * 20
        + '"\n[[people]]\nname = "王工"\nemail = "wang.gong@example.com"\n',
        Path("/tmp/x/maildesk.toml"),
        env={},
    )  # fmt: skip
    ticket = TicketRef(1, "IT-20261122-0001", "in_progress", "x", "u@example.com")
    reply = Inbound("m@x", Address("", "u@example.com"), None, (), (), "Re: [IT-20261122-0001]",
                    None, "", (), "我正在休假，回来后回复您。", ())  # fmt: skip
    now = datetime(2026, 11, 22, tzinfo=UTC)
    before = LastReply("u@example.com", now - timedelta(minutes=5), "我正在休假，回来后回复您。")
    calm = plan.decide(reply, Facts(ticket_by_number=ticket, last_reply=before), cfg, now, HUMAN)
    assert [(m.kind, m.hold) for m in calm.mails] == [("notification", "")]
    busy = Facts(ticket_by_number=ticket, auto_mails_last_hour=10, last_reply=before)
    looping = plan.decide(reply, busy, cfg, now, HUMAN)
    assert [m.hold.split(":")[0] for m in looping.mails] == ["loop"]  # held, not dropped
    urgent = replace(reply, text="整层楼都断网了，非常紧急！")
    person = plan.decide(urgent, busy, cfg, now, HUMAN)
    assert [(m.kind, m.hold) for m in person.mails] == [("notification", "")]
    burst = Facts(
        ticket_by_number=ticket, last_reply=replace(before, at=now - timedelta(seconds=20))
    )
    coalesced = plan.decide(urgent, burst, cfg, now, HUMAN)
    assert [m.hold.split(":")[0] for m in coalesced.mails] == ["coalesced"]
