"""The content fingerprint of a raw message: what is the same when the same mail
arrives twice, by different routes, and differs when two mails differ.  Pure.

The same mail fetched by IMAP from a Dovecot mailbox and relayed by SMTP to the
intake differs only in what the route added: trace headers (`Received`,
`Return-Path`, `Delivered-To`, …), what a mail store keeps in the message (`Status`,
`X-UID`, …), line endings (IMAP gives CRLF) and whitespace at the end.  The
fingerprint is the SHA-256 of the message without those: a different Date, Subject,
sender or body gives a different fingerprint even when the Message-ID is reused.

Every field of `TRACE` was added to the message on its way or in a mailbox, not by
its author.  Leaving one too many out is cheap: two different messages still differ
in their Date, Subject or body.  Leaving one in that a route adds is not: the same
mail by two routes would become two tickets.

The journal stores fingerprints in its keys (a message without a Message-ID, and a
different message reusing one: store/journal.py).  A change to `TRACE` or to the
normalising therefore needs a migration that re-keys those entries, as 0006 does.
"""

from __future__ import annotations

import hashlib
import re

# (field name pattern, why it is not part of the content).  Matched against the
# lower-cased field name, whole.
TRACE: tuple[tuple[str, str], ...] = (
    ("received", "each relay adds one: the route, not the mail"),
    ("x-received", "Gmail's per-hop trace"),
    ("return-path", "the envelope sender, added at final delivery (and by our SMTP intake)"),
    ("delivered-to", "the envelope recipient, added by Postfix/Dovecot local delivery"),
    ("x-original-to", "the envelope recipient before aliasing, added by Postfix"),
    ("envelope-to|x-envelope-to|x-envelope-from", "envelope, added by Exim and others"),
    ("x-rcpt-to|x-sender", "envelope, added by some delivery agents"),
    ("received-spf|(x-original-)?authentication-results", "the receiving MTA's verdicts"),
    ("arc-seal|arc-message-signature|arc-authentication-results", "added per hop (ARC)"),
    ("x-spam-.*|x-virus-scanned|x-amavis-.*", "filters at delivery: SpamAssassin, amavis"),
    ("x-rspamd-.*|x-spamd-.*|x-greylist", "filters at delivery: rspamd, greylisting"),
    (
        "x-proofpoint-.*|x-ironport-.*|ironport-sdr|x-mimecast-.*|x-barracuda-.*",
        "mail gateways' verdicts, added where the mail passed them",
    ),
    (
        "x-ms-exchange-.*|x-microsoft-antispam.*|x-forefront-antispam-report.*"
        "|x-eopattributedmessage|x-ms-office365-filtering-.*|x-ms-traffictypediagnostic"
        "|x-ms-publictraffictype|x-ms-oob-tlc-oobclassifiers|x-originatororg",
        "Exchange / Microsoft 365 transport and filter stamps, different per route "
        "(X-MS-Has-Attach and X-MS-TNEF-Correlator are the sender's and stay)",
    ),
    (
        "x-forwarded-to|x-forwarded-for|x-sieve|x-sieve-redirected-from",
        "added when a mailbox forwards or filters the mail (Gmail forwarding, Sieve)",
    ),
    ("status|x-status|x-keywords|x-uid|x-imapbase", "flags an mbox mail store writes"),
    ("x-.*-status[0-9]*|x-mozilla-keys", "client flags: X-Mozilla-Status, X-Mozilla-Status2, …"),
    ("content-length|lines", "sizes an mbox mail store writes (Dovecot, mutt)"),
)
_TRACE = re.compile("|".join(f"(?:{pattern})" for pattern, _ in TRACE))
_FOLD = re.compile(rb"\n[ \t]+")


def fingerprint(raw: bytes) -> str:
    """SHA-256 (hex) of the message without trace fields, with LF line endings,
    folded fields unfolded and no whitespace at its end."""
    return hashlib.sha256(normalised(raw)).hexdigest()


def normalised(raw: bytes) -> bytes:
    """The bytes the fingerprint hashes."""
    text = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if text.startswith(b"From "):  # an mbox separator line, not a header field
        text = text.partition(b"\n")[2]
    head, blank, body = text.partition(b"\n\n")
    fields = _FOLD.sub(b" ", head).split(b"\n")
    kept = b"\n".join(f for f in fields if not is_trace(f))
    return (kept + blank + body).rstrip()


def is_trace(field: bytes) -> bool:
    name, colon, _ = field.partition(b":")
    if not colon:
        return False
    return _TRACE.fullmatch(name.strip().lower().decode("latin-1")) is not None
