"""Satisfaction surveys: asked once per resolution, answered by a signed one-click
mailto link or a plain reply in Chinese or English, never reopening; forged answers
change nothing; a low score opens a review with its own business-hour clock."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote

import pytest

from maildesk.cli import main
from maildesk.clock import TestClock
from maildesk.service import Service
from maildesk.store import events, surveys, tickets
from maildesk.store import outbox as outbox_rows
from maildesk.store import timers as timer_rows
from maildesk.survey import answers
from maildesk.timers import tick

from .conftest import ConfigFactory, build_service
from .test_engineers import PEOPLE, USER, mail

ENGINEER = "wang.gong@example.com"
LEAD = "lead@example.com"
MANAGER = "zhao@example.com"
# the desk's lead (in no group: the network group's tickets stay with 王工)
LEAD_PERSON = '\n[[people]]\nname = "孙组长"\nemail = "lead@example.com"\nrole = "lead"\n'
NO_CLOSE = "\n[lifecycle]\nauto_close_days = 0\n"
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


# --- reading answers (pure) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score", "comment"),
    [
        ("5", 5, ""),
        ("五", 5, ""),
        ("５分", 5, ""),
        ("★★★★", 4, ""),
        ("非常满意，谢谢王工！", 5, "谢谢王工！"),
        ("满意", 4, ""),
        ("一般。\n等了两天", 3, "等了两天"),
        ("不满意 还是很慢", 2, "还是很慢"),
        ("非常不满意", 1, ""),
        ("满意度：3", 3, ""),
        ("Very satisfied! Quick fix", 5, "Quick fix"),
        ("satisfied", 4, ""),
        ("Neutral", 3, ""),
        ("dissatisfied - took a week", 2, "took a week"),
        ("very dissatisfied", 1, ""),
        ("4/5 good", 4, "good"),
    ],
)
def test_a_score_starts_the_first_line(text: str, score: int, comment: str) -> None:
    assert answers.read(text) == answers.Scored(score, comment)


@pytest.mark.parametrize(
    "text",
    ["五楼的打印机也坏了", "一般来说重启就好", "12 点前能修好吗", "还是连不上\n5", "满意度", ""],
)
def test_other_text_is_no_answer(text: str) -> None:
    assert answers.read(text) is None


def test_a_token_proves_ticket_score_and_sender() -> None:
    secret, number = "s" * 24, "IT-20261123-0001"
    good = answers.Link(4, answers.token(secret, number, 4, USER))
    assert answers.forged(good, secret, number, USER) == ""
    assert answers.forged(good, secret, number, USER.upper()) == ""  # addresses: any case
    assert answers.forged(good, secret, "IT-20261123-0002", USER)  # another ticket
    assert answers.forged(good, secret, number, "mallory@example.com")  # another sender
    assert answers.forged(answers.Link(5, good.token), secret, number, USER)  # another score
    assert answers.forged(good, "", number, USER)  # no secret: no link proves anything
    link = answers.link_in(f"回复: [{number}] 满意度 4 {good.token}")
    assert link == good


# --- the story --------------------------------------------------------------------------------


def setup(make_config: ConfigFactory, locale: str = "zh-CN") -> tuple[Service, TestClock]:
    cfg = make_config(locale=locale, extra=PEOPLE + LEAD_PERSON + NO_CLOSE)
    clock = TestClock(START)
    return build_service(cfg, clock), clock


def rows(service: Service, kind: str) -> list[outbox_rows.OutboxRow]:
    with service.store.transaction() as tx:
        found = outbox_rows.listing(tx, limit=100000)
    return sorted((r for r in found if r.kind == kind), key=lambda r: r.id)


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def text_of(service: Service, row: outbox_rows.OutboxRow) -> str:
    with service.store.transaction() as tx:
        raw = outbox_rows.raw(tx, row.id) or b""
    part = parsed(raw).get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def resolved_ticket(service: Service, clock: TestClock, subject: str = "VPN 连不上了", n: int = 1
                    ) -> str:  # fmt: skip
    """A ticket routed to 王工 and resolved by him; the survey's tick has run."""
    outcome = service.ingest(mail(USER, subject, "交换机端口灯不亮。", n=n), "t")
    number = outcome.ticket_number
    note = [r for r in rows(service, "notification") if r.ticket_number == number][-1]
    reply = mail(f"王工 <{ENGINEER}>", f"Re: [{number}] {subject}", "#resolve 已重置端口",
                 in_reply_to=note.message_id, n=n + 100)  # fmt: skip
    worked = service.ingest(reply, "t")
    assert worked.kind == "worked", worked
    tick.run(service.store, service.renderer, clock.now(), "test:1")
    return number


def links(service: Service, number: str) -> dict[int, str]:
    """The survey's five one-click links: score → the subject its mail is sent with."""
    (survey,) = [r for r in rows(service, "survey") if r.ticket_number == number][-1:]
    found = re.findall(r"mailto:(\S+)", text_of(service, survey))
    assert len(found) == 5
    out = {}
    for url in found:
        to, _, query = url.partition("?subject=")
        assert to == "it-support@example.com"
        subject = unquote(query)
        out[int(subject.split()[2])] = subject
    return out


def state(service: Service, number: str) -> tuple[str, list[surveys.AnswerRow], list[str]]:
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        history = [e["kind"] for e in events.listing(tx, view.id)]
        found = [a for a in surveys.listing(tx) if a.ticket_number == number]
    return view.status, found, history


def test_asked_once_per_resolution_and_again_after_a_reopening(
    make_config: ConfigFactory,
) -> None:
    service, clock = setup(make_config)
    number = resolved_ticket(service, clock)
    (survey,) = rows(service, "survey")
    assert survey.recipients == (USER,) and survey.lane == "bulk"
    text = text_of(service, survey)
    assert "非常满意" in text and "非常不满意" in text and "回答调查不会重新打开工单" in text
    assert sorted(links(service, number)) == [1, 2, 3, 4, 5]
    assert links(service, number)[5].startswith(f"[{number}] 满意度 5 ")
    clock.advance(days=3)
    assert tick.run(service.store, service.renderer, clock.now(), "test:1").claimed == 0
    assert len(rows(service, "survey")) == 1
    # reopened by a reply, resolved again: a new step, a second survey
    again = mail(USER, f"Re: [{number}] VPN 连不上了", "还是连不上。", n=50)
    assert service.ingest(again, "t").kind == "threaded"
    assert state(service, number)[0] != "resolved"
    note = [r for r in rows(service, "notification") if r.ticket_number == number][-1]
    fixed = mail(f"王工 <{ENGINEER}>", f"Re: [{number}] VPN", "#resolve 换了网线",
                 in_reply_to=note.message_id, n=51)  # fmt: skip
    assert service.ingest(fixed, "t").kind == "worked"
    tick.run(service.store, service.renderer, clock.now(), "test:1")
    assert len(rows(service, "survey")) == 2
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        keys = [t.key for t in timer_rows.of_ticket(tx, view.id) if t.kind == "survey"]
    assert keys == [f"{view.id}:survey:1", f"{view.id}:survey:2"]


def test_delay_and_off(make_sqlite_config: ConfigFactory) -> None:
    cfg = make_sqlite_config(extra=PEOPLE + NO_CLOSE + "\n[survey]\ndelay_minutes = 90\n")
    clock = TestClock(START)
    service = build_service(cfg, clock)
    resolved_ticket(service, clock)
    assert rows(service, "survey") == []
    clock.advance(minutes=90)
    tick.run(service.store, service.renderer, clock.now(), "test:1")
    assert len(rows(service, "survey")) == 1
    off = make_sqlite_config(extra=PEOPLE + NO_CLOSE + "\n[survey]\nenabled = false\n")
    service = build_service(off, clock)
    resolved_ticket(service, clock, n=7)
    clock.advance(days=30)
    tick.run(service.store, service.renderer, clock.now(), "test:1")
    assert len(rows(service, "survey")) == 1  # only the first service's


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_answered_by_one_click_link_without_reopening(
    make_sqlite_config: ConfigFactory, locale: str
) -> None:
    service, clock = setup(make_sqlite_config, locale)
    number = resolved_ticket(service, clock)
    subject = links(service, number)[4]
    word = "满意度" if locale == "zh-CN" else "Survey"
    assert subject.split()[1] == word
    before = len(rows(service, "ack")) + len(rows(service, "notification"))
    outcome = service.ingest(mail(USER, subject, "", n=10), "t")
    assert (outcome.kind, outcome.ticket_number) == ("survey", number)
    status, found, history = state(service, number)
    assert status == "resolved"  # never reopened
    assert [(a.score, a.via, a.replaced) for a in found] == [(4, "link", False)]
    assert "survey_answer" in history and "reopened" not in history
    assert len(rows(service, "ack")) + len(rows(service, "notification")) == before


@pytest.mark.parametrize(
    ("locale", "said", "score", "comment"),
    [
        ("zh-CN", "满意\n王工很耐心，谢谢。", 4, "王工很耐心，谢谢。"),
        ("zh-CN", "5", 5, ""),
        ("en", "Very satisfied - quick and friendly", 5, "quick and friendly"),
        ("en", "neutral", 3, ""),
    ],
)
def test_answered_by_plain_reply_to_the_survey(
    make_sqlite_config: ConfigFactory, locale: str, said: str, score: int, comment: str
) -> None:
    service, clock = setup(make_sqlite_config, locale)
    number = resolved_ticket(service, clock)
    (survey,) = rows(service, "survey")
    reply = mail(USER, f"Re: [{number}] VPN 连不上了", said, in_reply_to=survey.message_id, n=11)
    assert service.ingest(reply, "t").kind == "survey"
    status, found, _ = state(service, number)
    assert status == "resolved"
    assert [(a.score, a.comment, a.via) for a in found] == [(score, comment, "reply")]


def test_a_reply_without_a_score_is_still_a_follow_up(make_sqlite_config: ConfigFactory) -> None:
    service, clock = setup(make_sqlite_config)
    number = resolved_ticket(service, clock)
    (survey,) = rows(service, "survey")
    reply = mail(USER, f"Re: [{number}] VPN", "五楼的也连不上了", in_reply_to=survey.message_id,
                 n=12)  # fmt: skip
    assert service.ingest(reply, "t").kind == "threaded"
    status, found, _ = state(service, number)
    assert status != "resolved" and found == []


def test_a_later_answer_replaces_the_earlier_one(make_sqlite_config: ConfigFactory) -> None:
    service, clock = setup(make_sqlite_config)
    number = resolved_ticket(service, clock)
    assert service.ingest(mail(USER, links(service, number)[5], "", n=13), "t").kind == "survey"
    clock.advance(hours=2)
    reply = mail(USER, f"Re: [{number}] VPN", "一般，第二天又断了一次", n=14)  # subject number
    assert service.ingest(reply, "t").kind == "survey"
    _, found, _ = state(service, number)
    assert [(a.score, a.replaced) for a in found] == [(3, False), (5, True)]
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        logged = [e for e in events.listing(tx, view.id) if e["kind"] == "survey_answer"]
    assert [(e["old"], e["new"]) for e in logged] == [("", "5"), ("5", "3")]


def test_forged_answers_change_nothing(make_sqlite_config: ConfigFactory) -> None:
    service, clock = setup(make_sqlite_config)
    first = resolved_ticket(service, clock, n=1)
    other = resolved_ticket(service, clock, "VPN 又断了", n=2)
    good = links(service, first)[1]
    token = good.split()[3]
    forged = [
        (USER, f"[{first}] 满意度 1 {'0' * 16}"),  # a bad token
        (USER, f"[{first}] 满意度 5 {token}"),  # another score with this token
        (USER, good.replace(first, other)),  # the token of another ticket
        ("mallory@example.com", good),  # another sender
    ]
    mails_before = len(rows(service, "review")) + len(rows(service, "ack"))
    for n, (sender, subject) in enumerate(forged, start=20):
        outcome = service.ingest(mail(sender, subject, "5", n=n), "t")
        assert outcome.kind == "survey" and "refused" in outcome.detail, outcome
    for number in (first, other):
        status, found, history = state(service, number)
        assert status == "resolved" and found == []
        assert "reopened" not in history
    assert state(service, first)[2].count("survey_refused") == 3
    assert len(rows(service, "review")) + len(rows(service, "ack")) == mails_before


# --- reviews ----------------------------------------------------------------------------------


def test_a_low_score_opens_a_review_with_its_own_business_clock(
    make_config: ConfigFactory,
) -> None:
    service, clock = setup(make_config)
    number = resolved_ticket(service, clock)
    said = "不满意\n等了两天才有人回复。"
    outcome = service.ingest(mail(USER, links(service, number)[2], said, n=30), "t")
    assert outcome.kind == "survey" and "review opened" in outcome.detail
    opened = rows(service, "review")  # one mail each: the lead and the manager
    assert sorted(r.recipients for r in opened) == [(LEAD,), (MANAGER,)]
    review = opened[0]
    text = text_of(service, review)
    assert "等了两天才有人回复" in text and "#复核 完成" in text and "已重置端口" in text
    assert "复核时限：24 个工作小时内，即 11月25日 18:00 (+08:00) 前" in text  # business terms
    # Monday 09:00 + 24 business hours (9-12, 13-18) = Wednesday 18:00; reminder at 75 %
    due = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    remind = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        pending = {t.kind: t.due_at for t in timer_rows.of_ticket(tx, view.id)
                   if t.state == "pending"}  # fmt: skip
    assert pending == {"review_remind": remind, "review_escalate": due}
    # a second low answer while it is open opens no second review
    again = mail(USER, f"Re: [{number}] VPN", "非常不满意", n=31)
    assert "already open" in service.ingest(again, "t").detail
    clock.set(remind)
    assert tick.run(service.store, service.renderer, clock.now(), "t").mails == 1
    assert rows(service, "review")[-1].recipients == (LEAD,)
    assert "提醒" in text_of(service, rows(service, "review")[-1])
    clock.set(due)
    assert tick.run(service.store, service.renderer, clock.now(), "t").mails == 1
    assert rows(service, "review")[-1].recipients == (MANAGER,)
    assert state(service, number)[0] == "resolved"


def test_review_done_closes_it_and_stops_its_clock(make_sqlite_config: ConfigFactory) -> None:
    service, clock = setup(make_sqlite_config)
    number = resolved_ticket(service, clock)
    service.ingest(mail(USER, links(service, number)[1], "太慢了", n=40), "t")
    to_lead = next(r for r in rows(service, "review") if r.recipients == (LEAD,))
    done = mail(f"孙组长 <{LEAD}>", f"Re: [{number}] VPN", "#复核 完成 已与用户电话沟通",
                in_reply_to=to_lead.message_id, n=41)  # fmt: skip
    assert service.ingest(done, "t").kind == "worked"
    with service.store.transaction() as tx:
        (answer,) = surveys.listing(tx)
        view = tickets.view(tx, number)
        assert view is not None
        left = [t for t in timer_rows.of_ticket(tx, view.id) if t.state == "pending"]
    assert (answer.review, answer.review_closed_by, answer.review_note) == (
        "closed", LEAD, "已与用户电话沟通")  # fmt: skip
    assert left == []
    clock.advance(days=10)
    assert tick.run(service.store, service.renderer, clock.now(), "t").mails == 0
    assert state(service, number)[0] == "resolved"


def test_review_done_in_english(make_sqlite_config: ConfigFactory) -> None:
    service, clock = setup(make_sqlite_config, "en")
    number = resolved_ticket(service, clock)
    service.ingest(mail(USER, f"Re: [{number}] VPN", "very dissatisfied", n=42), "t")
    to_lead = next(r for r in rows(service, "review") if r.recipients == (LEAD,))
    assert "#review done" in text_of(service, to_lead)
    done = mail(f"Lead <{LEAD}>", f"Re: [{number}] VPN", "#review done: called them back",
                in_reply_to=to_lead.message_id, n=43)  # fmt: skip
    assert service.ingest(done, "t").kind == "worked"
    with service.store.transaction() as tx:
        (answer,) = surveys.listing(tx)
    assert (answer.review, answer.review_note) == ("closed", "called them back")


def test_unknown_subject_word_is_not_a_link() -> None:
    assert answers.link_in("[IT-20261123-0001] 满意 5 0123456789abcdef") is None
    assert answers.link_in("Re: [IT-20261123-0001] Survey 5 0123456789ABCDEF") is not None


def test_surveys_list(
    make_sqlite_config: ConfigFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    service, clock = setup(make_sqlite_config)
    config = ["--config", str(service.cfg.path)]
    assert main([*config, "surveys", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no survey answers"
    number = resolved_ticket(service, clock)
    service.ingest(mail(USER, links(service, number)[4], "", n=60), "t")
    clock.advance(minutes=5)
    service.ingest(mail(USER, f"Re: [{number}] VPN", "不满意 又断了", n=61), "t")
    assert main([*config, "surveys", "list"]) == 0
    table = capsys.readouterr().out
    assert number in table and "2 dissatisfied" in table and "又断了" in table
    assert "open, due 2026-11-26 09:05 (+08:00)" in table and "4 satisfied" not in table
    assert main([*config, "surveys", "list", "--all", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(r["score"], r["replaced"], r["review"]) for r in found] == [
        (2, False, "open"), (4, True, "")]  # fmt: skip
    assert main([*config, "surveys", "list", "--open"]) == 0
    assert number in capsys.readouterr().out


def test_an_auto_reply_to_the_survey_is_no_answer(make_sqlite_config: ConfigFactory) -> None:
    service, clock = setup(make_sqlite_config)
    number = resolved_ticket(service, clock)
    (survey,) = rows(service, "survey")
    raw = mail(USER, f"自动回复: [{number}] VPN", "5", in_reply_to=survey.message_id, n=70)
    raw = b"Auto-Submitted: auto-replied\r\n" + raw
    assert service.ingest(raw, "t").kind != "survey"
    assert state(service, number)[1] == []


def test_only_a_reply_to_the_survey_counts_after_the_window(
    make_sqlite_config: ConfigFactory,
) -> None:
    service, clock = setup(make_sqlite_config)
    number = resolved_ticket(service, clock)
    (survey,) = rows(service, "survey")
    clock.advance(days=31)  # [survey] answer_within_days = 30
    late = mail(USER, f"Re: [{number}] VPN", "满意", in_reply_to=survey.message_id, n=80)
    assert service.ingest(late, "t").kind == "survey"  # it answers the survey mail itself
    named = mail(USER, f"Re: [{number}] VPN", "一般", n=81)  # only names the ticket
    assert service.ingest(named, "t").kind == "threaded"
    status, found, _ = state(service, number)
    assert [a.score for a in found] == [4] and status != "resolved"


def test_a_calendar_import_moves_an_open_review(
    make_sqlite_config: ConfigFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service, clock = setup(make_sqlite_config)
    number = resolved_ticket(service, clock)
    service.ingest(mail(USER, links(service, number)[1], "", n=90), "t")
    schedule = tmp_path / "2026.yaml"  # Tuesday 24 November becomes a day off
    schedule.write_text("year: 2026\nholidays:\n  - {date: 2026-11-24, name: 停电}\n")
    assert main(["--config", str(service.cfg.path), "calendar", "import", str(schedule)]) == 0
    capsys.readouterr()
    with service.store.transaction() as tx:
        view = tickets.view(tx, number)
        assert view is not None
        pending = {t.kind: t.due_at for t in timer_rows.of_ticket(tx, view.id)
                   if t.state == "pending"}  # fmt: skip
        (answer,) = surveys.listing(tx)
    thursday_18 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a working day later
    assert pending == {"review_remind": datetime(2026, 11, 26, 3, 0, tzinfo=UTC),
                       "review_escalate": thursday_18}  # fmt: skip
    assert answer.review_due_at == thursday_18
