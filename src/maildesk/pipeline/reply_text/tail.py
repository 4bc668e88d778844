"""The end of the reply: device footers, confidentiality disclaimers, sign-offs, -Name
lines, rules.  Pure: no IO."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from maildesk.pipeline.reply_text.signature import NOTHING, Known, is_anchor, known_signature

# --- rule tables: the end of the reply -----------------------------------------------------

Rule = Callable[[list[str]], int | None]  # where the tail to drop starts, if it does

_DEVICE_FOOTERS = (
    r"sent from (?:my|a|an) [\w-]+(?: [\w-]+){0,4}[.!]?",
    r"sent from (?:outlook|mail|gmail|yahoo mail|aol mail|proton ?mail|samsung (?:mobile|email))"
    r"(?: (?:for|on) [\w ]{1,24})?[.!]?(?:\s*<[^<>\s]+>)?",
    r"get outlook for (?:ios|android)(?:\s*<[^<>\s]+>)?",
    r"sent with proton ?mail secure email\.?",
    r"envoyé de mon [\w ]{1,20}",
    r"von meinem [\w ]{1,20} gesendet",
    r"(?:发自|来自|發自|寄自)我的\s?[\w ]{1,20}",
    r"(?:发自|来自)\s?(?:网易邮箱大师|网易邮箱|手机QQ邮箱|QQ邮箱|139邮箱|Foxmail|WPS邮箱|钉钉|企业微信|飞书)",
    r"从我的\s?[\w ]{1,20}?\s?发送",
    r"從我的\s?[\w ]{1,20}?\s?傳送",
    r"[\w ]{1,20}から送信",
)
_NAME_AFTER = r"(?:[,.!](?: ?[^\s.!?。！？]{1,20}){0,3})?"  # "Best regards, Zhang Wei"
_SIGN_OFFS = (
    r"(?:(?:best|kind|warm|warmest|kindest|with (?:best|kind|warm)) )?regards" + _NAME_AFTER,
    r"(?:best(?: wishes)?|cheers|sincerely|yours (?:sincerely|truly|faithfully)|respectfully"
    r"|br|rgds)" + _NAME_AFTER,
    r"(?:many thanks|thanks|thank you|thx)(?: (?:and|&) (?:best )?regards)?,",
    r"此致(?:\s*敬礼)?[!！。]?",
    r"敬礼[!！。]?",
    r"致(?:\s*礼[!！。]?)?",  # Foxmail 6: "致" and "礼！" on two lines
    r"祝好[!！。,，]?",
    r"(?:顺|順|敬)(?:祝|颂|頌)\s*\S{2,4}[!！。]?",
    r"(?:谨上|敬上|拜上)[!！。]?",
)
_DASH_NAME = re.compile(
    r"(?:-(?=\w)|--\s?|[—–]{1,2}\s?)"
    r"(?:[A-Z][\w.'’]*(?:[ .-][A-Z][\w.'’]*){0,3}|[\u4e00-\u9fff·]{2,6})"
)
_DEVICE_FOOTER = re.compile("|".join(_DEVICE_FOOTERS), re.IGNORECASE)
_SIGN_OFF = re.compile("|".join(_SIGN_OFFS), re.IGNORECASE)
_RULE_LINE = re.compile(r"[-_=*~—–]{3,}")
# A legal disclaimer that mail servers and Outlook signatures append: it says the mail is
# confidential AND what to do if you are not its intended recipient (both, never one).
_CONFIDENTIAL = re.compile(r"\bconfidential|\bprivileged\b|保密|机密|機密|秘密", re.I)
_NOT_FOR_YOU = re.compile(
    r"\bnot\s+(?:the|an)\s+intended\s+recipient|\breceived\s+this\s+(?:e-?mail|message|"
    r"communication)\s+in\s+error|\bintended\s+(?:solely|only|exclusively)\s+for\s+the\s+"
    r"(?:use\s+of\s+the\s+)?(?:individual|addressee|person|named)|"
    r"(?:错收|误收|錯收|誤收)|(?:并非|不是|非)(?:本邮件)?(?:的)?(?:指定|预期|指定的)?(?:的)?收件人|"
    r"仅限于?(?:发送给|發送給|供)|僅限於?(?:發送給|供)",
    re.I,
)
# A line that leads into what follows ("负责人是", "Please send it to"): a name below it
# is the answer, not a signature.
_LEADS_IN = re.compile(
    r"(?:[:：,，、]|是|为|為|给|給|叫|找|问|問|联系|聯繫|和|跟|与|與|由|请|請|让|讓|通知|还有|以及"
    r"|\b(?:is|are|was|were|to|by|from|and|or|with|contact|ask|cc|for|of))$",
    re.I,
)
_DISCLAIMER_WIDTH = 60  # a disclaimer is a paragraph, not a remark (CJK counts double)
_DISCLAIMER_LINES = 15
_SIGNATURE_LINES = 6  # at most this many short lines may follow a sign-off
_SIGNATURE_WIDTH = 80


# --- the end of the reply ------------------------------------------------------------------


def finish(lines: list[str], known: Known = NOTHING) -> str:
    return "\n".join(_trim_tail(lines, known)).strip("\n")


def _trim_tail(lines: list[str], known: Known) -> list[str]:
    """Phase 3: device footers, disclaimers, sign-offs, -Name lines, rules and (when the
    sender is known) their name above a device footer and their signature block."""
    rules: tuple[Rule, ...] = _TAIL_RULES
    if known != NOTHING:
        first: Rule = partial(_named_device_footer, known=known)
        last: Rule = partial(known_signature, known=known)
        rules = (first, *_TAIL_RULES, last)
    while True:
        while lines and not lines[-1].strip():
            lines.pop()
        for rule in rules:
            start = rule(lines)
            if start is not None:
                del lines[start:]
                break
        else:
            return lines


def _device_footer(lines: list[str]) -> int | None:
    return len(lines) - 1 if lines and _DEVICE_FOOTER.fullmatch(lines[-1].strip()) else None


def _named_device_footer(lines: list[str], known: Known) -> int | None:
    """The sender's name right above a device footer, set apart from the text above by a
    blank line (iPhone's custom signature "王晓明 / 发自我的iPhone"): one block, unless
    the text above leads into the name ("负责人是")."""
    k = len(lines) - 2
    if k < 2 or not _DEVICE_FOOTER.fullmatch(lines[k + 1].strip()) or lines[k - 1].strip():
        return None
    if not is_anchor(lines[k].strip(), known):
        return None
    above = next((j for j in range(k - 1, -1, -1) if lines[j].strip()), None)
    return k if above is not None and not _LEADS_IN.search(lines[above].strip()) else None


def _disclaimer(lines: list[str]) -> int | None:
    """A confidentiality disclaimer as the last paragraph, below text of the person's."""
    start, floor = len(lines), max(0, len(lines) - _DISCLAIMER_LINES - 1)
    while start > floor and lines[start - 1].strip():  # a longer paragraph is no disclaimer
        start -= 1
    if len(lines) - start > _DISCLAIMER_LINES or (start > 0 and lines[start - 1].strip()):
        return None
    paragraph = " ".join(line.strip() for line in lines[start:])
    if _width(paragraph) < _DISCLAIMER_WIDTH:
        return None
    if not (_CONFIDENTIAL.search(paragraph) and _NOT_FOR_YOU.search(paragraph)):
        return None
    return start if _has_text(lines, start) else None


def _width(text: str) -> int:
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)


def _rule_line(lines: list[str]) -> int | None:
    return len(lines) - 1 if lines and _is_rule(lines[-1].strip()) else None


def _is_rule(line: str) -> bool:
    """``-----``, ``_____``, and Foxmail 6's spaced ``= = = = =``."""
    if _RULE_LINE.fullmatch(line):
        return True
    return " " in line and "  " not in line and bool(_RULE_LINE.fullmatch(line.replace(" ", "")))


def _sign_off(lines: list[str]) -> int | None:
    """A sign-off followed only by a few short lines (name, title, phone)."""
    after = 0
    for k in range(len(lines) - 1, 0, -1):
        line = lines[k].strip()
        if _SIGN_OFF.fullmatch(line):
            while k > 1 and _SIGN_OFF.fullmatch(lines[k - 1].strip()):
                k -= 1  # "此致" above "敬礼！", "致" above "礼！": one sign-off
            return k if _has_text(lines, k) else None
        if len(line) > _SIGNATURE_WIDTH:
            return None
        after += bool(line)
        if after > _SIGNATURE_LINES:
            return None
    return None


def _dash_name(lines: list[str]) -> int | None:
    k = len(lines) - 1
    if k < 2 or lines[k - 1].strip() or not _DASH_NAME.fullmatch(lines[k].strip()):
        return None
    return k if _has_text(lines, k) else None


def _has_text(lines: list[str], k: int) -> bool:
    return any(lines[j].strip() for j in range(k))


_TAIL_RULES: tuple[Rule, ...] = (
    _device_footer,
    _disclaimer,
    _rule_line,
    _sign_off,
    _dash_name,
)
