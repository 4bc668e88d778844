"""Secrets kept out of what maildesk prints and logs.  Pure.

A URL's password becomes `***` (`postgresql://desk:***@db/maildesk`), so does a
`password=` in a connection string, and so does every secret the config holds
(passwords, the signing secret) wherever it appears in a message or a traceback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from maildesk.config import Config

MASK = "***"
MIN_SECRET = 4  # shorter values are not searched for: they would mask ordinary words
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)\S*@", re.IGNORECASE)
DSN_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def mask_urls(text: str) -> str:
    """Every URL's password, and a connection string's `password=`, shown as ***."""
    return DSN_PASSWORD.sub(rf"\g<1>{MASK}", URL_PASSWORD.sub(rf"\g<1>{MASK}@", text))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with passwords in URLs and each of `secrets` masked."""
    text = mask_urls(text)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= MIN_SECRET:
            text = text.replace(secret, MASK)
    return text


def url_password(url: str) -> str:
    """The password in a database URL, or ""."""
    try:
        return make_url(url).password or ""
    except Exception:  # not a URL SQLAlchemy reads: mask_urls still hides its password
        return ""


class RedactingFormatter(logging.Formatter):
    """Formats a log record, traceback included, with the secrets masked."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def config_secrets(cfg: Config) -> tuple[str, ...]:
    """Every secret a config holds: passwords (database, outbox, mailboxes), signing secret."""
    values = (
        url_password(cfg.database_url),
        cfg.outbox.password,
        *(mailbox.password for mailbox in cfg.imap),
        cfg.security.secret,
    )
    return tuple(value for value in values if value)
