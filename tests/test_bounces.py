"""Bounces from real MTAs and providers, with or without a usable sender (issue 10).

Fixtures in tests/fixtures/bounces/ are written after what Postfix, Exim, qmail,
sendmail, Exchange/Office 365, Gmail, Yahoo, Lotus Domino, GroupWise, QQ Mail/Exmail,
NetEase, Sina, Alimail and Coremail send; `human_*` are people's mail that looks close.
flufl.bounce's own collection (its sdist, fetched by scripts/test into .cache/fixtures/)
measures recall on mail we did not write."""

from __future__ import annotations

import email
import os
from pathlib import Path

import pytest
from benchmarks.bounce_recall import FLUFL_NOT_BOUNCES, measure_flufl
from benchmarks.bounce_recall import verdict as bench_verdict
from flufl.bounce import all_failures

from maildesk.pipeline.automail import Kind, Mail, classify
from maildesk.pipeline.automail.library import failures
from maildesk.pipeline.parse import parse
from maildesk.store import journal, tickets
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, build_service

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bounces"
ROOT = Path(__file__).resolve().parent.parent
FLUFL_SDIST = ROOT / ".cache" / "fixtures" / "flufl_bounce-6.0.0"
RECALL_FLOOR = 0.97  # 113 of 115 when written (maildesk alone before: 78, 67.8 %)
ADDRESS_FLOOR = 0.97  # 109 of 109 files with an expected address (73 of 77 before)

# file -> (kind, failed addresses)
CASES = {
    "postfix_bare_mailer_daemon.eml": (Kind.BOUNCE, ("li.na@partner.example.net",)),
    "exim_null_from.eml": (Kind.BOUNCE, ("wang.fang@partner.example.org",)),
    "report_without_from.eml": (Kind.BOUNCE, ("claire.martin@client.example.fr",)),
    "qmail.eml": (Kind.BOUNCE, ("zhao.lei@hosting.example.net",)),
    "sendmail.eml": (Kind.BOUNCE, ("prof.chen@univ.example.edu",)),
    "office365_zh_cn.eml": (Kind.BOUNCE, ("liu.yang@client.example.cn",)),
    "exchange_en_text.eml": (Kind.BOUNCE, ("sun.hao@corp.example.org",)),
    "exchange_x400.eml": (Kind.BOUNCE, ("gao.jie@plant.example.com",)),
    "exchange_delay.eml": (Kind.DELAY, ("lin.tao@slow.example.net",)),
    "gmail.eml": (Kind.BOUNCE, ("zhou.min.2019@gmail.com",)),
    "yahoo.eml": (Kind.BOUNCE, ("xiaoming_2020@yahoo.com",)),
    "lotus_domino.eml": (Kind.BOUNCE, ("tanaka@factory.example.jp",)),
    "groupwise.eml": (Kind.BOUNCE, ("jsmith@county.example.gov",)),
    "qq_exmail.eml": (Kind.BOUNCE, ("huang.wei@exmail-client.example.cn",)),
    "netease_163.eml": (Kind.BOUNCE, ("xu.jing_88@163.com",)),
    "sina.eml": (Kind.BOUNCE, ("ma.li@sina.com",)),
    "alimail.eml": (Kind.BOUNCE, ("tang.yu@aliyun-client.example.com",)),
    "coremail.eml": (Kind.BOUNCE, ("he.qiang@corp-coremail.example.cn",)),
    "interscan_gateway.eml": (Kind.BOUNCE, ("deng.chao@partner.example.com",)),
    "dsn_action_error.eml": (Kind.BOUNCE, ("wu.di@provider.example.net",)),
    "opensmtpd.eml": (Kind.BOUNCE, ("qian.yu@branch.example.net",)),
    "interscan_mss_transcript.eml": (Kind.BOUNCE, ("sato.k@supplier.example.co.jp",)),
    "mimecast.eml": (Kind.BOUNCE, ("r.hughes@lawfirm.example.co.uk",)),
    # the alias we wrote to as well as the mailbox it expanded to
    "sendmail_alias_expanded.eml": (
        Kind.BOUNCE,
        ("yang.li@oldlab.example.edu", "lab-helpdesk@lab.example.edu"),
    ),
}
HUMANS = (
    "human_forwarded_tuixin_qq.eml",  # 转发：系统退信, the bounce quoted inline
    "human_postmaster_notice.eml",  # a person writing from postmaster@ about 退信
    "human_about_tuixin_163.eml",  # 退信：… with the bounce's lines pasted
    "human_delivery_failure_subject.eml",  # "Delivery failure to …" + Postfix text pasted
)


def verdict(name: str) -> tuple[Kind, tuple[str, ...], str]:
    raw = (FIXTURES / name).read_bytes()
    found = classify(raw, parse(raw))
    return found.kind, found.failed_recipients, found.reason


@pytest.mark.parametrize("name", sorted(CASES))
def test_bounce_is_recognised_with_its_failed_address(name: str) -> None:
    kind, addresses, reason = verdict(name)
    assert (kind, addresses) == CASES[name], reason


@pytest.mark.parametrize("name", HUMANS)
def test_people_writing_about_bounces_are_human(name: str) -> None:
    kind, _addresses, reason = verdict(name)
    assert kind is Kind.HUMAN, reason


def test_every_fixture_has_an_expectation() -> None:
    names = {p.name for p in FIXTURES.glob("*.eml")}
    assert names == set(CASES) | set(HUMANS) | {"human_no_from.eml"}


@pytest.mark.parametrize(
    "name", ["postfix_bare_mailer_daemon.eml", "report_without_from.eml", "human_no_from.eml"]
)
def test_mail_without_a_sender_address_is_parsed(name: str) -> None:
    inbound = parse((FIXTURES / name).read_bytes())
    assert inbound.sender_missing and inbound.sender.email == ""


def test_the_library_gives_no_opinion_when_it_raises() -> None:
    """flufl.bounce's detectors raise on some input (here its SMTP32 detector on an 8-bit
    X-Mailer read with the default policy): that means "no opinion", never a crash."""
    raw = (
        b"From: MAILER-DAEMON@relay.example.net\r\nX-Mailer: SMTP32 \xcd\xcb\r\n"
        b"Subject: Undeliverable Mail\r\nContent-Type: text/plain\r\n\r\n"
        b"User mailbox exceeds allowed size: a@b.example\r\n"
    )
    mail = Mail(raw, parse(raw))
    with pytest.raises(AttributeError):  # the library itself raises on this message
        all_failures(email.message_from_bytes(raw))
    mail.__dict__["message"] = email.message_from_bytes(raw)
    assert failures(mail) == ((), ())
    assert classify(raw, parse(raw)).kind is Kind.BOUNCE  # our own rules still read it


# --- through the service: recorded, ignored or quarantined ----------------------------


def test_senderless_bounce_is_recorded_not_quarantined(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    outcome = service.ingest((FIXTURES / "postfix_bare_mailer_daemon.eml").read_bytes(), "t")
    assert outcome.kind == "bounce", outcome.detail
    with service.store.transaction() as tx:
        assert journal.quarantined(tx) == [] and tickets.count(tx) == 0


def test_senderless_report_that_is_no_bounce_is_ignored(make_config: ConfigFactory) -> None:
    raw = (FIXTURES / "report_without_from.eml").read_bytes()
    raw = raw.replace(b"Action: failed", b"Action: delivered").replace(
        b"Status: 5.1.1", b"Status: 2.0.0"
    )
    service = build_service(make_config())
    outcome = service.ingest(raw, "t")
    assert outcome.kind == "ignored" and "report without sender" in outcome.detail


def test_senderless_mail_that_is_no_report_is_quarantined(make_config: ConfigFactory) -> None:
    service = build_service(make_config())
    outcome = service.ingest((FIXTURES / "human_no_from.eml").read_bytes(), "scanner")
    assert outcome.kind == "quarantined"
    assert outcome.detail.startswith("no sender address: no From")
    with service.store.transaction() as tx:
        rows = journal.quarantined(tx)
        assert tickets.count(tx) == 0 and outbox_rows.listing(tx) == []
    assert [r.reason for r in rows] == [outcome.detail]


# --- flufl.bounce's collection: mail we did not write ---------------------------------


def flufl_sdist() -> Path:
    if FLUFL_SDIST.is_dir():
        return FLUFL_SDIST
    message = (
        f"{FLUFL_SDIST} is missing: scripts/test fetches it (pip download --no-binary :all: "
        "flufl.bounce==6.0.0 into .cache/fixtures/)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_recall_on_flufl_bounce_collection() -> None:
    tally = measure_flufl(flufl_sdist())
    assert tally.total >= 110, f"collection looks incomplete: {tally.total} files"
    recall = tally.recognised / tally.total
    assert recall >= RECALL_FLOOR, (tally.line(), tally.missed)
    assert tally.with_address / tally.addressed >= ADDRESS_FLOOR, (
        tally.line(),
        tally.wrong_address,
    )


def test_the_non_bounces_of_flufl_bounce_collection_stay_so() -> None:
    data = flufl_sdist() / "tests" / "data"
    for name, what in FLUFL_NOT_BOUNCES.items():
        found = bench_verdict((data / name).read_bytes())
        assert found is not None and found.kind not in (Kind.BOUNCE, Kind.DELAY), (name, what)
