"""Routing rules: the shipped config/rules.toml, the matching semantics, and rule-file errors
that name their line."""

from __future__ import annotations

import random
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from maildesk.config import CATEGORIES, ConfigError
from maildesk.domain import Address, Inbound
from maildesk.pipeline import routing
from maildesk.pipeline.routing import Route, Rules, explain, route
from maildesk.rules import RuleError, load_rules, parse_rules, shipped_rules_path

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "config" / "rules.toml"
RULES = load_rules(SHIPPED)
PATH = Path("/tmp/x/rules.toml")


def mail(subject: str = "", text: str = "", **fields: object) -> Inbound:
    base = Inbound(
        message_id="m1@client.example.com", sender=Address("张伟", "zhang.wei@example.com"),
        return_path=None, to=(Address("IT服务台", "it-support@example.com"),), cc=(),
        subject=subject, date=None, in_reply_to="", references=(), text=text, attachments=(),
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def rules(text: str) -> Rules:
    return parse_rules(text, PATH)


# --- the shipped rules ----------------------------------------------------------------------


def test_shipped_rules_load_and_are_found() -> None:
    assert shipped_rules_path().resolve() == SHIPPED.resolve()
    assert len(RULES.rules) >= 15
    names = [r.name for r in RULES.rules]
    assert len(set(names)) == len(names)
    categories = {r.sets.get("category") for r in RULES.rules}
    assert set(CATEGORIES) <= categories, "every category of the service standard has a rule"
    assert RULES.rules[0].line > 1 and all(
        a.line < b.line for a, b in zip(RULES.rules, RULES.rules[1:], strict=False)
    )


def test_shipped_rules_line_numbers_point_at_their_headers() -> None:
    lines = SHIPPED.read_text(encoding="utf-8").split("\n")
    for rule in RULES.rules:
        assert lines[rule.line - 1].strip() == "[[rule]]"
        assert lines[rule.line].strip() == f'name = "{rule.name}"'


def test_the_issue_urgent_words_are_in_the_shipped_rules() -> None:
    for word in ("宕机", "紧急", "无法访问", "down", "outage"):
        assert route(mail(f"xx {word} yy"), RULES).priority == "urgent", word


# subject, body, expected fields (None: must stay unset)
SHIPPED_CASES = [
    ("打印机卡纸", "", {"category": "硬件故障", "subcategory": "打印机", "group": "desktop"}),
    ("VPN 连不上", "", {"category": "网络问题", "subcategory": "VPN", "group": "network",
                       "type": "incident", "priority": None}),
    ("服务器宕机，全部无法访问", "", {"priority": "urgent", "type": "incident"}),
    ("Outlook 一直闪退", "", {"category": "软件异常", "group": "applications",
                            "type": "incident"}),
    # Accounts come before the network, and nothing is broken: a request for an account.
    # The VPN rule matches too, but its category is taken; its subcategory goes with it.
    ("申请开通 VPN 账号", "", {"category": "账号权限", "subcategory": None,
                            "group": "accounts", "type": "service_request"}),
    ("download speed is slow", "downloading takes ages", {"priority": None}),
    ("The file server is down", "", {"priority": "urgent", "type": "incident"}),
    ("Outage: ERP", "", {"priority": "urgent", "category": "软件异常"}),
    ("My laptop won't shut down", "", {"priority": None, "category": "硬件故障",
                                       "type": "incident"}),
    ("Please use the drop-down menu", "", {"priority": None}),
    ("不紧急：请帮忙安装 Visio", "", {"priority": None, "category": "软件异常",
                                   "type": "service_request"}),
    ("这个不是很紧急", "但是邮箱收不到邮件", {"priority": None, "category": "软件异常"}),
    ("紧急！", "邮箱收不到邮件", {"priority": "urgent", "category": "软件异常"}),
    ("收到一封可疑邮件", "好像是钓鱼链接", {"category": "数据安全", "subcategory": "钓鱼邮件",
                                       "group": "security", "priority": "high"}),
    ("电脑疑似中了勒索病毒", "", {"category": "数据安全", "priority": "high"}),
    ("误删了共享盘的文件", "能不能帮忙恢复", {"category": "数据安全", "subcategory": "备份恢复",
                                       "priority": None, "type": "service_request"}),
    ("忘记密码", "域账号被锁定了", {"category": "账号权限", "subcategory": "密码与锁定",
                                 "group": "accounts"}),
    ("I am locked out of my account", "", {"category": "账号权限", "group": "accounts"}),
    ("How do I connect to the guest Wi-Fi?", "", {"category": "网络问题", "group": "network",
                                                   "type": "consultation"}),
    ("Ｗｉ－Ｆｉ 断了", "", {"category": "网络问题", "type": "incident"}),
    ("IP地址冲突", "", {"category": "网络问题"}),
    ("ship the zip", "", {"category": None}),
    ("笔记本连不上无线", "", {"category": "网络问题", "type": "incident"}),
    ("无线鼠标没反应", "", {"category": "硬件故障", "group": "desktop", "type": "incident"}),
    ("电脑开不了机", "按电源键没反应", {"category": "硬件故障", "type": "incident"}),
    ("电脑很卡", "", {"category": "硬件故障", "group": "desktop"}),
    ("电脑上的 Excel 打不开", "", {"category": "软件异常", "type": "incident"}),
    ("Excel crashes when I open a file", "", {"category": "软件异常", "type": "incident"}),
    ("安装失败", "setup.exe 报错 0x80070005", {"category": "软件异常", "type": "incident"}),
    ("请问如何设置邮箱签名", "", {"category": "软件异常", "type": "consultation"}),
    ("数据库迁移的变更申请", "", {"type": "change"}),
    ("显示器黑屏", "整个部门都用不了", {"priority": "high", "category": "硬件故障",
                                    "type": "incident"}),
    ("New hire onboarding", "please set up a laptop for her", {"category": "硬件故障",
                                                               "type": "service_request"}),
    ("会议室的座机没有声音", "", {"category": "其他", "group": "service-desk"}),
    ("你好", "谢谢", {f: None for f in routing.FIELDS}),
]  # fmt: skip


@pytest.mark.parametrize(("subject", "body", "expected"), SHIPPED_CASES)
def test_shipped_rules_route(subject: str, body: str, expected: dict[str, str | None]) -> None:
    got = route(mail(subject, body), RULES)
    assert {f: getattr(got, f) for f in expected} == expected, "\n".join(
        explain(mail(subject, body), RULES)
    )


def test_keywords_are_read_in_the_subject_and_the_body() -> None:
    assert route(mail("求助", "VPN 连不上"), RULES).category == "网络问题"
    assert route(mail("VPN 连不上", "求助"), RULES).category == "网络问题"


def test_a_long_body_is_read_up_to_the_limit() -> None:
    filler = "。" * (routing.BODY_LIMIT - 10)
    assert route(mail("求助", filler + "VPN"), RULES).category == "网络问题"
    assert route(mail("求助", filler + "。" * 20 + "VPN"), RULES).category is None


# --- semantics, with small rule files -------------------------------------------------------

ORDER = """
[[rule]]
name = "urgent"
match.subject_or_body.keywords = ["宕机", "down"]
set.priority = "urgent"

[[rule]]
name = "vpn"
match.subject_or_body.keywords = ["VPN"]
set.category = "网络问题"
set.subcategory = "VPN"
set.group = "network"
set.priority = "high"

[[rule]]
name = "network"
match.subject_or_body.keywords = ["网络", "VPN"]
set.category = "网络问题"
set.group = "infrastructure"
set.assignee = "wang.fang@example.com"

[[rule]]
name = "printer"
match.subject.keywords = ["打印机"]
set.category = "硬件故障"
set.subcategory = "打印机"
"""


def test_first_rule_to_set_a_field_wins_and_later_rules_fill_the_rest() -> None:
    got = route(mail("VPN 宕机"), rules(ORDER))
    assert got == Route(
        category="网络问题", subcategory="VPN", priority="urgent", group="network",
        assignee="wang.fang@example.com", matched=("urgent", "vpn", "network"),
    )  # fmt: skip


def test_a_rule_that_matches_but_has_nothing_left_to_set_is_still_listed() -> None:
    text = ORDER + '\n[[rule]]\nname = "again"\nmatch.subject.keywords = "vpn"\nset.group = "x"\n'
    got = route(mail("VPN"), rules(text))
    assert got.matched == ("vpn", "network", "again")
    assert got.group == "network"


def test_a_keyword_of_words_without_latin_letters_matches_across_spaces() -> None:
    """`无法 打印` has a space but no ASCII word: it loads, and any white space between
    its words matches (it used to stop the rule file from loading)."""
    text = (
        '[[rule]]\nname = "print"\nmatch.body.keywords = ["无法 打印"]\nset.category = "硬件故障"\n'
    )
    assert route(mail("求助", "现在无法  打印了"), rules(text)).category == "硬件故障"
    assert route(mail("求助", "无法\n打印"), rules(text)).category == "硬件故障"
    assert route(mail("求助", "无法打印"), rules(text)).category is None
    assert route(mail("求助", "vpn 无法 连接"), rules(text)).category is None


def test_subcategory_goes_with_its_category() -> None:
    # printer's category lost to an earlier rule: its subcategory is not taken either
    got = route(mail("打印机的网络"), rules(ORDER))
    assert (got.category, got.subcategory) == ("网络问题", None)
    assert got.matched == ("network", "printer")
    text = """
[[rule]]
name = "network"
match.subject.keywords = ["网络"]
set.category = "网络问题"
[[rule]]
name = "vpn"
match.subject.keywords = ["vpn"]
set.category = "网络问题"
set.subcategory = "VPN"
[[rule]]
name = "wifi"
match.subject.keywords = ["wifi"]
set.category = "网络问题"
set.subcategory = "无线"
"""
    # same category, no subcategory yet: a later, more specific rule still refines it
    got = route(mail("网络 VPN WiFi"), rules(text))
    assert (got.category, got.subcategory) == ("网络问题", "VPN")


def test_stop_ends_the_evaluation() -> None:
    text = """
[[rule]]
name = "alarms"
match.sender = "zabbix@example.com"
set.priority = "urgent"
set.assignee = "noc@example.com"
stop = true

[[rule]]
name = "network"
match.subject_or_body.keywords = ["网络"]
set.category = "网络问题"

[[rule]]
name = "newsletters: keep the defaults"
match.sender_domain = "news.example.org"
stop = true

[[rule]]
name = "everything else"
match.subject_or_body.regex = "."
set.group = "service-desk"
"""
    parsed = rules(text)
    alarm = mail("网络中断", sender=Address("", "Zabbix@Example.com"))
    assert route(alarm, parsed) == Route(priority="urgent", assignee="noc@example.com",
                                         matched=("alarms",))  # fmt: skip
    news = mail("本周网络技巧", sender=Address("", "a@news.example.org"))
    assert route(news, parsed) == Route(
        category="网络问题", matched=("network", "newsletters: keep the defaults")
    )
    assert route(mail("你好"), parsed) == Route(group="service-desk", matched=("everything else",))


def test_all_matchers_of_a_rule_must_match() -> None:
    text = """
[[rule]]
name = "vip printer"
match.sender_domain = ["board.example.com"]
match.subject.keywords = ["打印机", "printer"]
set.priority = "high"
"""
    parsed = rules(text)
    vip = Address("", "ceo@board.example.com")
    assert route(mail("打印机坏了", sender=vip), parsed).priority == "high"
    assert route(mail("打印机坏了"), parsed).priority is None
    assert route(mail("求助", "打印机坏了", sender=vip), parsed).priority is None


@pytest.mark.parametrize(
    ("email", "matched"),
    [
        ("a@example.com", True),
        ("A@EXAMPLE.COM", True),
        ("a@mail.example.com", True),
        ("a@deep.mail.example.com", True),
        ("a@badexample.com", False),
        ("a@example.com.cn", False),
        ("example.com@evil.org", False),
        ("", False),
    ],
)
def test_sender_domain_includes_subdomains(email: str, matched: bool) -> None:
    text = '[[rule]]\nname = "ours"\nmatch.sender_domain = "Example.com"\nset.group = "g"\n'
    got = route(mail("x", sender=Address("", email)), rules(text))
    assert (got.group == "g") is matched


def test_sender_is_an_exact_address() -> None:
    text = '[[rule]]\nname = "boss"\nmatch.sender = ["Boss@example.com"]\nset.priority = "high"\n'
    assert route(mail(sender=Address("", "boss@example.com")), rules(text)).priority == "high"
    assert route(mail(sender=Address("", "boss2@example.com")), rules(text)).priority is None


@pytest.mark.parametrize(
    ("fields", "matched"),
    [
        ({"to": (Address("", "IT-Security@example.com"),)}, True),
        ({"cc": (Address("", "it-security@example.com"),)}, True),
        ({"to": (Address("", "it-security+IT-20261122-0001@example.com"),)}, True),
        ({"headers": {"delivered-to": "it-security@example.com"}}, True),
        ({"headers": {"delivered-to": "<it-security@example.com>"}}, True),
        ({}, False),
        ({"to": (Address("", "it-security@example.org"),)}, False),
        ({"to": (Address("", "security@example.com"),)}, False),
    ],
)
def test_to_matches_the_receiving_address(fields: dict[str, Any], matched: bool) -> None:
    text = """
[[rule]]
name = "security mailbox"
match.to = ["it-security@example.com"]
set.category = "数据安全"
set.group = "security"
"""
    got = route(mail("请看一下", **fields), rules(text))
    assert (got.category == "数据安全") is matched


def test_subject_and_body_matchers_look_only_there() -> None:
    text = """
[[rule]]
name = "subject"
match.subject.keywords = ["alpha"]
set.group = "subject"
[[rule]]
name = "body"
match.body.keywords = ["beta"]
set.assignee = "body"
"""
    parsed = rules(text)
    assert route(mail("alpha", "beta"), parsed).matched == ("subject", "body")
    assert route(mail("beta", "alpha"), parsed).matched == ()


@pytest.mark.parametrize(
    ("keyword", "text", "found"),
    [
        ("down", "server down", True),
        ("down", "Down!", True),
        ("down", "download", False),
        ("down", "countdown", False),
        ("down", "down2", False),
        ("down", "服务器down了", True),
        ("ip", "IP地址", True),
        ("ip", "ship", False),
        ("ip", "ip_address", True),  # only letters and digits make a word
        ("Wi-Fi", "wi-fi", True),
        ("Wi-Fi", "WI-FI6", False),
        ("wi-fi", "ｗｉ－ｆｉ", True),
        ("blue screen", "a Blue\n  Screen again", True),
        ("blue screen", "bluescreen", False),
        ("can't", "I can’t log in", True),
        ("U盘", "我的u盘坏了", True),
        ("U盘", "menu盘", False),
        ("VPN", "ＶＰＮ", True),
        ("宕机", "服务器宕机了", True),
        ("开不了机", "电脑开不了机", True),
        ("C++", "c++ compiler", True),
        ("2fa", "2FA code", True),
        ("0x80070005", "错误0x80070005", True),
    ],
)
def test_keyword_edges(keyword: str, text: str, found: bool) -> None:
    rule = f'[[rule]]\nname = "k"\nmatch.body.keywords = [{keyword!r}]\nset.group = "g"\n'
    assert (route(mail("", text), rules(rule)).group == "g") is found


def test_overlapping_keywords_of_different_rules_are_all_found() -> None:
    text = """
[[rule]]
name = "long"
match.body.keywords = ["开不了机"]
set.category = "硬件故障"
[[rule]]
name = "inner"
match.body.keywords = ["不了"]
set.type = "incident"
[[rule]]
name = "prefix"
match.body.keywords = ["开不"]
set.group = "g"
"""
    assert route(mail("", "电脑开不了机"), rules(text)).matched == ("long", "inner", "prefix")


def test_ignore_blanks_phrases_but_not_other_occurrences() -> None:
    text = """
[[rule]]
name = "urgent"
match.subject_or_body.keywords = ["down", "紧急"]
match.subject_or_body.ignore = ["shut down", "不紧急"]
set.priority = "urgent"
"""
    parsed = rules(text)
    assert route(mail("laptop won't shut down"), parsed).priority is None
    assert route(mail("不紧急"), parsed).priority is None
    assert route(mail("can't shut down", "and the server is down"), parsed).priority == "urgent"
    assert route(mail("不紧急", "不过另一件事很紧急"), parsed).priority == "urgent"


def test_regexes_are_case_insensitive_and_read_folded_text() -> None:
    text = """
[[rule]]
name = "ticket number in the body"
match.body.regex = ['\\bINC\\d{6}\\b', 'erro[rs]{1,2}\\s+code']
set.type = "incident"
"""
    parsed = rules(text)
    assert route(mail("", "see inc123456"), parsed).type == "incident"
    assert route(mail("", "see ＩＮＣ１２３４５６"), parsed).type == "incident"
    assert route(mail("", "Error Code 5"), parsed).type == "incident"
    assert route(mail("", "see INC1234567"), parsed).type is None


def _naive(keyword: str, text: str) -> bool:
    """The definition, written the slow way."""
    words = routing.fold(keyword).split()
    pattern = r"\s+".join(map(re.escape, words))
    if re.match("[a-z0-9]", words[0][0]):
        pattern = r"(?<![a-z0-9])" + pattern
    if re.match("[a-z0-9]", words[-1][-1]):
        pattern += r"(?![a-z0-9])"
    return re.search(pattern, routing.fold(text)) is not None


def test_keyword_matching_agrees_with_the_definition_on_random_text() -> None:
    rng = random.Random(20261122)
    pieces = ["down", "load", "ad", "无法", "访问", "法", "不了", "开", " ", "\n", "-", "x", "0",
              "ｘ", "Wi", "fi", "IP", "地址", "。", "D", "Wi-Fi", "down "]  # fmt: skip
    keywords = ["down", "ad", "无法访问", "不了", "开不了", "wi-fi", "ip地址", "x0", "down load",
                "法", "d", "-", "x-x"]  # fmt: skip
    text = "\n".join(
        f'[[rule]]\nname = "k{i}"\nmatch.body.keywords = ["{k}"]\nset.group = "g"\n'
        for i, k in enumerate(keywords)
    )
    parsed = rules(text)
    for _ in range(3000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        expected = tuple(f"k{i}" for i, k in enumerate(keywords) if _naive(k, body))
        assert route(mail("", body), parsed).matched == expected, repr(body)


# --- explain --------------------------------------------------------------------------------


def test_explain_tells_each_rule_what_matched_what_was_set_and_what_was_kept() -> None:
    text = ORDER + '\n[[rule]]\nname = "stop {here}"\nmatch.subject.keywords = "vpn"\nstop = true\n'
    text += '\n[[rule]]\nname = "never"\nmatch.subject.keywords = "vpn"\nset.type = "change"\n'
    lines = explain(mail("VPN 宕机"), rules(text))
    joined = "\n".join(lines)
    assert lines[0] == f"6 rules from {PATH}, tried in order:"
    assert '  1  MATCH  urgent (line 2)\n            subject_or_body: keyword "宕机"' in joined
    assert "sets priority=urgent" in joined
    assert "sets category=网络问题, subcategory=VPN, group=network" in joined
    assert "already set, kept: priority=urgent (rule 1)" in joined
    assert "already set, kept: category=网络问题 (rule 2), group=network (rule 2)" in joined
    assert "sets assignee=wang.fang@example.com" in joined
    assert "  4  -      printer (line 22): subject: not found" in joined
    assert "  5  MATCH  stop {here}" in joined and "stop: later rules are not tried" in joined
    assert "  6  skip   never (line " in joined and "rule 5 stopped the evaluation" in joined
    assert lines[-1] == (
        "result: category=网络问题, subcategory=VPN, priority=urgent, type=-, group=network, "
        "assignee=wang.fang@example.com"
    )


def test_explain_tells_when_a_subcategory_goes_with_a_category_that_lost() -> None:
    lines = explain(mail("打印机的网络"), rules(ORDER))
    assert lines[6:10] == [
        "  4  MATCH  printer (line 22)",
        '            subject: keyword "打印机"',
        "            already set, kept: category=网络问题 (rule 3)",
        "            not set: subcategory=打印机 goes only with category=硬件故障",
    ]


def test_explain_and_route_agree_on_the_shipped_rules() -> None:
    for subject, body, _ in SHIPPED_CASES:
        got = route(mail(subject, body), RULES)
        result = explain(mail(subject, body), RULES)[-1]
        assert result == "result: " + ", ".join(
            f"{f}={getattr(got, f) or '-'}" for f in routing.FIELDS
        )


def test_explain_names_the_failing_matcher_of_a_rule() -> None:
    text = """
[[rule]]
name = "vip printer"
match.sender_domain = ["board.example.com"]
match.subject.keywords = ["打印机"]
set.priority = "high"
"""
    lines = explain(mail("打印机坏了"), rules(text))
    assert lines[1] == (
        '  1  -      vip printer (line 2): sender_domain: not found; subject: keyword "打印机"'
    )


# --- rule-file errors name the line ---------------------------------------------------------

GOOD = """\
# routing rules
[[rule]]
name = "first"
match.subject.keywords = ["a"]
set.category = "其他"

[[rule]]
name = "second"
match.subject_or_body.keywords = [
    "网络",
    "VPN",
]
set.category = "网络问题"
set.group = "network"
"""


def error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as caught:
        load_rules(path)
    assert isinstance(caught.value, ConfigError)  # the CLI's handler exits with code 2
    message = str(caught.value)
    assert message.startswith(str(path)), message
    return message


def test_the_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert [(r.name, r.line) for r in load_rules(path).rules] == [("first", 2), ("second", 7)]


@pytest.mark.parametrize(
    ("old", "new", "line", "told"),
    [
        ('set.group = "network"', 'set.grop = "network"', 14,
         'rule 2 "second": set.grop: unknown key (known keys: category, subcategory'),
        ('set.category = "网络问题"', 'set.category = "网络故障"', 13,
         "set.category: expected one of '硬件故障', '软件异常', '网络问题'"),
        ('set.group = "network"', 'set.priority = "critical"', 14,
         "set.priority: expected one of 'urgent', 'high', 'medium', 'low', got 'critical'"),
        ('set.group = "network"', 'set.type = "question"', 14, "set.type: expected one of"),
        ('    "VPN",\n]', '    "VPN",\n]\nmatch.body.regex = ["ok", "(unclosed"]', 13,
         "match.body.regex: not a valid regular expression '(unclosed'"),
        ('match.subject.keywords = ["a"]', 'match.subject.regex = "x*"', 4,
         "match.subject.regex: 'x*' matches empty text"),
        ('match.subject.keywords = ["a"]', "match.subject.keywords = []", 4,
         "match.subject.keywords: expected a string or a non-empty list of strings"),
        ('match.subject.keywords = ["a"]', 'match.subject.keywords = ["a", " "]', 4,
         "match.subject.keywords: item 2: expected a non-empty string"),
        ('match.subject.keywords = ["a"]', 'match.subject.words = ["a"]', 4,
         "match.subject.words: unknown key (known keys: keywords, regex, ignore)"),
        ('match.subject.keywords = ["a"]', 'match.subject.ignore = ["a"]', 4,
         "match.subject: needs keywords = [...] or regex = [...]"),
        ('match.subject.keywords = ["a"]', 'match.title.keywords = ["a"]', 4,
         "match.title: unknown key (known keys: sender, sender_domain, to, subject"),
        ('match.subject.keywords = ["a"]', "", 2, 'rule 1 "first": no matcher'),
        ('set.category = "其他"', "", 2, 'rule 1 "first": nothing to do'),
        ('set.category = "其他"', 'set.subcategory = "杂项"', 5,
         "set.subcategory: needs set.category in the same rule"),
        ('name = "second"', 'name = "first"', 8, "name: the name is already used by rule 1"),
        ('name = "second"', "", 7, "rule 2: missing name"),
        ('name = "second"', 'name = "second"\nstop = "yes"', 9, "stop: expected true or false"),
        ('match.subject.keywords = ["a"]', 'match.sender = "it@example"', 4,
         "match.sender: expected addresses like 'it@example.com', got 'it@example'"),
        ('match.subject.keywords = ["a"]', 'match.sender_domain = ["@example.com"]', 4,
         "match.sender_domain: expected addresses like 'example.com'"),
        ('match.subject.keywords = ["a"]', 'match.subject.keywords = ["a"]\nwhen = 1', 5,
         'rule 1 "first": when: unknown key (known keys: name, match, set, stop)'),
        ('set.category = "其他"', 'set = { category = "其它" }', 5,
         "set.category: expected one of"),
        ("# routing rules", 'version = 2', 1, "version: unknown key"),
    ],
)  # fmt: skip
def test_errors_name_the_line(tmp_path: Path, old: str, new: str, line: int, told: str) -> None:
    assert old in GOOD
    message = error(tmp_path, GOOD.replace(old, new, 1))
    assert f"rules.toml, line {line}: " in message, message
    assert told in message, message


def test_errors_in_sub_tables_name_their_line(tmp_path: Path) -> None:
    text = (
        GOOD
        + """
[[rule]]
name = "third"
set.group = "g"

[rule.match.body]
keywords = ["x"]
regex = ['[z-a]']
"""
    )
    message = error(tmp_path, text)
    assert "line 22: " in message and 'rule 3 "third": match.body.regex:' in message, message


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    message = error(tmp_path, GOOD.replace('set.group = "network"', "set.group = network"))
    assert "rules.toml, line 14: not valid TOML" in message, message


def test_rule_must_be_an_array_of_tables(tmp_path: Path) -> None:
    message = error(tmp_path, '\n[rule]\nname = "x"\n')
    assert "line 2: rule: expected [[rule]] tables" in message, message


def test_a_missing_file_is_a_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="rule file not found"):
        load_rules(tmp_path / "nope.toml")


def test_an_empty_file_has_no_rules() -> None:
    assert route(mail("VPN"), rules("# nothing yet\n")) == Route()


# --- speed (printed, not asserted) ----------------------------------------------------------


def test_timing_sanity() -> None:
    paragraph = (
        "您好，今天早上开始我这边访问公司内部网站特别慢，刷新好几次才能打开，麻烦帮忙看一下。"
        "Hi team, since this morning the shared drive has been really slow to open. "
    )
    for size in (300, 1000, 3000):
        message = mail("请帮忙看一下 please help", (paragraph * 50)[:size])
        route(message, RULES)
        runs = 300
        start = time.perf_counter()
        for _ in range(runs):
            route(message, RULES)
        each = (time.perf_counter() - start) / runs * 1e6
        print(f"route: {len(RULES.rules)} shipped rules, {size}-character body: {each:.0f} µs")
