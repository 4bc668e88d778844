"""The desk the benchmark runs: maildesk.toml with [[people]] as a real desk has them,
and the SMTP sink that accepts every mail maildesk sends.

The shipped routing rules (config/rules.toml) hand tickets to six groups; each group
has two or three engineers and a lead, one manager oversees all, one engineer is on
leave, and tickets are assigned round robin (the default strategy).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import SmtpSink

USER, PASSWORD = "support", "secret"
SUPPORT = "it-support@example.com"
HEADER_END = b"\r\n\r\n"
IN_REPLY_TO = re.compile(rb"^In-Reply-To:\s*<([^>\s]+)>", re.IGNORECASE | re.MULTILINE)
MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>\s]+)>", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    groups: tuple[str, ...]
    role: str = "engineer"
    available: bool = True


# The groups of config/rules.toml: security, accounts, desktop, network, applications,
# service-desk (the catch-all).
PEOPLE: tuple[Person, ...] = (
    Person("张伟", "zhang.wei@it.example.com", ("desktop", "service-desk")),
    Person("李娜", "li.na@it.example.com", ("desktop",)),
    Person("王强", "wang.qiang@it.example.com", ("desktop",), available=False),  # on leave
    Person("刘洋", "liu.yang@it.example.com", ("network",)),
    Person("陈静", "chen.jing@it.example.com", ("network",)),
    Person("杨帆", "yang.fan@it.example.com", ("accounts",)),
    Person("赵敏", "zhao.min@it.example.com", ("accounts", "service-desk")),
    Person("黄磊", "huang.lei@it.example.com", ("security",)),
    Person("周杰", "zhou.jie@it.example.com", ("security",)),
    Person("吴芳", "wu.fang@it.example.com", ("applications",)),
    Person("徐鹏", "xu.peng@it.example.com", ("applications",)),
    Person("孙丽", "sun.li@it.example.com", ("service-desk",)),
    Person("马超", "ma.chao@it.example.com", ("desktop", "service-desk"), "lead"),
    Person("朱琳", "zhu.lin@it.example.com", ("network", "security"), "lead"),
    Person("胡军", "hu.jun@it.example.com", ("accounts", "applications"), "lead"),
    Person("郭总", "guo.zong@it.example.com", (), "manager"),
)
ENGINEERS = frozenset(p.email for p in PEOPLE)
GROUPS = ("security", "accounts", "desktop", "network", "applications", "service-desk")

CONFIG = """\
[maildesk]
support_address = "{support}"
node_name = "bench"
log_level = "WARNING"
data_dir = "{folder}/data"

[database]
url = "{db_url}"
sqlite_synchronous = "full"

[assignment]
strategy = "round_robin"

[security]
secret = "benchmark-secret-0123456789abcdef"

[smtp_intake]
enabled = false

[outbox]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_port}
security = "plain"

[[imap]]
name = "support"
host = "127.0.0.1"
port = {imap_port}
security = "plain"
username = "{user}"
password = "{password}"
idle = true
"""


def write_config(folder: Path, db_url: str, imap_port: int, password: str, smtp_port: int) -> Path:
    text = CONFIG.format(
        support=SUPPORT,
        folder=folder,
        db_url=db_url,
        smtp_port=smtp_port,
        imap_port=imap_port,
        user=USER,
        password=password,
    )
    text += "".join(person_table(p) for p in PEOPLE)
    path = folder / "maildesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def person_table(p: Person) -> str:
    groups = ", ".join(f'"{g}"' for g in p.groups)
    return (
        f'\n[[people]]\nname = "{p.name}"\nemail = "{p.email}"\ngroups = [{groups}]\n'
        f'role = "{p.role}"\navailable = {"true" if p.available else "false"}\n'
    )


class AckSink(SmtpSink):
    """tests.conftest.SmtpSink keeping, per mail, its arrival time and Message-ID; the
    requester's acknowledgment is found by its In-Reply-To (engineers' notifications
    reply to the same message, so mail to an engineer is not taken for it)."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition(self.lock)
        self.arrivals: list[float] = []
        self.message_ids: set[str] = set()
        self.ack_for: dict[str, float] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        head = (envelope.original_content or b"").split(HEADER_END, 1)[0]
        to_engineer = any(r.lower() in ENGINEERS for r in envelope.rcpt_tos)
        replied = IN_REPLY_TO.search(head)
        mid = MESSAGE_ID.search(head)
        with self.cond:
            self.arrivals.append(now)
            if mid:
                self.message_ids.add(mid.group(1).decode("ascii", "replace"))
            if replied and not to_engineer:
                self.ack_for.setdefault(replied.group(1).decode("ascii", "replace"), now)
            self.cond.notify_all()
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.arrivals.clear()
            self.message_ids.clear()
            self.ack_for.clear()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def last_arrival(self) -> float | None:
        with self.lock:
            return max(self.arrivals) if self.arrivals else None

    def received(self, message_ids: list[str]) -> int:
        with self.lock:
            return sum(1 for m in message_ids if m in self.message_ids)

    def wait_for_ack(self, message_id: str, timeout: float) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: message_id in self.ack_for, timeout=timeout)
            return self.ack_for.get(message_id)
