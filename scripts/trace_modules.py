"""Which maildesk modules one message's processing passes through, in order.

Counts call events only (a function of module M starts), collapses repeats, and
reports the modules visited and the re-entries: entering a module already left."""

from __future__ import annotations

import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

from maildesk import config, db
from maildesk.cli import make_service

CONFIG = """
[maildesk]
support_address = "it-support@example.com"
[database]
url = "sqlite:///{folder}/maildesk.db"
[attachments]
folder = "{folder}/files"
[security]
secret = "sample-secret-0123456789"
[[people]]
name = "王工"
email = "wang.gong@example.com"
"""


def mail(sender: str, subject: str, body: str, parent: str, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "it-support@example.com", subject
    msg["Message-ID"] = f"<t-{n}@client.example.com>"
    if parent:
        msg["In-Reply-To"] = msg["References"] = f"<{parent}>"
    msg.set_content(body)
    return msg.as_bytes()


SKIP = (
    "maildesk.domain",
    "maildesk.db",
    "maildesk.store.base",
    "maildesk.config",
    "maildesk.clock",
    "maildesk.vocab",
    "maildesk.store.__init__",
)


def traced(fn):
    seq: list[str] = []

    def hook(frame, event, arg):
        if event == "call":
            mod = frame.f_globals.get("__name__", "")
            if mod.startswith(SKIP) or not mod.startswith("maildesk"):
                return
            if not seq or seq[-1] != mod:
                seq.append(mod)

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return seq


ORCHESTRATORS = ("maildesk.service", "maildesk.outgoing")


def steps(fn):
    """The calls the use case makes, in order: each step of the pipeline."""
    seq: list[str] = []

    def hook(frame, event, arg):
        if event != "call" or frame.f_back is None:
            return
        caller = frame.f_back.f_globals.get("__name__", "")
        mod = frame.f_globals.get("__name__", "")
        ours = mod.startswith("maildesk") and not mod.startswith(SKIP)
        if caller in ORCHESTRATORS and ours and mod != caller:
            seq.append(f"{mod.removeprefix('maildesk.')}.{frame.f_code.co_name}")

    sys.setprofile(hook)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return seq


def report(name, seq):
    seen, left, reentries = set(), set(), 0
    prev = None
    for mod in seq:
        if mod in left:
            reentries += 1
        if prev is not None:
            left.add(prev)
        seen.add(mod)
        prev = mod
        left.discard(mod)
    print(f"{name}: {len(seen)} modules, {len(seq)} entries, {reentries} re-entries")
    print("  " + " → ".join(m.removeprefix("maildesk.") for m in seq))


def main():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "maildesk.toml"
        path.write_text(CONFIG.format(folder=folder))
        cfg = config.load(path)
        engine = db.make_engine(cfg.database_url)
        db.upgrade(engine)
        from maildesk.store import Store

        service = make_service(cfg, Store(engine))
        service.ingest(mail("warm <warm@example.com>", "warm", "warm", "", 0), "t")  # imports
        first = mail("张伟 <zhang.wei@example.com>", "VPN 连不上", "交换机坏了。", "", 1)
        out = {}
        report("new mail", traced(lambda: out.setdefault("n", service.ingest(first, "t"))))
        second = mail("李娜 <li.na@example.com>", "打印机", "卡纸。", "", 3)
        print("  steps:", " → ".join(steps(lambda: service.ingest(second, "t"))))
        number = out["n"].ticket_number
        with service.store.transaction() as tx:
            try:
                from maildesk.store import outbox as rows

                listing = rows.listing(tx)
            except ImportError:
                listing = tx.outbox()
        note = next(r for r in listing if r.kind == "notification" and r.ticket_number == number)
        reply = mail(
            "王工 <wang.gong@example.com>",
            f"Re: [{number}]",
            "#status in_progress\n正在处理。",
            note.message_id,
            2,
        )
        report("engineer reply", traced(lambda: service.ingest(reply, "t")))
        reply2 = mail(
            "王工 <wang.gong@example.com>",
            f"Re: [{number}]",
            "#wait\n请重启后告诉我。",
            note.message_id,
            4,
        )
        print("  steps:", " → ".join(steps(lambda: service.ingest(reply2, "t"))))
        engine.dispose()


main()
