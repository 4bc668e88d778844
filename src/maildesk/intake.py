"""The SMTP/LMTP intake edge (aiosmtpd) and the stdin pipe for `maildesk deliver`.

A message is acknowledged (250) only after the journal row is committed; the
processing happens afterwards, on the processor thread, from the journal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from maildesk.config import SmtpIntake
from maildesk.service import Service
from maildesk.store import JournalEntry

log = logging.getLogger("maildesk.intake")


def with_return_path(raw: bytes, mail_from: str | None) -> bytes:
    """Record the envelope sender the way a delivering MTA would."""
    if mail_from is None or raw[:12].lower() == b"return-path:":
        return raw
    return b"Return-Path: <" + mail_from.encode("utf-8", "replace") + b">\r\n" + raw


class JournalHandler:
    """aiosmtpd handler: journal each message, answer 250 only once it is durable."""

    def __init__(
        self, service: Service, protocol: str, on_stored: Callable[[JournalEntry], None]
    ) -> None:
        self.service = service
        self.protocol = protocol
        self.on_stored = on_stored

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = with_return_path(envelope.original_content or b"", envelope.mail_from)
        peer = session.peer[0] if session.peer else "?"
        source = f"{self.protocol}:{peer}"
        loop = asyncio.get_running_loop()
        try:
            entry = await loop.run_in_executor(None, self.service.receive, raw, source)
        except Exception:
            log.exception("%s intake: could not store a message from %s", self.protocol, peer)
            reply = "451 4.3.0 Could not store the message; please try again later"
        else:
            self.on_stored(entry)
            reply = f"250 2.0.0 Stored as #{entry.id}"
        count = len(envelope.rcpt_tos) if self.protocol == "lmtp" else 1
        return "\r\n".join([reply] * max(1, count))


class _IntakeController(Controller):
    def __init__(self, handler: JournalHandler, cfg: SmtpIntake) -> None:
        self.protocol = cfg.protocol
        super().__init__(
            handler, hostname=cfg.host, port=cfg.port, data_size_limit=cfg.max_message_bytes
        )

    def factory(self) -> SMTP:
        server_class = LMTP if self.protocol == "lmtp" else SMTP
        return server_class(self.handler, **self.SMTP_kwargs)


def start_listener(
    service: Service, cfg: SmtpIntake, on_stored: Callable[[JournalEntry], None]
) -> Controller:
    controller = _IntakeController(JournalHandler(service, cfg.protocol, on_stored), cfg)
    controller.start()
    log.info("%s intake listening on %s:%s", cfg.protocol.upper(), cfg.host, controller.port)
    return controller
