"""What a message is: a person's mail, or which kind of automatic mail, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    DELAY = "delay"
    LIST = "list"
    ALERT = "alert"  # auto-generated, answering nothing (monitoring): a ticket, never answered


@dataclass(frozen=True)
class AutoMail:
    """What a message is.  For BOUNCE (and DELAY) the report's details, best effort:
    the recipients it is about, the Message-ID of the returned message, the first
    status code (`5.1.1`) and the diagnostic text of the remote server."""

    kind: Kind
    reason: str
    failed_recipients: tuple[str, ...] = ()
    original_message_id: str = ""
    status: str = ""
    diagnostic: str = ""


HUMAN = AutoMail(Kind.HUMAN, "")
