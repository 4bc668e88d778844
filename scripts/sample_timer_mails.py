"""Write the mails the clock sends in one story as .eml files, to look at (and render to PNG).

    .venv/bin/python scripts/sample_timer_mails.py OUT_DIR [zh-CN|en]

Runs the real pipeline and the real timer tick (timers.tick.run with the business calendar,
as the daemon runs it) on a throwaway SQLite database, on a test clock, no network.  A
user's mail on Monday 2026-11-23 09:00 (Shanghai) that nobody answers: the SLA reminder
(13:00, after the lunch break) and the escalation to the lead (14:00); the engineer takes it
(in progress) and says nothing for 30 business minutes: a progress note; he asks for a
screenshot with #wait: the waiting reminder after 3 business days, the auto-resolve notice
after 7; the survey; the user's low answer opens a review for the lead and the manager;
its reminder; the closing notice 7 days after the resolution.  Each outgoing mail is written
as OUT_DIR/<locale>-<nn>-<step>-<kind>-<recipient>.eml.  Render them with
scripts/render_mail_png.py.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

from sample_mails import sample_service  # scripts/ is the script's own folder on sys.path

from maildesk.clock import TestClock
from maildesk.service import Service
from maildesk.sla.usecases import business_hours
from maildesk.store import outbox as outbox_rows
from maildesk.timers import tick

SH = timezone(timedelta(hours=8))
START = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # a Monday
USER, WANG = "张伟 <zhang.wei@example.com>", "王工 <wang.gong@example.com>"
CONFIG = """
[maildesk]
support_address = "it-support@example.com"
locale = "{locale}"
data_dir = "{folder}"
[database]
url = "sqlite:///{folder}/maildesk.db"
[routing]
rules_file = "{rules}"
[security]
secret = "sample-secret-0123456789"
[sla]
escalation_hours = {{ medium = [1, 2] }}
[inform]
progress_minutes = 30
[[people]]
name = "王工"
email = "wang.gong@example.com"
groups = ["network"]
[[people]]
name = "陈组长"
email = "lead@example.com"
role = "lead"
[[people]]
name = "赵经理"
email = "zhao@example.com"
role = "manager"
"""


class Story:
    """The service on a test clock, and the outgoing mails written so far."""

    def __init__(self, service: Service, clock: TestClock, out: Path, locale: str) -> None:
        self.service, self.clock, self.out, self.locale = service, clock, out, locale
        self.seen = 0
        self.written: set[int] = set()

    def at(self, when: datetime) -> None:
        self.clock.set(when.astimezone(UTC))

    def tick(self, when: datetime, step: str) -> None:
        self.at(when)
        now = self.clock.now()
        working = business_hours(self.service.store, self.service.cfg, now)
        tick.run(self.service.store, self.service.renderer, now, "sample:1", working_time=working)
        self.write(step)

    def ingest(self, when: datetime, step: str, sender: str, subject: str, body: str,
               parent: str = "") -> str:  # fmt: skip
        self.at(when)
        self.seen += 1
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "it-support@example.com", subject
        msg["Message-ID"] = f"<timer-sample-{self.seen}@client.example.com>"
        if parent:
            msg["In-Reply-To"] = msg["References"] = f"<{parent}>"
        msg.set_content(body)
        number = self.service.ingest(msg.as_bytes(), "sample").ticket_number
        self.write(step)
        return number

    def rows(self) -> list[outbox_rows.OutboxRow]:
        with self.service.store.transaction() as tx:
            return sorted(outbox_rows.listing(tx, limit=1000), key=lambda r: r.id)

    def last(self, kind: str, to: str) -> str:
        """The Message-ID of the newest mail of `kind` to `to` (a reply's parent)."""
        return [
            r.message_id for r in self.rows() if r.kind == kind and r.recipients[0].startswith(to)
        ][-1]

    def write(self, step: str) -> None:
        with self.service.store.transaction() as tx:
            for row in outbox_rows.listing(tx, limit=1000):
                if row.id in self.written:
                    continue
                self.written.add(row.id)
                name = f"{row.kind}-{row.recipients[0].split('@')[0]}"
                path = self.out / f"{self.locale}-{row.id:02d}-{step}-{name}.eml"
                path.write_bytes(outbox_rows.raw(tx, row.id) or b"")
                print(path)


def story(s: Story) -> None:
    day = START.replace
    body = "早上开始 VPN 一直连不上，提示错误 809。\n三楼财务部的同事都一样。\n\n谢谢！"
    number = s.ingest(START, "new", USER, "VPN 连不上了，错误 809", body)
    s.tick(day(hour=13), "sla_reminder")
    s.tick(day(hour=14), "sla_escalation")
    subject = f"Re: [{number}] VPN 连不上了，错误 809"
    take = "#status in_progress\n您好，我在查 VPN 网关的日志，稍后回复您。"
    s.ingest(day(hour=14, minute=10), "taken", WANG, subject, take, s.last("notification", "wang"))
    s.tick(day(hour=14, minute=40), "progress_note")
    ask = "#wait\n请把 VPN 客户端的报错截图发给我，谢谢。"
    s.ingest(day(hour=15), "wait", WANG, subject, ask, s.last("notification", "wang"))
    s.tick(day(day=26, hour=15), "waiting_reminder")  # 3 business days
    s.tick(datetime(2026, 12, 2, 15, 0, tzinfo=SH), "auto_resolved")  # 7 business days
    s.tick(datetime(2026, 12, 2, 15, 1, tzinfo=SH), "survey")
    said = "不满意\n等了一个多星期，问题也没有解决。"
    survey = s.last("survey", "zhang.wei")
    s.ingest(datetime(2026, 12, 2, 16, 0, tzinfo=SH), "review", USER, subject, said, survey)
    s.tick(datetime(2026, 12, 7, 9, 0, tzinfo=SH), "review_remind")  # 75 %: Fri 18:00 → Mon
    s.tick(datetime(2026, 12, 7, 16, 0, tzinfo=SH), "review_escalate")  # 24 business hours
    s.tick(datetime(2026, 12, 9, 15, 0, tzinfo=SH), "closing_notice")  # 7 days resolved


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, locale = Path(argv[0]), (argv[1] if len(argv) > 1 else "zh-CN")
    out.mkdir(parents=True, exist_ok=True)
    with sample_service(CONFIG, locale) as service:
        clock = TestClock(START.astimezone(UTC))
        service.clock = clock.now
        story(Story(service, clock, out, locale))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
