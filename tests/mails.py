"""Small builders of realistic test mail."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime


def make_mail(
    n: int = 1,
    sender: str = "张伟 <zhang.wei@example.com>",
    subject: str | None = None,
    body: str | None = None,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "IT服务台 <it-support@example.com>"
    msg["Subject"] = subject if subject is not None else f"电脑无法开机 #{n}"
    msg["Date"] = format_datetime(datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = f"<{message_id or f'msg-{n}@client.example.com'}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body if body is not None else f"第 {n} 号问题：早上开机后黑屏，风扇在转。")
    return msg.as_bytes()
