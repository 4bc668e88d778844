"""Automatic mail (issue 10, item 4): out-of-office notices, other systems'
acknowledgments and no-reply system mail open no ticket; monitoring alerts do, never
answered; list and bulk mail goes by `[automatic] lists`.  Fixtures in
tests/fixtures/automatic/, labelled in its expected.json (human near-misses included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maildesk import config as config_mod
from maildesk.cli import main
from maildesk.pipeline.automail import Kind, classify
from maildesk.pipeline.automail.settings import AUTOMATIC
from maildesk.pipeline.parse import parse
from maildesk.store import events as ticket_events
from maildesk.store import journal, tickets
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, build_service
from .mails import make_mail

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "automatic"
LABELS: dict[str, str] = json.loads((FIXTURES / "expected.json").read_text("utf-8"))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def kind_of(raw: bytes) -> Kind:
    return classify(raw, parse(raw)).kind


@pytest.mark.parametrize("name", sorted(LABELS))
def test_fixture_kind(name: str) -> None:
    assert kind_of(fixture(name)).value == LABELS[name]


def test_every_fixture_is_labelled() -> None:
    assert {p.name for p in FIXTURES.glob("*.eml")} == set(LABELS)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ooo_waichu_foxmail_gbk.eml", "out of office: subject 外出通知"),
        ("ooo_en_out_of_office_until.eml", "out of office: subject out of office until"),
        ("ack_zendesk.eml", "acknowledgment: Zendesk"),
        ("ack_jira_service_management.eml", "acknowledgment: Jira"),
        ("ack_cn_gongdan_noreply_gbk.eml", "acknowledgment: 工单已创建"),
        ("ack_rt_autoreply.eml", "acknowledgment: RT"),
        ("system_noreply_password_gbk.eml", "system mail: noreply@ + 本邮件由系统自动发送"),
        ("alert_aliyun_noreply_footer.eml",
         "system mail: noreply@ + 本邮件由系统自动发送 + alarm subject"),
        ("alert_zabbix.eml", "Auto-Submitted: auto-generated"),
        # without Auto-Submitted: the system's subject and a second sign of it
        ("alert_alertmanager_no_header.eml",
         "monitoring alert: Alertmanager: subject + body View in AlertManager"),
        ("alert_nagios_host_down.eml",
         "monitoring alert: Nagios: subject + body ***** Nagios *****"),
        ("alert_zh_platform_fields.eml", "monitoring alert: 云监控: subject + body 告警名称："),
        ("ci_jenkins_email_ext_no_headers.eml",
         "CI notification: Jenkins: subject + body Check console output at https://"),
        ("system_postmaster_quota_gbk.eml", "system mail: postmaster@ + 本邮件由系统自动发送"),
        ("ack_freshdesk_zh_link_only.eml", "acknowledgment: 已收到您的请求"),
    ],
)  # fmt: skip
def test_reasons_name_the_rule(name: str, reason: str) -> None:
    raw = fixture(name)
    assert classify(raw, parse(raw)).reason == reason


def mail(
    subject: str, body: str, sender: str = "张伟 <zhang.wei@example.com>", **headers: str
) -> bytes:
    return make_mail(1, sender=sender, subject=subject, body=body, headers=headers)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        # an absence subject alone is not enough: the notice must read like one
        (mail("外出通知", "下午的会改到三点。"), Kind.HUMAN),
        (mail("外出通知", "我明天外出，将于周五返回。"), Kind.AUTO_REPLY),
        (mail("外出通知", "我明天外出，将于周五返回，请帮我开通VPN。"), Kind.HUMAN),
        # acknowledgment wording wants a ticket number, a ticket system or a no-reply sender
        (mail("回复: 报价", "我们已收到您的邮件，稍后回复。"), Kind.HUMAN),
        (mail("您的请求", "我们已收到您的邮件，工单编号：GD1234。"), Kind.AUTO_REPLY),
        (mail("Re: quote", "We have received your request (48213).",
              **{"X-Mailer": "Zendesk Mailer"}), Kind.AUTO_REPLY),
        # a no-reply sender alone is not automatic; with a machine sentence it is
        (mail("VPN 申请", "请开通 VPN。", sender="noreply@forms.example.com"), Kind.HUMAN),
        (mail("通知", "请查收。\n本邮件由系统自动发送，请勿回复。",
              sender="noreply@oa.example.com"), Kind.AUTO_REPLY),
        (mail("通知", "本邮件由系统自动发送，请勿回复。"), Kind.HUMAN),  # a person's address
        # auto-generated and bulk: list mail, by the list policy
        (mail("Weekly digest", "…", **{"Auto-Submitted": "auto-generated",
                                        "List-Id": "<digest.example.com>"}), Kind.LIST),
        # monitoring subjects want the system's template, header or sender as well
        (mail("Problem: VPN drops", "Problem started at 09:15 today, again."), Kind.HUMAN),
        (mail("Problem: disk full", "Problem started at 09:15:00 on 2026.12.01\nHost: fs01"),
         Kind.ALERT),
        (mail("[FIRING:1] DiskFull", "Is this serious?"), Kind.HUMAN),
        (mail("[FIRING:1] DiskFull", "1 alert", sender="alertmanager@monitor.example.com"),
         Kind.ALERT),
        (mail("[FIRING:1] DiskFull", "could you check this?\n\nalertname = DiskFull",
              sender="alertmanager@monitor.example.com"), Kind.HUMAN),
        (mail("Fwd: [FIRING:1] DiskFull", "alertname = DiskFull\nView in AlertManager",
              sender="alertmanager@monitor.example.com"), Kind.HUMAN),
        (mail("云监控告警通知", "告警策略：CPU\n告警内容：CPU > 90%"), Kind.ALERT),
        (mail("云监控告警通知", "这是什么？\n告警策略：CPU"), Kind.HUMAN),
        (mail("告警通知", "能把告警阈值调高吗"), Kind.HUMAN),
        # CI: Jenkins' subject and its header or console lines
        (mail("Build failed in Jenkins: nightly #12", "See <https://ci.example.com/job/nightly/12/>"),
         Kind.AUTO_REPLY),
        (mail("Build failed in Jenkins: nightly #12", "为什么又失败了？"), Kind.HUMAN),
        # a ticket link makes acknowledgment wording an acknowledgment; postmaster@ with a
        # machine sentence is system mail, without one a person
        (mail("Ticket Received - VPN", "We have received your request.\n"
              "https://help.example.net/helpdesk/tickets/5512"), Kind.AUTO_REPLY),
        (mail("Ticket Received - VPN", "We have received your request."), Kind.HUMAN),
        (mail("密码过期", "本邮件由系统自动发出，请勿回复。", sender="postmaster@example.com"),
         Kind.AUTO_REPLY),
        (mail("密码过期", "提醒邮件没有发出来。", sender="postmaster@example.com"), Kind.HUMAN),
        # a mail system's own notice is no alarm, whatever its subject says
        (mail("Delivery status notification: warning", "This is the MAILER-DAEMON, please "
              "do not reply to this e-mail.", sender="MAILER-DAEMON@mx.example.com"),
         Kind.AUTO_REPLY),
        # auto-generated answering a mail: not an alert
        (mail("Automatic reply: 打印机", "I am away.",
              **{"Auto-Submitted": "auto-generated"}), Kind.AUTO_REPLY),
    ],
)  # fmt: skip
def test_two_signs_never_one(raw: bytes, kind: Kind) -> None:
    assert kind_of(raw) == kind


# --- what the desk does with them ------------------------------------------------------------


def outbox_count(service: object) -> int:
    with service.store.transaction() as tx:  # type: ignore[attr-defined]
        return len(outbox_rows.listing(tx))


@pytest.mark.parametrize(
    "name",
    ["ooo_waichu_foxmail_gbk.eml", "ack_jira_service_management.eml", "ack_zendesk.eml",
     "system_noreply_password_gbk.eml", "list_mailman_post.eml",
     "ci_jenkins_email_ext_no_headers.eml", "system_postmaster_quota_gbk.eml",
     "ack_freshdesk_zh_link_only.eml"],
)  # fmt: skip
def test_automatic_mail_to_nothing_of_ours_opens_no_ticket(
    make_sqlite_config: ConfigFactory, name: str
) -> None:
    service = build_service(make_sqlite_config())
    outcome = service.ingest(fixture(name), "smtp")
    assert outcome.kind == "ignored", outcome
    assert outbox_count(service) == 0
    with service.store.transaction() as tx:
        assert tickets.count(tx) == 0


@pytest.mark.parametrize(
    "name",
    ["alert_zabbix.eml", "alert_aliyun_noreply_footer.eml", "alert_alertmanager_no_header.eml",
     "alert_zh_platform_fields.eml"],
)  # fmt: skip
def test_an_alert_is_a_ticket_never_answered(make_sqlite_config: ConfigFactory, name: str) -> None:
    service = build_service(make_sqlite_config())
    outcome = service.ingest(fixture(name), "smtp")
    assert outcome.kind == "created", outcome
    assert "no acknowledgment" in outcome.detail
    assert outbox_count(service) == 0


def test_list_mail_is_a_ticket_under_the_ticket_policy(make_sqlite_config: ConfigFactory) -> None:
    service = build_service(make_sqlite_config(extra='[automatic]\nlists = "ticket"\n'))
    outcome = service.ingest(fixture("list_mailman_post.eml"), "smtp")
    assert outcome.kind == "created", outcome
    assert outbox_count(service) == 0  # never an acknowledgment to a list


def ticket_with_ack(service: object) -> tuple[str, str]:
    created = service.ingest(make_mail(1), "smtp")  # type: ignore[attr-defined]
    with service.store.transaction() as tx:  # type: ignore[attr-defined]
        return created.ticket_number, outbox_rows.listing(tx)[0].message_id


def answering(raw: bytes, message_id: str) -> bytes:
    head, body = raw.split(b"\r\n\r\n", 1)
    kept = [h for h in head.split(b"\r\n") if not h.lower().startswith(b"in-reply-to:")]
    refs = f"In-Reply-To: <{message_id}>\r\nReferences: <{message_id}>".encode()
    return b"\r\n".join([*kept, refs]) + b"\r\n\r\n" + body


def test_a_persons_reply_through_a_list_threads(make_sqlite_config: ConfigFactory) -> None:
    service = build_service(make_sqlite_config())  # lists = "ignore"
    number, ack_id = ticket_with_ack(service)
    outcome = service.ingest(answering(fixture("list_mailman_post.eml"), ack_id), "smtp")
    assert (outcome.kind, outcome.ticket_number) == ("threaded", number)


def test_an_out_of_office_answering_our_mail_is_a_note(make_sqlite_config: ConfigFactory) -> None:
    service = build_service(make_sqlite_config())
    number, ack_id = ticket_with_ack(service)
    outcome = service.ingest(answering(fixture("ooo_waichu_foxmail_gbk.eml"), ack_id), "smtp")
    assert (outcome.kind, outcome.ticket_number) == ("threaded", number)
    with service.store.transaction() as tx:
        ticket = tickets.view(tx, number)
        assert ticket is not None
        kinds = [e["kind"] for e in ticket_events.listing(tx, ticket.id)]
        assert kinds[-1] == "auto_reply"
        assert len(outbox_rows.listing(tx)) == 1  # only the first acknowledgment


# --- configuration and the listing -------------------------------------------------------------


def test_a_bad_list_policy_names_the_key(make_sqlite_config: ConfigFactory) -> None:
    with pytest.raises(config_mod.ConfigError, match=r"automatic\.lists: expected one of"):
        make_sqlite_config(extra='[automatic]\nlists = "sometimes"\n')


def test_the_default_list_policy_is_ignore(make_sqlite_config: ConfigFactory) -> None:
    assert make_sqlite_config().section(AUTOMATIC).lists == "ignore"


def test_ignored_mail_is_listed_with_its_reason(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_sqlite_config.write()
    service = build_service(config_mod.load(path))
    for name in ("list_mailman_post.eml", "ooo_waichu_foxmail_gbk.eml"):
        service.ingest(fixture(name), "smtp")
    service.ingest(make_mail(9), "smtp")  # a person: a ticket, not listed
    with service.store.transaction() as tx:
        assert journal.pending_ids(tx, 10) == []
    capsys.readouterr()
    assert main(["--config", str(path), "ignored", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["reason"] for r in rows] == [
        "automatic reply to no ticket of ours: out of office: subject 外出通知",
        "mailing list or bulk mail: List-Id",
    ]
    assert rows[0]["sender"] == "李强 <li.qiang@partner.example.cn>"
    assert rows[0]["subject"] == "外出通知"
    assert main(["--config", str(path), "ignored"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["ID", "RECEIVED", "FROM", "SUBJECT", "REASON"]
    assert "mailing list or bulk mail: List-Id" in table
