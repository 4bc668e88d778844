"""The short words of digests and reports (labels, units, names of periods), in zh-CN and
English: one table, so the mail, the text report and the CSV headers say the same.  Pure."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "digest_day": ("日报", "daily digest"),
    "digest_week": ("周报", "weekly digest"),
    "digest_month": ("月报", "monthly digest"),
    "digest_range": ("报告", "report"),
    "for_group": ("（{group} 组）", " – group {group}"),
    "opened": ("新建", "Opened"),
    "resolved": ("已解决", "Resolved"),
    "closed": ("已关闭", "Closed"),
    "reopened": ("重新打开", "Reopened"),
    "open_at_end": ("期末未完成", "Open at end"),
    "target_response": ("首次响应", "First response"),
    "target_resolution": ("解决", "Resolution"),
    "by_category": ("按分类", "By category"),
    "by_priority": ("按优先级", "By priority"),
    "by_group": ("按组", "By group"),
    "by_engineer": ("按工程师", "By engineer"),
    "unassigned": ("未指派", "unassigned"),
    "none": ("未填写", "not set"),
    "unit_min": ("分钟", "min"),
    "unit_h": ("小时", "h"),
    "unit_d": ("天", "days"),
    "score": ("{score} 分", "{score}"),
}


def word(key: str, locale: str) -> str:
    zh, en = WORDS[key]
    return zh if locale == "zh-CN" else en
