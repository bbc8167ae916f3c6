"""Error messages in the reader's language. The engine speaks English; a client that prefers Chinese
(Accept-Language, as the pages send it) reads the messages people meet in the handbook's work in
Chinese, with role ids as their names. A message with no translation stays as the engine wrote it."""

import re
from collections.abc import Callable

from starlette.requests import Request

ROLE_NAMES_ZH = {
    "leader": "组长",
    "data": "数据组",
    "execution": "执行组",
    "support": "支持组",
    "designer": "流程设计",
    "admin": "管理员",
    "integration": "系统集成",
}


def _role(match: re.Match[str], group: int) -> str:
    return ROLE_NAMES_ZH.get(match.group(group), match.group(group))


#: (English pattern, Chinese). Most specific first: the first full match wins.
#: Chinese for a message that matched: a template with the match's groups, or made from the match.
Translation = str | Callable[[re.Match[str]], str]


def _compiled(entries: list[tuple[str, Translation]]) -> list[tuple[re.Pattern[str], Translation]]:
    return [(re.compile(p), zh) for p, zh in entries]


_CATALOGUE = _compiled(
    [
        (r"there is no user named '(.+)'", r"没有名为“\1”的用户"),
        (r"(\S+) does not hold the role (\S+)", lambda m: f"{m.group(1)} 不是{_role(m, 2)}成员"),
        (
            r"the team needs at least one member with the role (\S+)",
            lambda m: f"团队至少需要一名{_role(m, 1)}成员",
        ),
        (r"the team must be a list of rows", "团队应为成员列表"),
        (r"task \S+ is already claimed by (\S+)", r"此任务已被 \1 认领"),
        (r"task \S+ \(.*\) is not offered to (\S+)", r"此任务不在 \1 的待办范围内"),
        (r"task \S+ is not offered to (\S+)", r"此任务不在 \1 的待办范围内"),
        (r"task \S+ is not claimed", "此任务尚未被认领"),
        (r"task \S+ is claimed by (\S+); only they can complete it", r"此任务已被 \1 认领，只有其本人能完成"),
        (r"task \S+ is claimed by (\S+)", r"此任务已被 \1 认领"),
        (r"task \S+ is not open \(it was completed or cancelled\)", "此任务已结束（已完成或已取消）"),
        (r"task \S+ not found", "找不到此任务"),
        (r"task \S+ was claimed by someone else just now", "此任务刚刚被其他人认领"),
        (r"the form \S+ is not filled in correctly", "表单填写有误"),
        (r"the start form is not filled in correctly", "发起表单填写有误"),
        (r"process instance \S+ not found", "找不到此流程实例"),
        (r"only the instance's leader or an admin may assign its tasks", "仅组长或管理员能指派任务"),
        (r"(\S+) is not a candidate for this task", r"\1 不是此任务的候选人"),
        (r"the request is not valid", "请求无效"),
        (r"Field is required\.", "此项为必填项。"),
        (r"The date is in the past: choose today or a later day\.", "日期已过：请选择今天或之后的日期。"),
        (r"wrong user name or password", "用户名或密码错误"),
        # the operator's console
        (r"process instance \S+ is suspended: nothing of it moves until .*", "流程已挂起：恢复之前不能推进"),
        (r"process instance \S+ is suspended: resume it first", "流程已挂起，请先恢复"),
        (r"process instance \S+ is (\w+), not running", "流程不在进行中"),
        (r"process instance \S+ is (\w+), not suspended", "流程没有挂起"),
        (r"process instance \S+ is already (\w+)", "流程已经结束"),
        (r"process instance \S+ has no incident to resolve", "此流程没有需要处理的故障"),
        (r"process instance \S+ does not wait for message '(.+)'", r"此流程没有在等待消息 \1"),
        (r"only the instance's leader or an admin may (.+) it", "仅此流程的组长或管理员可以执行此操作"),
        (r"only admins (.+)", "仅管理员可以执行此操作"),
        (r"say why", "请说明原因"),
        (r"a reason is required: it goes into the audit log", "原因必填：它会记入审计日志"),
        (r"an approval's answer says whether it was approved", "审批答复须说明是否批准"),
        (r"the new values break the rules of the forms that own them", "新值不符合所属表单的规则"),
        (
            r"(\S+) is not an open step of the instance: only an open step can be skipped",
            r"\1 不是进行中的环节：只能跳过进行中的环节",
        ),
        (
            r"(\S+) is not a step the instance has done: .*",
            r"\1 不是已完成的环节：只能退回到做过的用户任务或外部任务",
        ),
        (r"process instance \S+ cannot move to version (\d+): (.*)", r"此流程不能迁移到版本 \1：\2"),
        (r"process (\S+) has no version (\d+)", r"流程 \1 没有版本 \2"),
        (r"name either the open step to skip or the earlier step to go back to", "请选择跳过或退回的环节"),
    ]
)


def prefers_chinese(request: Request) -> bool:
    """The first language of Accept-Language (by q) is Chinese."""
    best, best_q = "", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > best_q:
            best, best_q = tag.lower(), q
    return best.startswith("zh")


def in_chinese(message: str) -> str:
    for pattern, zh in _CATALOGUE:
        match = pattern.fullmatch(message)
        if match:
            return zh(match) if callable(zh) else match.expand(zh)
    return message
