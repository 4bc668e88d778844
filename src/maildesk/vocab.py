"""Every word maildesk shows a person, in zh-CN and English.  Pure.

States, priorities, categories, ticket types, command words and every refusal or
error reason live here, so a Chinese mail never shows `in_progress` and an English
one never shows `已关闭`.  A reason is data (`Reason`: a key and its arguments) until
the moment it is written for a reader in their language (`say`).  Times a person
reads are written by `local_time`, in the configured zone with its offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

LOCALES = ("zh-CN", "en")

# canonical value → (zh-CN name, English name): what a reader sees.
TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "new": ("新建", "New"),
        "assigned": ("已指派", "Assigned"),
        "in_progress": ("处理中", "In progress"),
        "waiting_on_user": ("等待用户回复", "Waiting on user"),
        "escalated": ("已升级", "Escalated"),
        "resolved": ("已解决", "Resolved"),
        "closed": ("已关闭", "Closed"),
        "rejected": ("已拒绝", "Rejected"),
    },
    "priority": {
        "urgent": ("紧急", "Urgent"),
        "high": ("高", "High"),
        "medium": ("中", "Medium"),
        "low": ("低", "Low"),
    },
    "category": {
        "硬件故障": ("硬件故障", "Hardware fault"),
        "软件异常": ("软件异常", "Software problem"),
        "网络问题": ("网络问题", "Network problem"),
        "账号权限": ("账号权限", "Account and access"),
        "数据安全": ("数据安全", "Data security"),
        "其他": ("其他", "Other"),
    },
    "type": {
        "incident": ("故障", "Incident"),
        "service_request": ("服务请求", "Service request"),
        "change": ("变更", "Change"),
        "consultation": ("咨询", "Consultation"),
    },
    "command": {
        "status": ("#状态", "#status"),
        "status_query": ("#状态", "#status"),
        "resolve": ("#解决", "#resolve"),
        "close": ("#关闭", "#close"),
        "reopen": ("#重开", "#reopen"),
        "wait": ("#等待", "#wait"),
        "assign": ("#指派", "#assign"),
        "take": ("#接单", "#take"),
        "priority": ("#优先级", "#priority"),
        "category": ("#分类", "#category"),
        "escalate": ("#升级", "#escalate"),
        "note": ("#备注", "#note"),
        "kb": ("#知识库", "#kb"),
    },
    "asked": {
        "close": ("关闭工单", "close the ticket"),
        "status": ("发送工单的状态和详情", "send the ticket's status and details"),
        "reopen": ("重新打开已关闭的工单", "reopen the closed ticket"),
        "watchers": ("把其他人加为工单的关注人", "add other people to the ticket"),
    },
    "held": {  # why a mail was held back (held/policy.py)
        "flood": ("同一发件人短时间内大量来信", "many mails from one sender at once"),
        "coalesced": ("短时间内的多次回复，已合并", "several follow-ups at once, merged"),
        "loop": ("自动回复程序反复发送相同内容", "an auto-responder repeating itself"),
    },
    "mail": {  # kinds of mail, as a person reads them
        "ack": ("受理回执", "acknowledgment"),
        "notification": ("工程师通知", "notification"),
        "relay": ("工程师回复", "relayed reply"),
        "status": ("状态回复", "status reply"),
        "claim_notice": ("冒用提醒", "claim notice"),
    },
    "content": {  # what an attachment's bytes turned out to be
        "windows_executable": ("Windows 可执行程序", "a Windows executable"),
        "elf_executable": ("Linux/Unix 可执行程序（ELF）", "a Linux/Unix executable (ELF)"),
        "macos_executable": ("macOS 可执行程序（Mach-O）", "a macOS executable (Mach-O)"),
        "executable": ("可执行程序", "an executable program"),
        "png": ("PNG 图片", "a PNG image"),
        "jpeg": ("JPEG 图片", "a JPEG image"),
        "gif": ("GIF 图片", "a GIF image"),
        "pdf": ("PDF 文档", "a PDF document"),
        "zip": ("ZIP 格式（压缩包或 Office 文档）", "a ZIP container (an archive or Office file)"),
        "office97": ("Office 97-2003 文档", "an Office 97-2003 document"),
        "text": ("纯文本", "plain text"),
        "empty": ("空文件", "an empty file"),
        "unknown": ("无法识别的二进制数据", "unrecognised binary data"),
    },
    "field": {
        "status": ("状态", "state"),
        "state": ("状态", "state"),
        "priority": ("优先级", "priority"),
        "category": ("分类", "category"),
        "assignee": ("处理人", "assignee"),
        "group": ("组", "group"),
        "type": ("类型", "type"),
        "satisfaction": ("满意度", "satisfaction"),
        "linked_ticket": ("关联工单", "linked ticket"),
        "watchers": ("关注人", "watcher"),
    },
    "event": {  # a row of a ticket's history (domain.EventKind), as its reader sees it
        "created": ("创建工单", "opened the ticket"),
        "routed": ("自动分派", "routed"),
        "linked": ("关联工单", "linked"),
        "watcher_added": ("添加关注人", "added a watcher"),
        "reply": ("用户回复", "the user replied"),
        "auto_reply": ("自动回复", "automatic reply"),
        "public_reply": ("回复用户", "replied to the user"),
        "note": ("内部备注", "internal note"),
        "changed": ("修改", "changed"),
        "reopened": ("重新打开", "reopened"),
        "attachment_refused": ("附件被拒收", "attachment refused"),
        "command_refused": ("命令被拒绝", "command refused"),
        "bounce": ("退信", "bounce"),
        "watcher_refused": ("未添加关注人", "watcher not added"),
        "held": ("邮件暂缓发送", "mail held back"),
        "message_id_reused": ("邮件标识重复", "Message-ID reused"),
        "timer": ("定时任务", "timer"),
        "survey_answer": ("满意度评价", "satisfaction score"),
        "survey_refused": ("无效的满意度评价", "survey answer refused"),
        "review": ("满意度复核", "satisfaction review"),
        "self_served": ("用户借助知识库自行解决", "solved by the user with an article"),
        "kb_draft": ("知识库文章草稿", "knowledge-base draft written"),
    },
    "timer": {  # what a timer did (timers.model.TimerKind), in a ticket's history
        "sla_remind": ("时限提醒", "SLA reminder"),
        "sla_escalate": ("超时升级", "SLA escalation"),
        "sla_remind_24x7": ("时限提醒", "SLA reminder"),
        "sla_escalate_24x7": ("超时升级", "SLA escalation"),
        "progress_note": ("进展通知", "progress note"),
        "waiting_remind": ("等待回复提醒", "waiting reminder"),
        "auto_resolve": ("自动解决", "resolved automatically"),
        "auto_close": ("自动关闭", "closed automatically"),
        "survey": ("发送满意度调查", "satisfaction survey sent"),
        "review_remind": ("复核提醒", "review reminder"),
        "review_escalate": ("复核超时升级", "review escalated"),
    },
}

# Other words a reader may type for a value (commands accept them); names above count too.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "status": {
        "new": ("new",),
        "assigned": ("assigned", "已分配"),
        "in_progress": ("in progress", "inprogress"),
        "waiting_on_user": ("waiting on user", "waiting", "等待用户", "待用户回复"),
        "escalated": ("escalated",),
        "resolved": ("resolved",),
        "closed": ("closed",),
        "rejected": ("rejected",),
    },
    "priority": {
        "urgent": ("urgent",),
        "high": ("high",),
        "medium": ("medium", "normal", "普通"),
        "low": ("low",),
    },
    "category": {
        "硬件故障": ("hardware", "硬件"),
        "软件异常": ("software", "软件"),
        "网络问题": ("network", "网络"),
        "账号权限": ("account", "permission", "账号", "权限"),
        "数据安全": ("security", "data security", "安全"),
        "其他": ("other", "其它"),
    },
}


def term(kind: str, value: str, locale: str) -> str:
    """The reader's word for a stored value; an unknown value is shown as stored."""
    names = TERMS[kind].get(value)
    if names is None:
        return value
    return names[0] if locale == "zh-CN" else names[1]


@dataclass(frozen=True)
class Term:
    """An argument of a reason that is itself a word to translate."""

    kind: str
    value: str


@dataclass(frozen=True)
class Both:
    """An argument already written in both languages (a list of accepted values)."""

    zh: str
    en: str


Arg = str | Term | Both


@dataclass(frozen=True)
class Reason:
    """Why something was refused or failed, before it is written for a reader."""

    key: str
    args: tuple[tuple[str, Arg], ...] = ()

    def arg(self, name: str) -> Arg:
        return dict(self.args)[name]


def reason(key: str, **args: Arg) -> Reason:
    if key not in REASONS:
        raise KeyError(f"no wording for reason {key!r}")
    return Reason(key, tuple(sorted(args.items())))


# key → (zh-CN, English); {names} are the reason's arguments.
REASONS: dict[str, tuple[str, str]] = {
    "unknown_command": (
        "“{line}”中的“#{word}”不是可用的命令。可用的命令：{commands}。",
        'Unknown command "#{word}" in "{line}"; commands: {commands}.',
    ),
    "takes_no_value": (
        "“{line}”：{command} 后面不需要写内容，却写了“{value}”。",
        '"{command}" takes no value, but "{value}" was given in "{line}".',
    ),
    "needs_engineer": (
        "“{line}”：{command} 后面需要写工程师的姓名或邮箱。",
        '"{command}" needs an engineer\'s name or address in "{line}".',
    ),
    "needs_reason": (
        "“{line}”：{command} 后面需要写明原因。",
        '"{command}" needs a reason in "{line}".',
    ),
    "needs_value": (
        "“{line}”：{command} 后面需要写{what}。可用的值：{accepted}。",
        '"{command}" needs a {what} in "{line}"; accepted: {accepted}.',
    ),
    "unknown_value": (
        "“{line}”中的{what}“{value}”无法识别。可用的值：{accepted}。",
        'Unknown {what} "{value}" in "{line}"; accepted: {accepted}.',
    ),
    "one_state_change": (
        "“{line}”与前面的“{other}”冲突：每封回复只能改变一次状态。",
        '"{line}" conflicts with the earlier "{other}": one change of state per reply.',
    ),
    "one_assignee_change": (
        "“{line}”与前面的“{other}”冲突：每封回复只能改变一次处理人。",
        '"{line}" conflicts with the earlier "{other}": one change of assignee per reply.',
    ),
    "once_per_reply": (
        "“{line}”与前面的“{other}”重复：每条命令在一封回复中只能出现一次。",
        '"{line}" conflicts with the earlier "{other}": each command once per reply.',
    ),
    "no_such_engineer": (
        "“{line}”：没有名为“{name}”的工程师。",
        '"{line}": no engineer called "{name}".',
    ),
    "not_in_state": (
        "“{line}”：工单当前状态为“{state}”，不能执行 {command}。",
        '"{line}": {command} does not apply to a ticket that is {state}.',
    ),
    "state_not_settable": (
        "“{line}”：状态不能直接设为“{state}”，请改用 {instead}。",
        '"{line}": the state cannot be set to {state} directly; use {instead}.',
    ),
    "not_signed": (
        "这封邮件不是对服务台发给您的该工单通知的回复（仅凭发件人地址不能证明身份）。",
        "not a reply to a notification maildesk sent you about this ticket "
        "(the From header alone is not trusted)",
    ),
    "requester_commands_only": (
        "用户只能对自己的工单使用 #关闭、#状态 和 #已解决。",
        "requesters may only use #close, #status and #solved on their own tickets",
    ),
    "watcher_external": (
        "{address} 不是本单位的地址，没有加为关注人",
        "{address} is not an address of our organisation, so it was not added",
    ),
    "watcher_staff": (
        "{address} 是服务台的工程师，按职责接收通知，不加为关注人",
        "{address} is one of the desk's engineers, who are notified by role, not as watchers",
    ),
    "watcher_limit": (
        "{address} 没有加为关注人：每个工单最多 {limit} 位关注人",
        "{address} was not added: a ticket has at most {limit} watchers",
    ),
    "message_id_reused": (
        "这封邮件的 Message-ID 此前已被另一封内容不同的邮件使用（日志条目 {entry}），"
        "本邮件按独立的邮件处理",
        "its Message-ID was used before by a different message (journal entry {entry}); "
        "processed as a message of its own",
    ),
    "file_type": (
        "不接受 .{ext} 类型的文件（可接受：{accepted}）",
        "file type .{ext} is not accepted (accepted: {accepted})",
    ),
    "file_executable": (
        "文件内容是{content}，与扩展名 .{ext} 不符；可执行程序一律不接受",
        "the content is {content}, which does not match .{ext}; programs are never accepted",
    ),
    "file_content_mismatch": (
        "文件内容是{content}，与扩展名 .{ext} 不符",
        "the content is {content}, which does not match .{ext}",
    ),
    "file_too_big": (
        "文件大小 {size}，超过单个文件 {limit} 的上限",
        "{size} is over the limit of {limit} per file",
    ),
    "files_too_big": (
        "附件总大小超过每封邮件 {limit} 的上限",
        "the attachments together exceed {limit} per message",
    ),
    "kb_not_resolved": (
        "“{line}”：工单当前状态为“{state}”，只有已解决或已关闭的工单才能写知识库文章草稿。",
        '"{line}": a draft article is written from a resolved or closed ticket;'
        " this one is {state}.",
    ),
}


def say(why: Reason, locale: str) -> str:
    """The reason written for a reader of `locale`."""
    zh, en = REASONS[why.key]
    chinese = locale == "zh-CN"
    return (zh if chinese else en).format(**{k: _arg(v, locale) for k, v in why.args})


def _arg(value: Arg, locale: str) -> str:
    if isinstance(value, Term):
        return term(value.kind, value.value, locale)
    if isinstance(value, Both):
        return value.zh if locale == "zh-CN" else value.en
    return value


def local_time(when: datetime | None, zone: str) -> str:
    """`2026-11-22 14:30 (+08:00)`: the zone's wall clock and its offset, for any reader."""
    if when is None:
        return "-"
    local = when.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} ({offset[:3]}:{offset[3:]})"


def all_terms(kind: str) -> Mapping[str, tuple[str, str]]:
    return TERMS[kind]
