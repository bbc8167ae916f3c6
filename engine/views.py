"""Read models returned by the engine: frozen, plain data, no database rows."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from engine.errors import Problem
from engine.policy import TeamMember
from engine.types import JsonObject

T = TypeVar("T")


@dataclass(frozen=True)
class Principal:
    user_id: str
    name: str
    groups: frozenset[str]
    scopes: frozenset[str] | None = None  # an API key's scopes; None: whatever the groups allow

    def has(self, *groups: str) -> bool:
        """A member of any of these groups."""
        return bool(self.groups.intersection(groups))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class UserView:
    name: str
    display_name: str
    groups: list[str]
    disabled: bool = False


@dataclass(frozen=True)
class GroupView:
    id: str
    name_zh: str
    name_en: str
    members: list[str]  # user names


@dataclass(frozen=True)
class DefinitionView:
    id: str
    key: str
    version: int
    name: str
    resource_name: str
    deployed_at: datetime
    start_form_key: str | None
    startable_by_hand: bool  # it has a plain start event (a message or timer start is not started by hand)


@dataclass(frozen=True)
class FormView:
    id: str
    key: str
    version: int
    schema: JsonObject
    deployed_at: datetime


@dataclass(frozen=True)
class DecisionDefinitionView:
    id: str
    key: str
    version: int
    name: str
    resource_name: str
    hit_policy: str
    deployment_id: str
    deployed_at: datetime


@dataclass(frozen=True)
class DeploymentView:
    id: str | None
    definitions: list[DefinitionView]
    forms: list[FormView]
    unchanged: list[str] = field(default_factory=list)  # keys whose content was already the latest version
    warnings: list[Problem] = field(default_factory=list)  # deployed, but worth the designer's attention
    decisions: list[DecisionDefinitionView] = field(default_factory=list)


@dataclass(frozen=True)
class DecisionEvaluationView:
    """One evaluation of a decision: which rules matched, on which inputs, for which instance and task."""

    at: datetime
    decision_key: str
    decision_version: int
    decision_name: str
    instance_id: str | None
    task_id: str | None
    element_id: str | None
    inputs: JsonObject
    matched_rules: list[JsonObject]  # [{rule_id, index, outputs}]
    result: list[JsonObject]


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: str
    process_key: str
    business_key: str | None
    element_id: str
    name: str
    role: str | None
    stage: str | None
    form_key: str | None
    assignee: str | None
    candidate_users: list[str]
    candidate_groups: list[str]
    created_at: datetime
    claimed_at: datetime | None
    due_at: datetime | None
    owner: str | None = None  # who delegated the task (Camunda's owner)
    delegation: str | None = None  # pending (the delegate holds it) | resolved (given back)


@dataclass(frozen=True)
class TaskDetailView:
    task: TaskView
    documentation: str
    form: FormView | None
    data: JsonObject  # the instance's variables, overlaid with the caller's own saved draft
    draft: JsonObject | None  # the caller's own draft: nobody reads another's
    instance: "InstanceView"
    #: the caller may read the task but not act on it: a teammate on the instance's team looking at
    #: a task that is someone else's
    read_only: bool = False


@dataclass(frozen=True)
class StepExecutionView:
    """One time a step (a task) ran in an instance: who held and completed it, when, and the data it
    submitted. A service task's history begins at its completion (created_at None)."""

    task_id: str
    element_id: str
    name: str
    run: int  # 1 for the step's first run in the instance, 2 for the next (a rework loop), ...
    created_at: datetime | None
    claimed_at: datetime | None  # first taken up: claimed, or given to someone
    claimed_by: str | None
    completed_at: datetime | None
    completed_by: str | None
    assignee: str | None  # who holds it now, while it is open
    overdue: bool
    waiting_seconds: float | None
    work_seconds: float | None
    duration_seconds: float | None
    form_key: str | None  # the form of the step (in the version the run was created in): its labels
    #: whether the caller may read the data it submitted (the rule for reading the task)
    data_readable: bool
    data: dict[str, object] | None  # what the completion submitted (None while open, or not readable)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    type: str
    actor: str | None
    instance_id: str | None
    task_id: str | None
    element_id: str | None
    details: JsonObject | None


@dataclass(frozen=True)
class InstanceView:
    id: str
    definition_id: str
    process_key: str
    version: int
    business_key: str | None
    status: str
    outcome: str | None
    started_by: str | None
    started_at: datetime
    ended_at: datetime | None
    team: list[TeamMember]
    variables: JsonObject
    incident: JsonObject | None
    #: declared types (engine/variable_types.py) of some variables: name -> {"type", "valueInfo"}
    variable_types: dict[str, JsonObject] = field(default_factory=dict)


@dataclass(frozen=True)
class WaitingView:
    """Something outside the instance it waits for: a message (the approval system's decision, say)
    or a timer."""

    kind: str  # message | timer
    element_id: str | None = None  # None for a timer: the instance's next timer, whichever it is
    message: str | None = None
    approval: bool = False  # the element asks the approval system for a decision
    due_at: datetime | None = None


@dataclass(frozen=True)
class InstanceSummaryView(InstanceView):
    """A row of the instance list: the instance and where it stands."""

    current_steps: list[TaskView] = field(default_factory=list)  # its open tasks, who holds them, when due
    waiting: list[WaitingView] = field(default_factory=list)
    overdue: bool = False  # an open task is past its due date


@dataclass(frozen=True)
class TokenView:
    """Where the instance stands: an element that is ready, waits (for a message, a timer, a join's
    other branches), runs (a subprocess) or failed."""

    element_id: str
    state: str  # ready | waiting | started | error
    waits_for: str | None = None  # "message:<name>" | "timer"


@dataclass(frozen=True)
class PathView:
    """The path the engine really took, from the instance's task tree."""

    elements: dict[str, int]  # element id -> how many times it completed
    flows: dict[str, int]  # sequence flow id -> how many times it was taken
    tokens: list[TokenView]


@dataclass(frozen=True)
class InstanceDetailView:
    instance: InstanceView
    open_tasks: list[TaskView]
    history: list[AuditEntry]
    path: PathView | None = None  # only the instance page's read fills it in
    actions: list[str] = field(default_factory=list)  # what the reader may do to it now: "cancel", ...
    waiting: list[WaitingView] = field(default_factory=list)  # messages and timers it waits for


@dataclass(frozen=True)
class VariableCondition:
    """`name operator value` on a process variable; operators as Camunda's (eq, neq, gt, gteq, lt,
    lteq, like with `%`)."""

    name: str
    operator: str
    value: Any


@dataclass(frozen=True)
class InstanceFilter:
    """Which instances a list shows, every criterion given must hold: the instance list and a version
    migration's selection (native API), and the Camunda instance and variable queries
    (engine/services/instance_filter.py answers it for all of them)."""

    ids: tuple[str, ...] | None = None
    process_key: str | None = None
    process_keys: tuple[str, ...] | None = None  # any of them
    version: int | None = None
    definition_id: str | None = None
    business_key: str | None = None
    business_key_like: str | None = None  # SQL LIKE, with % and _
    statuses: tuple[str, ...] | None = None  # running | suspended | completed | cancelled; None: any
    stage: str | None = None  # an open step of the instance is in this stage
    holder: str | None = None  # an open step is assigned to this user, or offered to them by name
    activity_ids: tuple[str, ...] | None = None  # it waits in one of these elements
    has_incident: bool | None = None
    overdue: bool | None = None
    started_after: datetime | None = None  # inclusive
    started_before: datetime | None = None  # exclusive
    variables: tuple[VariableCondition, ...] = ()


@dataclass(frozen=True)
class MessageCorrelationView:
    message: str
    instance_id: str
    started: bool  # True when the message started a new instance


@dataclass(frozen=True)
class CorrelationResultView(MessageCorrelationView):
    """What the sender of a message learns besides: the instance as the message left it (Camunda's
    correlation result with variables). The native API answers the MessageCorrelationView part."""

    instance: "InstanceView | None" = None


# API keys (engine.services.api_keys)


@dataclass(frozen=True)
class ApiKeyView:
    id: str
    name: str
    system: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None  # to the minute (identity.LAST_USED_PRECISION); None: never used


@dataclass(frozen=True)
class CreatedApiKeyView(ApiKeyView):
    key: str  # the secret: shown in this answer only


# Webhooks (engine.services.webhooks)


@dataclass(frozen=True)
class WebhookView:
    id: str
    url: str
    event_types: list[str]
    active: bool
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class CreatedWebhookView(WebhookView):
    secret: str  # shown once, when the subscription is created


@dataclass(frozen=True)
class DeliveryView:
    """One delivery attempt: `status_code` when the receiver answered, `error` when it did not or
    answered with anything but 2xx."""

    id: int
    subscription_id: str
    event_id: str
    event_type: str
    attempt: int
    status_code: int | None
    error: str | None
    delivered: bool
    at: datetime


@dataclass(frozen=True)
class RedeliveryView:
    subscription_id: str
    event_id: str
    event_type: str
    due_at: datetime


# Idempotency keys (engine.services.idempotency)

ClaimOutcome = Literal["claimed", "replay", "in_progress", "mismatch"]


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: str | None  # None: the answer was not kept (it held a secret)
    content_type: str | None


@dataclass(frozen=True)
class Claim:
    """claimed: run the request; replay: send `answer`; in_progress: the first request still runs;
    mismatch: the key was used for another request."""

    outcome: ClaimOutcome
    answer: StoredAnswer | None = None


# Version migration (engine.services.migrations)


@dataclass(frozen=True)
class MigrationCheckView:
    """Whether one instance can move to the target version, and why not."""

    instance_id: str
    business_key: str | None
    version: int
    can_move: bool
    reasons: list[str]


@dataclass(frozen=True)
class MigrationBatchView:
    id: str
    process_key: str
    target_version: int
    started_by: str
    created_at: datetime
    finished_at: datetime | None
    total: int
    pending: int
    migrated: list[str]
    skipped: dict[str, list[str]]


# --- analytics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Percentiles:
    """Seconds, by nearest rank; None when nothing was measured."""

    count: int
    p50: float | None
    p90: float | None
    p95: float | None


@dataclass(frozen=True)
class StepFigures:
    element_id: str
    name: str
    runs: int  # tasks created in the period
    completed: int
    overdue: int  # of the runs, how many were reminded as overdue
    overdue_share: float | None
    waiting: Percentiles  # created -> claimed (or completed, if nobody claimed it)
    work: Percentiles  # claimed -> completed
    duration: Percentiles  # created -> completed


@dataclass(frozen=True)
class LoopFigures:
    """A rework loop: a sequence flow back to an element already visited. `taken` counts the tasks
    created again through it; `instances` how many instances took it at least once."""

    flow_id: str | None  # None: a re-entry no loop of the diagram explains (e.g. a moved token)
    name: str
    from_element: str
    to_element: str
    taken: int
    instances: int


@dataclass(frozen=True)
class WeekFigures:
    week: str  # the Monday, YYYY-MM-DD
    started: int
    completed: int


@dataclass(frozen=True)
class ProcessAnalyticsView:
    process_key: str
    version: int | None  # None: all versions
    diagram_version: int  # the version whose diagram the step figures are drawn on
    period_from: datetime
    period_to: datetime
    started: int
    completed: int
    cancelled: int
    outcomes: dict[str, int]  # completed instances by outcome ("" when the end event names none)
    cycle_time: Percentiles
    steps: list[StepFigures]
    loops: list[LoopFigures]
    trend: list[WeekFigures]


@dataclass(frozen=True)
class GoalFigures:
    """One optimization: the goal set at its kick-off (Table 2-1) and the effect measured in stage 5."""

    instance_id: str
    business_key: str | None
    status: str
    started_at: datetime
    metric: str | None
    unit: str | None
    baseline: float | None
    target: float | None
    before: float | None
    after: float | None
    progress: float | None  # (after - baseline) / (target - baseline): 1 means the target was reached
    achieved: bool | None


# --- external tasks (engine.external_tasks: fetch and lock, complete, fail) -------------------


@dataclass(frozen=True)
class TopicRequest:
    name: str
    lock_duration_ms: int
    variables: list[str] | None = None  # None: all process variables
    business_key: str | None = None


@dataclass(frozen=True)
class ExternalTaskView:
    """An external task, as a worker fetches it or an operator lists it (the native API and the
    Camunda external task resource both)."""

    id: str
    topic: str
    worker_id: str | None
    lock_expires_at: datetime | None
    instance_id: str
    process_key: str
    definition_id: str
    business_key: str | None
    element_id: str
    retries: int | None
    error_message: str | None
    error_details: str | None
    priority: int
    created_at: datetime
    #: the process variables a fetch asked for (none in lists)
    variables: JsonObject = field(default_factory=dict)
    #: declared types of the variables (engine/variable_types.py)
    variable_types: dict[str, JsonObject] = field(default_factory=dict)
