"""Two weeks of an office IT desk's requests, as people write them (for the recurring
problems tests): printers jamming on several floors, VPN error 809 from people working
from home, a shared drive that will not open, locked accounts, one-offs; greetings and
thanks everywhere, replies with Re:/回复：.  Current week: 2026-11-23..29; previous:
2026-11-16..22 (UTC, the created_at the store keeps)."""

from __future__ import annotations

from datetime import UTC, datetime

from maildesk.digest.recurring import TicketText

HW, NET, SW, ACC, SEC, ETC = "硬件故障", "网络问题", "软件异常", "账号权限", "数据安全", "其他"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# (number, category, subject, description, day of November, hour, minute)
# fmt: off
_CURRENT = [
    ("IT-20261123-0001", HW, "三楼打印机卡纸",
     "您好，三楼东侧的打印机又卡纸了，麻烦尽快派人看一下，谢谢！", 23, 1, 12),
    ("IT-20261123-0002", HW, "5F printer jam",
     "Hi IT,\n\nThe printer on 5F has a paper jam again. "
     "Could someone take a look?\n\nThanks!", 23, 2, 40),
    ("IT-20261123-0003", NET, "VPN连不上，错误809",
     "老师好，在家连公司VPN一直提示错误809，麻烦帮忙看看，谢谢。", 23, 3, 5),
    ("IT-20261123-0004", ACC, "账号被锁定了",
     "您好，我早上输错了几次密码，现在域账号被锁定了，登录不了电脑，麻烦解锁一下，"
     "谢谢！", 23, 0, 50),
    ("IT-20261123-0005", SW, "共享盘打不开",
     "各位好，财务部的共享盘打不开了，双击没反应，急用里面的报表，辛苦帮忙处理。", 23, 6, 30),
    ("IT-20261123-0006", ETC, "请问新员工电脑什么时候能领",
     "您好，我们部门下周一有新同事入职，请问电脑什么时候可以准备好？谢谢", 23, 7, 0),
    ("IT-20261124-0001", HW, "回复：打印机卡纸",
     "二楼打印机卡纸，纸盒里卡着一张纸拿不出来。\n\n谢谢", 24, 1, 20),
    ("IT-20261124-0002", NET, "VPN error 809",
     "Hello,\n\n"
     "I'm working from home today and the VPN fails with error 809 every time I connect.\n\n"
     "Thanks,\nTom", 24, 1, 45),
    ("IT-20261124-0003", ACC, "Account locked out",
     "Hi,\n\nMy account is locked out after I changed my password yesterday. "
     "Please unlock it.\n\nThanks", 24, 2, 10),
    ("IT-20261124-0004", SW, "Re: 共享盘打不开",
     "还是打不开共享盘，提示没有权限访问。", 24, 3, 0),
    ("IT-20261124-0005", HW, "显示器不亮",
     "早上开机显示器黑屏，主机的灯是亮的，麻烦看看。", 24, 3, 30),
    ("IT-20261124-0006", SW, "Outlook keeps asking for password",
     "Outlook prompts for my password every few minutes since this morning.", 24, 5, 0),
    ("IT-20261124-0007", ETC, "谢谢！",
     "问题已经解决了，谢谢你们！", 24, 6, 0),
    ("IT-20261125-0001", HW, "打印机卡纸 急",
     "财务部打印机一直卡纸，月底要打印报表，请尽快处理！！", 25, 1, 0),
    ("IT-20261125-0002", NET, "回复：VPN 809",
     "我这边也是VPN 809，连不上内网，麻烦看一下。", 25, 1, 30),
    ("IT-20261125-0003", ACC, "密码被锁定",
     "您好，密码输错被锁定了，麻烦重置一下，谢谢", 25, 2, 0),
    ("IT-20261125-0004", SW, "共享盘打不开了",
     "您好，从今天上午开始共享盘打不开，显示找不到网络路径。", 25, 2, 30),
    ("IT-20261125-0005", HW, "Re: printer jam on 3rd floor",
     "The printer near room 302 keeps jamming. Paper jam error on the panel again.", 25, 3, 0),
    ("IT-20261125-0006", SEC, "收到可疑邮件",
     "您好，收到一封让我点链接改密码的邮件，发件人很奇怪，是不是钓鱼邮件？", 25, 4, 0),
    ("IT-20261125-0007", ETC, "会议室电视怎么投屏",
     "请问五楼会议室的电视怎么投屏？", 25, 5, 0),
    ("IT-20261126-0001", HW, "四楼打印机卡纸",
     "四楼打印机又卡纸了，谢谢！", 26, 0, 40),
    ("IT-20261126-0002", NET, "VPN 连接失败 809",
     "您好！在家办公，VPN连接失败，错误代码809，谢谢！", 26, 1, 10),
    ("IT-20261126-0003", NET, "WiFi很慢",
     "三楼的无线网很慢，网页打不开。", 26, 2, 0),
    ("IT-20261126-0004", ACC, "Re: Account locked out",
     "Still locked out, can you reset my password please?", 26, 2, 30),
    ("IT-20261126-0005", SW, "Excel打开很慢",
     "Excel打开大文件特别慢，会卡住。", 26, 3, 0),
    ("IT-20261126-0006", HW, "键盘有几个键失灵",
     "键盘的空格键和回车键失灵了。", 26, 4, 0),
    ("IT-20261127-0001", NET, "回复：回复：VPN错误809",
     "同事都说VPN报809，我也一样，谢谢。", 27, 1, 0),
    ("IT-20261127-0002", HW, "鼠标坏了",
     "鼠标左键不灵了，能换一个吗？谢谢", 27, 2, 0),
    ("IT-20261127-0003", ACC, "账号锁定",
     "账号锁定了，登录不了，麻烦解锁。", 27, 2, 30),
    ("IT-20261127-0004", SW, "软件安装",
     "请帮忙安装一下Visio，谢谢。", 27, 3, 0),
    ("IT-20261127-0005", ETC, "Thanks!",
     "Thank you all for the quick help this week!", 27, 4, 0),
    ("IT-20261128-0001", HW, "显示器闪屏",
     "显示器一直闪，看久了眼睛疼。", 28, 1, 0),
    ("IT-20261128-0002", SEC, "U盘中毒了",
     "U盘插到电脑上提示有病毒。", 28, 2, 0),
    ("IT-20261128-0003", SW, "Outlook收不到邮件",
     "从昨天开始Outlook收不到新邮件，发件正常。", 28, 3, 0),
    ("IT-20261128-0004", NET, "Wi-Fi slow on 3rd floor",
     "The Wi-Fi on the 3rd floor is very slow since Monday.", 28, 4, 0),
    ("IT-20261128-0005", HW, "Re: 回复：三楼打印机卡纸",
     "三楼的打印机今天又卡纸了！！！谢谢", 28, 5, 0),
    ("IT-20261129-0001", ETC, "你好",
     "你好，请问IT部门在几楼？谢谢", 29, 1, 0),
    ("IT-20261129-0002", SEC, "疑似钓鱼邮件",
     "收到冒充财务的邮件，要求点链接，已删除。", 29, 2, 0),
    ("IT-20261129-0003", HW, "会议室投影仪没信号",
     "二楼大会议室投影仪没信号，下午两点要开会。", 29, 3, 0),
    ("IT-20261129-0004", ACC, "申请共享盘权限",
     "新同事需要开通市场部共享盘的访问权限。", 29, 4, 0),
]

_PREVIOUS = [
    ("IT-20261116-0001", HW, "打印机卡纸",
     "六楼打印机卡纸了，谢谢。", 16, 2, 0),
    ("IT-20261116-0002", SW, "共享盘打不开",
     "市场部共享盘打不开，麻烦看看。", 16, 3, 0),
    ("IT-20261116-0003", ACC, "账号被锁定",
     "您好，账号被锁定了，麻烦解锁，谢谢！", 16, 4, 0),
    ("IT-20261117-0001", ACC, "密码被锁定了",
     "密码输错几次被锁定了。", 17, 1, 0),
    ("IT-20261117-0002", SW, "回复：共享盘打不开",
     "共享盘还是打不开。", 17, 2, 0),
    ("IT-20261117-0003", HW, "显示器不亮",
     "显示器突然不亮了。", 17, 3, 0),
    ("IT-20261118-0001", ACC, "Account locked out",
     "My account is locked out, please unlock.", 18, 1, 0),
    ("IT-20261118-0002", NET, "WiFi连不上",
     "二楼WiFi连不上，谢谢。", 18, 2, 0),
    ("IT-20261118-0003", NET, "WiFi很慢",
     "无线网很慢。", 18, 3, 0),
    ("IT-20261119-0001", HW, "显示器不亮",
     "显示器不亮，主机正常。", 19, 1, 0),
    ("IT-20261119-0002", SW, "Outlook收不到邮件",
     "Outlook收不到邮件，发件正常。", 19, 2, 0),
    ("IT-20261120-0001", ETC, "谢谢",
     "谢谢！", 20, 1, 0),
    ("IT-20261120-0002", SW, "Excel很慢",
     "Excel打开很慢。", 20, 2, 0),
    ("IT-20261121-0001", ACC, "账号锁定",
     "账号锁定了，谢谢。", 21, 1, 0),
    ("IT-20261121-0002", NET, "VPN很慢",
     "VPN很慢，经常断。", 21, 2, 0),
    ("IT-20261121-0003", SEC, "钓鱼邮件？",
     "收到一封可疑邮件，像是钓鱼邮件。", 21, 3, 0),
    ("IT-20261122-0001", HW, "复印机卡纸",
     "复印机卡纸了。", 22, 1, 0),
    ("IT-20261122-0002", ETC, "Thanks",
     "Thanks for fixing my laptop!", 22, 2, 0),
    ("IT-20261122-0003", SW, "Re: Outlook",
     "Outlook还是收不到邮件", 22, 3, 0),
]
# fmt: on


def _texts(rows: list[tuple[str, str, str, str, int, int, int]]) -> list[TicketText]:
    return [TicketText(n, c, s, d, _at(day, h, m)) for n, c, s, d, day, h, m in rows]


CURRENT = _texts(_CURRENT)
PREVIOUS = _texts(_PREVIOUS)
