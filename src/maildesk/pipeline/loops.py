"""Is this message automatic, or our own?  Decides whether maildesk may answer it.

RFC 3834: never auto-answer auto-submitted mail, bulk/list traffic, null senders
or MAILER-DAEMON; never ingest mail that carries our own loop header.
"""

from __future__ import annotations

from maildesk.domain import Inbound

LOOP_HEADER = "X-Maildesk-Loop"
BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
SYSTEM_LOCALPARTS = ("mailer-daemon", "postmaster")


def is_own_mail(inbound: Inbound, loop_id: str) -> bool:
    """Mail that maildesk itself sent (or a copy of it): never ingested."""
    return inbound.header(LOOP_HEADER).strip().lower() == loop_id.lower()


def reply_refusal(inbound: Inbound, own_addresses: frozenset[str]) -> str | None:
    """Why maildesk must not send an automatic answer to this message, or None."""
    sender = inbound.sender.email.lower()
    checks = (
        (inbound.return_path == "", "null sender (Return-Path <>)"),
        (sender.split("@")[0] in SYSTEM_LOCALPARTS, f"system sender {sender}"),
        (sender in own_addresses, f"sender {sender} is one of our own addresses"),
        (_auto_submitted(inbound), "message is auto-submitted (RFC 3834)"),
        (_bulk(inbound), "message is bulk or list mail"),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None


def _auto_submitted(inbound: Inbound) -> bool:
    value = inbound.header("auto-submitted").strip().lower()
    suppress = {v.strip().lower() for v in inbound.header("x-auto-response-suppress").split(",")}
    flags = (
        bool(inbound.header("x-autoreply") or inbound.header("x-autorespond"))
        or bool(suppress & {"all", "autoreply"})  # Exchange: "do not answer me"
    )
    report = inbound.header("content-type").strip().lower().startswith("multipart/report")
    return bool(value and value != "no") or bool(flags) or report


def _bulk(inbound: Inbound) -> bool:
    precedence = inbound.header("precedence").strip().lower()
    lists = inbound.header("list-id") or inbound.header("list-unsubscribe")
    return precedence in BULK_PRECEDENCE or bool(lists)
