"""A period's figures as text for an 80-column terminal, in zh-CN or en (`maildesk
report --format text`; digest/formats.py has the other formats).

Tables are aligned in terminal columns: a CJK character takes two
(unicodedata.east_asian_width W or F); the last column is cut with … to fit.  An empty
period is one line.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator, Sequence

from maildesk.digest.model import Figures, Share, SlaFigure
from maildesk.vocab import term

WIDTH = 80
GAP = "  "
MIN_LAST = 12  # columns left for the last cell at least: wider text cells before it are cut

# key -> (zh-CN, en)
WORDS: dict[str, tuple[str, str]] = {
    "day": ("日报", "daily digest"),
    "week": ("周报", "weekly digest"),
    "month": ("月报", "monthly digest"),
    "range": ("报表", "report"),
    "desk": ("全部", "whole desk"),
    "group": ("组", "group"),
    "empty": ("本期没有新工单，也没有未结工单。", "no tickets opened or handled, none open."),
    "tickets": ("工单", "Tickets"),
    "this": ("本期", "this"),
    "previous": ("上期", "previous"),
    "change": ("变化", "change"),
    "opened": ("新建", "opened"),
    "resolved": ("已解决", "resolved"),
    "closed": ("已关闭", "closed"),
    "reopened": ("重开", "reopened"),
    "backlog": ("积压（期末）", "Backlog at the end"),
    "open": ("未结", "open"),
    "median_age": ("年龄中位数（小时）", "median age (hours)"),
    "older_than_week": ("超过 7 天", "older than 7 days"),
    "sla": ("SLA 达成", "SLA"),
    "target": ("目标", "target"),
    "met": ("达成", "met"),
    "missed": ("未达成", "missed"),
    "rate": ("达成率", "rate"),
    "response": ("首次响应", "first response"),
    "resolution": ("解决", "resolution"),
    "provisional": (
        "* 含暂定数据：该年度的节假日日历未导入",
        "* provisional: the year's calendar was not loaded",
    ),
    "times": ("处理时长（工作时间）", "Times (business time)"),
    "count": ("数量", "count"),
    "median": ("中位数", "median"),
    "p90": ("P90", "p90"),
    "satisfaction": ("满意度", "Satisfaction"),
    "surveys_sent": ("已发调查", "surveys sent"),
    "answers": ("回复", "answers"),
    "average": ("平均分", "average"),
    "response_rate": ("回复率", "response rate"),
    "distribution": ("分布 1–5", "scores 1–5"),
    "reviews": ("回访：新开/未结/已结", "reviews opened/open/closed"),
    "by_category": ("按类别", "By category"),
    "by_priority": ("按优先级", "By priority"),
    "by_group": ("按组", "By group"),
    "by_engineer": ("按工程师（工作量）", "By engineer (workload)"),
    "name": ("名称", "name"),
    "open_at_end": ("期末未结", "open at end"),
    "breaches": ("超时工单（最晚的在前）", "Breaches (most late first)"),
    "number": ("编号", "number"),
    "late": ("超时", "late"),
    "assignee": ("处理人", "assignee"),
    "subject": ("主题", "subject"),
    "unassigned": ("未指派", "unassigned"),
    "never_helped": ("推荐过但从未帮上忙", "suggested, never helpful"),
    "kb_article": ("知识库", "KB"),
    "yes": ("有", "yes"),
    "worth_article": ("无", "none"),
    "none": ("未填写", "not set"),
    "recurring": ("反复出现的问题", "Recurring problems"),
    "category": ("类别", "category"),
    "term": ("词语", "term"),
    "examples": ("示例", "examples"),
    "self_service": ("自助解决", "Self-service"),
    "self_rate": ("自助解决率", "self-service rate"),
    "article": ("文章", "article"),
    "suggested": ("推荐", "suggested"),
    "helped": ("有帮助", "helped"),
    "calendar": ("注意：以下年份的节假日日历未导入：", "Warning: no holiday calendar loaded for "),
}


def word(key: str, locale: str) -> str:
    zh, en = WORDS[key]
    return zh if locale == "zh-CN" else en


def width(text: str) -> int:
    """Terminal columns: a wide (CJK) character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, columns: int) -> str:
    """At most `columns` terminal columns, with … when cut; control characters (an
    escape sequence in a ticket's subject, a line break) become spaces."""
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    if width(text) <= columns:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > columns - 1:
            break
        out += ch
    return out + "…"


# --- numbers -----------------------------------------------------------------------------


def num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def minutes(value: float | None) -> str:
    """Business minutes as 45m, 2h05m."""
    if value is None:
        return "-"
    whole = round(value)
    return f"{whole}m" if whole < 60 else f"{whole // 60}h{whole % 60:02d}m"


def change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "-"
    delta = now - before
    if not delta:
        return "0"
    sign = "+" if delta > 0 else ""
    return f"{sign}{num(delta)}" + (f" ({sign}{delta / before * 100:.0f}%)" if before else "")


# --- text --------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int]) -> list[str]:
    """Aligned columns, those in `right` (numbers) right-aligned; the last column is
    cut to fit WIDTH."""
    lines = [list(headers), *(list(r) for r in rows)]
    count = len(headers)
    widths = [max(width(line[i]) for line in lines) for i in range(count)]
    _narrow(widths, right)
    fixed = sum(widths[:-1]) + len(GAP) * (count - 1)
    widths[-1] = min(widths[-1], max(WIDTH - fixed, MIN_LAST))
    out = []
    for line in lines:
        cells = []
        for i, cell in enumerate(line):
            cell = clip(cell, widths[i])
            pad = " " * (widths[i] - width(cell))
            cells.append(pad + cell if i in right else cell + pad)
        out.append(GAP.join(cells).rstrip())
    return out


def _narrow(widths: list[int], right: Sequence[int]) -> None:
    """Cut the widest text column before the last, a column at a time, until the last
    column has MIN_LAST columns within WIDTH."""
    text = [i for i in range(len(widths) - 1) if i not in right]
    while text and sum(widths[:-1]) + len(GAP) * (len(widths) - 1) + MIN_LAST > WIDTH:
        widest = max(text, key=lambda i: widths[i])
        if widths[widest] <= MIN_LAST:
            return
        widths[widest] -= 1


def title(f: Figures, locale: str) -> str:
    p = f.period
    days = f"{p.first_day}" if p.days == 1 else f"{p.first_day} – {p.last_day}"
    who = f"{word('group', locale)} {f.group}" if f.group else word("desk", locale)
    if locale == "zh-CN":
        return f"服务台{word(p.kind.value, locale)} {days}（{who}）"
    return f"Service desk {word(p.kind.value, locale)}, {days} ({who})"


def as_text(f: Figures, locale: str) -> str:
    """The figures for a terminal; an empty period is one line."""
    if f.empty:
        sep = "：" if locale == "zh-CN" else ": "
        return f"{title(f, locale)}{sep}{word('empty', locale)}\n"
    blocks = [[title(f, locale)]] + [b for b in _blocks(f, locale) if b]
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"


def _blocks(f: Figures, locale: str) -> Iterator[list[str]]:
    w = functools.partial(word, locale=locale)
    cols = [w("this"), w("previous"), w("change")]
    counts = [(w(k), getattr(f.counts, k), getattr(f.previous_counts, k))
              for k in ("opened", "resolved", "closed", "reopened")]  # fmt: skip
    yield _heading(w("tickets"), table(["", *cols], _compare(counts), (1, 2, 3)))
    b, pb = f.backlog, f.previous_backlog
    backlog = [(w("open"), b.open, pb.open),
               (w("median_age"), b.median_age_hours, pb.median_age_hours),
               (w("older_than_week"), b.older_than_week, pb.older_than_week)]  # fmt: skip
    yield _heading(w("backlog"), table(["", *cols], _compare(backlog), (1, 2, 3)))
    yield _sla(f, locale)
    yield _times(f, locale)
    yield _satisfaction(f, locale)
    for key in ("by_category", "by_priority", "by_group", "by_engineer"):
        yield _shares(key, getattr(f, key), locale)
    yield _breaches(f, locale)
    yield _recurring(f, locale)
    yield _self_service(f, locale)
    if f.missing_calendar_years:
        yield [w("calendar") + ", ".join(str(y) for y in f.missing_calendar_years)]


def _heading(text: str, lines: list[str]) -> list[str]:
    return [text, *lines]


def _compare(rows: Sequence[tuple[str, float | None, float | None]]) -> list[list[str]]:
    return [[name, num(a), num(b), change(a, b)] for name, a, b in rows]


def _sla(f: Figures, locale: str) -> list[str]:
    w = functools.partial(word, locale=locale)
    before = {s.target: s for s in f.previous_sla}
    rows = []
    for s in f.sla:
        mark = "*" if s.provisional else ""
        old = before.get(s.target, SlaFigure(s.target))
        rows.append([w(s.target) + mark, str(s.met), str(s.missed), percent(s.rate),
                     percent(old.rate)])  # fmt: skip
    if not rows:
        return []
    heads = [w("target"), w("met"), w("missed"), w("rate"), w("previous")]
    notes = [w("provisional")] if any(s.provisional for s in f.sla) else []
    return _heading(w("sla"), table(heads, rows, (1, 2, 3, 4)) + notes)


def _times(f: Figures, locale: str) -> list[str]:
    w = functools.partial(word, locale=locale)
    pairs = [("response", f.response_time, f.previous_response_time),
             ("resolution", f.resolution_time, f.previous_resolution_time)]  # fmt: skip
    rows = [[w(k), str(d.count), minutes(d.median_minutes), minutes(d.p90_minutes),
             minutes(old.median_minutes)] for k, d, old in pairs]  # fmt: skip
    heads = ["", w("count"), w("median"), w("p90"), f"{w('previous')} {w('median')}"]
    return _heading(w("times"), table(heads, rows, (1, 2, 3, 4)))


def _satisfaction(f: Figures, locale: str) -> list[str]:
    w = functools.partial(word, locale=locale)
    s, old = f.satisfaction, f.previous_satisfaction
    reviews = f"{s.reviews_opened}/{s.reviews_open_at_end}/{s.reviews_closed}"
    old_reviews = f"{old.reviews_opened}/{old.reviews_open_at_end}/{old.reviews_closed}"
    rows = [
        [w("surveys_sent"), str(s.surveys_sent), str(old.surveys_sent)],
        [w("answers"), str(s.answers), str(old.answers)],
        [w("average"), num(s.average, 2), num(old.average, 2)],
        [w("response_rate"), percent(s.response_rate), percent(old.response_rate)],
        [w("distribution"), " ".join(map(str, s.distribution)),
         " ".join(map(str, old.distribution))],
        [w("reviews"), reviews, old_reviews],
    ]  # fmt: skip
    return _heading(w("satisfaction"), table(["", w("this"), w("previous")], rows, (1, 2)))


def _share_name(key: str, name: str, locale: str) -> str:
    """A stored value in the reader's words; a blank one says what blank means here."""
    if not name:
        return word("unassigned" if key == "by_engineer" else "none", locale)
    kinds = {"by_category": "category", "by_priority": "priority"}
    return term(kinds[key], name, locale) if key in kinds else name


def _shares(key: str, shares: Sequence[Share], locale: str) -> list[str]:
    if not shares:
        return []
    w = functools.partial(word, locale=locale)
    rows = [[_share_name(key, s.name, locale), str(s.opened), str(s.resolved),
             str(s.open_at_end)] for s in shares]  # fmt: skip
    heads = [w("name"), w("opened"), w("resolved"), w("open_at_end")]
    return _heading(w(key), _name_last(heads, rows))


def _name_last(heads: list[str], rows: list[list[str]]) -> list[str]:
    """Numbers first, the name last: a long name is cut, never the numbers."""
    return table([*heads[1:], heads[0]], [[*r[1:], r[0]] for r in rows], (0, 1, 2))


def _breaches(f: Figures, locale: str) -> list[str]:
    if not f.breaches:
        return []
    w = functools.partial(word, locale=locale)
    rows = [[b.number, w(b.target), minutes(b.late_minutes), b.assignee or w("unassigned"),
             b.subject] for b in f.breaches]  # fmt: skip
    heads = [w("number"), w("target"), w("late"), w("assignee"), w("subject")]
    return _heading(w("breaches"), table(heads, rows, (2,)))


def _recurring(f: Figures, locale: str) -> list[str]:
    if not f.recurring:
        return []
    w = functools.partial(word, locale=locale)
    rows = [[term("category", r.category, locale), r.term, str(r.count), str(r.previous),
             w("yes") if r.has_article else w("worth_article"),
             " ".join(e.number for e in r.examples)] for r in f.recurring]  # fmt: skip
    heads = [w("category"), w("term"), w("this"), w("previous"), w("kb_article"), w("examples")]
    return _heading(w("recurring"), table(heads, rows, (2, 3)))


def _self_service(f: Figures, locale: str) -> list[str]:
    s = f.self_service
    if s is None:
        return []
    w = functools.partial(word, locale=locale)
    colon = "：" if locale == "zh-CN" else ": "
    rate = f"{w('self_rate')}{colon}{percent(s.rate)} ({s.resolved_self}/{s.resolved_total})"
    rows = [[str(a.suggested), str(a.helped), f"{a.title} ({a.name})"] for a in s.articles]
    lines = table([w("suggested"), w("helped"), w("article")], rows, (0, 1)) if rows else []
    never = [a.title or a.name for a in s.articles if a.suggested and not a.helped]
    if never:
        lines.append(clip(w("never_helped") + colon + ", ".join(never), 80))
    return _heading(w("self_service"), [rate, *lines])
