"""The handbook's documents as neutral content: what each table says, in Chinese or English, built from an
instance's data. The writers (Word, PDF) only lay this content out; they know nothing of the handbook."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from engine.errors import Conflict, InvalidInput

Language = Literal["zh", "en"]


@dataclass(frozen=True)
class Row:
    """One labelled row of a two-column table (项目 | 内容), as Table 2-1 prints it."""

    label: str
    value: str


@dataclass(frozen=True)
class Grid:
    """A table with a header row, as Table 2-2 prints it (one row per problem module)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    heading: str
    body: tuple[Row, ...] | Grid


@dataclass(frozen=True)
class Document:
    kind: str
    title: str
    caption: str  # the line above the table: 表2-1 ... / Table 2-1 ...
    subtitle: str  # the optimization it belongs to: business key and title
    sections: tuple[Section, ...]


def _t(lang: Language, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("T", " ") if _looks_like_datetime(value) else str(value)


def _looks_like_datetime(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 16 and value[4] == "-" and value[10] == "T"


_STAGES = {
    "kickoff": ("优化启动", "Kick-off"),
    "diagnosis": ("深度诊断", "Diagnosis"),
    "design": ("方案设计", "Solution design"),
    "execution": ("方案执行", "Execution"),
    "evaluation": ("效果评估", "Evaluation"),
    "rollout": ("推广与标准化", "Roll-out and standardization"),
}


def _stage(lang: Language, stage: Any) -> str:
    names = _STAGES.get(str(stage))
    return (names[0] if lang == "zh" else names[1]) if names else _text(stage)


def _goal(lang: Language, goal: Mapping[str, Any] | None) -> str:
    if not goal:
        return ""
    unit = _text(goal.get("unit"))
    metric, baseline, target = (
        _text(goal.get("metric")),
        _text(goal.get("baseline")),
        _text(goal.get("target")),
    )
    return _t(
        lang,
        f"{metric}：从{baseline}{unit}提升至{target}{unit}",
        f"{metric}: from {baseline}{unit} to {target}{unit}",
    )


def _require(variables: Mapping[str, Any], key: str, what: str) -> None:
    if key not in variables:
        raise Conflict(f"the {what} is not recorded yet in this instance")


def kickoff_minutes(variables: Mapping[str, Any], lang: Language) -> tuple[str, str, tuple[Section, ...]]:
    """表2-1 运营优化启动会议纪要: the rows of the handbook's template, in its order."""
    _require(variables, "meeting_topic", "kick-off minutes (Table 2-1)")
    v = variables
    division = "\n".join(f"{_text(d.get('name'))} — {_text(d.get('duty'))}" for d in v.get("division") or [])
    milestones = "\n".join(
        f"{_text(m.get('due_date'))}  {_text(m.get('milestone'))}（{_stage(lang, m.get('stage'))}）"
        if lang == "zh"
        else f"{_text(m.get('due_date'))}  {_text(m.get('milestone'))} ({_stage(lang, m.get('stage'))})"
        for m in v.get("milestones") or []
    )
    rows = (
        Row(_t(lang, "会议主题", "Topic"), _text(v.get("meeting_topic"))),
        Row(_t(lang, "参会人员", "Attendees"), _text(v.get("attendees"))),
        Row(_t(lang, "时间", "Time"), _text(v.get("meeting_time"))),
        Row(_t(lang, "地点/线上", "Place or online"), _text(v.get("location"))),
        Row(_t(lang, "问题描述", "Problem description"), _text(v.get("problem_description"))),
        Row(_t(lang, "优化目标", "Optimization goal"), _goal(lang, v.get("goal"))),
        Row(_t(lang, "分工安排（姓名/职责）", "Division of labour (name / duty)"), division),
        Row(_t(lang, "总周期", "Total duration"), _text(v.get("total_duration"))),
        Row(_t(lang, "关键节点计划", "Key milestones"), milestones),
        Row(_t(lang, "待协调资源", "Resources to coordinate"), _text(v.get("resources"))),
        Row(_t(lang, "决议事项", "Resolutions"), _text(v.get("resolutions"))),
    )
    return (
        _t(lang, "优化启动会议纪要", "Optimization kick-off minutes"),
        _t(lang, "表2-1 运营优化启动会议纪要", "Table 2-1 Operations optimization kick-off minutes"),
        (Section(_t(lang, "会议纪要", "Minutes"), rows),),
    )


_PROBLEM_COLUMNS = (
    ("module", "问题模块", "Problem module"),
    ("metric_performance", "核心指标表现", "Core metric"),
    ("data_source", "数据来源", "Data source"),
    ("hypothesis", "初步根因假设", "First hypothesis"),
    ("verification", "验证方式（访谈/数据）", "How checked (interviews / data)"),
    ("root_cause", "确认根因", "Confirmed root cause"),
    ("impact", "影响程度（占比/数值）", "Impact (share / value)"),
)


def diagnosis_report(variables: Mapping[str, Any], lang: Language) -> tuple[str, str, tuple[Section, ...]]:
    """表2-2 运营优化问题诊断报告: one row per problem module, then the conclusion."""
    _require(variables, "problems", "diagnosis report (Table 2-2)")
    grid = Grid(
        headers=tuple(zh if lang == "zh" else en for _key, zh, en in _PROBLEM_COLUMNS),
        rows=tuple(
            tuple(_text(problem.get(key)) for key, _zh, _en in _PROBLEM_COLUMNS)
            for problem in variables.get("problems") or []
        ),
    )
    conclusion = (Row(_t(lang, "诊断结论", "Conclusion"), _text(variables.get("summary"))),)
    return (
        _t(lang, "运营优化问题诊断报告", "Operations optimization diagnosis report"),
        _t(lang, "表2-2 运营优化问题诊断报告", "Table 2-2 Operations optimization diagnosis report"),
        (
            Section(_t(lang, "问题诊断", "Problems"), grid),
            Section(_t(lang, "结论", "Conclusion"), conclusion),
        ),
    )


def review(variables: Mapping[str, Any], lang: Language) -> tuple[str, str, tuple[Section, ...]]:
    """复盘报告: the goal set at kick-off against the measured effect, and what the team keeps."""
    _require(variables, "what_worked", "review (stage 6)")
    v = variables
    effect = (
        Row(_t(lang, "优化目标", "Goal"), _goal(lang, v.get("goal"))),
        Row(_t(lang, "优化前", "Before"), _text(v.get("before"))),
        Row(_t(lang, "优化后", "After"), _text(v.get("after"))),
        Row(_t(lang, "效果分析", "Analysis"), _text(v.get("analysis"))),
    )
    kept = (
        Row(_t(lang, "有效做法", "What worked"), _text(v.get("what_worked"))),
        Row(_t(lang, "新标准流程（SOP）", "New standard process (SOP)"), _text(v.get("sop"))),
        Row(_t(lang, "经验教训", "Lessons"), _text(v.get("lessons"))),
    )
    return (
        _t(lang, "运营优化复盘报告", "Operations optimization review"),
        _t(lang, "复盘与沉淀", "Review and standardization"),
        (Section(_t(lang, "效果评估", "Effect"), effect), Section(_t(lang, "复盘与沉淀", "Kept"), kept)),
    )


Builder = Callable[[Mapping[str, Any], Language], tuple[str, str, tuple[Section, ...]]]

#: The documents an optimization produces, by the name used in URLs.
KINDS: dict[str, Builder] = {
    "kickoff-minutes": kickoff_minutes,
    "diagnosis-report": diagnosis_report,
    "review": review,
}


def build(kind: str, variables: Mapping[str, Any], *, business_key: str | None, lang: Language) -> Document:
    builder = KINDS.get(kind)
    if builder is None:
        raise InvalidInput(f"unknown document {kind!r}; known: {', '.join(KINDS)}")
    title, caption, sections = builder(variables, lang)
    subject = " · ".join(part for part in (business_key, _text(variables.get("title"))) if part)
    return Document(kind, title, caption, subject, sections)
