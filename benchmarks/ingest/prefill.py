"""A year of a desk's history in the database before the run (--stored-tickets N).

Each stored ticket has what maildesk itself leaves behind: the journal entry of the
mail that opened it (a short plain-text mail, about 1 KB), its events (created, routed,
status changes), the Message-IDs it knows (the request, the acknowledgment, the
engineer's notification), two sent outbox rows (acknowledgment and notification,
about 1 KB each), its two SLA targets and its auto-close timer. Tickets are spread over
the year before the run, numbered per day as maildesk numbers them, routed to the
desk's groups round robin; 97 % are closed, 1 % resolved, 2 % still open.

Written with bulk inserts (SQLAlchemy Core executemany) in one transaction per table
chunk; on PostgreSQL the id sequences are moved past the rows and ANALYZE runs, as
autovacuum would. SQLite is left as deployed (no ANALYZE).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, func, select, text

from benchmarks.ingest.desk import GROUPS, PEOPLE, SUPPORT
from maildesk import db

CHUNK = 5_000
LOCAL = ZoneInfo("Asia/Shanghai")
OPEN_STATES = ("new", "assigned", "in_progress", "waiting_on_user")
CATEGORIES = ("硬件故障", "软件异常", "网络问题", "账号权限", "数据安全", "其他")
PRIORITIES = ("low", "medium", "medium", "medium", "high", "urgent")
SUBJECTS = (
    "电脑开机黑屏，风扇一直在转",
    "VPN 连接提示错误 809",
    "打印机卡纸但看不到纸",
    "请开通财务系统只读权限",
    "Outlook search returns nothing",
    "共享盘打不开，提示没有访问权限",
    "账号被锁定",
    "Wi-Fi drops every ten minutes",
)
FILLER = "早上开机后电脑黑屏，风扇一直在转，电源指示灯是橙色的。重启了好几次都没有用。" * 12
RAW_IN = (
    "Return-Path: <{email}>\r\nReceived: from mail1.corp.example.com by mx.example.com "
    "(Postfix) with ESMTPS id {q}\r\nFrom: {name} <{email}>\r\nTo: IT服务台 <{support}>\r\n"
    "Subject: {subject}\r\nDate: {date}\r\nMessage-ID: <{mid}>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "{body}\r\n"
)
RAW_OUT = (
    "From: IT服务台 <{support}>\r\nTo: {to}\r\nSubject: [{number}] {subject}\r\n"
    "Date: {date}\r\nMessage-ID: <{mid}>\r\nIn-Reply-To: <{reply_to}>\r\n"
    "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "您好，您的请求已登记为工单 {number}。{body}\r\n"
)


def fill(engine: Engine, tickets: int, now: datetime, seed: int = 7) -> dict[str, int]:
    """Write `tickets` stored tickets with their history; returns rows per table."""
    counts: dict[str, int] = {}
    rng = random.Random(seed)
    plan = _plan(tickets, now, rng)
    tables = db.metadata.tables
    writers: tuple[tuple[str, Any], ...] = (
        ("tickets", _ticket_rows),
        ("inbound_messages", _inbound_rows),
        ("ticket_events", _event_rows),
        ("message_ids", _message_id_rows),
        ("outbox", _outbox_rows),
        ("sla_targets", _sla_rows),
        ("timers", _timer_rows),
    )
    for name, rows in writers:
        counts[name] = _insert(engine, tables[name], rows(plan))
    counts["ticket_counters"] = _insert(engine, tables["ticket_counters"], _counters(plan))
    if engine.dialect.name == "postgresql":
        _after_postgres_fill(engine, [name for name, _ in writers])
    return counts


def _insert(engine: Engine, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    total = 0
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            total += _write(engine, table, batch)
            batch = []
    if batch:
        total += _write(engine, table, batch)
    return total


def _write(engine: Engine, table: Table, batch: list[dict[str, Any]]) -> int:
    with engine.begin() as conn:
        conn.execute(table.insert(), batch)
    return len(batch)


def _after_postgres_fill(engine: Engine, tables: list[str]) -> None:
    with engine.begin() as conn:
        for name in tables:
            if name == "message_ids":
                continue
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
            )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


# --- what each stored ticket was ---------------------------------------------------------


def _plan(tickets: int, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """One dict per ticket: when, who, where it went, how it ended."""
    rotation = {g: 0 for g in GROUPS}
    members = {
        g: [p.email for p in PEOPLE if g in p.groups and p.role != "manager"] for g in GROUPS
    }
    per_day: dict[str, int] = {}
    span = timedelta(days=365).total_seconds()
    stamps = sorted(now - timedelta(seconds=rng.random() * span + 86400) for _ in range(tickets))
    plan = []
    for i, created in enumerate(stamps, start=1):
        day = created.astimezone(LOCAL).strftime("%Y%m%d")
        per_day[day] = per_day.get(day, 0) + 1
        group = rng.choice(GROUPS)
        team = members[group]
        assignee = team[rotation[group] % len(team)]
        rotation[group] += 1
        roll = rng.random()
        status = "closed" if roll < 0.97 else "resolved" if roll < 0.98 else rng.choice(OPEN_STATES)
        user = rng.randrange(4000)
        plan.append(
            {
                "id": i,
                "number": f"IT-{day}-{per_day[day]:04d}",
                "day": day,
                "created": created,
                "status": status,
                "group": group,
                "assignee": assignee,
                "email": f"staff{user}@example.com",
                "name": f"员工{user}",
                "subject": SUBJECTS[i % len(SUBJECTS)],
                "priority": PRIORITIES[i % len(PRIORITIES)],
                "category": CATEGORIES[i % len(CATEGORIES)],
                "mid_in": f"{i}.{rng.getrandbits(48):012x}@mail.example.com",
                "mid_ack": f"ack.{i}.{rng.getrandbits(48):012x}@example.com",
                "mid_note": f"note.{i}.{rng.getrandbits(48):012x}@example.com",
            }
        )
    return plan


def _ticket_rows(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for t in plan:
        created = t["created"]
        done = t["status"] in ("closed", "resolved")
        yield {
            "id": t["id"], "number": t["number"], "subject": t["subject"],
            "description": FILLER[: 80 + t["id"] % 200], "requester_name": t["name"],
            "requester_email": t["email"], "department": "财务部", "employee_id": "",
            "status": t["status"], "priority": t["priority"], "category": t["category"],
            "type": "incident", "assignee": t["assignee"], "group_name": t["group"],
            "created_at": created, "updated_at": created + timedelta(hours=30),
            "first_response_at": created + timedelta(hours=1),
            "resolved_at": created + timedelta(hours=26) if done else None,
            "closed_at": created + timedelta(hours=30) if t["status"] == "closed" else None,
            "linked_ticket_id": None,
        }  # fmt: skip


def _inbound_rows(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for t in plan:
        raw = RAW_IN.format(
            email=t["email"], name=t["name"], support=SUPPORT, subject=t["subject"],
            date=t["created"].strftime("%a, %d %b %Y %H:%M:%S +0000"), mid=t["mid_in"],
            q=f"{t['id']:010X}", body=FILLER[: 150 + t["id"] % 100],
        ).encode()  # fmt: skip
        yield {
            "id": t["id"], "dedupe_key": f"mid:{t['mid_in']}", "message_id": t["mid_in"],
            "sha256": hashlib.sha256(raw).hexdigest(), "source": f"imap:support:1:{t['id']}",
            "size": len(raw), "raw": raw, "received_at": t["created"], "status": "processed",
            "outcome": "created", "quarantine_reason": "",
            "processed_at": t["created"] + timedelta(milliseconds=20), "ticket_id": t["id"],
        }  # fmt: skip


def _event_rows(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for t in plan:
        at, tid = t["created"], t["id"]
        yield _event(tid, at, t["email"], "created", inbound=tid)
        yield _event(tid, at, "maildesk", "routed", "assignee", "", t["assignee"], tid,
                     text=f"group {t['group']}")  # fmt: skip
        if t["status"] in ("closed", "resolved"):
            yield _event(tid, at + timedelta(hours=26), t["assignee"], "changed", "status",
                         "assigned", "resolved")  # fmt: skip
        if t["status"] == "closed":
            yield _event(tid, at + timedelta(hours=30), "maildesk", "changed", "status",
                         "resolved", "closed")  # fmt: skip


def _event(
    tid: int, at: datetime, actor: str, kind: str, field: str = "", old: str = "",
    new: str = "", inbound: int | None = None, text: str = "",
) -> dict[str, Any]:  # fmt: skip
    return {"ticket_id": tid, "at": at, "actor": actor, "kind": kind, "field": field,
            "old_value": old, "new_value": new, "text": text, "inbound_id": inbound}  # fmt: skip


def _message_id_rows(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for t in plan:
        yield {"message_id": t["mid_in"], "ticket_id": t["id"], "direction": "in"}
        yield {"message_id": t["mid_ack"], "ticket_id": t["id"], "direction": "out"}
        yield {"message_id": t["mid_note"], "ticket_id": t["id"], "direction": "out"}


def _outbox_rows(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for t in plan:
        for kind, to, mid in (("ack", t["email"], t["mid_ack"]),
                              ("notification", t["assignee"], t["mid_note"])):  # fmt: skip
            raw = RAW_OUT.format(
                support=SUPPORT, to=to, number=t["number"], subject=t["subject"],
                date=t["created"].strftime("%a, %d %b %Y %H:%M:%S +0000"), mid=mid,
                reply_to=t["mid_in"], body=FILLER[: 120 + t["id"] % 80],
            ).encode()  # fmt: skip
            sent = t["created"] + timedelta(seconds=2)
            yield {
                "ticket_id": t["id"], "inbound_id": t["id"], "kind": kind, "mail_from": SUPPORT,
                "recipients": to, "to_address": to, "subject": t["subject"], "message_id": mid,
                "raw": raw, "status": "sent", "attempts": 1, "next_attempt_at": t["created"],
                "claimed_until": None, "claimed_by": "", "last_error": "",
                "created_at": t["created"], "sent_at": sent, "lane": "interactive",
                "to_domain": to.rsplit("@", 1)[1], "held_reason": "",
            }  # fmt: skip


def _sla_rows(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for t in plan:
        done = t["status"] in ("closed", "resolved")
        for target, minutes, met in (("response", 240.0, timedelta(hours=1)),
                                     ("resolution", 1440.0, timedelta(hours=26))):  # fmt: skip
            yield {
                "ticket_id": t["id"], "target": target, "calendar": "business",
                "minutes": minutes, "started_at": t["created"], "paused_minutes": 0.0,
                "paused_since": None, "due_at": t["created"] + timedelta(minutes=minutes),
                "met_at": t["created"] + met if done or target == "response" else None,
                "provisional": False,
            }  # fmt: skip


def _timer_rows(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for t in plan:
        closed = t["status"] == "closed"
        yield {
            "key": f"{t['id']}:auto_close:1", "ticket_id": t["id"], "kind": "auto_close",
            "step": 1, "due_at": t["created"] + timedelta(hours=30),
            "state": "done" if closed else "cancelled", "lease_holder": "", "lease_until": None,
            "created_at": t["created"] + timedelta(hours=26),
            "done_at": t["created"] + timedelta(hours=30), "outcome": "closed" if closed else "",
        }  # fmt: skip


def _counters(plan: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    last: dict[str, int] = {}
    for t in plan:
        last[t["day"]] = last.get(t["day"], 0) + 1
    for day, value in last.items():
        yield {"key": day, "last": value}


def max_ids(engine: Engine) -> dict[str, int]:
    """The highest id of each table the benchmark counts: the run's rows come after."""
    tables = db.metadata.tables
    with engine.connect() as conn:
        return {
            name: int(
                conn.execute(select(func.coalesce(func.max(tables[name].c.id), 0))).scalar() or 0
            )
            for name in ("inbound_messages", "tickets", "outbox")
        }


def now_utc() -> datetime:
    return datetime.now(UTC)
