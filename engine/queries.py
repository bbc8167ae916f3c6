"""The Camunda-shaped queries' filters and records: what callers pass to `engine.camunda`,
`engine.camunda_history` and `engine.camunda_resources` and get back. Plain frozen data, public so
that api/camunda can build and read them without reaching into engine.services; how each query is
answered (its SQL, its sort columns, who may see what) stays in the service.

The native API's read models are in engine/views.py, with what both APIs share: the instance filter
(engine.views.InstanceFilter) and its variable conditions; the Camunda external task resource lists
engine.views.ExternalTaskView, as the native API does.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.types import JsonObject
from engine.views import TaskView, VariableCondition

MAX_RESULTS = 1000


@dataclass(frozen=True)
class Sorting:
    """One sort criterion: a key the query names in its SORT table, and the direction."""

    key: str
    descending: bool = False


@dataclass(frozen=True)
class Paging:
    offset: int = 0
    limit: int = MAX_RESULTS
    sorting: tuple[Sorting, ...] = ()


# --- runtime: open tasks, running instances, their variables (engine.camunda) ---------------------


@dataclass(frozen=True)
class TaskFilter:
    process_instance_ids: tuple[str, ...] | None = None
    business_key: str | None = None
    business_key_like: str | None = None
    process_definition_keys: tuple[str, ...] | None = None
    process_definition_id: str | None = None
    task_definition_keys: tuple[str, ...] | None = None
    task_ids: tuple[str, ...] | None = None
    name: str | None = None
    name_like: str | None = None
    assignees: tuple[str, ...] | None = None
    assignee_like: str | None = None
    candidate_groups: tuple[str, ...] | None = None
    candidate_user: str | None = None
    include_assigned_tasks: bool = False
    assigned: bool | None = None  # True: only assigned; False: only unassigned
    due_before: datetime | None = None
    due_after: datetime | None = None
    created_before: datetime | None = None
    created_after: datetime | None = None
    process_variables: tuple[VariableCondition, ...] = ()


@dataclass(frozen=True)
class TaskRecord:
    task: TaskView
    definition_id: str
    documentation: str


@dataclass(frozen=True)
class VariableRecord:
    instance_id: str
    definition_id: str
    process_key: str
    name: str
    value: Any
    declared: JsonObject | None  # {"type", "valueInfo"} as sent, if declared
    created_at: datetime
    running: bool


# --- history, incidents and jobs (engine.camunda_history) ---------------------------------------


@dataclass(frozen=True)
class HistoricInstanceFilter:
    ids: tuple[str, ...] | None = None
    business_key: str | None = None
    business_key_like: str | None = None
    process_definition_keys: tuple[str, ...] | None = None
    process_definition_id: str | None = None
    finished: bool | None = None  # True: ended; False: running
    started_by: str | None = None
    states: tuple[str, ...] | None = None  # opsflow statuses: running | completed | cancelled


@dataclass(frozen=True)
class HistoricInstance:
    id: str
    business_key: str | None
    definition_id: str
    process_key: str
    definition_name: str
    version: int
    started_at: datetime
    ended_at: datetime | None
    started_by: str | None
    status: str
    has_incident: bool


@dataclass(frozen=True)
class HistoricTaskFilter:
    instance_id: str | None = None
    task_id: str | None = None
    process_definition_key: str | None = None
    task_definition_key: str | None = None
    finished: bool | None = None
    assignee: str | None = None


@dataclass(frozen=True)
class HistoricTask:
    id: str
    name: str
    element_id: str
    instance_id: str
    definition_id: str
    process_key: str
    created_at: datetime
    ended_at: datetime | None
    assignee: str | None
    role: str | None
    completed: bool


@dataclass(frozen=True)
class IncidentRecord:
    id: str
    kind: str  # failedJob | failedExternalTask
    instance_id: str | None
    definition_id: str | None
    element_id: str | None
    message: str | None
    at: datetime | None
    configuration: str | None


@dataclass(frozen=True)
class JobRecord:
    id: str
    kind: str
    instance_id: str | None
    due_at: datetime
    attempts: int
    last_error: str | None
    failed: bool
    created_at: datetime


# --- definitions, deployments, external tasks (engine.camunda_resources) --------------------------


@dataclass(frozen=True)
class DefinitionFilter:
    id: str | None = None
    ids: tuple[str, ...] | None = None
    key: str | None = None
    keys: tuple[str, ...] | None = None
    key_like: str | None = None
    name: str | None = None
    name_like: str | None = None
    version: int | None = None
    deployment_id: str | None = None
    latest_only: bool = False


@dataclass(frozen=True)
class DefinitionRecord:
    id: str
    key: str
    version: int
    name: str
    resource_name: str
    deployment_id: str
    deployed_at: datetime
    start_form_key: str | None


@dataclass(frozen=True)
class DeploymentRecord:
    id: str
    name: str
    deployed_by: str | None
    deployed_at: datetime


@dataclass(frozen=True)
class ExternalTaskFilter:
    id: str | None = None
    topic: str | None = None
    worker_id: str | None = None
    instance_id: str | None = None
    activity_id: str | None = None
    locked: bool | None = None
    with_retries_left: bool | None = None
