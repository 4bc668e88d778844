"""Knowledge-base articles on disk: front matter read, each broken file a Problem with
its line, never fatal; Markdown rendered with raw HTML escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maildesk.kb.articles import MAX_BYTES, read_folder
from maildesk.kb.markdown import excerpt, to_html, to_text
from maildesk.resources import shipped

FIXTURES = Path(__file__).parent / "fixtures" / "kb"

GOOD = """---
title: VPN 连接失败
keywords: VPN, 809，691、超时
category: 网络问题
language: zh-CN
---
先看错误码。
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def only_problem(folder: Path) -> tuple[str, int, str]:
    read = read_folder(folder)
    assert read.articles == ()
    (problem,) = read.problems
    return problem.path.name, problem.line, problem.message


def test_fixture_folder_reads_every_article_and_skips_readme_and_drafts() -> None:
    read = read_folder(FIXTURES)
    assert read.problems == ()
    names = [a.name for a in read.articles]
    assert names == sorted(names) and "vpn.zh-CN" in names and "printer.en" in names
    assert not any(n.lower() == "readme" or n.startswith("wifi") for n in names)
    vpn = next(a for a in read.articles if a.name == "vpn.en")
    assert vpn.keywords[:3] == ("VPN", "809", "691")  # a comma string, split
    assert (vpn.category, vpn.language) == ("网络问题", "en")
    foxmail = next(a for a in read.articles if a.name == "foxmail-setup.zh-CN")
    assert foxmail.applies_to == ("Foxmail",)


def test_keywords_split_on_chinese_commas_too(tmp_path: Path) -> None:
    write(tmp_path, "vpn.zh-CN.md", GOOD)
    (article,) = read_folder(tmp_path).articles
    assert article.keywords == ("VPN", "809", "691", "超时")
    assert article.body == "先看错误码。"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("no front matter\n", 1, "no front matter"),
        ("---\ntitle: x\ncategory: 其他\n", 1, "never closed"),
        ("---\ntitle: x\ncategory: [其他\nlanguage: en\n---\nbody\n", 4, "not valid YAML"),
        ("---\ncategory: 其他\nlanguage: en\n---\nbody\n", 4, "no title"),
        ("---\ntitle: x\ncategory: 打印\nlanguage: en\n---\nbody\n", 3, "unknown category"),
        ("---\ntitle: x\ncategory: 其他\nlanguage: fr\n---\nbody\n", 4, "unknown language"),
        ("---\ntitle: x\ntitle: y\ncategory: 其他\n---\nbody\n", 3, "given twice"),
        ("---\ntitle: x\ncategory: 其他\nlanguage: en\n---\n\n", 5, "no text"),
        ("---\n- a list\n---\nbody\n", 2, "key: value"),
        ("---\ntitle: x\nkeywords: {a: 1}\ncategory: 其他\n---\nb\n", 3, "keywords"),
    ],
)
def test_a_broken_article_is_a_problem_with_its_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    write(tmp_path, "broken.en.md", text)
    name, found_line, message = only_problem(tmp_path)
    assert (name, found_line) == ("broken.en.md", line), message
    assert words in message


def test_undecodable_bytes_name_their_line(tmp_path: Path) -> None:
    gbk = "---\ntitle: 打印机\ncategory: 硬件故障\n---\n卡纸\n".encode("gbk")
    write(tmp_path, "printer.zh-CN.md", gbk)
    _, line, message = only_problem(tmp_path)
    assert line == 2 and "UTF-8" in message


def test_too_large_and_language_against_the_name(tmp_path: Path) -> None:
    write(tmp_path, "big.en.md", GOOD.replace("zh-CN", "en") + "x" * MAX_BYTES)
    write(tmp_path, "vpn.en.md", GOOD)  # says zh-CN, named .en
    problems = {p.path.name: p for p in read_folder(tmp_path).problems}
    assert problems["big.en.md"].line == 0 and "too large" in problems["big.en.md"].message
    assert problems["vpn.en.md"].line == 5 and "does not match" in problems["vpn.en.md"].message


def test_language_from_the_name_when_front_matter_lacks_it(tmp_path: Path) -> None:
    write(tmp_path, "vpn.zh-CN.md", GOOD.replace("language: zh-CN\n", ""))
    (article,) = read_folder(tmp_path).articles
    assert article.language == "zh-CN"


def test_one_broken_file_never_stops_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a.zh-CN.md", GOOD)
    write(tmp_path, "b.zh-CN.md", "---\ntitle: [\n---\nx\n")
    write(tmp_path, "c.zh-CN.md", b"\xef\xbb\xbf" + GOOD.encode())  # BOM from Notepad
    write(tmp_path, "A.zh-CN.md", GOOD)  # the same name on a case-blind file system
    read = read_folder(tmp_path)
    assert [a.name for a in read.articles] == ["A.zh-CN", "c.zh-CN"]  # sorted by name
    problems = sorted((p.path.name, p.line, p.message[:14]) for p in read.problems)
    assert problems == [("a.zh-CN.md", 0, "duplicate name"), ("b.zh-CN.md", 2, "front matter i")]


def test_a_missing_folder_is_a_problem_not_an_error(tmp_path: Path) -> None:
    read = read_folder(tmp_path / "nowhere")
    assert read.articles == () and read.problems[0].line == 0


# --- Markdown -------------------------------------------------------------------------

HOSTILE = """Hello <script>alert(1)</script> and <img src=x onerror="alert(2)">

<div onclick="steal()">block html</div>

[click](javascript:alert(3)) [also](JaVaScRiPt:alert(4)) [data](data:text/html;base64,PHNj)
[spaced]( javascript:alert(5)) ![pic](javascript:alert(6)) [ok](https://example.com/a?b=1&c=2)
<javascript:alert(7)> [mail](mailto:it@example.com)
"""


def test_raw_html_and_script_links_never_come_through() -> None:
    html = to_html(HOSTILE)
    assert "<script" not in html and "<img src=x" not in html and "<div" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror" in html
    assert re.findall(r"<(\w+)", html) == ["p", "p", "p", "a", "a"]  # no other element
    assert re.findall(r'(?:href|src)="([^"]*)"', html) == [
        "https://example.com/a?b=1&amp;c=2",
        "mailto:it@example.com",
    ]
    assert "click also data\nspaced pic" in html  # a refused link keeps its text


def test_plain_text_keeps_steps_code_and_link_addresses() -> None:
    text = to_text(
        "## 步骤\n\n1. 打开 **设置**\n2. 运行：\n\n```\nipconfig /renew\n```\n\n"
        "详见 [门户](https://password.example.com)。\n"
    )
    assert text == (
        "步骤\n\n1. 打开 设置\n2. 运行：\n\n    ipconfig /renew\n\n"
        "详见 门户 (https://password.example.com)。\n"
    )


def test_excerpt_is_one_line_cut_after_a_sentence() -> None:
    body = "# 标题\n\nVPN 连不上时，\n先看错误码。再按步骤处理。然后重启电脑，再试一次连接。\n"
    assert (
        excerpt(body, 200) == "VPN 连不上时，先看错误码。再按步骤处理。然后重启电脑，再试一次连接。"
    )
    assert excerpt(body, 24) == "VPN 连不上时，先看错误码。再按步骤处理。"
    assert excerpt("one two three four five six seven", 20) == "one two three four…"
    steps = "先登录门户。\n\n1. 安装 App。\n2. 扫描二维码，按提示完成绑定。\n"
    assert excerpt(steps, 20) == "先登录门户。 1. 安装 App。"  # never cut after "2."


def test_every_shipped_article_reads_and_renders() -> None:
    read = read_folder(shipped("kb"))
    assert read.problems == () and len(read.articles) >= 24
    for article in read.articles:
        html = to_html(article.body)
        assert set(re.findall(r"<(\w+)", html)) <= ALLOWED_TAGS, article.name
        assert to_text(article.body).strip() and "**" not in to_text(article.body)
        assert 0 < len(excerpt(article.body, 160)) <= 160, article.name


ALLOWED_TAGS = {"p", "h1", "h2", "h3", "h4", "ol", "ul", "li", "strong", "em", "code", "pre",
                "a", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br",
                "del", "img"}  # fmt: skip


def test_an_image_in_an_article_is_a_link_never_a_remote_img() -> None:
    """A remote <img> in our mail would tell a tracker who read it: the picture becomes a
    link named by its alt text (escaped), or plain text for a scheme we do not keep."""
    html = to_html(
        "![面板 <b>](https://example.com/p.png) ![x](javascript:alert(1)) ![](https://e.com/a.png)"
    )
    assert "<img" not in html
    assert '<a href="https://example.com/p.png">面板 &lt;b&gt;</a>' in html
    assert (
        "javascript" not in html and '<a href="https://e.com/a.png">https://e.com/a.png</a>' in html
    )
