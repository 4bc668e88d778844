"""terms.words / bigrams / strip_reply_prefixes on requests as people write them."""

from __future__ import annotations

import pytest

from maildesk.terms import bigrams, runs, strip_reply_prefixes, words

WORDS = [
    ("VPN连不上 error 809", ["vpn", "连不上", "error", "809"]),
    ("三楼共享盘打不开，求助", ["共享盘", "打不开"]),
    ("3楼打印机卡纸，谢谢", ["打印机", "卡纸"]),
    ("五楼会议室投影仪不亮", ["投影仪", "不亮"]),
    ("ＶＰＮ　连接失败 691", ["vpn", "连接", "失败", "691"]),
    ("My laptop cannot connect to the Wi-Fi on floor 5", ["laptop", "connect", "wi-fi"]),
    ("3F printer jam in room 302, please help", ["printer", "jam"]),
    ("Outlook无法收邮件，提示0x800CCC0E", ["outlook", "邮件", "0x800ccc0e"]),
    ("", []),
    ("谢谢！！！", []),
    ("U盘中毒了", ["u盘", "中毒"]),  # dictionary words with capitals match the lower-cased text
    ("OA系统登录不了", ["oa系统", "登录不了"]),
    ("printer jam on the 3rd floor", ["printer", "jam"]),
    ("谢谢你们！", []),
    ("东侧的打印机不亮，在几楼？分机 8021", ["打印机", "不亮", "8021"]),
    ("收到可疑邮件，找不到网络路径", ["可疑", "邮件", "找不到", "网络路径"]),
    ("The printer is not working, can someone take a look?", ["printer"]),
]


@pytest.mark.parametrize(("text", "expected"), WORDS)
def test_words_keep_what_the_problem_is(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("subject", "bare"),
    [
        ("Re: 回复：三楼共享盘打不开", "三楼共享盘打不开"),
        ("RE: FW: Fwd: printer", "printer"),
        ("答复: [IT-20261122-0001] VPN", "VPN"),
        ("回复[2]：邮箱满了", "邮箱满了"),
        ("Regarding the printer", "Regarding the printer"),
    ],
)
def test_reply_prefixes_and_ticket_tags_are_stripped(subject: str, bare: str) -> None:
    assert strip_reply_prefixes(subject) == bare


def test_bigrams_cover_words_the_dictionary_lacks() -> None:
    assert bigrams("打印机报错 E5") == ["打印", "印机", "机报", "报错"]
    assert set(bigrams("打印机")) <= set(bigrams("打印机报错"))
    assert bigrams("VPN error") == []


def test_hostile_input_is_bounded_and_never_raises() -> None:
    text = "<script>alert(1)</script>\r\n" * 2000 + "\x00\u202e打印机"
    out = words(text)
    assert "打印机" in out
    assert all("\r" not in w and "\n" not in w for w in out)


def test_runs_end_at_punctuation_and_line_breaks_not_at_spaces_or_filler() -> None:
    assert runs("共享盘打不开。VPN 809") == [["共享盘", "打不开"], ["vpn", "809"]]
    assert runs("打印机一直卡纸，谢谢\r\n三楼 VPN  809") == [["打印机", "卡纸"], ["vpn", "809"]]
    assert runs("") == [] and runs("谢谢！") == []
    assert [w for run in runs("3楼打印机卡纸，谢谢") for w in run] == words("3楼打印机卡纸，谢谢")
