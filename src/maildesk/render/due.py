"""Due times as a reader is told them, in business terms.  Pure.

"4 个工作小时内，即 12月3日 10:00 (+08:00) 前" / "within 4 business hours, by 3 Dec
10:00 (+08:00)"; around the clock "4 小时内" / "within 4 hours"; marked provisional
when the due time lies in a year with no official holiday calendar.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from maildesk import vocab
from maildesk.config import Config
from maildesk.domain import TicketView
from maildesk.sla.settings import SLA_SECTION
from maildesk.sla.targets import Target

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TARGET_NAMES = {"response": ("首次响应", "first response"), "resolution": ("解决", "resolution"),
                "escalation": ("升级处理", "escalation"),
                "update": ("进展更新", "progress update")}  # fmt: skip


def when(at: datetime, zone: str, locale: str) -> str:
    local = at.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    tz = f"({offset[:3]}:{offset[3:]})"
    if locale == "zh-CN":
        return f"{local.month}月{local.day}日 {local:%H:%M} {tz}"
    return f"{local.day} {MONTHS[local.month - 1]} {local:%H:%M} {tz}"


def hours_text(minutes: float) -> str:
    return f"{minutes / 60:g}"


def business_terms(t: Target, zone: str, locale: str) -> str:
    """The target and its due time, as one phrase (met, or paused: said so)."""
    if t.met_at is not None:
        at = when(t.met_at, zone, locale)
        return f"已于 {at} 达成" if locale == "zh-CN" else f"met on {at}"
    if t.due_at is None:
        return "已暂停（等待您的回复）" if locale == "zh-CN" else "paused (waiting for a reply)"
    hours, by = hours_text(t.minutes), when(t.due_at, zone, locale)
    business = t.calendar != "24x7"
    if locale == "zh-CN":
        unit = "个工作小时" if business else "小时"
        text = f"{hours} {unit}内，即 {by} 前"
        return text + ("（暂定：该年的节假日安排尚未公布）" if t.provisional else "")
    unit = "business hours" if business else "hours"
    text = f"within {hours} {unit}, by {by}"
    return text + (" (provisional: that year's holiday calendar is not out yet)"
                   if t.provisional else "")  # fmt: skip


def review_terms(at: datetime, hours: float, zone: str, locale: str) -> str:
    """A review's due time as the SLA notices say theirs: the business hours and the time."""
    by = when(at, zone, locale)
    if locale == "zh-CN":
        return f"{hours:g} 个工作小时内，即 {by} 前"
    return f"within {hours:g} business hours, by {by}"


def target_of(ticket: TicketView, name: str) -> Target | None:
    return next((t for t in ticket.targets if t.target == name), None)


def response_due_at(ticket: TicketView, zone: str) -> str:
    """The first response's due time alone (`2026-12-03 10:00 (+08:00)`), "" when none
    is running."""
    found = target_of(ticket, "response")
    if found is None or found.due_at is None:
        return ""
    return vocab.local_time(found.due_at, zone)


def response_due(ticket: TicketView, cfg: Config, locale: str) -> str:
    """The first-response promise; from the configured hours when not stored yet."""
    zone = cfg.tickets.timezone
    found = target_of(ticket, "response")
    if found is not None:
        return business_terms(found, zone, locale)
    hours = cfg.section(SLA_SECTION).response_hours.get(ticket.priority, 4.0)
    return f"{hours:g} 个工作小时内" if locale == "zh-CN" else f"within {hours:g} business hours"


def sla_notice(notice: str, ticket: TicketView, cfg: Config, locale: str) -> dict[str, str]:
    """`sla_remind.response`, `sla_breach.resolution`, `sla_level2.response`: which
    target, which level, and its due time."""
    kind, _, name = notice.partition(".")
    if not kind.startswith("sla_") or name not in TARGET_NAMES:
        return {}
    level = kind.removeprefix("sla_level") if kind.startswith("sla_level") else ""
    found = target_of(ticket, name)
    zh, en = TARGET_NAMES[name]
    return {
        "kind": "level" if level else kind.removeprefix("sla_"),
        "level": level,
        "target": zh if locale == "zh-CN" else en,
        "due": business_terms(found, cfg.tickets.timezone, locale) if found else "",
    }
