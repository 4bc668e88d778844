"""The knowledge-base index: ranking basics, language preference, applies_to, the
threshold, rebuilding when the folder changes, and the [kb] settings."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from maildesk import config
from maildesk.config import ConfigError
from maildesk.kb.articles import read_folder
from maildesk.kb.index import BIGRAM, Index, Weights, paragraphs
from maildesk.kb.intents import asked
from maildesk.kb.model import Article
from maildesk.kb.settings import DEFAULT_PREFIXES, KB_SECTION, KbSettings
from maildesk.kb.spelling import Speller, pinyin_key, within_one_edit
from maildesk.kb.tokens import index_terms, language, mentions, stem
from maildesk.kb.usecases import KnowledgeBase, open_kb
from maildesk.resources import shipped

FIXTURES = Path(__file__).parent / "fixtures" / "kb"
INDEX = Index(read_folder(FIXTURES).articles)


def top(text: str) -> str | None:
    ranked = INDEX.rank(text)
    return ranked[0].article.name if ranked else None


def settings(folder: Path, threshold: float = 2.0) -> KbSettings:
    return KbSettings(folder, threshold, 3, True, tuple(DEFAULT_PREFIXES))


@pytest.mark.parametrize(
    ("request_text", "article"),
    [
        ("VPN连不上 error 809", "vpn.zh-CN"),  # an English code in a Chinese mail
        ("打印机报错，一直卡纸", "printer.zh-CN"),  # 打印机报错 -> 打印机, 卡纸
        ("打印机脱机了", "printer.zh-CN"),
        ("The printers on our floor are all offline", "printer.en"),  # stems: printers
        ("vpn error 809 at the hotel", "vpn.en"),
        ("忘记密码了，账号也被锁定", "password-reset.zh-CN"),
        ("I forgot my password and my account is locked", "password-reset.en"),
        ("Foxmail 收不到邮件", "foxmail-setup.zh-CN"),
    ],
)
def test_the_right_article_ranks_first(request_text: str, article: str) -> None:
    assert top(request_text) == article


def test_one_suggestion_per_topic_in_the_requests_language() -> None:
    names = [r.article.name for r in INDEX.rank("VPN 809 错误，连不上")]
    assert names[0] == "vpn.zh-CN" and "vpn.en" not in names
    assert INDEX.rank("VPN 809")[0].article.name == "vpn.en"


def test_title_and_keywords_weigh_more_than_the_body() -> None:
    body_only = Article("b", "Printer", (), "其他", "en", (), "hotspot " * 3, Path("b"))
    in_title = Article("t", "Hotspot", ("hotspot",), "其他", "en", (), "printer", Path("t"))
    ranked = Index([body_only, in_title]).rank("hotspot")
    assert [r.article.name for r in ranked] == ["t", "b"]
    assert ranked[0].score > 1.2 * ranked[1].score  # three mentions in the body: less


def test_applies_to_words_are_required() -> None:
    assert top("Outlook 收不到邮件") != "foxmail-setup.zh-CN"
    assert mentions("用FOXMAIL收信", "Foxmail") and not mentions("foxmails", "foxmail")


def test_threshold_and_relative_floor_keep_filler_out() -> None:
    assert INDEX.best("会议室投影仪坏了", 3, 0.5) == []  # nothing covers it
    assert INDEX.best("I need a new monitor for my desk", 3, 0.5) == []
    found = INDEX.best("VPN连不上 error 809", 3, 0.5)
    assert [r.article.name for r in found] == ["vpn.zh-CN"]  # the rest is < 40 % of it
    assert INDEX.best("VPN连不上 error 809", 3, found[0].score + 0.01) == []


def test_terms_words_bigrams_stems_and_language() -> None:
    terms = index_terms("打印机报错了 Wi-Fi dropping")
    assert terms.words == ("打印机", "报错", "wifi", "drop")
    assert "\x00印机" in terms.bigrams and not any("了" in b for b in terms.bigrams)
    assert {stem(w) for w in ("connection", "connecting", "connects", "connected")} == {"connect"}
    assert language("VPN连不上 error 809") == "zh-CN"
    assert language("My VPN fails with error 809.\n\nBest regards,\n张伟") == "en"


def test_misspelt_words_find_the_article_they_meant() -> None:
    assert top("秘码忘了") == "password-reset.zh-CN"  # 秘码 sounds like 密码 (mima)
    assert top("pasword") == "password-reset.en"  # one letter left out
    assert top("打印机脱几了") == "printer.zh-CN"


def test_the_speller_corrects_only_unknown_words_towards_titles_and_keywords() -> None:
    speller = Speller(
        {"密码": 3, "登录": 2, "蜜蜂": 1, "password": 2, "printer": 1},
        ["密码", "登录", "password", "printer"],
    )
    assert pinyin_key("蓝瓶") == pinyin_key("蓝屏") == "lanping"
    assert speller.correct("秘码") == "密码" and speller.correct("登陆") == "登录"
    assert speller.correct("密码") is None  # a word the index knows stays
    assert speller.correct("觅马") == "密码"
    assert speller.correct("passowrd") == "password" and speller.correct("prnter") == "printer"
    assert speller.correct("pass") is None  # too short to guess
    assert speller.correct("passwords") == "password" and speller.correct("pxsswxrd") is None
    assert within_one_edit("password", "pasword") and within_one_edit("abc", "acb")
    assert not within_one_edit("password", "psaswodr")


def test_filler_words_make_no_bigrams() -> None:
    assert index_terms("请问怎么重置").bigrams == ("\x00重置",)  # not 请问, 问怎, 么重
    assert index_terms("电脑秘码忘了").bigrams[:3] == ("\x00电脑", "\x00脑秘", "\x00秘码")


def test_a_mixed_mail_counts_the_words_of_both_variants() -> None:
    zh = Article("soft.zh-CN", "安装软件", ("管理员",), "软件异常", "zh-CN", (), "步骤", Path("a"))
    en = Article(
        "soft.en",
        "Installing software",
        ("administrator",),
        "软件异常",
        "en",
        (),
        "steps",
        Path("b"),
    )
    other = Article(
        "share.en", "Shared drive", ("share",), "网络问题", "en", (), "map it", Path("c")
    )
    text = "安装需要管理员 administrator"
    merged, apart = (
        Index([zh, en, other]).scores(text),
        Index([zh, en, other], Weights(merge=False)).scores(text),
    )
    assert merged[0] == merged[1] > max(apart[0], apart[1])


def test_drive_letters_counts_and_one_character_words_are_terms() -> None:
    def words(text: str) -> tuple[str, ...]:
        return index_terms(text).words

    assert "映射盘" in words("S 盘打不开") and "映射盘" in words("the H: drive is gone")
    assert "映射盘" not in words("需要一个加密U盘") and "映射盘" not in words("E5 error")
    assert "c盘" in words("C盘满了") and "c盘" in words("my C: drive is full")
    assert "6位" in words("输入六位验证码") and "6位" in words("the 6-digit code")
    assert "6位" not in words("新密码至少要6位吗")  # a password's length, not a code
    assert "慢" in words("网速越来越慢") and "慢" not in words("慢慢拉出来")
    assert "蓝屏" in words("开机又蓝了") and "蓝屏" not in words("蓝牙耳机连不上")
    assert "忘记" in words("密码想不起来") and "安装" in words("能装个微信吗")
    assert words("Setting up email")[:1] == ("setup",) and "up" not in words("shows up")


def test_a_drive_letter_finds_the_article_that_names_one() -> None:
    share = Article(
        "share.zh-CN", "共享盘打不开", ("Z盘",), "网络问题", "zh-CN", (), "映射", Path("s")
    )
    slow = Article("slow.zh-CN", "电脑很慢", ("C盘满",), "硬件故障", "zh-CN", (), "清理", Path("c"))
    index = Index([share, slow])
    assert index.rank("S盘不见了")[0].article.name == "share.zh-CN"
    assert index.rank("C 盘红了")[0].article.name == "slow.zh-CN"


def test_a_request_for_something_new_scores_troubleshooting_articles_lower() -> None:
    printer = Article(
        "printer.zh-CN", "打印机脱机", ("打印机",), "硬件故障", "zh-CN", (), "", Path("p")
    )
    software = Article(
        "soft.zh-CN", "申请安装软件", ("申请软件", "软件"), "软件异常", "zh-CN", (), "", Path("s")
    )
    index, plain = Index([printer, software]), Index([printer, software], Weights(service=1.0))
    buying = "部门想采购一台新的打印机"
    assert [i.name for i in asked(buying)] == ["purchase"]
    assert index.scores(buying)[0] == pytest.approx(0.4 * plain.scores(buying)[0])
    asking = "想申请一个软件许可"  # software-install answers requests: its keywords say 申请
    assert index.scores(asking)[1] == pytest.approx(plain.scores(asking)[1])
    assert index.scores(asking)[1] > 0
    assert asked("please restore my deleted files") and asked("访客WiFi怎么连")
    assert not asked("打印机脱机了，打不出来") and not asked("only GUEST shows in the list")
    assert not asked("旧手机已经恢复出厂了")  # a factory reset is not a file restore
    assert not asked("I tried System Restore, still a blue screen")
    assert not asked("can I get a new password?") and not asked("能申请一个新密码吗")


def test_a_problem_in_one_paragraph_of_a_long_mail_is_scored_on_it() -> None:
    text = (
        "（无主题）\n王工您好：\n\n"
        "上周的培训很成功，会议室、茶歇、签到表、横幅和礼品都安排得很周到，谢谢大家。\n\n"
        "还有个事，三楼打印机脱机了。\n\n谢谢\n李娜 行政部"
    )
    assert len(paragraphs(text.partition("\n")[2])) == 4 and paragraphs("连不上\n") == ["连不上"]
    alone = INDEX.scores("（无主题）\n还有个事，三楼打印机脱机了。")
    printer = [a.name for a in INDEX.articles].index("printer.zh-CN")
    whole = Index(INDEX.articles, Weights(paragraph=0.0)).scores(text)[printer]
    assert INDEX.scores(text)[printer] == pytest.approx(0.9 * alone[printer])
    assert INDEX.scores(text)[printer] > 1.5 * whole  # the thanks no longer dilute it


# --- the knowledge base: snapshots and rebuilds ---------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_changed_folder_is_reindexed_at_most_every_few_seconds(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(FIXTURES, folder)
    clock = Clock()
    kb = KnowledgeBase(settings(folder), clock=clock, refresh_seconds=5)
    assert kb.article("wifi.zh-CN") is None
    (folder / "drafts" / "wifi.zh-CN.md").replace(folder / "wifi.zh-CN.md")
    clock.now += 4
    kb.refresh()
    assert kb.article("wifi.zh-CN") is None  # not looked at yet
    clock.now += 2
    kb.refresh()
    assert kb.article("wifi.zh-CN") is not None
    (suggestion,) = kb.suggest("无线网连不上", limit=3)
    assert suggestion.article.name == "wifi.zh-CN" and suggestion.excerpt == "忘记网络后重新连接。"
    path = folder / "vpn.zh-CN.md"
    path.write_text(path.read_text(encoding="utf-8").replace("language: zh-CN", "language: x"))
    os.utime(path, ns=(1, 1))  # mtime back in time: still a change of the listing
    clock.now += 6
    kb.refresh()
    assert kb.article("vpn.zh-CN") is None and kb.problems[0].path == path


def test_suggest_is_thread_safe_while_the_folder_changes(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    shutil.copytree(FIXTURES, folder)
    kb = KnowledgeBase(settings(folder), refresh_seconds=0)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(30):
                assert kb.suggest("打印机卡纸")[0].article.name == "printer.zh-CN"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(10):
        (folder / f"extra{i}.en.md").write_text(
            f"---\ntitle: Extra {i}\ncategory: 其他\n---\nsomething else\n", encoding="utf-8"
        )
        kb.refresh()  # the daemon's edge, while the readers ask
    for thread in threads:
        thread.join()
    assert errors == []
    assert kb.article("extra9.en") is not None


def test_suggest_returns_nothing_for_empty_text_or_no_limit(tmp_path: Path) -> None:
    kb = KnowledgeBase(settings(FIXTURES))
    assert kb.suggest("   ") == () and kb.suggest("打印机卡纸", limit=0) == ()


# --- [kb] settings ---------------------------------------------------------------------

MINIMAL = '[maildesk]\nsupport_address = "it-support@example.com"\n'


def parse(text: str) -> config.Config:
    return config.parse(MINIMAL + text, Path("/tmp/x/maildesk.toml"), env={})


def test_settings_defaults_and_relative_folder() -> None:
    kb = parse("").section(KB_SECTION)
    assert kb.folder == shipped("kb") and kb.max_suggestions == 3 and kb.questions
    folder = parse('[kb]\nfolder = "articles"\n').section(KB_SECTION).folder
    assert folder == Path("/tmp/x").resolve() / "articles"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("threshold = 0", "kb.threshold"),
        ('threshold = "high"', "kb.threshold"),
        ("max_suggestions = 11", "kb.max_suggestions"),
        ('questions = "yes"', "kb.questions"),
        ('question_prefixes = ["KB:", " "]', "kb.question_prefixes[1]"),
        ('question_prefixes = "KB:"', "kb.question_prefixes"),
        ("folder = 3", "kb.folder"),
        ("colour = 3", "kb.colour"),
    ],
)
def test_settings_errors_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse(f"[kb]\n{text}\n")
    assert str(raised.value).startswith(f"{key}:")


def test_a_file_given_as_the_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kb.md").write_text("x")
    with pytest.raises(ConfigError, match=r"kb\.folder: .* is a file"):
        config.parse(MINIMAL + '[kb]\nfolder = "kb.md"\n', tmp_path / "maildesk.toml", env={})


def test_question_prefixes_ignore_width_and_case() -> None:
    kb = parse("").section(KB_SECTION)
    assert kb.question("知识库：VPN 809") == "VPN 809"
    assert kb.question(" kb: printer") == "printer"
    assert kb.question("ＫＢ：打印机") == "打印机"
    assert kb.question("查询:  邮箱满了") == "邮箱满了"
    assert kb.question("Re: KB: printer") is None
    off = parse("[kb]\nquestions = false\n").section(KB_SECTION)
    assert off.question("KB: printer") is None


def test_open_kb_builds_once_per_settings() -> None:
    cfg = parse(f'[kb]\nfolder = "{FIXTURES}"\n')
    assert open_kb(cfg) is open_kb(cfg)
    assert open_kb(cfg).article("vpn.en") is not None
    weights = Weights(bigram=0.5)
    assert open_kb(cfg, weights) is not open_kb(cfg)


def test_a_folder_that_cannot_be_read_keeps_the_articles_indexed_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A share away or a folder gone must not stop the mail (an OSError inside a
    message's processing quarantined it): the last index answers, and it is said."""
    from maildesk.kb import usecases
    from maildesk.kb.settings import DEFAULT_PREFIXES, DEFAULT_THRESHOLD, KbSettings
    from maildesk.resources import shipped

    folder = tmp_path / "kb"
    shutil.copytree(shipped("kb"), folder)
    now = [0.0]
    settings = KbSettings(folder, DEFAULT_THRESHOLD, 3, True, tuple(DEFAULT_PREFIXES))
    kb = usecases.KnowledgeBase(settings, clock=lambda: now[0], refresh_seconds=5)
    before = [s.article.name for s in kb.suggest("VPN 连不上，错误 809")]

    def unreadable(_folder: Path) -> object:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(usecases, "listing", unreadable)
    now[0] = 60.0
    kb.refresh()
    assert [s.article.name for s in kb.suggest("VPN 连不上，错误 809")] == before == ["vpn.zh-CN"]


def test_a_bigram_weight_of_zero_takes_known_bigrams_out_of_the_request_too() -> None:
    """`Weights(bigram=0.0)` (an ablation): a bigram then weighs nothing, in the articles'
    sums and in the request's summed idf alike (a share of 0.0 was once read as "not a
    bigram", so a known bigram weighed a whole word in the request)."""
    index = Index(read_folder(shipped("kb")).articles, Weights(bigram=0.0))
    known = next(t for t in index.idf if t.startswith(BIGRAM))
    assert index._relevance({"vpn": 1.0, known: 1.0}) == index._relevance({"vpn": 1.0})
