"""Write the mails of one real story as .eml files, to look at (and render to PNG).

    .venv/bin/python scripts/sample_mails.py OUT_DIR [zh-CN|en]

Runs the real pipeline on a throwaway SQLite database (no network): a user's mail,
an engineer's reply with a command, the user's follow-up, a bad command, a forged
#close (a claim notice to the real user), then writes
every outgoing mail from the outbox as OUT_DIR/<nn>-<kind>-<recipient>.eml.
Render them with scripts/render_mail_png.py.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

from maildesk import config, db
from maildesk.cli import make_service
from maildesk.service import Service
from maildesk.store import Store
from maildesk.store import outbox as outbox_rows

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
[[people]]
name = "王工"
email = "wang.gong@example.com"
groups = ["network"]
[[people]]
name = "陈组长"
email = "lead@example.com"
groups = ["network"]
role = "lead"
"""


def mail(sender: str, subject: str, body: str, parent: str = "", n: int = 0) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "it-support@example.com", subject
    msg["Message-ID"] = f"<sample-{n}@client.example.com>"
    if n == 1:
        msg["Cc"] = "王芳 <wang.fang@example.com>"
    if parent:
        msg["In-Reply-To"] = msg["References"] = f"<{parent}>"
    msg.set_content(body)
    return msg.as_bytes()


def story(service: Service) -> None:
    user, wang = "张伟 <zhang.wei@example.com>", "王工 <wang.gong@example.com>"
    body = (
        "早上开始 VPN 一直连不上，提示错误 809。\n"
        "三楼财务部的同事都一样，急需处理月末报表。\n\n谢谢！"
    )
    number = service.ingest(mail(user, "VPN 连不上了，错误 809", body, n=1), "sample").ticket_number
    with service.store.transaction() as tx:
        note = next(r for r in outbox_rows.listing(tx) if r.kind == "notification")
    reply = (
        "#status in_progress\n#优先级 紧急\n"
        "您好，VPN 网关的证书昨晚过期了，正在更换，预计 10 分钟内恢复。"
    )
    subject = f"Re: [{number}]"
    service.ingest(mail(wang, subject, reply, note.message_id, 2), "sample")
    service.ingest(mail(user, f"{subject} VPN 连不上了", "好的，谢谢王工。", "", 3), "sample")
    wrong = "#优先级 超高\n#frobnicate"
    service.ingest(mail(wang, subject, wrong, note.message_id, 4), "sample")
    forged = "#关闭\n问题已经解决了。"  # not a reply to our mail: only claims to be 张伟
    service.ingest(mail(user, subject, forged, "", 5), "sample")


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    out, locale = Path(argv[0]), (argv[1] if len(argv) > 1 else "zh-CN")
    out.mkdir(parents=True, exist_ok=True)
    with sample_service(CONFIG, locale) as service:
        story(service)
        with service.store.transaction() as tx:
            rows = sorted(outbox_rows.listing(tx, limit=1000), key=lambda r: r.id)
            for n, row in enumerate(rows, 1):
                raw = outbox_rows.raw(tx, row.id) or b""
                who = row.recipients[0].split("@")[0]
                (out / f"{locale}-{n:02d}-{row.kind}-{who}.eml").write_bytes(raw)
                print(out / f"{locale}-{n:02d}-{row.kind}-{who}.eml")
    return 0


@contextmanager
def sample_service(config_text: str, locale: str) -> Iterator[Service]:
    """The real service on a throwaway SQLite database configured by `config_text`
    (formatted with locale, folder and the shipped rules)."""
    with tempfile.TemporaryDirectory() as folder:
        rules = Path(__file__).resolve().parent.parent / "config" / "rules.toml"
        path = Path(folder) / "maildesk.toml"
        text = config_text.format(locale=locale, folder=folder, rules=rules)
        path.write_text(text, encoding="utf-8")
        cfg = config.load(path)
        engine = db.make_engine(cfg.database_url)
        db.upgrade(engine)
        try:
            yield make_service(cfg, Store(engine))
        finally:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
