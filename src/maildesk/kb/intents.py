"""Service requests: what a mail asks for when it wants something new rather than
something fixed, which a troubleshooting article does not answer however many of its
words it shares ("申请买一台打印机" is not "打印机脱机").

Each row names a kind of request, the words that ask for it and the words by which an
article says it answers such requests (in its title or keywords: software-install's
"申请软件" answers a request for software, shared-drive's "权限申请" one for access).
The index scores every other article at `Weights.service` of its relevance when a row
matches the request (a discount, not a veto: "the guest Wi-Fi drops every minute" is
still a Wi-Fi problem).  Rows are data: add a row here, not a condition in code.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ASKS_FOR_SOMETHING = r"申请|\brequest"


@dataclass(frozen=True)
class Intent:
    name: str
    asks: re.Pattern[str]  # in the request
    answered_by: re.Pattern[str]  # in an article's title or keywords


def _row(name: str, asks: str, answered_by: str) -> Intent:
    return Intent(name, re.compile(asks), re.compile(answered_by))


INTENTS: tuple[Intent, ...] = (
    _row(
        "purchase",
        r"采购|购买|买(?:一|个|台|新)|申请买|"
        r"\b(?:buy|purchase|order)(?:ing)? (?:a |an |some |new )",
        ASKS_FOR_SOMETHING,
    ),
    _row(
        "new equipment",
        # a new device, not a new password or code (password-reset, mfa answer those)
        r"(?:申请(?:一|个|台|新|多)|领(?:一|个)|配(?:一|个))(?![^，。？！\s]{0,3}(?:密码|验证码|权限))|"
        r"(?:\b(?:can|could|may) (?:i|we) (?:get|have) (?:a|an|another|new)\b|"
        r"\bi(?:'d| would) like (?:a|an|another) new\b|\b(?:request|order)(?:ing)? a new\b)"
        r"(?! (?:new )?(?:password|passcode|pin|code|verification|link|access|permission))",
        ASKS_FOR_SOMETHING,
    ),
    _row(
        "restore",
        r"误删|(?:恢复|找回|还原)(?:到|一下)?.{0,6}(?:文件|邮件|版本|数据|资料)|"
        r"删(?:了|掉|除)的.{0,10}(?:恢复|找回|还原)|"
        r"\brestor(?:e|ing) (?:the |my |a |an |our |some |all )?(?:deleted |lost |old |previous )?"
        r"(?:files?|folders?|e-?mails?|mails?|documents?|data|versions?|backup)|"
        r"\bfrom (?:a |the )?backup|\bundelete|"
        r"\brecover(?:ing|y of)? (?:the |my |a |our )?(?:deleted|lost|old)|"
        r"\baccidentally (?:deleted|emptied|removed)",
        r"恢复已删除|\brestore|\bundelete",
    ),
    _row(
        "guest access",
        r"访客|来访|\bvisitors?\b|\bguests? (?:wi-?fi|network|access|password|account)",
        r"访客|\bguest",
    ),
    _row(
        "meeting-room AV",
        r"投屏|投影|\bprojector|\bscreen ?(?:mirroring|casting|sharing)|\bcast(?:ing)? (?:to|my)",
        r"投屏|投影|\bprojector|\bscreen ?(?:mirroring|casting)",
    ),
)


def folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


# The characters a row's `asks` can start with (a character class; tests/test_kb_prefilter.py
# checks every row against it): re then skips the other positions at once, 4 times faster.
ASKS_START = "采购买申领配误恢找还删访来投abcfgimoprsuv"
_ASKS = re.compile(
    f"(?=[{ASKS_START}])(?:"
    + "|".join(f"(?P<i{n}>{i.asks.pattern})" for n, i in enumerate(INTENTS))
    + ")"
)


def asked(text: str) -> tuple[Intent, ...]:
    """The rows whose words `text` has, found in one pass."""
    found = {m.lastgroup for m in _ASKS.finditer(folded(text))}
    return tuple(i for n, i in enumerate(INTENTS) if f"i{n}" in found) if found else ()


def answers(intent: Intent, title: str, keywords: tuple[str, ...]) -> bool:
    """Whether an article (by its title and keywords) answers that kind of request."""
    return intent.answered_by.search(folded("\n".join((title, *keywords)))) is not None
