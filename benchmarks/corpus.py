"""A deterministic, realistic mix of helpdesk mail for the benchmarks.

Every message is a pure function of (seed, index), built by hand as raw bytes so
that the awkward cases real Chinese mail brings are exactly what we ask for:

* plain UTF-8 Chinese (base64, quoted-printable or 8bit) and plain English;
* HTML-only (Outlook-style bloated markup) and multipart/alternative;
* GBK text declared ``gb2312`` containing GBK-only characters (喆, 镕), sent 8bit;
* GB2312 in base64 (Foxmail style);
* an 8-bit body with no charset at all, and GBK bodies mislabelled us-ascii/utf-8;
* RFC 2047 subjects and names in UTF-8 (B and Q), GBK, GB2312, Big5, plus raw 8-bit ones;
* a small PNG/PDF attachment (20-100 KB, Chinese file names in RFC 2047 or RFC 2231);
* replies with In-Reply-To/References and quoted text: most reply to mail maildesk
  never saw (so they open a ticket), some reply to an earlier message of the corpus
  (so maildesk threads them onto that ticket and sends no acknowledgment).

    for mail in generate(2000, seed=1):
        mail.raw, mail.kind, mail.threads_onto
"""

from __future__ import annotations

import base64
import email.quoprimime
import email.utils
import quopri
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

SUPPORT = "IT服务台 <it-support@example.com>"
CST = timezone(timedelta(hours=8))
BASE_DATE = datetime(2026, 11, 2, 8, 0, tzinfo=CST)

# kind -> weight (percent).  reply_thread needs an earlier message: index 0 never is one.
KINDS: tuple[tuple[str, int], ...] = (
    ("plain_zh_utf8", 20),
    ("plain_en", 9),
    ("html_only", 9),
    ("alternative", 14),
    ("gbk_as_gb2312_8bit", 8),
    ("gb2312_base64", 7),
    ("eightbit_no_charset", 5),
    ("mislabelled_gbk", 4),
    ("attachment", 7),
    ("reply_external", 11),
    ("reply_thread", 6),
)

ZH_SENTENCES = (
    "早上开机后电脑黑屏，风扇一直在转，电源指示灯是橙色的。",
    "打印机显示卡纸，但是打开后盖什么都没有看到。",
    "VPN 连接时提示错误 809，昨天还可以正常使用。",
    "邮箱客户端一直提示输入密码，输入正确的密码后仍然无法登录。",
    "会议室的投影仪无法识别笔记本的 HDMI 信号。",
    "请帮忙开通财务系统的只读权限，审批单号是 CW-2026-1187。",
    "新员工下周一入职，需要准备一台笔记本、一个显示器和门禁卡。",
    "共享盘 \\\\fs01\\财务部 打不开，提示没有访问权限。",
    "Outlook 的搜索功能失效了，搜索任何关键词都没有结果。",
    "无线网络经常断开，每隔十分钟左右就要重新连接一次。",
    "电脑运行非常慢，打开一个 Excel 文件需要两三分钟。",
    "手机无法同步公司邮件，提示服务器证书不受信任。",
    "我的账号被锁定了，可能是早上输错了几次密码。",
    "显示器中间有一条竖线，换了数据线也没有用。",
    "需要在电脑上安装 AutoCAD 2024，用于图纸审核。",
    "麻烦尽快处理，下午两点有客户演示。",
    "报销系统上传发票时一直转圈，最后提示请求超时。",
    "键盘上的几个按键失灵，尤其是回车键和空格键。",
    "系统日志里有大量的错误信息，具体见下面的内容。",
    "重启了好几次都没有用，安全模式也进不去。",
    "同一个办公室的其他同事都正常，只有我这台有问题。",
    "错误代码：0x80070005，拒绝访问。",
    "这个问题从上周五开始出现，影响了整个部门的工作。",
    "如果需要远程协助，我的分机是 8123，随时可以联系。",
)
GBK_ONLY_SENTENCES = (  # 喆 and 镕 are in GBK but not in GB2312
    "请联系陶喆确认一下，他负责三楼的网络设备。",
    "朱镕同事的电脑也有同样的问题，麻烦一起看看。",
    "审批人：王喆（财务部），抄送：李镕。",
)
BIG5_SUBJECTS = (
    "印表機無法列印",
    "電腦無法開機，請協助",
    "網路連線異常",
    "帳號被鎖定",
    "郵件無法發送到外部地址",
    "香港辦公室的 VPN 連不上",
)
ZH_SUBJECTS = (
    "电脑无法开机",
    "打印机卡纸",
    "VPN 连接失败（错误 809）",
    "邮箱无法登录",
    "申请开通财务系统权限",
    "新员工入职设备准备",
    "共享盘无法访问",
    "无线网络频繁断开",
    "电脑运行缓慢",
    "账号被锁定，请帮忙解锁",
    "显示器故障",
    "软件安装申请：AutoCAD 2024",
    "报销系统上传发票超时",
    "会议室投影仪无信号",
)
GBK_SUBJECTS = ("陶喆的电脑蓝屏", "朱镕反映三楼网络中断", "王喆申请开通系统权限")
EN_SENTENCES = (
    "My laptop won't boot since this morning; the power LED blinks amber.",
    "Outlook keeps asking for my password even though it is correct.",
    "The printer on the 4th floor shows a paper jam but there is no paper stuck.",
    "Could you please grant me read access to the finance share?",
    "VPN fails with error 809 from home; it worked fine yesterday.",
    "The projector in meeting room B does not detect my HDMI signal.",
    "Excel takes several minutes to open any file from the shared drive.",
    "I restarted twice and cleared the cache, no change.",
    "Thanks in advance for your help.",
    "This is blocking the quarter-end close, so any quick help is appreciated.",
    "Error: 0x80070005 Access is denied.",
    "My colleagues in the same office are not affected.",
)
EN_SUBJECTS = (
    "Laptop won't boot",
    "Outlook password prompt loop",
    "Printer paper jam on 4F",
    "Access request: finance share",
    "VPN error 809",
    "Projector in room B: no signal",
    "Slow Excel on shared drive",
    "Account locked out",
)
SURNAMES = (
    ("张", "zhang"),
    ("王", "wang"),
    ("李", "li"),
    ("赵", "zhao"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("陶", "tao"),
)
GIVEN = (
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("洋", "yang"),
    ("艳", "yan"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("建华", "jianhua"),
    ("喆", "zhe"),
    ("镕", "rong"),
)
EN_NAMES = (
    "Alice Smith",
    "Bob Johnson",
    "Carol Williams",
    "David Brown",
    "Emma Jones",
    "Frank Miller",
    "Grace Davis",
    "Henry Wilson",
    "Irene Moore",
    "Jack Taylor",
)
DOMAINS = ("example.com", "corp.example.com", "branch.example.cn", "example.com.cn")
MAILERS = (
    "Foxmail 7.2.25.254[cn]",
    "Microsoft Outlook 16.0",
    "iPhone Mail (20G75)",
    "Coremail Webmail Server Version 2024.1",
    "Mozilla Thunderbird 128.3.1",
)


@dataclass(frozen=True)
class Mail:
    index: int
    kind: str
    raw: bytes
    message_id: str  # without angle brackets
    threads_onto: int | None  # index of the earlier corpus message this replies to


@dataclass(frozen=True)
class Sender:
    name: str
    address: str
    chinese: bool


# --- public API --------------------------------------------------------------------------


def generate(n: int, seed: int = 1, start: int = 0) -> Iterator[Mail]:
    """Messages start .. start+n-1 of the corpus for `seed`."""
    for index in range(start, start + n):
        yield make(index, seed)


def make(index: int, seed: int = 1, kind: str | None = None) -> Mail:
    rng = random.Random(f"maildesk-bench:{seed}:{index}")
    kind = kind or _pick_kind(rng, index)
    sender = sender_for(index, seed)
    mid = message_id(index, seed)
    headers = _common_headers(rng, index, sender, mid)
    threads_onto = None
    builder = _BUILDERS[kind]
    if kind == "reply_thread":
        threads_onto = rng.randrange(max(0, index - 300), index)
        subject_headers, body_headers, body = _reply(rng, sender, seed, threads_onto)
    else:
        subject_headers, body_headers, body = builder(rng, sender)
    raw = _assemble([*headers, *subject_headers, *body_headers], body)
    return Mail(index, kind, raw, mid, threads_onto)


def latency_mail(k: int, seed: int = 1) -> Mail:
    """The k-th single message for the latency probe (indices far from the bulk corpus)."""
    return make(10_000_000 + k, seed, kind="plain_zh_utf8")


def message_id(index: int, seed: int = 1) -> str:
    stamp = (BASE_DATE + timedelta(seconds=37 * index)).strftime("%Y%m%d%H%M%S")
    return f"{stamp}.{seed}.{index:07d}.{(index * 2654435761) & 0xFFFFFFFF:08x}@mail.example.com"


def sender_for(index: int, seed: int = 1) -> Sender:
    rng = random.Random(f"maildesk-bench-sender:{seed}:{index}")
    domain = rng.choice(DOMAINS)
    if rng.random() < 0.8:
        (sur, sur_py), (given, given_py) = rng.choice(SURNAMES), rng.choice(GIVEN)
        return Sender(sur + given, f"{given_py}.{sur_py}.{index}@{domain}", chinese=True)
    name = rng.choice(EN_NAMES)
    local = name.lower().replace(" ", ".")
    return Sender(name, f"{local}.{index}@{domain}", chinese=False)


def summarize(mails: Iterable[Mail]) -> tuple[Counter[str], int, int]:
    """(count per kind, total bytes, messages that thread onto an earlier one)."""
    kinds: Counter[str] = Counter()
    size = threaded = 0
    for mail in mails:
        kinds[mail.kind] += 1
        size += len(mail.raw)
        threaded += mail.threads_onto is not None
    return kinds, size, threaded


# --- headers -----------------------------------------------------------------------------


def _pick_kind(rng: random.Random, index: int) -> str:
    names = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    kind = rng.choices(names, weights)[0]
    return "reply_external" if kind == "reply_thread" and index == 0 else kind


def _common_headers(
    rng: random.Random, index: int, sender: Sender, mid: str
) -> list[tuple[str, str | bytes]]:
    date = BASE_DATE + timedelta(seconds=37 * index)
    when = email.utils.format_datetime(date)
    relay = rng.randrange(1, 9)
    ip = f"10.{rng.randrange(1, 250)}.{rng.randrange(1, 250)}.{rng.randrange(1, 250)}"
    queue = f"{rng.getrandbits(40):010X}"
    return [
        (
            "Received",
            f"from mail{relay}.corp.example.com (mail{relay}.corp.example.com [{ip}])\r\n"
            f"\tby mx.example.com (Postfix) with ESMTPS id {queue}\r\n"
            f"\tfor <it-support@example.com>; {when}",
        ),
        ("Received", f"from [{ip}] by mail{relay}.corp.example.com with HTTP; {when}"),
        ("From", _from_header(rng, sender)),
        ("To", _name_header(rng, "IT服务台") + " <it-support@example.com>"),
        ("Date", when),
        ("Message-ID", f"<{mid}>"),
        ("X-Mailer", rng.choice(MAILERS)),
    ]


def _from_header(rng: random.Random, sender: Sender) -> str | bytes:
    if not sender.chinese:
        return f'"{sender.name}" <{sender.address}>'
    roll = rng.random()
    if roll < 0.08:  # raw 8-bit UTF-8 display name (webmail, some phones)
        return f'"{sender.name}" <{sender.address}>'.encode()
    if roll < 0.12:  # raw 8-bit GBK display name
        return f'"{sender.name}" <{sender.address}>'.encode("gbk")
    return f"{_name_header(rng, sender.name)} <{sender.address}>"


def _name_header(rng: random.Random, name: str) -> str:
    if rng.random() < 0.3:
        return _encoded_words(name, "gbk", "GB2312")  # GBK bytes labelled GB2312 (喆, 镕)
    return _encoded_words(name, "utf-8", "UTF-8")


def _encoded_words(text: str, codec: str, label: str, q: bool = False) -> str:
    """RFC 2047 words of at most ~75 characters, split on character boundaries."""
    words: list[str] = []
    chunk = ""
    for char in text:
        if len((chunk + char).encode(codec)) > 36:
            words.append(_encoded_word(chunk, codec, label, q))
            chunk = ""
        chunk += char
    if chunk:
        words.append(_encoded_word(chunk, codec, label, q))
    return "\r\n ".join(words)


def _encoded_word(text: str, codec: str, label: str, q: bool) -> str:
    data = text.encode(codec)
    if q:
        return email.quoprimime.header_encode(data, charset=label)
    return f"=?{label}?B?{base64.b64encode(data).decode('ascii')}?="


def _subject(rng: random.Random, chinese: bool, prefix: str = "") -> list[tuple[str, str | bytes]]:
    if not chinese:
        return [("Subject", prefix + rng.choice(EN_SUBJECTS))]
    roll = rng.random()
    if roll < 0.50:
        value: str | bytes = _encoded_words(prefix + rng.choice(ZH_SUBJECTS), "utf-8", "UTF-8")
    elif roll < 0.60:
        value = _encoded_words(prefix + rng.choice(ZH_SUBJECTS), "utf-8", "utf-8", q=True)
    elif roll < 0.70:
        value = _encoded_words(prefix + rng.choice(GBK_SUBJECTS), "gbk", "GBK")
    elif roll < 0.75:
        value = _encoded_words(prefix + rng.choice(GBK_SUBJECTS), "gbk", "gb2312")  # mislabelled
    elif roll < 0.80:
        value = _encoded_words(prefix + rng.choice(ZH_SUBJECTS), "gb2312", "GB2312")
    elif roll < 0.90:
        value = _encoded_words(prefix + rng.choice(BIG5_SUBJECTS), "big5", "big5")
    elif roll < 0.95:
        value = (prefix + rng.choice(ZH_SUBJECTS)).encode()  # raw 8-bit UTF-8
    else:
        value = (prefix + rng.choice(ZH_SUBJECTS)).encode("gbk")  # raw 8-bit GBK
    return [("Subject", value)]


def _assemble(headers: list[tuple[str, str | bytes]], body: bytes) -> bytes:
    lines = [
        name.encode("ascii") + b": " + (value if isinstance(value, bytes) else value.encode())
        for name, value in headers
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# --- bodies ------------------------------------------------------------------------------

Built = tuple[list[tuple[str, str | bytes]], list[tuple[str, str | bytes]], bytes]


def _zh_text(rng: random.Random, gbk_only: bool = False, gb2312: bool = False) -> str:
    lines = ["您好，", ""]
    count = rng.randrange(2, 12)
    sentences = [rng.choice(ZH_SENTENCES) for _ in range(count)]
    if gbk_only:
        sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(GBK_ONLY_SENTENCES))
    lines += sentences
    if rng.random() < 0.25:  # a pasted log
        lines += ["", "错误日志："]
        lines += [
            f"2026-11-02 08:{m:02d}:{rng.randrange(60):02d} ERROR [svc-{rng.randrange(9)}] "
            f"连接超时 timeout after {rng.randrange(1000, 30000)} ms"
            for m in range(rng.randrange(5, 40))
        ]
    lines += ["", "谢谢！", "", "--", "财务部 | 分机 " + str(rng.randrange(8000, 8999))]
    text = "\r\n".join(lines) + "\r\n"
    if gb2312:
        text.encode("gb2312")  # the pool is GB2312-clean: fail loudly if someone adds 喆
    return text


def _en_text(rng: random.Random) -> str:
    lines = ["Hi,", ""]
    lines += [rng.choice(EN_SENTENCES) for _ in range(rng.randrange(2, 10))]
    lines += ["", "Best regards,", "--", f"Ext. {rng.randrange(8000, 8999)}"]
    return "\r\n".join(lines) + "\r\n"


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _qp(data: bytes) -> bytes:
    return quopri.encodestring(data.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")


def _encode_text(text: str, codec: str, cte: str) -> bytes:
    data = text.encode(codec)
    if cte == "base64":
        return _b64(data)
    if cte == "quoted-printable":
        return _qp(data)
    return data


def _text_part_headers(subtype: str, label: str, cte: str) -> list[tuple[str, str | bytes]]:
    return [
        ("Content-Type", f'text/{subtype}; charset="{label}"'),
        ("Content-Transfer-Encoding", cte),
    ]


def _mime(headers: list[tuple[str, str | bytes]]) -> list[tuple[str, str | bytes]]:
    return [("MIME-Version", "1.0"), *headers]


def _plain_zh_utf8(rng: random.Random, sender: Sender) -> Built:
    cte = rng.choices(["base64", "8bit", "quoted-printable"], [5, 3, 2])[0]
    body = _encode_text(_zh_text(rng), "utf-8", cte)
    return _subject(rng, True), _mime(_text_part_headers("plain", "utf-8", cte)), body


def _plain_en(rng: random.Random, sender: Sender) -> Built:
    label = rng.choice(["us-ascii", "utf-8"])
    headers = _mime(
        [
            ("Content-Type", f"text/plain; charset={label}; format=flowed"),
            ("Content-Transfer-Encoding", "7bit"),
        ]
    )
    return _subject(rng, False), headers, _en_text(rng).encode()


def _html(rng: random.Random, text: str, label: str = "utf-8") -> str:
    style = (
        "<style><!--\r\n"
        '@font-face {font-family:"Microsoft YaHei"; panose-1:2 11 5 3 2 2 4 2 2 4;}\r\n'
        "p.MsoNormal, li.MsoNormal, div.MsoNormal {margin:0cm; font-size:11.0pt;"
        ' font-family:"Calibri",sans-serif;}\r\n'
        "a:link, span.MsoHyperlink {color:#0563C1; text-decoration:underline;}\r\n"
        ".MsoChpDefault {mso-style-type:export-only; font-size:10.0pt;}\r\n"
        "@page WordSection1 {size:612.0pt 792.0pt; margin:72.0pt 90.0pt 72.0pt 90.0pt;}\r\n"
        "div.WordSection1 {page:WordSection1;}\r\n"
        "--></style>"
    )
    paragraphs = "".join(
        "<p class=MsoNormal><span lang=ZH-CN style='font-family:\"Microsoft YaHei\",sans-serif'>"
        f"{line or '<o:p>&nbsp;</o:p>'}</span></p>\r\n"
        for line in text.split("\r\n")
    )
    signature = (
        "<table border=0 cellspacing=0 cellpadding=0><tr><td style='padding:0 5.4pt'>"
        f"<p class=MsoNormal><b>IT 用户</b> | 分机 {rng.randrange(8000, 8999)}</p>"
        "</td></tr></table>"
    )
    return (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office">\r\n<head>\r\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=' + label + '">\r\n'
        f'{style}\r\n</head>\r\n<body lang=ZH-CN link="#0563C1">\r\n'
        f"<div class=WordSection1>\r\n{paragraphs}{signature}\r\n</div>\r\n</body>\r\n</html>\r\n"
    )


def _html_only(rng: random.Random, sender: Sender) -> Built:
    gb = rng.random() < 0.3
    text = _zh_text(rng, gb2312=gb) if sender.chinese else _en_text(rng)
    codec, label = ("gb2312", "gb2312") if gb else ("utf-8", "utf-8")
    cte = rng.choice(["quoted-printable", "base64"])
    body = _encode_text(_html(rng, text, label), codec, cte)
    return _subject(rng, sender.chinese), _mime(_text_part_headers("html", label, cte)), body


def _boundary(rng: random.Random) -> str:
    return f"----=_NextPart_{rng.getrandbits(48):012X}_{rng.getrandbits(32):08X}"


def _part(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode()
    return head + b"\r\n" + body


def _multipart(boundary: str, parts: list[bytes]) -> bytes:
    out = b"This is a multi-part message in MIME format.\r\n\r\n"
    for part in parts:
        out += f"--{boundary}\r\n".encode() + part + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def _alternative_parts(rng: random.Random, sender: Sender) -> tuple[str, list[bytes]]:
    foxmail = sender.chinese and rng.random() < 0.4
    text = _zh_text(rng, gb2312=foxmail) if sender.chinese else _en_text(rng)
    codec, label = ("gb2312", "GB2312") if foxmail else ("utf-8", "utf-8")
    cte = "base64" if foxmail else rng.choice(["base64", "quoted-printable"])
    boundary = _boundary(rng)
    plain = _part(
        [("Content-Type", f'text/plain; charset="{label}"'), ("Content-Transfer-Encoding", cte)],
        _encode_text(text, codec, cte),
    )
    html = _part(
        [("Content-Type", f'text/html; charset="{label}"'), ("Content-Transfer-Encoding", cte)],
        _encode_text(_html(rng, text, label), codec, cte),
    )
    return boundary, [plain, html]


def _alternative(rng: random.Random, sender: Sender) -> Built:
    boundary, parts = _alternative_parts(rng, sender)
    headers = _mime([("Content-Type", f'multipart/alternative; boundary="{boundary}"')])
    return _subject(rng, sender.chinese), headers, _multipart(boundary, parts)


def _gbk_as_gb2312_8bit(rng: random.Random, sender: Sender) -> Built:
    body = _zh_text(rng, gbk_only=True).encode("gbk")
    headers = _mime(_text_part_headers("plain", "gb2312", "8bit"))
    return _subject(rng, True), headers, body


def _gb2312_base64(rng: random.Random, sender: Sender) -> Built:
    body = _encode_text(_zh_text(rng, gb2312=True), "gb2312", "base64")
    headers = _mime(_text_part_headers("plain", "GB2312", "base64"))
    return _subject(rng, True), headers, body


def _eightbit_no_charset(rng: random.Random, sender: Sender) -> Built:
    codec = rng.choice(["utf-8", "gbk"])
    body = _zh_text(rng, gbk_only=codec == "gbk").encode(codec)
    if rng.random() < 0.5:  # an old script: no MIME headers at all
        return _subject(rng, True), [], body
    headers = _mime([("Content-Type", "text/plain"), ("Content-Transfer-Encoding", "8bit")])
    return _subject(rng, True), headers, body


def _mislabelled_gbk(rng: random.Random, sender: Sender) -> Built:
    label = rng.choice(["us-ascii", "utf-8", "iso-8859-1"])
    body = _zh_text(rng, gbk_only=True).encode("gbk")
    return _subject(rng, True), _mime(_text_part_headers("plain", label, "8bit")), body


def _attachment(rng: random.Random, sender: Sender) -> Built:
    size = rng.randrange(20_000, 100_001)
    if rng.random() < 0.6:
        ctype, data, stem, ext = "image/png", _png(rng, size), "屏幕截图", "png"
    else:
        ctype, data, stem, ext = "application/pdf", _pdf(rng, size), "审批单", "pdf"
    style = rng.randrange(3)
    if style == 0:  # Outlook/Foxmail: RFC 2047 inside the parameter
        name = _encoded_word(f"{stem}.{ext}", "utf-8", "UTF-8", q=False)
        params = f'name="{name}"', f'filename="{name}"'
    elif style == 1:  # Thunderbird: RFC 2231
        quoted = "".join(f"%{b:02X}" for b in f"{stem}.{ext}".encode())
        params = f'name="{stem}.{ext}"', f"filename*=UTF-8''{quoted}"
    else:
        params = f'name="screenshot_{rng.randrange(1000)}.{ext}"', f'filename="scan.{ext}"'
    text = _zh_text(rng) if sender.chinese else _en_text(rng)
    boundary = _boundary(rng)
    body_part = _part(
        [("Content-Type", 'text/plain; charset="utf-8"'), ("Content-Transfer-Encoding", "base64")],
        _encode_text(text, "utf-8", "base64"),
    )
    file_part = _part(
        [
            ("Content-Type", f"{ctype}; {params[0]}"),
            ("Content-Disposition", f"attachment; {params[1]}"),
            ("Content-Transfer-Encoding", "base64"),
        ],
        _b64(data),
    )
    headers = _mime([("Content-Type", f'multipart/mixed; boundary="{boundary}"')])
    return _subject(rng, sender.chinese), headers, _multipart(boundary, [body_part, file_part])


def _png(rng: random.Random, size: int) -> bytes:
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x05\x00\x00\x00\x02\xd0\x08\x06\x00\x00"
    return head + rng.randbytes(max(0, size - len(head)))


def _pdf(rng: random.Random, size: int) -> bytes:
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    return head + rng.randbytes(max(0, size - len(head))) + b"\n%%EOF\n"


def _quoted(rng: random.Random, chinese: bool) -> list[str]:
    if chinese:
        return [rng.choice(ZH_SENTENCES) for _ in range(rng.randrange(3, 15))]
    return [rng.choice(EN_SENTENCES) for _ in range(rng.randrange(3, 15))]


def _reply_body(
    rng: random.Random, sender: Sender, in_reply_to: str, references: list[str], quoted_from: str
) -> Built:
    chinese = sender.chinese
    if chinese:
        prefix = rng.choice(["回复：", "Re: ", "答复: ", "RE: "])
        new = ["好的，我按照你说的试了一下，还是不行。", "", rng.choice(ZH_SENTENCES)]
        attribution = f"在 2026年11月1日 星期日 17:{rng.randrange(60):02d}，{quoted_from} 写道："
    else:
        prefix = rng.choice(["Re: ", "RE: "])
        new = ["Thanks, I tried that but it still fails.", "", rng.choice(EN_SENTENCES)]
        attribution = f"On Sun, 1 Nov 2026 at 17:{rng.randrange(60):02d}, {quoted_from} wrote:"
    lines = [*new, "", attribution, *(f"> {q}" for q in _quoted(rng, chinese))]
    cte = rng.choice(["quoted-printable", "base64", "8bit"])
    body = _encode_text("\r\n".join(lines) + "\r\n", "utf-8", cte)
    headers: list[tuple[str, str | bytes]] = [
        ("In-Reply-To", f"<{in_reply_to}>"),
        ("References", "\r\n ".join(f"<{r}>" for r in references)),
        *_mime(_text_part_headers("plain", "utf-8", cte)),
    ]
    return _subject(rng, chinese, prefix), headers, body


def _reply_external(rng: random.Random, sender: Sender) -> Built:
    refs = [
        f"{rng.getrandbits(64):016x}.{k}@outlook.corp.example.com"
        for k in range(rng.randrange(1, 4))
    ]
    return _reply_body(rng, sender, refs[-1], refs, "同事 <colleague@example.com>")


def _reply(rng: random.Random, sender: Sender, seed: int, onto: int) -> Built:
    original = message_id(onto, seed)
    other = sender_for(onto, seed)
    return _reply_body(rng, sender, original, [original], f"{other.name} <{other.address}>")


_BUILDERS = {
    "plain_zh_utf8": _plain_zh_utf8,
    "plain_en": _plain_en,
    "html_only": _html_only,
    "alternative": _alternative,
    "gbk_as_gb2312_8bit": _gbk_as_gb2312_8bit,
    "gb2312_base64": _gb2312_base64,
    "eightbit_no_charset": _eightbit_no_charset,
    "mislabelled_gbk": _mislabelled_gbk,
    "attachment": _attachment,
    "reply_external": _reply_external,
    "reply_thread": _reply_external,  # not used: make() builds thread replies itself
}
