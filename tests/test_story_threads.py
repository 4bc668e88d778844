"""The whole story over Dovecot and aiosmtpd, written the way mail clients write replies,
then every person's mailbox threaded with the References algorithm (JWZ): exactly one
conversation per ticket per person.

user → ack → notification → engineer text + #status → user reply → #assign → the new
assignee commands at once (their first notification is signed for them) → #resolve.
"""

from __future__ import annotations

import email
import email.policy
from collections import defaultdict
from email.message import EmailMessage, Message

from maildesk.pipeline import tags
from maildesk.store import tickets

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .jwz import thread_roots
from .servers.dovecot import Dovecot
from .test_daemon import running

PEOPLE = """
[security]
secret = "0123456789abcdef-test-secret"

[[people]]
name = "王工"
email = "wang.gong@example.com"
groups = ["network"]

[[people]]
name = "李工"
email = "li.gong@example.com"
groups = ["desktop"]

[[people]]
name = "陈组长"
email = "lead@example.com"
groups = ["network"]
role = "lead"
"""
USER = "zhang.wei@example.com"
WATCHER = "wang.fang@example.com"
WANG = "wang.gong@example.com"
LI = "li.gong@example.com"


class Story:
    """Mail as each person's client writes it, and each person's mailbox."""

    def __init__(self, dovecot: Dovecot, sink: SmtpSink) -> None:
        self.dovecot = dovecot
        self.sink = sink
        self.sent: dict[str, list[Message]] = defaultdict(list)
        self.count = 0

    def send(self, sender: str, body: str, subject: str, parent: Message | None = None,
             cc: str = "") -> Message:  # fmt: skip
        self.count += 1
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "it-support@example.com", subject
        msg["Message-ID"] = f"<client-{self.count}@mua.example.com>"
        if cc:
            msg["Cc"] = cc
        if parent is not None:  # what Thunderbird, Outlook and Foxmail do
            parent_id = "".join(str(parent["Message-ID"]).split())
            refs = "".join(str(parent.get("References", "")).split("\n"))
            msg["In-Reply-To"] = parent_id
            msg["References"] = " ".join(part for part in (refs, parent_id) if part.strip())
        msg.set_content(body)
        self.sent[email.utils.parseaddr(sender)[1]].append(msg)
        self.dovecot.append("support", msg.as_bytes())
        return msg

    def received(self, to: str) -> list[Message]:
        with self.sink.lock:
            raws = [raw for _, rcpts, raw in self.sink.messages if to in rcpts]
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in raws]

    def wait(self, to: str, count: int) -> Message:
        wait_until(
            lambda: len(self.received(to)) >= count, timeout=30, what=f"mail {count} to {to}"
        )
        return self.received(to)[count - 1]

    def mailbox(self, person: str) -> list[Message]:
        """What the person's client shows: what they received and what they sent."""
        got = self.received(person)
        if person == WATCHER:  # in Cc of the first mail, so it is in their inbox too
            got.append(self.sent[USER][0])
        return [*got, *self.sent.get(person, [])]


def body_text(msg: Message) -> str:
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_one_thread_per_ticket_per_person(
    make_sqlite_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    cfg = make_sqlite_config(
        transport="smtp", smtp_port=smtp_sink.port, imap={"port": dovecot.port}, extra=PEOPLE
    )
    story = Story(dovecot, smtp_sink)
    with running(cfg):
        first = story.send(f"张伟 <{USER}>", "早上开始 VPN 连不上，交换机端口灯不亮。",
                           "VPN 连不上了", cc=f"王芳 <{WATCHER}>")  # fmt: skip
        ack = story.wait(USER, 1)
        number = str(ack["Subject"]).split("]")[0].strip("[")
        assert "4 个工作小时内，即 " in body_text(ack) and "交换机端口灯不亮" in body_text(ack)
        note1 = story.wait(WANG, 1)
        assert tags.TAGGED.match(str(note1["Message-ID"]).strip().strip("<>"))

        working = "#status in_progress\n我正在检查您的端口。"
        story.send(f"王工 <{WANG}>", working, f"Re: {note1['Subject']}", note1)
        relay1 = story.wait(USER, 2)
        assert "我正在检查您的端口" in body_text(relay1) and WANG not in relay1.as_string()
        story.wait(WATCHER, 1)

        story.send(f"张伟 <{USER}>", "还是连不上。", f"Re: {relay1['Subject']}", relay1)
        note2 = story.wait(WANG, 2)
        assert "张伟" in body_text(note2) and "还是连不上" in body_text(note2)

        handover = "#assign 李工\n#note 桌面组更熟悉这个型号"
        story.send(f"王工 <{WANG}>", handover, f"Re: {note2['Subject']}", note2)
        assigned = story.wait(LI, 1)  # the new assignee hears at once, with a tag of their own
        assert "已指派给您" in body_text(assigned)

        fixed = "#resolve 已重置交换机端口\n请再试一次。"
        story.send(f"李工 <{LI}>", fixed, f"Re: {assigned['Subject']}", assigned)
        relay2 = story.wait(USER, 3)
        assert "已重置交换机端口" in body_text(relay2) and LI not in relay2.as_string()
        story.wait(WATCHER, 2)

        def resolved() -> bool:
            with build_service(cfg).store.transaction() as tx:
                ticket = tickets.view(tx, number)
            return ticket is not None and ticket.status == "resolved"

        wait_until(resolved, what="resolved by the new assignee")

    for person in (USER, WATCHER, WANG, LI):
        mailbox = story.mailbox(person)
        threads = thread_roots(mailbox)
        assert len(threads) == 1, f"{person}: {len(threads)} threads for one ticket"
        assert len(threads[0].message_ids) == len(mailbox)
    assert first["Message-ID"] in str(relay2["References"])
    for person in (USER, WATCHER, WANG, LI):  # nobody sees a tag bound to someone else
        for msg in story.received(person):
            ids = str(msg.get("References", "")).replace("<", " ").replace(">", " ").split()
            ids.append(str(msg["Message-ID"]).strip().strip("<>"))
            assert all(tags.bound_to(i, person) for i in ids if tags.TAGGED.match(i)), person
