"""The tables behind `terms.words`: what the segmenter must keep whole, and what counts
for nothing.  Rows are data: add an IT word or a filler here, not in code."""

from __future__ import annotations

import re


def _table(text: str) -> frozenset[str]:
    """Rows separated by white space (kept as text: easier to read and extend)."""
    return frozenset(text.split())


# Words of an office IT desk that jieba's dictionary splits (共享盘 -> 共享 / 盘) or lacks.
IT_WORDS: tuple[str, ...] = (
    "共享盘", "共享文件夹", "网盘", "打印机", "复印机", "扫描仪", "卡纸", "墨盒", "硒鼓", "碳粉",
    "打印队列", "蓝屏", "死机", "黑屏", "花屏", "闪退", "卡顿", "无响应", "网线", "无线网",
    "连不上", "打不开", "登不上", "登录不了", "上不了网", "断网", "掉线", "网速慢", "内网", "外网",
    "邮箱", "收件箱", "发件箱", "邮箱满", "企业微信", "钉钉", "腾讯会议", "域账号", "重置密码",
    "密码重置", "账号锁定", "被锁定", "显示器", "投影仪", "摄像头", "麦克风", "耳机", "笔记本",
    "台式机", "硬盘", "内存", "驱动", "安装包", "许可证", "激活", "证书", "防火墙", "病毒",
    "勒索病毒", "钓鱼邮件", "数据恢复", "备份", "权限", "报错", "错误码", "更新失败", "系统更新",
    "视频会议", "OA系统", "用友", "金蝶",
)  # fmt: skip

# Filler that says nothing about the problem (greetings, thanks, urgency, pronouns, time).
FILLER: frozenset[str] = _table(
    """谢谢 感谢 多谢 麻烦 求助 求救 你好 您好 请问 一下 帮忙 帮助 帮我 看看 问题 情况 现在 今天
    昨天 前天 早上 上午 中午 下午 晚上 刚才 刚刚 一直 突然 总是 经常 怎么 怎么办 如何 为什么 是不是
    可以 能否 能不能 需要 还是 已经 这个 那个 这样 那样 我们 你们 他们 我的 你的 同事 部门 尽快
    处理 解决 老师 领导 工程师 同学 各位 大家 辛苦 附件 截图 如下 如图 以下 没有 不能 无法 还有
    然后 但是 因为 所以 的话 一样 东西 急 紧急 非常 特别 一个 一些 什么 时候 出现 发现 显示 提示
    不了 不行 好像 应该 可能 目前 之前 之后 以后 已 请 您 我 你 他 她 它 的 了 是 在 也 都 就
    又 和 与 及 或 吗 呢 吧 啊 呀 哦 嗯 被 把 给 让 对 从 到 有 没 不 很 太 再 还 要 想 会 能
    回复 答复 转发 主题 发件人 收件人 日期 时间 发送"""
)

# Places inside the office: where the problem is, never what it is.
PLACES: frozenset[str] = _table(
    """一楼 二楼 三楼 四楼 五楼 六楼 七楼 八楼 九楼 十楼 楼上 楼下 办公室 工位 座位 前台 大厦 园区
    总部 分公司 大楼 楼层 会议室 机房"""
)
PLACE_PATTERN = re.compile(r"^(?:[0-9一二三四五六七八九十百]+(?:楼|层|号|室|座|栋|区))$")
# Places written inside a sentence ("3楼", "5F", "floor 5", "room 302"): cut before segmenting.
PLACE_IN_TEXT = re.compile(
    r"(?:第?[0-9一二三四五六七八九十百]+\s*(?:楼|层|号楼|栋|室|座)"
    r"|\b[0-9]{1,2}f\b|\b(?:floor|room|building|level)\s*[0-9a-z]{1,4}\b)",
    re.IGNORECASE,
)

ENGLISH_STOP: frozenset[str] = _table(
    """the a an to of in on at is are was were be been it its i my me we our you your he she
    they them this that these those and or but for with from by as if so not no can cannot
    can't couldn't could would should will won't don't doesn't didn't isn't aren't do does did
    have has had get got please pls help hi hello hey dear thanks thank thx regards best cheers
    urgent asap issue problem today yesterday again still any some all just now when since
    after before while there here what why how which who re fw fwd aw wg sv antw tr floor
    room building level office desk"""
)

STOP: frozenset[str] = FILLER | PLACES | ENGLISH_STOP

# Reply and forward prefixes of the clients we read (Outlook zh-CN, Foxmail, QQ, 163, …).
REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|tr|回复|答复|转发|回覆|轉寄)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)
