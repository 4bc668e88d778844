"""Signed Message-IDs: which recipient a mail went to, about which ticket.  Pure.

Every mail about a ticket is tagged for exactly one recipient.  A notification to
engineer E about ticket T carries the Message-ID
`maildesk.T.<who>.<nonce>.<mac>@domain`, where `who` names E without showing the
address and `mac` = HMAC-SHA256(secret, "T|E|nonce").  A reply's In-Reply-To or
References then proves it answers a notification sent to E about T: a From header
alone proves nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

TAGGED = re.compile(r"^maildesk\.(?P<number>[^.@]+)\.(?P<who>[0-9a-f]{10})\."
                    r"(?P<nonce>[0-9a-f]{8,32})\.(?P<mac>[0-9a-f]{24})@")  # fmt: skip


def who(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()[:10]


def _mac(secret: str, number: str, email: str, nonce: str) -> str:
    message = f"{number.upper()}|{email.lower()}|{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:24]


def signed_message_id(secret: str, number: str, email: str, nonce: str, domain: str) -> str:
    return f"maildesk.{number}.{who(email)}.{nonce}.{_mac(secret, number, email, nonce)}@{domain}"


def bound_to(message_id: str, email: str) -> bool:
    """Is this one of our tagged Message-IDs, and was it sent to `email`?"""
    found = TAGGED.match(message_id)
    return found is not None and found["who"] == who(email)


def proves(message_ids: Iterable[str], secret: str, number: str, email: str) -> bool:
    """Does any of these Message-IDs carry a valid tag for this ticket and engineer?"""
    if not secret:
        return False
    for message_id in message_ids:
        found = TAGGED.match(message_id)
        if not found or found["number"].upper() != number.upper() or found["who"] != who(email):
            continue
        if hmac.compare_digest(found["mac"], _mac(secret, number, email, found["nonce"])):
            return True
    return False


AUTH_RESULT = re.compile(
    r"\b(?P<method>dmarc|dkim|spf)\s*=\s*pass\b[^;]*?"
    r"(?:header\.from|header\.d|header\.i|smtp\.mailfrom)\s*=\s*(?P<value>[^\s;]+)",
    re.IGNORECASE,
)


def authenticated(auth_results: str, email: str, trusted_ids: Iterable[str]) -> bool:
    """Authentication-Results from a trusted authserv-id shows dmarc, dkim or spf
    passing for the sender's domain (aligned: the same domain or a parent of it)."""
    if not auth_results:
        return False
    authserv = auth_results.split(";", 1)[0].strip().split()[0].lower() if auth_results else ""
    if authserv not in {t.lower() for t in trusted_ids}:
        return False
    domain = email.lower().rsplit("@", 1)[-1]
    for found in AUTH_RESULT.finditer(auth_results):
        value = found["value"].lower().rsplit("@", 1)[-1]
        if value == domain or domain.endswith("." + value):
            return True
    return False
