"""Machine notifications without RFC 3834 headers, known by what the systems write:
monitoring alerts (Alertmanager, Grafana, Nagios/Icinga, Zabbix, 阿里云云监控, 腾讯云监控)
and CI build notices (Jenkins, GitLab).

Each rule wants two signs, never one: the subject as the system writes it AND a sign in
the body, the headers or the sender.  So a person writing "Problem: printer" or
"告警太多了" stays a person, and so does one forwarding an alert (`Fwd:` stands back,
as everywhere).  A person who pastes an alert into a new mail and asks for something
above it (`请帮忙看一下`, `could you check`) stays a person too.

An alert is a ticket that is never acknowledged (the sender is a machine); a CI notice
merely informs, like other system mail (no ticket).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from maildesk.pipeline.automail.message import Mail
from maildesk.pipeline.automail.notices import REQUEST_WORDS
from maildesk.pipeline.automail.replies import auto_reply_subject
from maildesk.pipeline.automail.verdict import AutoMail, Kind


@dataclass(frozen=True)
class System:
    """A notifying system: how it writes subjects, and its signs elsewhere."""

    name: str
    subject: re.Pattern[str]
    body: re.Pattern[str]  # lines its templates write
    headers: tuple[str, ...] = ()  # headers only it sets (any value)
    mailer: re.Pattern[str] | None = None  # X-Mailer / User-Agent
    sender: re.Pattern[str] | None = None  # local part of its From address


def system(
    name: str,
    subject: str,
    body: str,
    headers: tuple[str, ...] = (),
    mailer: str = "",
    sender: str = "",
) -> System:
    def compiled(test: str) -> re.Pattern[str] | None:
        return re.compile(test, re.IGNORECASE | re.MULTILINE) if test else None

    return System(
        name,
        re.compile(subject, re.IGNORECASE),
        re.compile(body, re.IGNORECASE | re.MULTILINE),
        headers,
        compiled(mailer),
        compiled(sender),
    )


_MONITOR_SENDER = (
    r"^(?:alerts?|alarms?|monitor(?:ing)?|prometheus|alertmanager|grafana|zabbix|nagios|icinga"
    r"|cloud[-_.]?(?:alarm|monitor))(?:[-_.+][\w.-]*)?$"
)
_ALERT_FIELD = r"(?:首次|最近)?(?:告警|报警|警报)"

ALERT_SYSTEMS = (
    # Grafana: unified alerting ("[FIRING:1] …", "**Firing**") and legacy ("[Alerting] …")
    system(
        "Grafana",
        r"^\s*\[(?:FIRING|RESOLVED)(?::\d+)?\]\s*\S|^\s*\[(?:Alerting|No\s+Data|OK)\]\s*\S",
        r"^\s*\*\*(?:firing|resolved)\*\*\s*$|/alerting/(?:silence|grafana|list)\b|"
        r"^\s*-?\s*grafana_folder\s*=|^\s*metric\s+name\s+value\s*$",
        mailer=r"grafana",
        sender=r"^grafana(?:[-_.+][\w.-]*)?$",
    ),
    # Alertmanager's default template: "[FIRING:2] InstanceDown (…)", "[RESOLVED] …"
    system(
        "Alertmanager",
        r"^\s*\[(?:FIRING|RESOLVED)(?::\d+)?\]\s*\S",
        r"\bview\s+in\s+alertmanager\b|\bsent\s+by\s+alertmanager\b|^\s*-?\s*alertname\s*=|"
        r"\[\d+\]\s+(?:firing|resolved)\b|/#/alerts\?receiver=",
        sender=_MONITOR_SENDER,
    ),
    # Nagios / Icinga 1: "** PROBLEM Service Alert: host/svc is CRITICAL **"
    system(
        "Nagios",
        r"^\s*\*\*\s*(?:PROBLEM|RECOVERY|ACKNOWLEDGEMENT|FLAPPING\w*|DOWNTIME\w*|CUSTOM)\s+"
        r"(?:Service|Host)\s+Alert\s*:.{1,200}\bis\s+(?:CRITICAL|WARNING|UNKNOWN|OK|DOWN|UP|"
        r"UNREACHABLE)\b",
        r"^\s*\*{3,}\s*(?:Nagios|Icinga)\s*\*{3,}\s*$|^\s*Notification\s+Type\s*:\s*"
        r"(?:PROBLEM|RECOVERY|ACKNOWLEDGEMENT|FLAPPING\w*|DOWNTIME\w*|CUSTOM)\s*$",
        sender=r"^(?:nagios|icinga)(?:[-_.+][\w.-]*)?$",
    ),
    # Zabbix default templates: "Problem: …" / "Resolved: …" / "Resolved in 5m: …"
    system(
        "Zabbix",
        r"^\s*(?:Problem|Resolved(?:\s+in\s+[\w\s]{1,20})?|Updated\s+problem|PROBLEM|OK)\s*:\s*\S",
        r"^\s*Problem\s+(?:started|has\s+been\s+resolved(?:\s+in\s+[\w\s]{1,20}?)?)\s+at\s+"
        r"\d{1,2}:\d{2}(?::\d{2})?\s+on\s+\d{4}[.\-/]\d{1,2}[.\-/]\d{1,2}|"
        r"^\s*Original\s+problem\s+ID\s*:\s*\d|^\s*Trigger\s+status\s*:\s*(?:PROBLEM|OK)\b",
        sender=r"^zabbix(?:[-_.+][\w.-]*)?$",
    ),
    # 阿里云云监控, 腾讯云云监控 and Chinese monitoring platforms: "【阿里云】云监控报警：…",
    # "【腾讯云】云监控告警通知", "[告警] …"; their bodies are fields ("告警策略：…").
    system(
        "云监控",
        r"云监控.{0,12}(?:告警|报警)|(?:告警|报警)(?:恢复)?通知|"
        r"^\s*[\[【]\s*(?:告警|报警|警告|故障|恢复|P[0-4])\s*[\]】]",
        rf"^\s*{_ALERT_FIELD}(?:规则|策略|内容|对象|级别|名称|状态|时间|指标|资源)\s*[:：]|"
        r"^\s*(?:监控项|监控指标|触发条件|阈值|当前值)\s*[:：]",
        sender=_MONITOR_SENDER,
    ),
)

CI_SYSTEMS = (
    # Jenkins Mailer: "Build failed in Jenkins: job #412", "Jenkins build is back to normal : …"
    system(
        "Jenkins",
        r"^\s*(?:Build\s+failed\s+in\s+Jenkins\s*:|Jenkins\s+build\s+(?:is\s+back\s+to\s+"
        r"(?:normal|stable)|is\s+(?:still\s+)?unstable|became\s+unstable)\b).{0,200}#\d+|"
        r"^.{1,200}\s-\sBuild\s*#\s*\d+\s*-\s*(?:Failure|Success|Unstable|Fixed|Still\s+"
        r"Failing|Aborted)!?\s*$",  # Email Extension plugin's default subject
        r"^\s*See\s+<?https?://\S+/job/\S+|^\s*Check\s+console\s+output\s+at\s+https?://|"
        r"^\s*Started\s+by\s+(?:timer|user|an\s+SCM\s+change|upstream|remote|GitHub|GitLab)|"
        r"^\s*Build\s+step\s+'.{1,80}'\s+marked\s+build\s+as\s+failure",
        headers=("x-jenkins-job", "x-jenkins-result"),
        sender=r"^jenkins(?:[-_.+][\w.-]*)?$",
    ),
    # GitLab pipeline mail: "Failed pipeline for main | project | abc123"
    system(
        "GitLab",
        r"^\s*(?:Failed|Successful|Fixed)\s+pipeline\s+for\s+\S",
        r"^\s*Pipeline\s+#\d+\s+(?:has\s+failed|has\s+passed|has\s+been\s+fixed)",
        headers=("x-gitlab-pipeline-id",),
        sender=r"^gitlab(?:[-_.+][\w.-]*)?$",
    ),
)

LEAD_WINDOW = 1200  # where a pasted alert's signs are looked for


def monitoring_alert(mail: Mail) -> AutoMail | None:
    found = _two_signs(mail, ALERT_SYSTEMS)
    return AutoMail(Kind.ALERT, f"monitoring alert: {found}") if found else None


def ci_notice(mail: Mail) -> AutoMail | None:
    found = _two_signs(mail, CI_SYSTEMS)
    return AutoMail(Kind.AUTO_REPLY, f"CI notification: {found}") if found else None


def _two_signs(mail: Mail, systems: tuple[System, ...]) -> str:
    """ "System: subject + second sign" for the first system with two signs, else ""."""
    if mail.human_prefixed or auto_reply_subject(mail.subject) is not None:
        return ""
    for entry in systems:
        if not entry.subject.search(mail.subject):
            continue
        sign = _header_sign(mail, entry) or _body_sign(mail, entry) or _sender_sign(mail, entry)
        if sign:
            return f"{entry.name}: subject + {sign}"
    return ""


def _header_sign(mail: Mail, entry: System) -> str:
    for name in entry.headers:
        if mail.header(name).strip():
            return name
    mailer = f"{mail.header('x-mailer')} {mail.header('user-agent')}"
    return "X-Mailer" if entry.mailer and entry.mailer.search(mailer) else ""


def _body_sign(mail: Mail, entry: System) -> str:
    """A line of the system's template, with no request of a person above it."""
    text = mail.inbound.text[:LEAD_WINDOW]
    found = entry.body.search(text)
    if found is None or _asks(text[: found.start()]):
        return ""
    return "body " + " ".join(found.group(0).split())[:40]


def _sender_sign(mail: Mail, entry: System) -> str:
    """A sender named like the system, when the opening paragraph asks for nothing."""
    local = mail.inbound.sender.email.lower().partition("@")[0]
    if not entry.sender or not entry.sender.search(local):
        return ""
    opening = mail.inbound.text.lstrip()[:LEAD_WINDOW].split("\n\n", 1)[0]
    return "" if _asks(opening) else f"sender {local}@"


_URL = re.compile(r"https?://\S+|<[^<>\s]+>")


def _asks(text: str) -> bool:
    """A person's request (a question mark in a link is none)."""
    return REQUEST_WORDS.search(_URL.sub(" ", text)) is not None
