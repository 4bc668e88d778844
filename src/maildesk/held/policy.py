"""Which mail a limit holds back, and why.  Pure.

- **flood**: a sender past `new_tickets_per_sender` in the window: their new tickets
  are created, but the acknowledgment and the notifications are held and summarised
  once the window has passed (one summary per engineer, one acknowledgment listing the
  numbers);
- **coalesced**: a follow-up within `coalesce_seconds` of the previous one on the same
  ticket: its notification is held and merged into one;
- **loop**: past the per-address hourly limit, a follow-up repeating the sender's
  previous text word for word (an auto-responder talking to us): held, summarised to
  the group lead.  A follow-up that says something new is a person, and always
  reaches the assignee.
"""

from __future__ import annotations

from datetime import datetime

from maildesk.domain import Facts
from maildesk.held.settings import Limits

FLOOD, COALESCED, LOOP = "flood", "coalesced", "loop"


def kind_of(reason: str) -> str:
    """The kind a stored reason starts with: `flood: 6 new tickets …` → flood."""
    return reason.split(":", 1)[0].strip()


def for_new_ticket(facts: Facts, sender: str, limits: Limits) -> str:
    count = facts.recent_new_tickets
    if count < limits.new_tickets_per_sender:
        return ""
    return (f"{FLOOD}: {count + 1} new tickets from {sender} "
            f"in {limits.window_minutes:g} min")  # fmt: skip


def for_follow_up(
    facts: Facts, sender: str, text: str, now: datetime, limits: Limits, hourly_limit: int
) -> str:
    last = facts.last_reply
    if last is None:
        return ""
    looping = facts.auto_mails_last_hour >= hourly_limit
    if looping and last.actor.lower() == sender.lower() and last.text.strip() == text.strip():
        sent = facts.auto_mails_last_hour
        return f"{LOOP}: the same text again from {sender}, {sent} mails to it this hour"
    if now - last.at < limits.coalesce:
        return f"{COALESCED}: a follow-up within {limits.coalesce_seconds:g} s of the previous one"
    return ""
