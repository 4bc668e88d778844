"""`maildesk report` formats of a hand-built period (tests/digest_figures.py): text for an
80-column terminal in both locales (CJK characters two columns wide), CSV one row per
figure, JSON every field; an empty period is one line.  Expected output written by hand:
12 vs 8 opened is +4 (+50%), 10 of 12 responses met is 83%, 22/6 is an average of 3.67."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

from maildesk.digest.formats import as_csv, as_json, as_text
from maildesk.digest.model import Breach, Counts, Share
from maildesk.digest.terminal import width

from .digest_figures import empty_figures, week_figures

ZH = """\
服务台日报 2026-11-30（全部）

工单
        本期  上期       变化
新建      12     8  +4 (+50%)
已解决     9    10  -1 (-10%)
已关闭     4     4          0
重开       1     0         +1

积压（期末）
                    本期  上期         变化
未结                  17    14    +3 (+21%)
年龄中位数（小时）  26.5    30  -3.5 (-12%)
超过 7 天              3     2    +1 (+50%)

SLA 达成
目标      达成  未达成  达成率  上期
首次响应    10       2     83%   88%
解决*        6       1     86%  100%
* 含暂定数据：该年度的节假日日历未导入

处理时长（工作时间）
          数量  中位数     P90  上期 中位数
首次响应    12     38m   1h35m          45m
解决         9   4h10m  10h10m        5h00m

满意度
                           本期       上期
已发调查                      9         10
回复                          6          5
平均分                     3.67       4.20
回复率                      67%        50%
分布 1–5              1 0 1 2 2  0 0 1 2 2
回访：新开/未结/已结      1/1/0      0/0/0

按类别
新建  已解决  期末未结  名称
   5       4         7  网络问题
   4       3         6  硬件故障
   3       2         4  其他

按优先级
新建  已解决  期末未结  名称
   2       2         1  紧急
  10       7        16  中

按组
新建  已解决  期末未结  名称
   7       5         9  network
   5       4         8  desktop

按工程师（工作量）
新建  已解决  期末未结  名称
   7       5         9  wang.gong@example.com
   5       4         8  li.lei@example.com

超时工单（最晚的在前）
编号              目标       超时  处理人                 主题
IT-20261130-0003  解决      2h15m  wang.gong@example.com  共享盘打不开，财务部…
IT-20261130-0007  首次响应    20m  未指派                 Printer on 2F jams

反复出现的问题
类别      词语  本期  上期  知识库  示例
网络问题  VPN      4     1  无      IT-20261130-0009 IT-20261130-0002

自助解决
自助解决率：22% (2/9)
推荐  有帮助  文章
   5       2  VPN 错误 809 (vpn-809)

注意：以下年份的节假日日历未导入：2027
"""

EN = """\
Service desk daily digest, 2026-11-30 (whole desk)

Tickets
          this  previous     change
opened      12         8  +4 (+50%)
resolved     9        10  -1 (-10%)
closed       4         4          0
reopened     1         0         +1

Backlog at the end
                    this  previous       change
open                  17        14    +3 (+21%)
median age (hours)  26.5        30  -3.5 (-12%)
older than 7 days      3         2    +1 (+50%)

SLA
target          met  missed  rate  previous
first response   10       2   83%       88%
resolution*       6       1   86%      100%
* provisional: the year's calendar was not loaded

Times (business time)
                count  median     p90  previous median
first response     12     38m   1h35m              45m
resolution          9   4h10m  10h10m            5h00m

Satisfaction
                                 this   previous
surveys sent                        9         10
answers                             6          5
average                          3.67       4.20
response rate                     67%        50%
scores 1–5                  1 0 1 2 2  0 0 1 2 2
reviews opened/open/closed      1/1/0      0/0/0

By category
opened  resolved  open at end  name
     5         4            7  Network problem
     4         3            6  Hardware fault
     3         2            4  Other

By priority
opened  resolved  open at end  name
     2         2            1  Urgent
    10         7           16  Medium

By group
opened  resolved  open at end  name
     7         5            9  network
     5         4            8  desktop

By engineer (workload)
opened  resolved  open at end  name
     7         5            9  wang.gong@example.com
     5         4            8  li.lei@example.com

Breaches (most late first)
number            target           late  assignee               subject
IT-20261130-0003  resolution      2h15m  wang.gong@example.com  共享盘打不开，…
IT-20261130-0007  first response    20m  unassigned             Printer on 2F j…

Recurring problems
category         term  this  previous  KB    examples
Network problem  VPN      4         1  none  IT-20261130-0009 IT-20261130-0002

Self-service
self-service rate: 22% (2/9)
suggested  helped  article
        5       2  VPN 错误 809 (vpn-809)

Warning: no holiday calendar loaded for 2027
"""


def test_text_in_chinese() -> None:
    assert as_text(week_figures(), "zh-CN") == ZH


def test_text_in_english() -> None:
    assert as_text(week_figures(), "en") == EN


def test_every_line_fits_80_columns_counting_wide_characters_twice() -> None:
    """A long Chinese subject and a long engineer address are cut with …; 20 CJK
    characters take 40 columns, so the cut is by columns, not characters."""
    long = Breach("IT-20261130-0011", "打印机" * 30, "a.very.long.engineer.address@example.com",
                  "response", week_figures().breaches[0].due_at, 12345.0)  # fmt: skip
    figures = replace(week_figures(), breaches=(long,))
    for locale in ("zh-CN", "en"):
        lines = as_text(figures, locale).splitlines()
        assert max(width(line) for line in lines) <= 80
        (row,) = [line for line in lines if line.startswith("IT-20261130-0011")]
        assert row.endswith("…") and width(row) in (79, 80)
    assert width("共享盘 VPN") == 10


def test_an_empty_period_is_one_line() -> None:
    assert as_text(empty_figures(), "zh-CN") == (
        "服务台日报 2026-11-30（全部）：本期没有新工单，也没有未结工单。\n"
    )
    assert as_text(replace(empty_figures(), group="network"), "en") == (
        "Service desk daily digest, 2026-11-30 (group network): "
        "no tickets opened or handled, none open.\n"
    )


def test_a_quiet_period_with_tickets_still_open_is_not_empty() -> None:
    quiet = replace(week_figures(), counts=Counts())
    assert len(as_text(quiet, "en").splitlines()) > 1


def test_csv_one_row_per_figure_with_its_previous_value() -> None:
    text = as_csv(week_figures())
    rows = list(csv.reader(io.StringIO(text)))
    assert text.startswith("section,name,value,previous\r\n")
    assert all(len(row) == 4 for row in rows)
    expected = [
        ["period", "first_day", "2026-11-30", "2026-11-29"],
        ["counts", "opened", "12", "8"],
        ["counts", "reopened", "1", "0"],
        ["backlog", "median_age_hours", "26.5", "30"],
        ["sla.response", "rate", "0.8333", "0.875"],
        ["sla.resolution", "provisional", "1", "0"],
        ["response_time", "p90_minutes", "95", "120"],
        ["satisfaction", "average", "3.6667", "4.2"],
        ["satisfaction", "score_1", "1", "0"],
        ["by_category.opened", "网络问题", "5", ""],
        ["by_engineer.open_at_end", "li.lei@example.com", "8", ""],
        ["breaches.resolution.late_minutes", "IT-20261130-0003", "135", ""],
        ["recurring.网络问题", "VPN", "4", "1"],
        ["daily.opened", "2026-11-30", "12", ""],
        ["weekly_sla.missed", "2026-11-23", "5", ""],
        ["self_service", "rate", "0.2222", ""],
        ["self_service.helped", "vpn-809", "2", ""],
        ["calendar.missing_year", "2027", "2027", ""],
    ]
    for row in expected:
        assert row in rows, row
    # 5 period, 4 counts, 3 backlog, 2×4 sla, 2×3 times, 12 satisfaction, 9×3 shares,
    # 2 breaches, 1 recurring, 2×2 daily, 2×2 weekly, 3+2 self-service, 1 calendar
    assert len(rows) == 1 + 5 + 4 + 3 + 8 + 6 + 12 + 27 + 2 + 1 + 4 + 4 + 5 + 1


def test_json_has_every_field_dates_iso() -> None:
    data = json.loads(as_json(week_figures()))
    assert data["period"] == {
        "kind": "day", "first_day": "2026-11-30", "last_day": "2026-11-30",
        "start": "2026-11-29T16:00:00+00:00", "end": "2026-11-30T16:00:00+00:00",
        "timezone": "Asia/Shanghai", "days": 1,
    }  # fmt: skip
    assert data["breaches"][0] == {
        "number": "IT-20261130-0003",
        "subject": "共享盘打不开，财务部三楼所有电脑都无法访问 Z 盘的报表文件夹",
        "assignee": "wang.gong@example.com", "target": "resolution",
        "due_at": "2026-11-30T02:00:00+00:00", "late_minutes": 135.0,
    }  # fmt: skip
    assert data["sla"][1] == {"target": "resolution", "met": 6, "missed": 1, "provisional": 1,
                              "decided": 7, "rate": 6 / 7}  # fmt: skip
    assert data["satisfaction"]["distribution"] == [1, 0, 1, 2, 2]
    assert data["satisfaction"]["average"] == 22 / 6
    assert data["previous_satisfaction"]["response_rate"] == 0.5
    assert data["recurring"][0]["examples"][1] == {"number": "IT-20261130-0002",
                                                   "subject": "VPN error 809"}  # fmt: skip
    assert data["weekly_sla"][0] == {"week_start": "2026-11-23", "met": 40, "missed": 5}
    assert data["missing_calendar_years"] == [2027] and data["empty"] is False
    assert data["self_service"]["rate"] == 2 / 9
    fields = set(week_figures().__dataclass_fields__)
    assert set(data) == fields | {"empty"}


def test_json_of_an_empty_period_says_so() -> None:
    data = json.loads(as_json(empty_figures()))
    assert data["empty"] is True and data["self_service"] is None and data["sla"] == []


def test_blank_names_say_what_blank_means() -> None:
    """Unassigned tickets and tickets of no group are rows too: never a nameless one."""
    f = replace(week_figures(), by_engineer=(Share("", 7, 0, 7),), by_group=(Share("", 2, 1, 1),))
    zh, en = as_text(f, "zh-CN").splitlines(), as_text(f, "en").splitlines()
    assert any(line.split()[-1:] == ["未指派"] for line in zh)
    assert any(line.split()[-1:] == ["未填写"] for line in zh)
    assert any(line.endswith("unassigned") for line in en)
    assert any(line.endswith("not set") for line in en)


def test_a_quiet_period_with_survey_answers_or_sla_outcomes_is_not_empty() -> None:
    """A low score arriving days after the ticket closed is news, not "nothing"."""
    quiet = empty_figures()
    answered = replace(quiet, satisfaction=replace(quiet.satisfaction, answers=1,
                                                   distribution=(1, 0, 0, 0, 0)))  # fmt: skip
    assert quiet.empty and not answered.empty
    assert len(as_text(answered, "en").splitlines()) > 1


def test_control_characters_in_a_subject_never_reach_the_terminal() -> None:
    f = week_figures()
    evil = replace(f.breaches[0], subject="VPN\x1b]0;owned\x07\x1b[2J\r\nline")
    text = as_text(replace(f, breaches=(evil, *f.breaches[1:])), "en")
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert any("VPN ]0;owned" in line for line in text.splitlines())
