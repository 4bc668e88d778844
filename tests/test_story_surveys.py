"""Surveys and reviews over Dovecot and aiosmtpd: resolved → survey by SMTP → the user
clicks a link (a mail their client sends) → a plain reply with a low score → the lead
and the manager get the review by SMTP → the lead's `#复核 完成` closes it.  The ticket
stays resolved throughout."""

from __future__ import annotations

import re
from urllib.parse import unquote

from maildesk.store import surveys, tickets

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .servers.dovecot import Dovecot
from .test_daemon import running
from .test_story_threads import PEOPLE, USER, WANG, Story, body_text

LEAD = "lead@example.com"
MANAGER = '\n[[people]]\nname = "赵经理"\nemail = "zhao@example.com"\nrole = "manager"\n'


def test_survey_and_review_over_imap_and_smtp(
    make_sqlite_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cfg = make_sqlite_config(transport="smtp", smtp_port=smtp_sink.port,
                             imap={"port": dovecot.port}, extra=PEOPLE + MANAGER)  # fmt: skip
    story = Story(dovecot, smtp_sink)

    def answers() -> list[surveys.AnswerRow]:
        with build_service(cfg).store.transaction() as tx:
            return surveys.listing(tx)

    def status(number: str) -> str:
        with build_service(cfg).store.transaction() as tx:
            ticket = tickets.view(tx, number)
        assert ticket is not None
        return ticket.status

    with running(cfg) as daemon:
        story.send(f"张伟 <{USER}>", "VPN 连不上，交换机端口灯不亮。", "VPN 连不上了")
        ack = story.wait(USER, 1)
        number = str(ack["Subject"]).split("]")[0].strip("[")
        note = story.wait(WANG, 1)
        story.send(f"王工 <{WANG}>", "#resolve 已重置交换机端口", f"Re: {note['Subject']}", note)
        story.wait(USER, 2)  # the resolution, relayed
        wait_until(lambda: status(number) == "resolved", what="resolved")
        daemon.run_timers()  # the tick the daemon runs once a minute: delay 0 = this one
        survey = story.wait(USER, 3)
        text = body_text(survey)
        assert "您对这次服务满意吗" in text and str(survey["Auto-Submitted"]) == "auto-generated"
        subjects = [unquote(u.split("?subject=")[1]) for u in re.findall(r"mailto:(\S+)", text)]
        assert [s.split()[2] for s in subjects] == ["5", "4", "3", "2", "1"]

        story.send(f"张伟 <{USER}>", "", subjects[0])  # the link: a mail the client fills in
        wait_until(lambda: [a.score for a in answers()] == [5], what="the one-click answer")

        later = "不满意\n第二天又断了，等了半天才有人理。"
        story.send(f"张伟 <{USER}>", later, f"Re: {survey['Subject']}", survey)
        to_lead = story.wait(LEAD, 1)
        to_manager = story.wait("zhao@example.com", 1)
        for review in (to_lead, to_manager):
            assert "第二天又断了" in body_text(review) and "已重置交换机端口" in body_text(review)
        assert [(a.score, a.replaced, a.review) for a in answers()] == [
            (2, False, "open"), (5, True, "")]  # fmt: skip

        story.send(f"陈组长 <{LEAD}>", "#复核 完成 已电话回访，更换了交换机",
                   f"Re: {to_lead['Subject']}", to_lead)  # fmt: skip
        wait_until(lambda: answers()[0].review == "closed", what="the review closed")
        assert answers()[0].review_note == "已电话回访，更换了交换机"
        assert status(number) == "resolved"  # no answer reopened it
    assert len(story.received(USER)) == 3  # ack, resolution, survey: answers get no mail
