"""Issue 8's abuse suite, tried as an attacker would: real mail into Dovecot, the daemon,
what aiosmtpd received, on SQLite and PostgreSQL, with exact counts (printed: -s).

Forged requester, DKIM proof from a trusted authserv-id (and not from another), proof by
replying, a forged engineer with a copied tag, 2,000 addresses in Cc, a disguised
executable.  File modes after `maildesk init`: tests/test_secrets_at_rest.py.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from collections import Counter
from email.message import EmailMessage
from typing import Any

import pytest

from maildesk.config import Config
from maildesk.store import events, journal, participants, tickets
from maildesk.store import outbox as outbox_rows

from .conftest import ConfigFactory, SmtpSink, build_service, wait_until
from .files import EXE
from .servers.dovecot import Dovecot
from .test_daemon import running

SUPPORT = "it-support@example.com"
USER = "zhang.wei@example.com"
WANG = "wang.gong@example.com"  # engineer A, network: VPN tickets are his
LI = "li.gong@example.com"  # engineer B
LEAD = "lead@example.com"
ATTACKER = "attacker@evil.example"
COLLEAGUE = "wang.fang@example.com"
PEOPLE = """
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


def config(make_config: ConfigFactory, dovecot: Dovecot, sink: SmtpSink, auth: str = "") -> Config:
    security = '[security]\nsecret = "0123456789abcdef-test-secret"\nmax_watchers = 3\n'
    extra = security + (f'trusted_authserv_ids = ["{auth}"]\n' if auth else "") + PEOPLE
    return make_config(transport="smtp", smtp_port=sink.port, imap={"port": dovecot.port},
                       extra=extra)  # fmt: skip


class Desk:
    """Mail as each person's client writes it, what each received, what the store holds."""

    def __init__(self, cfg: Config, dovecot: Dovecot, sink: SmtpSink) -> None:
        self.cfg, self.dovecot, self.sink = cfg, dovecot, sink
        self.store = build_service(cfg).store
        self.count = 0

    def send(self, sender: str, subject: str, body: str, parent: EmailMessage | None = None,
             cc: tuple[str, ...] = (), headers: dict[str, str] | None = None,
             files: tuple[tuple[str, bytes], ...] = ()) -> EmailMessage:  # fmt: skip
        self.count += 1
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, SUPPORT, subject
        msg["Message-ID"] = f"<client-{self.count}@mua.example.com>"
        for name, value in (headers or {}).items():
            msg[name] = value
        if cc:
            msg["Cc"] = ", ".join(cc)
        if parent is not None:  # what Thunderbird, Outlook and Foxmail do
            parent_id = "".join(str(parent["Message-ID"]).split())
            refs = "".join(str(parent.get("References", "")).split("\n"))
            msg["In-Reply-To"] = parent_id
            msg["References"] = " ".join(part for part in (refs, parent_id) if part.strip())
        msg.set_content(body)
        for filename, data in files:
            msg.add_attachment(data, maintype="image", subtype="png", filename=filename)
        self.dovecot.append("support", msg.as_bytes())
        return msg

    def received(self, to: str) -> list[EmailMessage]:
        with self.sink.lock:
            raws = [raw for _, rcpts, raw in self.sink.messages if to in rcpts]
        return [email.message_from_bytes(r, policy=email.policy.default) for r in raws]

    def wait(self, to: str, count: int) -> EmailMessage:
        wait_until(lambda: len(self.received(to)) >= count, what=f"mail {count} to {to}")
        return self.received(to)[count - 1]

    def open_ticket(self, cc: tuple[str, ...] = (), files: tuple[tuple[str, bytes], ...] = (),
                    ) -> tuple[str, EmailMessage, EmailMessage]:  # fmt: skip
        """张伟's real first mail: its number, his acknowledgment, 王工's notification."""
        acks, notes = len(self.received(USER)), len(self.received(WANG))
        self.send(f"张伟 <{USER}>", "VPN 连不上了", "早上开始 VPN 连不上。", cc=cc, files=files)
        ack = self.wait(USER, acks + 1)
        return str(ack["Subject"]).split("]")[0].strip("["), ack, self.wait(WANG, notes + 1)

    def settle(self) -> None:
        """Every mail fetched and processed, every mail not held at the sink: no more comes."""

        def done() -> bool:
            if self.dovecot.count("support", criteria="UNSEEN"):
                return False
            with self.store.transaction() as tx:
                pending = journal.pending_ids(tx, 1)
                counts = outbox_rows.counts(tx)
            with self.sink.lock:
                at_sink = len(self.sink.messages)
            sent = counts.get("sent", 0)
            return not pending and set(counts) <= {"sent", "held"} and sent == at_sink

        wait_until(done, what="the daemon to settle")

    def snapshot(self, number: str, label: str) -> dict[str, Any]:
        """Exact counts for one ticket and everything that was mailed."""
        self.settle()
        with self.store.transaction() as tx:
            ticket = tickets.view(tx, number)
            assert ticket is not None
            kinds = Counter(e["kind"] for e in events.listing(tx, ticket.id))
            watchers = sorted(participants.watchers(tx, ticket.id))
            rows = outbox_rows.listing(tx, limit=100_000)
            files = participants.attachments(tx, ticket.id)
            count = tickets.count(tx)
        with self.sink.lock:
            received = Counter(r for _, rcpts, _ in self.sink.messages for r in rcpts)
        snap = {
            "tickets": count, "status": ticket.status, "watchers": watchers,
            "events": dict(sorted(kinds.items())),
            "queued": dict(sorted(Counter(r.kind for r in rows).items())),
            "queued_to": dict(sorted(Counter(a for r in rows for a in r.recipients).items())),
            "held": dict(Counter(r.kind for r in rows if r.status == "held")),
            "received": dict(sorted(received.items())),
            "attachments": [(f["filename"], f["sha256"], bool(f["refused_reason"])) for f in files],
        }  # fmt: skip
        database = self.cfg.database_url.split(":", 1)[0].split("+")[0]
        print(f"\n[{label} / {database}]", {k: v for k, v in snap.items() if k != "queued_to"})
        return snap


def text(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def kind_of(desk: Desk, msg: EmailMessage) -> str:
    mid = str(msg["Message-ID"]).strip().strip("<>")
    with desk.store.transaction() as tx:
        rows = outbox_rows.listing(tx, limit=100_000)
    return next(r.kind for r in rows if r.message_id.strip("<>") == mid)


FORGED_CLOSE = "#关闭\n问题解决了，谢谢。"


def test_forged_requester_changes_nothing_and_the_real_one_is_told(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    desk = Desk(config(make_config, dovecot, smtp_sink), dovecot, smtp_sink)
    with running(desk.cfg):
        number, _, _ = desk.open_ticket()
        # not a reply to our mail: no References, only the number in the subject
        desk.send(f"张伟 <{USER}>", f"Re: [{number}] VPN 连不上了", FORGED_CLOSE,
                  cc=(f"黑客 <{ATTACKER}>", f"王芳 <{COLLEAGUE}>"))  # fmt: skip
        notice = desk.wait(USER, 2)
        note = desk.wait(WANG, 2)
        assert kind_of(desk, notice) == "claim_notice"
        assert number in text(notice) and "关闭工单" in text(notice) and "关注人" in text(notice)
        assert "未验证" in text(note) and "问题解决了" in text(note)
        secret = "临时 VPN 密码：Tmp-4821，用完请修改。"
        desk.send(f"王工 <{WANG}>", f"Re: {note['Subject']}", secret, parent=note)
        relay = desk.wait(USER, 3)
        assert "Tmp-4821" in text(relay) and not relay["Cc"]
        snap = desk.snapshot(number, "forged requester")
    assert snap == {
        "tickets": 1, "status": "assigned", "watchers": [],
        "events": {"created": 1, "public_reply": 1, "reply": 1, "routed": 1},
        "queued": {"ack": 1, "claim_notice": 1, "notification": 2, "relay": 1},
        "queued_to": {USER: 3, WANG: 2}, "received": {USER: 3, WANG: 2},
        "attachments": [], "held": {},
    }  # fmt: skip


@pytest.mark.parametrize("authserv", ["mx.example.com", "evil.example"])
def test_dkim_pass_proves_only_from_a_trusted_authserv_id(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink, authserv: str
) -> None:
    desk = Desk(config(make_config, dovecot, smtp_sink, auth="mx.example.com"), dovecot, smtp_sink)
    with running(desk.cfg):
        number, _, _ = desk.open_ticket()
        results = f"{authserv}; dkim=pass header.d=example.com header.s=sel"
        desk.send(f"张伟 <{USER}>", f"Re: [{number}] VPN 连不上了", FORGED_CLOSE,
                  cc=(f"黑客 <{ATTACKER}>", f"王芳 <{COLLEAGUE}>"),
                  headers={"Authentication-Results": results})  # fmt: skip
        note = desk.wait(WANG, 2)
        snap = desk.snapshot(number, f"Authentication-Results from {authserv}")
    if authserv == "mx.example.com":  # proven: closed, and 王工 hears the words
        assert "问题解决了" in text(note) and "未验证" not in text(note)
        assert snap == {
            "tickets": 1, "status": "closed", "watchers": [],
            "events": {"changed": 1, "created": 1, "reply": 1, "routed": 1},
            "queued": {"ack": 1, "notification": 2},
            "queued_to": {USER: 1, WANG: 2}, "received": {USER: 1, WANG: 2},
            "attachments": [], "held": {},
        }  # fmt: skip
    else:  # claimed, exactly as with no header at all
        assert "未验证" in text(note)
        assert snap == {
            "tickets": 1, "status": "assigned", "watchers": [],
            "events": {"created": 1, "reply": 1, "routed": 1},
            "queued": {"ack": 1, "claim_notice": 1, "notification": 2},
            "queued_to": {USER: 2, WANG: 2}, "received": {USER: 2, WANG: 2},
            "attachments": [], "held": {},
        }  # fmt: skip


def test_replying_to_the_acknowledgment_proves_the_requester(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    desk = Desk(config(make_config, dovecot, smtp_sink), dovecot, smtp_sink)
    with running(desk.cfg):
        number, ack, _ = desk.open_ticket()
        desk.send(f"张伟 <{USER}>", f"Re: {ack['Subject']}", FORGED_CLOSE, parent=ack)
        desk.wait(WANG, 2)
        snap = desk.snapshot(number, "requester replies to the acknowledgment")
    assert snap == {
        "tickets": 1, "status": "closed", "watchers": [],
        "events": {"changed": 1, "created": 1, "reply": 1, "routed": 1},
        "queued": {"ack": 1, "notification": 2},
        "queued_to": {USER: 1, WANG: 2}, "received": {USER: 1, WANG: 2},
        "attachments": [], "held": {},
    }  # fmt: skip


def test_forged_engineer_with_a_tag_copied_from_another_engineers_mail(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    desk = Desk(config(make_config, dovecot, smtp_sink), dovecot, smtp_sink)
    with running(desk.cfg):
        number, _, note = desk.open_ticket()  # signed for 王工
        forged = "#解决 已重置您的账号\n临时密码 Tmp-4821"
        desk.send(f"李工 <{LI}>", f"Re: {note['Subject']}", forged, parent=note)
        refusal = desk.wait(LI, 1)
        assert kind_of(desk, refusal) == "command_refused" and "不是对服务台" in text(refusal)
        snap = desk.snapshot(number, "forged engineer, copied tag")
    assert snap == {
        "tickets": 1, "status": "assigned", "watchers": [],
        "events": {"command_refused": 1, "created": 1, "routed": 1},
        "queued": {"ack": 1, "command_refused": 1, "notification": 1},
        "queued_to": {LI: 1, USER: 1, WANG: 1}, "received": {LI: 1, USER: 1, WANG: 1},
        "attachments": [], "held": {},
    }  # fmt: skip


def test_two_thousand_addresses_in_cc(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    colleagues = [f"colleague{i}@example.com" for i in range(5)]
    outside = [f"u{i}@outside{i % 7}.example" for i in range(1990)]
    staff = [WANG, LI, LEAD]
    ours = [SUPPORT, "it-support+vip@example.com"]
    cc = (*outside[:1000], colleagues[0], *staff, colleagues[1], *ours, *colleagues[2:],
          *outside[1000:])  # fmt: skip
    assert len(cc) == len(set(cc)) == 2000
    desk = Desk(config(make_config, dovecot, smtp_sink), dovecot, smtp_sink)
    with running(desk.cfg):
        number, ack, note = desk.open_ticket(cc=cc)
        listed = text(ack).split("没有加为关注人（他们不会收到工程师的回复）：")[1]
        assert listed.count("不是本单位的地址") == 20 and "u19@outside5.example" in listed
        assert "u20@" not in listed
        desk.send(f"王工 <{WANG}>", f"Re: {note['Subject']}", "请重启 VPN 客户端。", parent=note)
        relay = desk.wait(USER, 2)
        snap = desk.snapshot(number, "2,000 addresses in Cc")
    watchers = colleagues[:3]
    assert email.utils.getaddresses([str(relay["To"])])[0][1] == USER
    assert sorted(a for _, a in email.utils.getaddresses([str(relay["Cc"])])) == watchers
    assert snap == {
        "tickets": 1, "status": "assigned", "watchers": watchers,
        "events": {"created": 1, "public_reply": 1, "routed": 1, "watcher_added": 3,
                   "watcher_refused": 1990 + 3 + 2},  # outside, engineers, over the limit
        "queued": {"ack": 1, "notification": 1, "relay": 1},
        "queued_to": {USER: 2, WANG: 1, **{w: 1 for w in watchers}},
        "received": {USER: 2, WANG: 1, **{w: 1 for w in watchers}}, "attachments": [], "held": {},
    }  # fmt: skip


def test_an_executable_named_png_is_refused_and_not_stored(
    make_config: ConfigFactory, dovecot: Dovecot, smtp_sink: SmtpSink
) -> None:
    desk = Desk(config(make_config, dovecot, smtp_sink), dovecot, smtp_sink)
    with running(desk.cfg):
        number, ack, note = desk.open_ticket(files=(("setup.png", EXE),))
        why = "setup.png：文件内容是Windows 可执行程序，与扩展名 .png 不符；可执行程序一律不接受"
        assert "以下附件未被保存" in text(ack) and why in text(ack)
        assert "setup.png" not in text(note)
        snap = desk.snapshot(number, "setup.png that is a Windows program")
    stored = [p for p in desk.cfg.attachments.folder.rglob("*") if p.is_file()]
    assert stored == []
    assert snap == {
        "tickets": 1, "status": "assigned", "watchers": [],
        "events": {"attachment_refused": 1, "created": 1, "routed": 1},
        "queued": {"ack": 1, "notification": 1},
        "queued_to": {USER: 1, WANG: 1}, "received": {USER: 1, WANG: 1},
        "attachments": [("setup.png", "", True)], "held": {},
    }  # fmt: skip
