"""Automatic mail: auto-replies, bounces, delay notices and list traffic.  Pure: no IO.

`classify(raw, inbound)` says what kind of message this is and why.  Header rules
(RFC 3834 and friends) are precise but miss about one automatic mail in seven:
Chinese providers' vacation replies (QQ, Exmail, 126/163) and Outlook client rules
carry no header, only a subject such as `自动回复:` / `Automatic reply:` and their
wording.  Bounces come as RFC 3464 reports (multipart/report; delivery-status), which
are read field by field, or as plain text from MAILER-DAEMON/postmaster (Chinese
providers' `系统退信`, Gmail, qmail, old Exchange), which are read with regexes.

People trip naive rules, so the text rules stand back when:
- the subject starts with a human prefix before the marker (`回复: 自动答复: …`,
  `Re: Automatic reply: …`, `Fwd: Undelivered Mail …`);
- a person writes *about* an auto-reply or a bounce in the body (body rules only use
  self-describing machine sentences, never a bare word such as 退信);
- a person writes from postmaster@ (a bounce needs bounce wording as well).

Every rule is a row of a table below; the reason of a result names the row that
matched.  When unsure the answer is HUMAN with reason "".  classify never raises.
"""

from __future__ import annotations

from collections.abc import Callable

from maildesk.domain import Inbound
from maildesk.pipeline.automail.bounces import report, second_opinion, text_bounce
from maildesk.pipeline.automail.message import Mail
from maildesk.pipeline.automail.notices import acknowledgment, alert, out_of_office, system_mail
from maildesk.pipeline.automail.replies import (
    auto_reply_header,
    auto_reply_text,
    is_auto_reply_subject,
    list_mail,
)
from maildesk.pipeline.automail.verdict import HUMAN, AutoMail, Kind

__all__ = ["HUMAN", "RULES", "AutoMail", "Kind", "Mail", "classify", "is_auto_reply_subject"]

# In order: the first rule with an answer decides.
RULES: tuple[Callable[[Mail], AutoMail | None], ...] = (
    report,  # multipart/report: bounce, delay, read receipt, complaint
    text_bounce,  # MAILER-DAEMON/postmaster or null sender + bounce wording
    second_opinion,  # looks like machine mail + flufl.bounce names the failed address
    out_of_office,  # 外出通知 / I am out of the office + absence wording, no request
    acknowledgment,  # other ticket systems: "request received" + a ticket number or header
    alert,  # Auto-Submitted: auto-generated answering nothing (monitoring): ALERT
    auto_reply_header,  # Auto-Submitted, X-Autoreply, …
    auto_reply_text,  # 自动回复: / Automatic reply: subjects, self-describing bodies
    system_mail,  # noreply@ + 本邮件由系统自动发送，请勿回复 (with alarm words: ALERT)
    list_mail,  # List-Id, List-Unsubscribe, Precedence: bulk
)


def classify(raw: bytes, inbound: Inbound) -> AutoMail:
    """HUMAN, AUTO_REPLY, BOUNCE, DELAY, LIST or ALERT, with the rule that decided."""
    mail = Mail(raw, inbound)
    for rule in RULES:
        try:
            found = rule(mail)
        except Exception:  # last line of defence against odd input: try the next rule
            continue
        if found is not None:
            return found
    return HUMAN
