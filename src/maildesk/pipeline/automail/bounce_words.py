"""The words of bounces and delay notices: subjects, self-describing sentences, where
they name the failed recipient, status and diagnostic.  Tables only (bounces.py reads
them)."""

from __future__ import annotations

import re

from maildesk.pipeline.automail.message import _ADDR

# Bounce wording.  Subjects are matched at the start (after no human prefix); bodies by
# the sentences MTAs write, so a person mentioning 退信 in passing is not a bounce.
BOUNCE_SUBJECTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"^\s*(?P<m>undelivered\s+mail\s+returned\s+to\s+sender)",
    r"^\s*(?P<m>delivery\s+status\s+notification\s*\(\s*failure\s*\))",
    r"^\s*(?:\[postmaster\]\s*)?(?P<m>(?:e-?mail\s+|mail\s+|message\s+)?delivery\s+(?:failed|failure))",
    r"^\s*(?P<m>mail\s+failure)\b",  # Exim: "Mail failure - malformed recipient address"
    r"^\s*(?P<m>there\s+was\s+an\s+error\s+sending\s+your\s+(?:mail|message))",
    r"^\s*(?P<m>undeliverable)\b",
    r"^\s*(?P<m>undelivered\s+mail)\b",
    r"^\s*(?P<m>returned\s+mail)\s*:",
    r"^\s*(?P<m>failure\s+notice)\b",
    r"^\s*(?P<m>delivery\s+(?:failure|failed|has\s+failed))\b",
    r"^\s*(?P<m>non[-\s]?delivery\s+(?:report|notification))",
    r"^\s*(?P<m>(?:mail|message|e-?mail)\s+(?:could\s+not|couldn't|cannot|can't|was\s+not|"
    r"wasn't|not)\s+(?:be\s+)?delivered)\b",
    r"^\s*(?P<m>mail\s+system\s+error)\b",
    r"^\s*(?P<m>message\s+status\s*-\s*undeliverable)",  # GroupWise
    r"^\s*[\[【(（]?\s*(?P<m>系统退信|退信|無法投遞|无法投递|投递失败|投遞失敗|邮件发送失败|郵件傳送失敗)",
    r"^\s*(?P<m>无法送达|無法送達|無法傳遞)\s*[:：]",  # Exchange zh "Undeliverable:"
))  # fmt: skip
DELAY_SUBJECTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"^\s*(?P<m>delivery\s+status\s+notification\s*\(\s*delay\s*\))",
    r"^\s*(?P<m>delayed\s+mail)\b",
    r"^\s*(?P<m>delivery\s+delayed)\b",
    r"^\s*(?P<m>warning:\s+could\s+not\s+send\s+message)",
    r"^\s*(?P<m>message\s+delivery\s+delayed)\b",
    r"^\s*[\[【(（]?\s*(?P<m>延迟投递|延遲投遞|投递延迟|投遞延遲|传递延迟|傳遞延遲)",
))  # fmt: skip
BOUNCE_BODIES = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"(?P<m>delivery\s+to\s+the\s+following\s+recipients?\s+failed\s+permanently)",
    r"(?P<m>could\s+not\s+be\s+delivered\s+to\s+one\s+or\s+more\s+recipients)",
    r"(?P<m>this\s+is\s+the\s+mail\s+system\s+at\s+host)",
    r"(?P<m>following\s+addresses\s+had\s+permanent\s+fatal\s+errors)",
    r"(?P<m>delivery\s+has\s+failed\s+to\s+these\s+recipients)",
    r"(?P<m>(?:your|the\s+following)\s+(?:message|mail|e-?mail)\s+(?:to\s+\S+\s+)?"
    r"(?:couldn't|could\s+not|can't|cannot|wasn't|was\s+not)\s+(?:be\s+)?delivered)",
    r"(?P<m>created\s+automatically\s+by\s+mail\s+delivery\s+software)",
    r"(?P<m>wasn't\s+able\s+to\s+deliver\s+your\s+message)",
    r"(?P<m>this\s+is\s+the\s+qmail-send\s+program)",
    r"(?P<m>the\s+message\s+that\s+you\s+sent\s+was\s+undeliverable)",  # GroupWise
    r"(?P<m>did\s+not\s+reach\s+the\s+following\s+recipient)",  # Exchange
    r"(?P<m>error\s+has\s+occurred\s+while\s+attempting\s+to\s+deliver)",  # OpenSMTPD
    r"(?P<m>(?:e-?mail|message)\s+that\s+you\s+(?:attempted\s+to\s+)?sen[dt]\b.{0,80}?"
    r"could\s+not\s+be\s+delivered)",  # Mimecast
    r"(?P<m>we\s+had\s+trouble\s+delivering\s+your\s+message)",
    # an SMTP transcript: RCPT TO refused with 5xx (InterScan MSS, sendmail transcripts)
    r"(?P<m>RCPT\s+TO:\s*<[^>\n]+>\s*\n[^\n]{0,40}?\b5\d\d\b)",
    r"(?P<m>unable\s+to\s+deliver\s+(?:your\s+)?message\s+to\s+the\s+following)",  # Yahoo
    r"(?P<m>(?:很抱歉)?您(?:发送|投递)?的邮件(?:已)?被退回)",
    r"(?P<m>您(?:发送|发给|寄给).{0,80}?的邮件(?:无法(?:送达|投递|发送)|投递失败|发送失败))",
    r"(?P<m>很抱歉您的郵件被退回|您寄送的郵件無法投遞)",
    r"(?m)^\s*(?P<m>退信原因)\s*[:：]",
))  # fmt: skip
DELAY_BODIES = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"(?P<m>this\s+is\s+a\s+warning(?:\s+message)?\s+only)",
    r"(?P<m>(?:will\s+(?:continue\s+to\s+)?(?:be\s+)?retr(?:y|ied)|still\s+being\s+retried))",
    r"(?P<m>delivery\s+to\s+the\s+following\s+recipients?\s+has\s+been\s+delayed)",
    r"(?P<m>delivery\s+(?:is|has\s+been)\s+delayed)",
    r"(?P<m>系统将继续尝试投递|将继续尝试发送|延迟投递)",
))  # fmt: skip
# Words that make a bounce only when the sender is surely a machine (null sender…): a
# person may write them, from postmaster@ too.
BOUNCE_WORDS = re.compile(
    r"(?P<m>退信|无法投递|無法投遞|投递失败|投遞失敗|发送失败|undeliverable|undelivered|"
    r"delivery\s+(?:has\s+)?failed|returned\s+mail|permanent\s+(?:error|failure)|"
    r"could\s+not\s+be\s+delivered|(?:unable|failed)\s+to\s+deliver|delivery\s+(?:error|failure)|"
    r"mail\s+failure)",
    re.IGNORECASE,
)

# Where bounces name the recipient that failed, most specific first.
FAILED_RECIPIENT_TEXTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    rf"(?:failed\s+permanently|has\s+been\s+delayed):\s*<?(?P<a>{_ADDR})",  # Gmail
    rf"\bSMTP=(?P<a>{_ADDR})",  # Exchange 5.5 X.400 recipient: c=US;…;dda:SMTP=x@y
    rf"delivery\s+to\s+the\s+following\s+recipients?\s+failed\.?\s+<?(?P<a>{_ADDR})",  # Exchange
    rf"was\s+not\s+delivered\s+to:\s*<?(?P<a>{_ADDR})",  # Lotus Domino
    rf"undeliverable\s+to\s+the\s+following:\s*<?(?P<a>{_ADDR})",  # GroupWise
    rf"(?m)^\s*<(?P<a>{_ADDR})>\s*:",  # Postfix, qmail
    rf"RCPT\s+TO:\s*<(?P<a>{_ADDR})>\s*\n[^\n]{{0,40}}?\b5\d\d\b",  # refused in a transcript
    rf"(?m)^(?P<a>{_ADDR}):\s*[45]\d\d\b",  # OpenSMTPD: "x@y: 550 5.1.1 …"
    rf"(?m)^\s*(?P<a>{_ADDR})\s*\r?\n\s+(?:SMTP\s+error|unrouteable|all\s+relevant|retry)",  # Exim
    rf"permanent\s+fatal\s+errors\s*-+\s*<?(?P<a>{_ADDR})",  # Sendmail
    rf"delivery\s+failed[^:\n]*:\s*<?(?P<a>{_ADDR})",
    rf"(?m)^\s*收\s*件\s*人\s*[:：]\s*[^<\n]*?<?(?P<a>{_ADDR})",
    rf"(?:发送|投递|发|寄)(?:到|给|至)\s*[<“\"]?(?P<a>{_ADDR})",
    rf"(?P<a>{_ADDR})>?\s*[:：]?\s*(?:该用户不存在|用户不存在|收件人不存在|邮箱不存在|地址不存在)",
    rf"(?:recipient|address)(?:\s+address)?\s*(?:rejected|not\s+found|unknown)?\s*[:：]\s*<?"
    rf"(?P<a>{_ADDR})",
))  # fmt: skip
EXPANDED = re.compile(rf"\(expanded\s+from:?\s*<?(?P<a>{_ADDR})>?\s*\)", re.IGNORECASE)
EMBEDDED_MESSAGE_ID = re.compile(r"(?im)^[ \t>]*message-?id\s*[:：]\s*<(?P<id>[^<>\s]{1,900})>")
STATUS_CODE = re.compile(r"(?<![\d.])(?P<s>[245]\.\d{1,3}\.\d{1,3})(?![\d.])")
DIAGNOSTIC_TEXTS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"(?m)^\s*(?:退信原因|错误原因|失败原因|錯誤原因)\s*[:：]\s*(?P<d>\S.*)$",
    r"(?m)^\s*(?P<d>[45]\d\d[-\s][245]\.\d{1,3}\.\d{1,3}\b.*)$",
    r"(?m)^\s*(?:diagnostic-code|reason|remote\s+server\s+returned)\s*:\s*(?P<d>\S.*)$",
    r"technical\s+details\s+of\s+(?:permanent|temporary)\s+failure:\s*\n\s*(?P<d>\S.*)",
    r"(?m)^.*?(?P<d>[45]\d\d[-\s][245]\.\d{1,3}\.\d{1,3}\b.*)$",
))  # fmt: skip
