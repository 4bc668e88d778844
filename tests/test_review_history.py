"""The review mail's ticket history, line by line, in the reader's language."""

from __future__ import annotations

import pytest

from maildesk.survey.history import WORDS_LIMIT, line, lines

ZONE = "Asia/Shanghai"
NAMES = {"wang.gong@example.com": "王工", "zhang.wei@example.com": "张伟"}
WHEN = "2026-11-23T06:00:00+00:00"  # 14:00 in Shanghai
AT = "2026-11-23 14:00 (+08:00)"


def row(kind: str, actor: str = "maildesk", field: str = "", old: str = "", new: str = "",
        text: str = "") -> dict[str, object]:  # fmt: skip
    return {"at": WHEN, "actor": actor, "kind": kind, "field": field, "old": old, "new": new,
            "text": text, "inbound_id": None}  # fmt: skip


SLA = (
    "SLA response target breached, due 2026-11-23 06:00 UTC: escalated to the lead"
    " (1:sla_escalate:101)"
)
CASES = [
    (row("created", "zhang.wei@example.com"), "张伟  创建工单", "张伟  opened the ticket"),
    (row("routed", field="assignee", new="wang.gong@example.com", text="group network"),
     "系统  自动分派 处理人：王工 组：network",
     "the system  routed, assignee: 王工, group: network"),
    (row("changed", field="status", old="assigned", new="escalated"),
     "系统  状态：已指派 → 已升级", "the system  state: Assigned → Escalated"),
    (row("changed", "wang.gong@example.com", "status", "in_progress", "waiting_on_user"),
     "王工  状态：处理中 → 等待用户回复", "王工  state: In progress → Waiting on user"),
    (row("changed", "lead@example.com", "priority", "medium", "high"),
     "lead@example.com  优先级：中 → 高", "lead@example.com  priority: Medium → High"),
    (row("timer", text=SLA), "系统  超时升级", "the system  SLA escalation"),
    (row("timer", text="SLA response: reminder (1:sla_remind:1)"), "系统  时限提醒",
     "the system  SLA reminder"),
    (row("timer", text="satisfaction survey sent to zhang.wei@example.com (1:survey:1)"),
     "系统  发送满意度调查", "the system  satisfaction survey sent"),
    (row("timer", text="review reminder (7:review_remind:1): mailed lead@example.com"),
     "系统  复核提醒", "the system  review reminder"),
    (row("timer", text="something new (1:brand_new:1)"), "系统  brand_new",
     "the system  brand_new"),
    (row("timer", text="no key at all"), "系统  定时任务", "the system  timer"),
    (row("public_reply", "wang.gong@example.com", text="您好，我在查日志。\n\n王工"),
     "王工  回复用户：您好，我在查日志。", "王工  replied to the user: 您好，我在查日志。"),
    (row("reply", "zhang.wei@example.com", text="\n\nStill broken.\r\n> quoted"),
     "张伟  用户回复：Still broken.", "张伟  the user replied: Still broken."),
    (row("note", "wang.gong@example.com", text="网关日志正常"), "王工  内部备注：网关日志正常",
     "王工  internal note: 网关日志正常"),
    (row("survey_answer", "zhang.wei@example.com", "satisfaction", "", "2", "没有解决。"),
     "张伟  满意度评价 2/5：没有解决。", "张伟  satisfaction score, 2/5: 没有解决。"),
    (row("review", text="review opened (score 2), due 2026-11-24T08:00:00+00:00; mailed x"),
     "系统  满意度复核", "the system  satisfaction review"),
    (row("watcher_refused", "zhang.wei@example.com", "watchers", "", "a@other.example",
         "a@other.example is not an address of our organisation"),
     "张伟  未添加关注人 关注人：a@other.example",
     "张伟  watcher not added, watcher: a@other.example"),
    (row("strange_kind", "x@example.com", text="internal"), "x@example.com  strange_kind",
     "x@example.com  strange_kind"),
]  # fmt: skip


@pytest.mark.parametrize(("event", "zh", "en"), CASES)
def test_each_event_reads_in_the_locale(event: dict[str, object], zh: str, en: str) -> None:
    assert line(event, "zh-CN", ZONE, NAMES) == f"{AT}  {zh}"
    assert line(event, "en", ZONE, NAMES) == f"{AT}  {en}"


def test_no_internal_words_reach_a_chinese_line() -> None:
    shown = " ".join(lines([c[0] for c in CASES[:-1]], "zh-CN", ZONE, NAMES))
    internal_words = (
        "UTC",
        "sla_",
        ":1)",
        "in_progress",
        "waiting_on_user",
        "created",
        "public_reply",
        "survey_answer",
        "escalated",
        "maildesk",
        "+00:00",
    )
    for internal in internal_words:
        assert internal not in shown


HOSTILE = "<script>alert(1)</script>\u202e evil\r\n" + "长" * 10_000


@pytest.mark.parametrize("kind", ["reply", "public_reply", "note", "survey_answer"])
def test_hostile_words_are_one_bounded_line(kind: str) -> None:
    event = row(kind, HOSTILE, "status", HOSTILE, HOSTILE, HOSTILE)
    for locale in ("zh-CN", "en"):
        shown = line(event, locale, ZONE, NAMES)
        assert "\n" not in shown and "\r" not in shown and "\u202e" not in shown
        assert len(shown) < 40 + 3 * 60 + WORDS_LIMIT
