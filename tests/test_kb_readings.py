"""kb/spelling.Readings: pypinyin's single-character table kept as one syllable number
per CJK code point (the usual reading, toneless), read line by line."""

from __future__ import annotations

from maildesk.kb.spelling import Readings, pinyin_key, readings

TABLE = """{
"31192": "mì,bì,bié",
"30721": "mǎ",
"12295": "líng,yuán,xīng",
"19968": "",
"40869": "lǜ",
"131072": "hē"
}
"""


def test_each_character_keeps_its_usual_reading_without_tones() -> None:
    table = Readings(TABLE.splitlines(keepends=True))
    assert table.usual("秘") == "mi"  # 31192: the first reading only
    assert table.usual("码") == "ma"
    assert table.usual("鸥") is None  # not in the table
    assert table.usual("一") is None  # an empty entry: no reading
    assert table.usual("〇") is None  # 12295: outside the characters a word can have
    assert table.usual("a") is None
    assert table.usual("\U00020000") is None
    assert table.syllables.count("ma") == 1  # one copy of each syllable


def test_a_later_entry_replaces_an_earlier_one_as_in_json() -> None:
    table = Readings(['"30721": "mǎ",\n', '"30721": "",\n', '"31192": "bì",\n', '"31192": "mì"\n'])
    assert table.usual("码") is None
    assert table.usual("秘") == "mi"


def test_the_shipped_table_gives_the_keys_of_the_index() -> None:
    assert len(readings().syllables) > 300
    assert pinyin_key("秘码") == pinyin_key("密码") == "mima"
    assert pinyin_key("登陆") == pinyin_key("登录") == "denglu"
    assert pinyin_key("密码x") is None
