"""Knowledge base: index build time for --articles generated articles (default 1,000,
half zh-CN, half en) and suggestion time per message over --requests requests (default
400: subjects, one-paragraph mails and long mails with quoted history, both languages
and mixed 中英), median and p95; the segmenter's start-up (building it from jieba's
common words and the IT dictionary) and the pinyin table's load measured separately,
in a fresh process, because the daemon pays them once.

Targets (issue 13): median < 5 ms per message, build < 2 s for 1,000 articles.

    .venv/bin/python -m benchmarks.kb [--articles 1000] [--requests 400] [--seed 13]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from maildesk.kb.index import Index
from maildesk.kb.settings import KbSettings
from maildesk.kb.spelling import pinyin_key
from maildesk.kb.usecases import KnowledgeBase
from maildesk.terms.segment import segmenter

CATEGORIES = ("硬件故障", "软件异常", "网络问题", "账号权限", "数据安全", "其他")
ZH_THINGS = (
    "打印机", "复印机", "扫描仪", "显示器", "投影仪", "笔记本", "台式机", "VPN", "无线网", "网线",
    "共享盘", "邮箱", "Outlook", "Foxmail", "企业微信", "钉钉", "腾讯会议", "OA系统", "用友",
    "金蝶", "域账号", "摄像头", "麦克风", "耳机", "硬盘", "内存", "防火墙", "证书", "浏览器",
    "Excel", "Word", "PDF", "打印队列", "路由器", "交换机", "服务器", "门禁卡", "考勤机",
)  # fmt: skip
ZH_TROUBLES = (
    "连不上", "打不开", "报错", "卡顿", "闪退", "蓝屏", "无响应", "登录不了", "掉线", "网速慢",
    "卡纸", "脱机", "黑屏", "花屏", "没有声音", "更新失败", "激活失败", "权限不足", "同步失败",
    "证书过期", "乱码", "无法安装", "频繁重启", "提示密码错误", "找不到设备",
)  # fmt: skip
ZH_STEPS = (
    "重启电脑后再试一次", "检查网线是否插好", "在控制面板中删除后重新添加", "清除缓存后重新登录",
    "联系部门管理员确认权限", "更新驱动到最新版本", "用手机热点测试网络", "关闭代理软件",
    "在任务管理器中结束进程", "备份数据后重新安装", "检查磁盘剩余空间", "把错误截图发给我们",
)  # fmt: skip
EN_THINGS = (
    "printer", "scanner", "monitor", "projector", "laptop", "desktop", "VPN", "Wi-Fi",
    "network cable", "shared drive", "mailbox", "Outlook", "Teams", "Zoom", "SAP", "browser",
    "webcam", "headset", "hard disk", "memory", "firewall", "certificate", "Excel", "docking "
    "station", "badge reader", "router", "server", "calendar", "OneDrive", "SharePoint",
)  # fmt: skip
EN_TROUBLES = (
    "does not connect", "will not open", "shows an error", "is very slow", "crashes",
    "blue screen", "freezes", "cannot sign in", "keeps dropping", "paper jam", "is offline",
    "has no sound", "update failed", "activation failed", "access denied", "sync fails",
    "certificate expired", "garbled text", "cannot install", "restarts by itself",
)  # fmt: skip
EN_STEPS = (
    "restart the computer and try again", "check that the cable is plugged in",
    "remove the device and add it again", "clear the cache and sign in again",
    "ask your department's administrator for access", "update the driver",
    "test with your phone's hotspot", "close any proxy software", "end the task in Task "
    "Manager", "back up your files and reinstall", "check the free disk space",
    "send us a screenshot of the error",
)  # fmt: skip
QUOTE = "\n\n-----原始邮件-----\n发件人: it-support@example.com\n主题: 回复: {}\n\n{}"


def zh_article(rng: random.Random, n: int) -> str:
    thing, trouble = rng.choice(ZH_THINGS), rng.choice(ZH_TROUBLES)
    code = rng.choice(("", f" 错误 {rng.randint(100, 999)}", f" 0x{rng.randint(0, 2**32):08X}"))
    steps = "\n".join(f"{i}. {s}。" for i, s in enumerate(rng.sample(ZH_STEPS, 5), 1))
    return (
        f"---\ntitle: {thing}{trouble}{code}（{n}）\n"
        f"keywords: [{thing}, {trouble}, {rng.choice(ZH_THINGS)}]\n"
        f"category: {rng.choice(CATEGORIES)}\nlanguage: zh-CN\n---\n"
        f"{thing}{trouble}时，请按下面的步骤处理。{rng.choice(ZH_TROUBLES)}也适用。\n\n"
        f"{steps}\n\n仍然无法解决时，回复本邮件并附上截图，我们会尽快联系你。\n"
    )


def en_article(rng: random.Random, n: int) -> str:
    thing, trouble = rng.choice(EN_THINGS), rng.choice(EN_TROUBLES)
    code = rng.choice(("", f" (error {rng.randint(100, 999)})", f" 0x{rng.randint(0, 2**32):08X}"))
    steps = "\n".join(f"{i}. {s.capitalize()}." for i, s in enumerate(rng.sample(EN_STEPS, 5), 1))
    return (
        f"---\ntitle: The {thing} {trouble}{code} ({n})\n"
        f"keywords: {thing}, {trouble}, {rng.choice(EN_THINGS)}\n"
        f"category: {rng.choice(CATEGORIES)}\nlanguage: en\n---\n"
        f"When the {thing} {trouble}, follow these steps. They also help when it "
        f"{rng.choice(EN_TROUBLES)}.\n\n{steps}\n\nIf it still fails, reply to this mail "
        "with a screenshot and we will call you.\n"
    )


def write_articles(folder: Path, count: int, rng: random.Random) -> None:
    for n in range(count):
        write = zh_article if n % 2 == 0 else en_article
        language = "zh-CN" if n % 2 == 0 else "en"
        (folder / f"topic-{n:04d}.{language}.md").write_text(write(rng, n), encoding="utf-8")


def request(rng: random.Random) -> str:
    shape = rng.random()
    if rng.random() < 0.5:
        subject = f"{rng.choice(ZH_THINGS)}{rng.choice(ZH_TROUBLES)}"
        line = f"你好，{subject}，{rng.choice(ZH_STEPS)}也不行，{rng.choice(ZH_TROUBLES)}。"
    else:
        subject = f"My {rng.choice(EN_THINGS)} {rng.choice(EN_TROUBLES)}"
        line = f"Hi, {subject.lower()}. I tried to {rng.choice(EN_STEPS)}, no luck."
    if shape < 0.3:
        return subject
    if shape < 0.5:
        return f"{subject} error {rng.randint(100, 999)} 急"  # mixed 中英
    body = " ".join(line for _ in range(rng.randint(1, 4)))
    if shape < 0.8:
        return f"{subject}\n{body}"
    history = QUOTE.format(subject, " ".join(line for _ in range(rng.randint(5, 20))))
    return f"{subject}\n{body}{history}"  # a long mail with the quoted thread


def segmenter_startup() -> float:
    """Seconds a fresh Python spends building the segmenter (terms/segment.py)."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from maildesk.terms.segment import segmenter, words; segmenter(); words('打印机')\n"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def readings_startup() -> float:
    """Seconds a fresh Python spends reading the pinyin table (kb/spelling.py), paid
    once, at the first index build."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from maildesk.kb.spelling import pinyin_key; pinyin_key('蓝屏')\n"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    startup = statistics.median(segmenter_startup() for _ in range(3))
    print(f"segmenter start-up (fresh process, median of 3): {startup * 1000:.0f} ms")
    readings = statistics.median(readings_startup() for _ in range(3))
    print(f"pinyin readings load (fresh process, median of 3): {readings * 1000:.0f} ms")
    segmenter()  # paid here, once, as the daemon does at index build
    pinyin_key("蓝屏")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_articles(folder, args.articles, rng)
        started = time.perf_counter()
        kb = KnowledgeBase(KbSettings(folder, 4.0, 3, True, ()))
        build = time.perf_counter() - started
        assert len(kb.articles) == args.articles and not kb.problems, kb.problems[:3]
        started = time.perf_counter()
        index = Index(kb.articles)
        index_only = time.perf_counter() - started
        print(f"build, {args.articles} articles: {build:.2f} s read + index "
              f"({index_only:.2f} s index only), {len(index.postings):,} terms")  # fmt: skip

        texts = [request(rng) for _ in range(args.requests)]
        for text in texts[:20]:  # warm up
            kb.suggest(text)
        times, suggested = [], 0
        for text in texts:
            started = time.perf_counter()
            found = kb.suggest(text)
            times.append((time.perf_counter() - started) * 1000)
            suggested += bool(found)
        times.sort()
        p95 = times[int(len(times) * 0.95) - 1]
        chars = statistics.median(len(t) for t in texts)
        longest = max(len(t) for t in texts)
        median = statistics.median(times)
        print(f"suggest, {len(texts)} requests (median {chars:.0f} chars, longest "
              f"{longest:,}): median {median:.2f} ms, p95 {p95:.2f} ms, "
              f"max {times[-1]:.2f} ms; {suggested} got a suggestion")  # fmt: skip


if __name__ == "__main__":
    main()
