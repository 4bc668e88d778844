"""Commands at the top of an engineer's reply: `commands.extract` and `help_text`, by table."""

from __future__ import annotations

import re

import pytest

from maildesk.config import CATEGORIES
from maildesk.domain import Priority, Status
from maildesk.pipeline import commands
from maildesk.pipeline.commands import REQUESTER_COMMANDS, Command, Parsed, extract, help_text
from maildesk.vocab import say

# --- one command, every alias -----------------------------------------------------------------

# (reply, (name, argument)): each reply holds one command line and a body "正文".
ONE_COMMAND = [
    # status with a value, both languages, both separators, both hash signs
    ("#status resolved", ("status", "resolved")),
    ("#STATUS Resolved", ("status", "resolved")),
    ("#status: resolved", ("status", "resolved")),
    ("#status:resolved", ("status", "resolved")),
    ("#state closed", ("status", "closed")),
    ("#状态 已解决", ("status", "resolved")),
    ("#状态：已解决", ("status", "resolved")),
    ("＃状态　已解决", ("status", "resolved")),
    ("＃状态：已解决。", ("status", "resolved")),
    ("#状态已解决", ("status", "resolved")),
    ("#status new", ("status", "new")),
    ("#状态 新建", ("status", "new")),
    ("#status assigned", ("status", "assigned")),
    ("#状态 已指派", ("status", "assigned")),
    ("#status in_progress", ("status", "in_progress")),
    ("#status in-progress", ("status", "in_progress")),
    ("#status inprogress", ("status", "in_progress")),
    ("#status In Progress", ("status", "in_progress")),
    ("#状态 处理中", ("status", "in_progress")),
    ("#status waiting_on_user", ("status", "waiting_on_user")),
    ("#status waiting", ("status", "waiting_on_user")),
    ("#状态 等待用户", ("status", "waiting_on_user")),
    ("#状态 待用户回复", ("status", "waiting_on_user")),
    ("#status escalated", ("status", "escalated")),
    ("#状态 已升级", ("status", "escalated")),
    ("#status closed", ("status", "closed")),
    ("#状态 已关闭", ("status", "closed")),
    ("#status rejected", ("status", "rejected")),
    ("#状态 已拒绝", ("status", "rejected")),
    # status alone asks for the state
    ("#status", ("status_query", "")),
    ("#Status?", ("status_query", "")),
    ("#状态", ("status_query", "")),
    ("＃状态", ("status_query", "")),
    ("#status:", ("status_query", "")),
    # resolve keeps its text
    ("#resolve", ("resolve", "")),
    ("#resolve 已重置交换机端口", ("resolve", "已重置交换机端口")),
    ("#resolve: Replaced the toner.", ("resolve", "Replaced the toner.")),
    ("#解决", ("resolve", "")),
    ("#解决 已重置交换机端口", ("resolve", "已重置交换机端口")),
    ("#已解决 重启后恢复", ("resolve", "重启后恢复")),
    ("#解决，已重启路由器", ("resolve", "已重启路由器")),
    ("#resolved", ("resolve", "")),
    # no-value commands
    ("#close", ("close", "")),
    ("#Close.", ("close", "")),
    ("#关闭", ("close", "")),
    ("＃关闭", ("close", "")),
    ("#reopen", ("reopen", "")),
    ("#重开", ("reopen", "")),
    ("#重新打开", ("reopen", "")),
    ("#wait", ("wait", "")),
    ("#等待", ("wait", "")),
    ("#等待用户", ("wait", "")),
    ("#take", ("take", "")),
    ("#接单", ("take", "")),
    ("#认领", ("take", "")),
    ("＃ｔａｋｅ", ("take", "")),
    # assign keeps the name or address as written
    ("#assign 张伟", ("assign", "张伟")),
    ("#assign zhang.wei@example.com", ("assign", "zhang.wei@example.com")),
    ("#Assign: Zhang Wei", ("assign", "Zhang Wei")),
    ("#指派 李娜", ("assign", "李娜")),
    ("#指派：李娜", ("assign", "李娜")),
    ("#分配 李娜", ("assign", "李娜")),
    # priority
    ("#priority urgent", ("priority", "urgent")),
    ("#优先级 紧急", ("priority", "urgent")),
    ("#优先级：紧急", ("priority", "urgent")),
    ("#优先级紧急", ("priority", "urgent")),
    ("#priority HIGH", ("priority", "high")),
    ("#优先级 高", ("priority", "high")),
    ("#priority medium", ("priority", "medium")),
    ("#priority normal", ("priority", "medium")),
    ("#优先级 中", ("priority", "medium")),
    ("#priority low", ("priority", "low")),
    ("#优先级 低", ("priority", "low")),
    # category: the six names and their aliases
    ("#category network", ("category", "网络问题")),
    ("#分类 网络", ("category", "网络问题")),
    ("#分类 网络问题", ("category", "网络问题")),
    ("#分类：网络问题", ("category", "网络问题")),
    ("#category hardware", ("category", "硬件故障")),
    ("#分类 硬件", ("category", "硬件故障")),
    ("#category software", ("category", "软件异常")),
    ("#分类 软件异常", ("category", "软件异常")),
    ("#category account", ("category", "账号权限")),
    ("#category permission", ("category", "账号权限")),
    ("#分类 权限", ("category", "账号权限")),
    ("#category security", ("category", "数据安全")),
    ("#category data security", ("category", "数据安全")),
    ("#category Data-Security", ("category", "数据安全")),
    ("#分类 数据安全", ("category", "数据安全")),
    ("#category other", ("category", "其他")),
    ("#类别 其他", ("category", "其他")),
    # escalate keeps its reason
    ("#escalate needs an engineer on site", ("escalate", "needs an engineer on site")),
    ("#升级 需要二线支持", ("escalate", "需要二线支持")),
    ("#升级：涉及财务系统", ("escalate", "涉及财务系统")),
]  # fmt: skip


@pytest.mark.parametrize(("reply", "expected"), ONE_COMMAND, ids=[r for r, _ in ONE_COMMAND])
def test_one_command(reply: str, expected: tuple[str, str]) -> None:
    parsed = extract(f"{reply}\n正文")
    assert parsed.errors == ()
    assert [(c.name, c.argument) for c in parsed.commands] == [expected]
    assert parsed.commands[0].line == reply
    assert parsed.text == "正文"
    assert parsed.note == ""


def test_values_are_plain_canonical_strings() -> None:
    parsed = extract("#状态 已解决\n#优先级 紧急\n#分类 网络")
    assert [type(c.argument) for c in parsed.commands] == [str, str, str]
    status, priority, category = (c.argument for c in parsed.commands)
    assert Status(status) is Status.RESOLVED
    assert Priority(priority) is Priority.URGENT
    assert category in CATEGORIES


# --- the command block: where it starts and ends ---------------------------------------------

# (reply, commands as (name, argument), relayed text)
BLOCKS = [
    ("no commands at all\nsee #12", [], "no commands at all\nsee #12"),
    ("", [], ""),
    ("\n\n  #close\n\nThanks, closing.", [("close", "")], "Thanks, closing."),
    ("\u3000＃关闭\n谢谢", [("close", "")], "谢谢"),
    ("#close\r\n\r\nDone.\r\nBye", [("close", "")], "Done.\nBye"),
    (
        "#resolve 已重置交换机端口\n#priority low\n#category network\n\n已处理，请重试。",
        [("resolve", "已重置交换机端口"), ("priority", "low"), ("category", "网络问题")],
        "已处理，请重试。",
    ),
    ("#take\n\n#wait\n请提供截图。", [("take", ""), ("wait", "")], "请提供截图。"),
    ("Hello,\n#close\nbye", [], "Hello,\n#close\nbye"),
    ("#close\nsee issue #12\n#reopen", [("close", "")], "see issue #12\n#reopen"),
    ("#12 is still broken\n#close", [], "#12 is still broken\n#close"),
    ("#\n#close", [], "#\n#close"),
    ("# close\nok", [("close", "")], "ok"),
    ("#assign 张伟\n  indented body", [("assign", "张伟")], "  indented body"),
    ("#close\n\n\n", [("close", "")], ""),
    ("#status\u00a0resolved\nok", [("status", "resolved")], "ok"),
]


@pytest.mark.parametrize(("reply", "expected", "text"), BLOCKS, ids=[repr(b[0]) for b in BLOCKS])
def test_block(reply: str, expected: list[tuple[str, str]], text: str) -> None:
    parsed = extract(reply)
    assert parsed.errors == ()
    assert [(c.name, c.argument) for c in parsed.commands] == expected
    assert parsed.text == text
    assert parsed.note == ""


def test_lines_are_kept_as_written() -> None:
    parsed = extract("  ＃状态：已解决  \r\n#Priority  HIGH\r\nok")
    assert parsed.commands == (
        Command("status", "resolved", "＃状态：已解决"),
        Command("priority", "high", "#Priority  HIGH"),
    )


# --- #note ------------------------------------------------------------------------------------

# (reply, commands, note); nothing is relayed
NOTES = [
    ("#note\n用户的电脑已过保，需采购。", [("note", "")], "用户的电脑已过保，需采购。"),
    ("#备注\nInternal: warranty expired.", [("note", "")], "Internal: warranty expired."),
    ("#note 换了网线\n端口 24 有问题", [("note", "")], "换了网线\n端口 24 有问题"),
    ("#备注：只有这一行", [("note", "")], "只有这一行"),
    ("#备注只有这一行", [("note", "")], "只有这一行"),
    ("#wait\n#note\n等采购回复", [("wait", ""), ("note", "")], "等采购回复"),
    ("#note\n#priority high\n见工单 #12", [("note", ""), ("priority", "high")], "见工单 #12"),
    ("#note", [("note", "")], ""),
]


@pytest.mark.parametrize(("reply", "expected", "note"), NOTES, ids=[repr(n[0]) for n in NOTES])
def test_note(reply: str, expected: list[tuple[str, str]], note: str) -> None:
    parsed = extract(reply)
    assert parsed.errors == ()
    assert [(c.name, c.argument) for c in parsed.commands] == expected
    assert parsed.text == ""
    assert parsed.note == note


# --- errors: all or nothing -------------------------------------------------------------------

# (reply, one list of fragments per expected error)
ERRORS = [
    ("#frobnicate", [['Unknown command "#frobnicate"', '"#frobnicate"', "#status, #resolve"]]),
    ("#状态栏坏了", [['Unknown state "栏坏了"', "accepted:", "resolved, closed"]]),
    ("#pending", [["Unknown command", "#wait"]]),
    ("#priority superhigh", [['Unknown priority "superhigh"', "urgent, high", "low"]]),
    ("#优先级 非常高", [['Unknown priority "非常高"', '"#优先级 非常高"']]),
    ("#priority", [['"#priority" needs a priority', "accepted:"]]),
    ("#status done", [['Unknown state "done"', "in_progress"]]),
    ("#category printers", [['Unknown category "printers"', "network, account"]]),
    ("#分类 打印机", [['Unknown category "打印机"']]),
    ("#assign", [['"#assign" needs an engineer', '"#assign"']]),
    ("#指派：", [['"#assign" needs an engineer', '"#指派："']]),
    ("#escalate", [['"#escalate" needs a reason']]),
    ("#升级", [['"#escalate" needs a reason', '"#升级"']]),
    ("#take 张伟", [['"#take" takes no value', '"张伟"', '"#take 张伟"']]),
    ("#close please", [['"#close" takes no value']]),
    ("#等待中", [['"#wait" takes no value', '"中"']]),
    ("#reopen now", [['"#reopen" takes no value']]),
    ("#close\n#reopen", [['"#reopen" conflicts with the earlier "#close"', "one change of state"]]),
    ("#resolve done\n#status closed", [["conflicts", "one change of state"]]),
    ("#escalate 二线\n#wait", [["conflicts", "one change of state"]]),
    ("#take\n#assign 张伟", [['"#assign 张伟" conflicts with the earlier "#take"', "assignee"]]),
    ("#priority high\n#优先级 低", [["conflicts", "each command once"]]),
    (
        "#resolve 已重置\n#frobnicate\n#priority superhigh\n#close extra",
        [["#frobnicate"], ["superhigh"], ["#close extra"]],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("reply", "fragments"), ERRORS, ids=[repr(e[0]) for e in ERRORS])
def test_errors_apply_nothing(reply: str, fragments: list[list[str]]) -> None:
    parsed = extract(f"{reply}\n正文")
    assert parsed.commands == ()
    assert len(parsed.errors) == len(fragments)
    for error, wanted in zip(parsed.errors, fragments, strict=True):
        english = say(error, "en")
        for fragment in wanted:
            assert fragment in english
        assert english.endswith(".")
        chinese = say(error, "zh-CN")
        assert chinese.endswith("。")
        for quoted in re.findall(r"“([^”]*)”", chinese):  # what people wrote may be English
            chinese = chinese.replace(quoted, "")
        assert not re.search(r"[A-Za-z]{2,}", chinese.replace("#", "")), chinese
    assert parsed.text == "正文"


def test_good_lines_around_a_bad_one_are_not_applied() -> None:
    parsed = extract("#close\n#priority superhigh\n#category network\nok")
    assert parsed == Parsed(
        commands=(),
        text="ok",
        note="",
        errors=(parsed.errors[0],),
    )
    english = say(parsed.errors[0], "en")
    assert english.startswith('Unknown priority "superhigh" in "#priority superhigh"')
    assert say(parsed.errors[0], "zh-CN").startswith("“#priority superhigh”中的优先级“superhigh”")


def test_an_error_with_a_note_still_relays_nothing() -> None:
    parsed = extract("#note 内部\n#bogus\n秘密")
    assert parsed.commands == ()
    assert parsed.text == ""
    assert parsed.note == "内部\n秘密"
    assert len(parsed.errors) == 1


# --- tables and help --------------------------------------------------------------------------


def test_requester_commands() -> None:
    assert frozenset({"close", "status_query"}) == REQUESTER_COMMANDS
    for reply in ("#close", "#关闭", "#status", "#状态"):
        names = {c.name for c in extract(reply).commands}
        assert names <= REQUESTER_COMMANDS, reply
    assert not {c.name for c in extract("#status resolved").commands} <= REQUESTER_COMMANDS


def test_every_value_is_accepted_by_its_canonical_name() -> None:
    for status in Status:
        assert extract(f"#status {status.value}").commands[0].argument == status.value
    for priority in Priority:
        assert extract(f"#priority {priority.value}").commands[0].argument == priority.value
    for category in CATEGORIES:
        assert extract(f"#category {category}").commands[0].argument == category


def test_every_command_has_a_chinese_alias_and_a_help_line() -> None:
    zh, en = help_text("zh-CN"), help_text("en")
    for spec in commands._SPECS:
        chinese = [w for w in spec.words if not w.isascii()]
        assert chinese, spec.name
        assert f"#{spec.name}" in en and f"#{chinese[0]}" in zh
        for word in (spec.name, *spec.words):
            assert extract(f"#{word} x" if spec.name in {"assign", "escalate"} else f"#{word}")
            assert f"#{word}" in (zh if word in chinese else en), word


@pytest.mark.parametrize(
    ("locale", "fragments"),
    [
        ("en", ["Commands go on the first lines", "#status <state>", "#resolve [text]",
                "#assign <engineer>", "#priority <level>", "urgent, high",
                "in_progress (inprogress)", "hardware, software",
                "#close, #status and #solved", "written in Chinese"]),
        ("zh-CN", ["命令写在回复的最前面", "#状态 <状态>", "#解决 [说明]", "#指派 <工程师>",
                   "#优先级 <级别>", "#重开           重新打开工单（也可写 #重新打开）",
                   "紧急、高、中 (普通)、低", "处理中、",
                   "网络问题 (网络)", "#关闭、#状态 和 #已解决", "也可以用英文书写"]),
    ],
)  # fmt: skip
def test_help_text(locale: str, fragments: list[str]) -> None:
    text = help_text(locale)
    for fragment in fragments:
        assert fragment in text, fragment


def test_help_text_is_different_per_locale_and_refuses_unknown_locales() -> None:
    assert help_text("en") != help_text("zh-CN")
    assert not re.search(r"[\u4e00-\u9fff]", help_text("en"))
    assert not re.search(r"[A-Za-z]{2,}", help_text("zh-CN"))
    with pytest.raises(ValueError, match="locale"):
        help_text("fr")


def test_aliases_never_collide() -> None:
    with pytest.raises(ValueError, match="stands for both"):
        commands._index([("close", ("close",)), ("reopen", ("CLOSE",))])
