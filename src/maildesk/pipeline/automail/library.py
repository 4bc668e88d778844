"""A second opinion on bounces from flufl.bounce (Mailman's bounce detectors).

Its seventeen detectors know the prose of old and odd MTAs (Yahoo, AOL, GroupWise,
SMTP32, Sina, qmail variants, Lotus…) that our tables do not.  It is asked only when
the message already looks like machine mail (a null or missing sender, a daemon
sender, a report, a bounce-like subject) and no person prefixed the subject, and it
must name the failed address: it never turns a person's mail into a bounce on its own.
It raises on some input (8-bit headers…): any exception means no opinion.
"""

from __future__ import annotations

import logging
import re

from flufl.bounce import all_failures

from maildesk.pipeline.automail.message import Mail, address, parts, quote, unique

# all_failures logs a detector's exception before re-raising it; we catch it below.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

# Subjects that open the way delivery reports do, in words broader than
# bounces.BOUNCE_SUBJECTS: enough to ask flufl.bounce, which must then name the address.
DELIVERY_SUBJECT = re.compile(
    r"^\s*[\[【(（]?\s*(?:returned\s+mail|non[-\s]?delivery|undeliver|mail\s+delivery|"
    r"delivery\s+(?:failure|failed|problem|warning|error|status|notification|report)|"
    r"(?:mail|message|e-?mail)\s+(?:could\s+not|couldn't|can't|cannot|not)\s+(?:be\s+)?delivered|"
    r"failure\s+notice|failed\s+mail|mail\s+(?:error|failure)|退信|系统退信|投递失败|投遞失敗)",
    re.IGNORECASE,
)
# Mail clients people write with (X-Mailer / User-Agent): their mail is a person's, whatever
# its subject says.
PERSONAL_CLIENT = re.compile(
    r"outlook|foxmail|thunderbird|apple\s+mail|iphone|ipad|android|mozilla|evolution|mutt|"
    r"k-9|roundcube|mailmaster|netease|qqmail|wps|dingtalk|lark|gmail|sogo|airmail|spark",
    re.IGNORECASE,
)


def machine_hint(mail: Mail) -> str:
    """Why this may be machine mail, for a second opinion to confirm ("" if no reason)."""
    if mail.machine_origin:
        return mail.machine_origin
    if mail.daemon_sender:
        return mail.daemon_sender
    if mail.content_type == "multipart/report":
        return "multipart/report"
    return _delivery_subject(mail)


def _delivery_subject(mail: Mail) -> str:
    """A subject like a delivery report's, on mail that is not a person's reply, not
    written in a person's mail client and without HTML (which every webmail and client
    writes; gateways' reports are plain text)."""
    found = DELIVERY_SUBJECT.search(mail.subject)
    if not found or mail.inbound.in_reply_to or mail.inbound.references:
        return ""
    client = f"{mail.header('x-mailer')} {mail.header('user-agent')}"
    if PERSONAL_CLIENT.search(client) or mail.message is None:
        return ""
    if any(p.get_content_type() == "text/html" for p in parts(mail.message)):
        return ""
    return f"subject {quote(found.group(0))}"


# Real bounces are small (a notice and the returned headers or a truncated copy).
LIBRARY_BYTES = 1024 * 1024


def failures(mail: Mail) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(temporary, permanent) failed addresses as flufl.bounce reads them; () on error."""
    if mail.message is None or len(mail.raw) > LIBRARY_BYTES:
        return (), ()  # it reads every line: a forged 50 MB "bounce" would take half a minute
    try:
        temporary, permanent = all_failures(mail.message)
    except Exception:  # its detectors raise on 8-bit headers and odd MIME: no opinion
        return (), ()
    return _addresses(temporary), _addresses(permanent)


def _addresses(found: frozenset[bytes]) -> tuple[str, ...]:
    decoded = (address(a.decode("utf-8", "replace")) for a in sorted(found))
    return unique(decoded)
