"""What a notification says, in the reader's language. Pure functions over the notification's
`facts` (written when it was queued): no database, no platform format (see `platforms`)."""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from engine.types import JsonObject

#: Names in the handbook's models are written "中文 English" ("问题初步定位 Locate the problem").
_BILINGUAL = re.compile(r"^(?P<zh>.*[\u3000-\u9fff\uff00-\uffef])\s+(?P<en>[A-Za-z].*)$")


def in_language(text: str | None, language: str) -> str:
    """The part of a bilingual name in `language`; a name in one language as it is."""
    if not text:
        return ""
    found = _BILINGUAL.match(text.strip())
    if found is None:
        return text.strip()
    return found["en" if language == "en" else "zh"].strip()


@dataclass(frozen=True)
class Notice:
    """One notification, worded: a title, labelled lines, and a link to where the work is."""

    title: str
    lines: list[tuple[str, str]]
    link: str | None
    link_text: str


_TITLES = {
    "zh": {
        "task_offered": "新任务待处理：{task}",
        "task_assigned": "任务已指派给你：{task}",
        "task_overdue": "任务已逾期：{task}",
        "task_escalated": "逾期任务已升级至组长：{task}",
        "instance_completed": "流程已完成：{instance}",
        "incident": "流程异常，需要管理员处理：{instance}",
        "digest": "每日待办摘要：{open} 项待办，{overdue} 项逾期",
    },
    "en": {
        "task_offered": "New task for you: {task}",
        "task_assigned": "Task assigned to you: {task}",
        "task_overdue": "Task overdue: {task}",
        "task_escalated": "Overdue task escalated to the leader: {task}",
        "instance_completed": "Process finished: {instance}",
        "incident": "Incident, an admin is needed: {instance}",
        "digest": "Your daily digest: {open} open tasks, {overdue} overdue",
    },
}
_GROUP_TITLES = {
    "zh": {"task_offered": "新任务：{task}", "task_assigned": "任务已指派：{task}"},
    "en": {"task_offered": "New task: {task}", "task_assigned": "Task assigned: {task}"},
}
_LABELS = {
    "zh": {
        "task": "任务",
        "process": "流程",
        "instance": "实例",
        "due": "截止",
        "for": "处理人",
        "outcome": "结果",
        "problem": "问题",
        "overdue": "已逾期",
        "open_task": "打开任务",
        "open_instance": "查看流程实例",
        "open_inbox": "打开待办",
        "none": "无",
    },
    "en": {
        "task": "Task",
        "process": "Process",
        "instance": "Instance",
        "due": "Due",
        "for": "For",
        "outcome": "Outcome",
        "problem": "Problem",
        "overdue": "overdue",
        "open_task": "Open the task",
        "open_instance": "Open the process instance",
        "open_inbox": "Open the inbox",
        "none": "none",
    },
}


def label(language: str, key: str) -> str:
    return _LABELS[_lang(language)][key]


def render(
    facts: JsonObject, language: str, *, timezone: str = "Asia/Shanghai", group: bool = False
) -> Notice:
    """The notice of one event (`facts` as `outbox` wrote them) for a person, or for a chat group."""
    lang = _lang(language)
    kind = facts["kind"]
    if kind == "digest":
        return render_digest(facts, lang, timezone=timezone)
    task = in_language(facts.get("task_name"), lang)
    instance = instance_label(facts, lang)
    titles = {**_TITLES[lang], **(_GROUP_TITLES[lang] if group else {})}
    title = titles[kind].format(task=task, instance=instance)
    lines: list[tuple[str, str]] = []
    if task:
        lines.append((label(lang, "task"), task))
    if facts.get("process_name"):
        lines.append((label(lang, "process"), in_language(facts["process_name"], lang)))
    lines.append((label(lang, "instance"), instance))
    if facts.get("due_at"):
        lines.append((label(lang, "due"), local_time(facts["due_at"], timezone)))
    if group and facts.get("people"):
        lines.append((label(lang, "for"), ", ".join(facts["people"])))
    if facts.get("outcome"):
        lines.append((label(lang, "outcome"), str(facts["outcome"])))
    if facts.get("problem"):
        lines.append((label(lang, "problem"), str(facts["problem"])))
    link_text = label(lang, "open_task" if facts.get("task_id") else "open_instance")
    return Notice(title, lines, facts.get("link"), link_text)


def render_digest(facts: JsonObject, language: str, *, timezone: str) -> Notice:
    lang = _lang(language)
    tasks = facts.get("tasks", [])
    overdue = sum(1 for t in tasks if t.get("overdue"))
    title = _TITLES[lang]["digest"].format(open=len(tasks), overdue=overdue)
    lines = []
    for t in tasks:
        text = f"{instance_label(t, lang)}"
        if t.get("due_at"):
            text += f" · {label(lang, 'due')} {local_time(t['due_at'], timezone)}"
        if t.get("overdue"):
            text += f" · {label(lang, 'overdue')}"
        if t.get("link"):
            text += f" · {t['link']}"
        lines.append((in_language(t.get("task_name"), lang), text))
    return Notice(title, lines, facts.get("link"), label(lang, "open_inbox"))


def instance_label(facts: JsonObject, language: str) -> str:
    """The instance as people know it: business key and title ("OPT-7 · 转化率下降")."""
    parts = [p for p in (facts.get("business_key"), facts.get("title")) if p]
    if not parts:
        parts = [in_language(facts.get("process_name"), language) or facts.get("instance_id") or ""]
    return " · ".join(str(p) for p in parts)


def local_time(iso: str, timezone: str) -> str:
    """ "2026-12-03 17:00 (Asia/Shanghai)": a due date as the reader's clock shows it."""
    try:
        zone = ZoneInfo(timezone)
    except Exception:
        zone = ZoneInfo("UTC")
    at = datetime.fromisoformat(iso).astimezone(zone)
    return f"{at:%Y-%m-%d %H:%M} ({zone.key})"


def plain(notice: Notice) -> str:
    """The notice as plain text (e-mail, and the robots' text messages)."""
    body = [notice.title, ""] + [f"{name}: {value}" for name, value in notice.lines]
    if notice.link:
        body += ["", f"{notice.link_text}: {notice.link}"]
    return "\n".join(body)


def _lang(language: str) -> str:
    return "en" if language == "en" else "zh"
