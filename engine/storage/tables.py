"""Database rows. The instance's SpiffWorkflow state is the truth; every other instance table is an
index of it, rewritten in the same transaction as the state."""

from datetime import UTC, date, datetime
from typing import Any, ClassVar, TypeAlias

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel
from sqlmodel.sql.sqltypes import AutoString

from engine.bpmn.catalog import Catalog
from engine.policy import TEAM, TeamMember
from engine.types import JsonObject


class Row(SQLModel):
    """A table's rows. SQLAlchemy gives each table class its Core table as `__table__`, which the hot
    paths build statements from; SQLModel declares no type for it."""

    __table__: ClassVar[sa.Table]


#: A Core select of any columns, and one row of a result read by position.
AnySelect: TypeAlias = sa.Select[*tuple[Any, ...]]
AnyRow: TypeAlias = sa.Row[*tuple[Any, ...]]


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Timezone-aware UTC on every dialect (SQLite hands back naive datetimes)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class _CatalogJson(sa.types.TypeDecorator[Catalog]):
    """A process's catalog as JSON, with the keys opsflow has always written (ElementInfo.to_json)."""

    impl = sa.JSON()
    cache_ok = True

    def process_bind_param(self, value: Catalog | None, dialect: Any) -> dict[str, JsonObject] | None:
        return value.to_json() if value is not None else None

    def process_result_value(self, value: Any, dialect: Any) -> Catalog | None:
        return Catalog.from_json(value) if value is not None else None


class _TeamJson(sa.types.TypeDecorator[list[TeamMember]]):
    """An instance's team as JSON: its rows as the form wrote them."""

    impl = sa.JSON()
    cache_ok = True

    def process_bind_param(self, value: list[TeamMember] | None, dialect: Any) -> list[JsonObject] | None:
        return [m.model_dump() for m in value] if value is not None else None

    def process_result_value(self, value: Any, dialect: Any) -> list[TeamMember] | None:
        return TEAM.validate_python(value) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(sa.JSON(), nullable=nullable))


def _text(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(sa.Text(), nullable=nullable))


# --- identity ---------------------------------------------------------------------------------


class UserRow(Row, table=True):
    __tablename__ = "app_user"
    id: str = Field(primary_key=True)
    name: str = Field(unique=True, index=True, max_length=64)
    display_name: str = Field(default="", max_length=200)
    password_hash: str | None = Field(default=None, max_length=300)
    created_at: datetime = _ts()
    disabled_at: datetime | None = _ts(nullable=True)  # a disabled user cannot sign in
    # "<issuer> <subject>" of the user's single sign-on account (OpenID Connect), if any
    external_id: str | None = Field(default=None, unique=True, index=True, max_length=300)


class GroupRow(Row, table=True):
    """A group of people (a department, a lane of the handbook, the admins): what tasks are offered to
    and what permissions are given by."""

    __tablename__ = "app_group"
    id: str = Field(primary_key=True, max_length=64)
    name_zh: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)
    created_at: datetime = _ts()


class MembershipRow(Row, table=True):
    __tablename__ = "membership"
    user_id: str = Field(foreign_key="app_user.id", primary_key=True)
    group_id: str = Field(foreign_key="app_group.id", primary_key=True, max_length=64, index=True)


class TokenRow(Row, table=True):
    __tablename__ = "api_token"
    id: str = Field(primary_key=True)
    user_id: str = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    label: str = Field(default="", max_length=100)
    kind: str = Field(default="session", max_length=16)  # session | api_key (a system's key)
    scopes: list[str] | None = _json()  # an API key's scopes; None: everything the user's groups allow
    created_at: datetime = _ts()
    expires_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)
    last_used_at: datetime | None = _ts(nullable=True)  # API keys: to the minute (LAST_USED_PRECISION)


class SsoLoginRow(Row, table=True):
    """A single sign-on that has been started and not finished: what the callback must check."""

    __tablename__ = "sso_login"
    state_hash: str = Field(primary_key=True, max_length=64)
    nonce: str = Field(max_length=100)
    code_verifier: str = Field(max_length=128)
    next_url: str = Field(default="", max_length=500)
    created_at: datetime = _ts(index=True)


# --- repository -------------------------------------------------------------------------------


class DeploymentRow(Row, table=True):
    __tablename__ = "deployment"
    id: str = Field(primary_key=True)
    name: str = Field(default="", max_length=200)
    deployed_by: str | None = Field(default=None, max_length=64)
    deployed_at: datetime = _ts()


class ProcessDefinitionRow(Row, table=True):
    __tablename__ = "process_definition"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)
    id: str = Field(primary_key=True)
    key: str = Field(index=True, max_length=200)
    version: int
    name: str = Field(default="", max_length=300)
    resource_name: str = Field(max_length=300)
    bpmn_xml: str = _text()
    content_hash: str = Field(max_length=64)
    catalog: Catalog = Field(sa_column=Column(_CatalogJson(), nullable=False))
    deployment_id: str = Field(foreign_key="deployment.id")
    deployed_at: datetime = _ts()


class FormDefinitionRow(Row, table=True):
    __tablename__ = "form_definition"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)
    id: str = Field(primary_key=True)
    key: str = Field(index=True, max_length=200)
    version: int
    form_schema: JsonObject = _json(nullable=False)
    content_hash: str = Field(max_length=64)
    deployment_id: str = Field(foreign_key="deployment.id")
    deployed_at: datetime = _ts()


class DecisionDefinitionRow(Row, table=True):
    """One version of a DMN decision, versioned by its decision id like a process by its key."""

    __tablename__ = "decision_definition"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)
    id: str = Field(primary_key=True)
    key: str = Field(index=True, max_length=200)
    version: int
    name: str = Field(default="", max_length=300)
    resource_name: str = Field(max_length=300)
    dmn_xml: str = _text()  # the whole file, as deployed (the editor opens it again)
    content_hash: str = Field(max_length=64)  # of the decision's own element
    hit_policy: str = Field(max_length=16)
    deployment_id: str = Field(foreign_key="deployment.id")
    deployed_at: datetime = _ts()


# --- runtime ----------------------------------------------------------------------------------


class ProcessInstanceRow(Row, table=True):
    __tablename__ = "process_instance"
    __table_args__ = (
        # The analytics' period queries read these indexes alone (never the wide rows with the state):
        # instances started in a period, and those ended in it with their outcome and cycle time.
        sa.Index("ix_process_instance_definition_started", "definition_id", "started_at"),
        sa.Index(
            "ix_process_instance_definition_ended",
            "definition_id",
            "ended_at",
            "status",
            "outcome",
            "started_at",
        ),
    )
    id: str = Field(primary_key=True)
    definition_id: str = Field(foreign_key="process_definition.id", index=True)
    process_key: str = Field(index=True, max_length=200)
    business_key: str | None = Field(default=None, index=True, max_length=200)
    status: str = Field(index=True, max_length=16)  # running | completed | cancelled
    outcome: str | None = Field(default=None, max_length=100)
    state: str = _text()  # serialized SpiffWorkflow workflow, without the spec
    serializer_version: str = Field(max_length=16)
    version: int = 1  # optimistic lock
    #: snapshot of the process data, for reads without deserializing
    variables: JsonObject = _json(nullable=False)
    team: list[TeamMember] = Field(sa_column=Column(_TeamJson(), nullable=False))  # named at team formation
    incident: JsonObject | None = _json()  # {"element_id", "message"} while a script or condition fails
    started_by: str | None = Field(default=None, max_length=64)
    started_at: datetime = _ts(index=True)
    ended_at: datetime | None = _ts(nullable=True)


class InstanceGoalRow(Row, table=True):
    """Index of the handbook's goal figures an instance's data holds (engine.goals): the goal the
    kick-off set and the effect stage 5 measured, one narrow row per optimization for the analytics."""

    __tablename__ = "instance_goal"
    __table_args__ = (
        sa.Index("ix_instance_goal_process_started", "process_key", "started_at", "instance_id"),
    )
    instance_id: str = Field(primary_key=True, max_length=36)
    process_key: str = Field(max_length=200)
    business_key: str | None = Field(default=None, max_length=200)  # the instance's (never changes)
    started_at: datetime = _ts()
    status: str = Field(max_length=16)  # the instance's, kept by Instances.save
    metric: str = _text()  # as people typed them: no length to outgrow
    unit: str | None = _text(nullable=True)
    baseline: float | None = None
    target: float | None = None
    before: float | None = None
    after: float | None = None


class InstanceMemberRow(Row, table=True):
    """Index of the team named for an instance: who fills which role (a group)."""

    __tablename__ = "instance_member"
    instance_id: str = Field(foreign_key="process_instance.id", primary_key=True)
    user_name: str = Field(primary_key=True, max_length=64, index=True)
    role: str = Field(primary_key=True, max_length=64)


class MessageSubscriptionRow(Row, table=True):
    """Index of the message events running instances wait for."""

    __tablename__ = "message_subscription"
    instance_id: str = Field(foreign_key="process_instance.id", primary_key=True)
    message_name: str = Field(primary_key=True, max_length=200, index=True)
    element_id: str = Field(max_length=200)


class OpenTaskRow(Row, table=True):
    """Index of the READY user tasks of running instances: what inboxes read."""

    __tablename__ = "open_task"
    id: str = Field(primary_key=True)  # the SpiffWorkflow task UUID, stable across serialization
    instance_id: str = Field(foreign_key="process_instance.id", index=True)
    process_key: str = Field(index=True, max_length=200)
    business_key: str | None = Field(default=None, index=True, max_length=200)
    element_id: str = Field(max_length=200)
    name: str = Field(default="", max_length=300)
    role: str | None = Field(default=None, max_length=64)  # the group it is offered to first
    # Not indexed here: the inbox filters and sorts by stage and due date on task_candidate's indexes.
    stage: str | None = Field(default=None, max_length=64)
    form_key: str | None = Field(default=None, max_length=200)
    assignee: str | None = Field(default=None, index=True, max_length=64)
    draft: JsonObject | None = _json()
    created_at: datetime = _ts(index=True)
    claimed_at: datetime | None = _ts(nullable=True)
    due_at: datetime | None = _ts(nullable=True)
    # Delegation as in Camunda: the owner hands the task to a delegate (the assignee meanwhile), who
    # resolves it back. delegation is pending while the delegate holds it, resolved once given back.
    owner: str | None = Field(default=None, max_length=64)
    delegation: str | None = Field(default=None, max_length=8)


class ExternalTaskRow(Row, table=True):
    """Index of the READY external (service) tasks, fetched and locked by workers per topic."""

    __tablename__ = "external_task"
    id: str = Field(primary_key=True)  # the SpiffWorkflow task UUID
    instance_id: str = Field(foreign_key="process_instance.id", index=True)
    process_key: str = Field(max_length=200)
    definition_id: str = Field(max_length=36)
    business_key: str | None = Field(default=None, max_length=200)
    element_id: str = Field(max_length=200)
    topic: str = Field(max_length=200, index=True)
    priority: int = 0
    worker_id: str | None = Field(default=None, max_length=200)
    lock_expires_at: datetime | None = _ts(nullable=True)
    retries: int | None = None  # None until a worker reports a failure; 0 = an incident, not fetched
    error_message: str | None = _text(nullable=True)
    error_details: str | None = _text(nullable=True)
    created_at: datetime = _ts()


class TaskCandidateRow(Row, table=True):
    """Who an open task is offered to: users by name, or whole groups. It also carries what the
    "offered to me" inbox sorts and filters by, so that query reads one index range per user or group
    instead of joining every offered task (kept in step by the task service and the indexer)."""

    __tablename__ = "task_candidate"
    __table_args__ = (
        sa.Index("ix_task_candidate_offer", "kind", "value", "open", "created_at", "task_id"),
        sa.Index(
            "ix_task_candidate_offer_process", "kind", "value", "open", "process_key", "created_at", "task_id"
        ),
        # created_at last: the overdue filter sorted by creation reads the index alone
        sa.Index("ix_task_candidate_offer_due", "kind", "value", "open", "due_at", "task_id", "created_at"),
        sa.Index("ix_task_candidate_offer_stage", "kind", "value", "open", "stage", "created_at", "task_id"),
    )
    # ON UPDATE CASCADE: the row of a task gone is given to the task that follows it (its id changes)
    task_id: str = Field(
        sa_column=Column(
            AutoString(),
            sa.ForeignKey("open_task.id", ondelete="CASCADE", onupdate="CASCADE"),
            primary_key=True,
        )
    )
    kind: str = Field(primary_key=True, max_length=8)  # user | group
    value: str = Field(primary_key=True, max_length=64, index=True)
    open: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})  # nobody has claimed it
    created_at: datetime | None = _ts(nullable=True)  # the task's
    process_key: str | None = Field(default=None, max_length=200)  # the task's
    due_at: datetime | None = _ts(nullable=True)  # the task's (set when the task opens, never changed)
    stage: str | None = Field(default=None, max_length=64)  # the task's

    @classmethod
    def of(cls, task: "OpenTaskRow", kind: str, value: str) -> "TaskCandidateRow":
        return cls(
            task_id=task.id,
            kind=kind,
            value=value,
            open=task.assignee is None,
            created_at=task.created_at,
            process_key=task.process_key,
            due_at=task.due_at,
            stage=task.stage,
        )


class AuditEventRow(Row, table=True):
    """Append-only history: who did what to which instance or task, and when."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    type: str = Field(max_length=40, index=True)
    actor: str | None = Field(default=None, max_length=64)
    instance_id: str | None = Field(default=None, index=True, max_length=36)
    task_id: str | None = Field(default=None, max_length=36)
    element_id: str | None = Field(default=None, max_length=200)
    details: JsonObject | None = _json()


class TaskHistoryRow(Row, table=True):
    """One execution of a task: a user task from its creation, a service task from its completion (its
    creation is not in the history). A projection of the task events in audit_event, written with them
    in the same transaction (engine.task_history); what the analytics and a step's details read.
    A task keeps the version and element it was created as, even if its instance moves to another."""

    __tablename__ = "task_history"
    __table_args__ = (
        sa.Index("ix_task_history_instance_element", "instance_id", "element_id", "nth"),
        sa.Index("ix_task_history_instance_completed", "instance_id", "completed_seq"),
        sa.Index("ix_task_history_definition_created", "definition_id", "created_at"),
        # The runs after the first (the rework loops' figures), a small part of the history, in the
        # order the loops are counted in, with all they need: read alone, already grouped.
        sa.Index(
            "ix_task_history_again",
            "definition_id",
            "came_from",
            "element_id",
            "instance_id",
            "created_at",
            sqlite_where=sa.text("nth > 1"),
            postgresql_where=sa.text("nth > 1"),
        ),
    )
    task_id: str = Field(primary_key=True, max_length=36)
    instance_id: str = Field(max_length=36)
    definition_id: str = Field(max_length=36)
    element_id: str = Field(max_length=200)
    nth: int  # the how-manieth run of the element in its instance (1: the first)
    came_from: str | None = Field(default=None, max_length=200)  # the element completed just before it began
    created_at: datetime | None = _ts(nullable=True)
    claimed_at: datetime | None = _ts(nullable=True)  # first taken up: claimed or given to someone
    claimed_by: str | None = Field(default=None, max_length=64)
    completed_at: datetime | None = _ts(nullable=True)
    completed_by: str | None = Field(default=None, max_length=64)
    completed_seq: int | None = None  # the how-manieth completion in its instance (what came last)
    overdue: bool = False  # reminded as overdue
    waiting_seconds: float | None = None  # created -> taken up (or completed, if nobody took it up)
    work_seconds: float | None = None  # taken up -> completed
    duration_seconds: float | None = None  # created -> completed


class StepWeekRow(Row, table=True):
    """Per step and week (the Monday of the tasks' creation, UTC): how many tasks ran and went overdue
    (measures "runs", "overdue", bucket 0), and histograms of their waiting, work and total times in
    fixed logarithmic buckets (engine.task_history.bucket) with each bucket's sum, so that a period's
    percentiles come from a few summed rows instead of sorting every task. Kept with task_history."""

    __tablename__ = "step_week"
    # The key's order is the reading order: a period's rows summed per step, measure and bucket come out
    # of the key already grouped. On SQLite the table is the key's B-tree (no rowid), so nothing else is read.
    __table_args__ = {"sqlite_with_rowid": False}
    definition_id: str = Field(primary_key=True, max_length=36)
    element_id: str = Field(primary_key=True, max_length=200)
    measure: str = Field(primary_key=True, max_length=8)
    bucket: int = Field(primary_key=True)
    week: date = Field(primary_key=True)
    count: int
    seconds: float  # the sum of the durations in the bucket (0 for the counts)


class DecisionEvaluationRow(Row, table=True):
    """Append-only history of decisions: which rules matched, for which instance and task, on which
    inputs. Written in the transaction that ran the business rule task (or the REST evaluation)."""

    __tablename__ = "decision_evaluation"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    decision_id: str = Field(foreign_key="decision_definition.id")
    decision_key: str = Field(index=True, max_length=200)
    decision_version: int
    instance_id: str | None = Field(default=None, index=True, max_length=36)
    task_id: str | None = Field(default=None, max_length=36)
    element_id: str | None = Field(default=None, max_length=200)
    actor: str | None = Field(default=None, max_length=64)
    inputs: JsonObject = _json(nullable=False)
    matched_rules: list[JsonObject] = _json(nullable=False)  # [{rule_id, index, outputs}]
    result: list[Any] = _json(nullable=False)  # the table's answer (resultList shape)


# --- background work --------------------------------------------------------------------------


class JobRow(Row, table=True):
    """Work due at a time: timers, task deadlines, webhook deliveries. Claimed by one worker at a
    time through lock_owner + lock_expires_at, so a dead worker's jobs are taken over."""

    __tablename__ = "job"
    id: str = Field(primary_key=True, max_length=200)  # deterministic per purpose, e.g. timer:<instance>
    kind: str = Field(max_length=32, index=True)
    instance_id: str | None = Field(default=None, index=True, max_length=36)
    task_id: str | None = Field(default=None, max_length=36)
    due_at: datetime = _ts(index=True)
    lock_owner: str | None = Field(default=None, max_length=100)
    lock_expires_at: datetime | None = _ts(nullable=True)
    attempts: int = 0
    payload: JsonObject | None = _json()
    last_error: str | None = _text(nullable=True)
    failed_at: datetime | None = _ts(nullable=True)  # retries exhausted: an incident, no longer picked up
    created_at: datetime = _ts()


# --- integration ------------------------------------------------------------------------------


class WebhookSubscriptionRow(Row, table=True):
    __tablename__ = "webhook_subscription"
    id: str = Field(primary_key=True)
    url: str = Field(max_length=2000)
    #: e.g. ["task.created", "instance.completed"]; ["*"] for all
    event_types: list[str] = _json(nullable=False)
    secret: str = Field(max_length=200)
    active: bool = True
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()


class WebhookDeliveryRow(Row, table=True):
    """The delivery log: one row per attempt."""

    __tablename__ = "webhook_delivery"
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(foreign_key="webhook_subscription.id", index=True)
    event_id: str = Field(max_length=64, index=True)
    event_type: str = Field(max_length=40)
    attempt: int
    status_code: int | None = None
    error: str | None = _text(nullable=True)
    delivered: bool = False
    event: JsonObject | None = _json()  # the event as sent, so that it can be sent again
    at: datetime = _ts()


class IdempotencyRow(Row, table=True):
    """The first answer to a state-changing POST with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_key"
    principal: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)  # method + path + body
    status_code: int | None = None  # None while the first request is still running
    response_body: str | None = _text(nullable=True)
    content_type: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts(index=True)


# --- notifications ----------------------------------------------------------------------------


class NotificationChannelRow(Row, table=True):
    """Where notifications go: the SMTP server for people's e-mail, or a chat group's robot."""

    __tablename__ = "notification_channel"
    id: str = Field(primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # smtp | wecom | dingtalk | feishu
    settings: JsonObject = _json(nullable=False)  # what an admin may read back (host, port, language, ...)
    #: never read back: password, robot URL (it holds the key), secret
    secrets: JsonObject = _json(nullable=False)
    event_types: list[str] = _json(nullable=False)  # e.g. ["task_offered", "task_overdue"]
    active: bool = True
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = _ts()


class NotificationPreferenceRow(Row, table=True):
    """A person's own choices: address, language, which events, quiet hours, daily digest."""

    __tablename__ = "notification_preference"
    user_name: str = Field(primary_key=True, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    language: str = Field(default="zh", max_length=8)
    event_types: list[str] = _json(nullable=False)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    quiet_start: str | None = Field(default=None, max_length=5)  # "22:00", in `timezone`
    quiet_end: str | None = Field(default=None, max_length=5)
    digest: bool = False  # one e-mail a day instead of one per event
    digest_at: str = Field(default="09:00", max_length=5)
    updated_at: datetime = _ts()


class ProcessNotificationRow(Row, table=True):
    """A designer's setting: which events of a process notify anyone at all (no row: all of them)."""

    __tablename__ = "process_notification"
    process_key: str = Field(primary_key=True, max_length=200)
    event_types: list[str] = _json(nullable=False)
    updated_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime = _ts()


class NotificationRow(Row, table=True):
    """One event for one person (or one chat group) on one channel: the outbox of notifications.
    `dedupe_key` (event, channel, recipient) is unique, so nobody is told twice about one event."""

    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_queue", "channel_id", "status", "due_at"),)
    id: str = Field(primary_key=True)
    dedupe_key: str = Field(max_length=300, unique=True)
    channel_id: str = Field(max_length=36, index=True)
    recipient: str = Field(max_length=64, index=True)  # a user name; "#group" for a chat robot
    address: str | None = Field(default=None, max_length=320)  # the e-mail address
    language: str = Field(default="zh", max_length=8)
    event_type: str = Field(max_length=40)
    instance_id: str | None = Field(default=None, max_length=36)
    task_id: str | None = Field(default=None, max_length=36)
    facts: JsonObject = _json(nullable=False)  # what the message says, in no language yet
    status: str = Field(default="queued", max_length=16)  # queued | sending | sent | failed | dropped
    batch_id: str | None = Field(default=None, max_length=36)
    claimed_until: datetime | None = _ts(nullable=True)
    attempts: int = 0
    last_error: str | None = _text(nullable=True)
    due_at: datetime = _ts()  # later than created_at during the recipient's quiet hours
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class NotificationDeliveryRow(Row, table=True):
    """The delivery log of a channel: one row per message sent (a robot's may carry several
    notifications), delivered or not. Also what a robot's rate limit counts."""

    __tablename__ = "notification_delivery"
    __table_args__ = (sa.Index("ix_notification_delivery_channel_at", "channel_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=36)
    batch_id: str = Field(max_length=36)
    notification_count: int
    recipients: list[str] = _json(nullable=False)
    status_code: int | None = None
    error: str | None = _text(nullable=True)
    delivered: bool = False
    at: datetime = _ts()


# --- operations -------------------------------------------------------------------------------


class MigrationBatchRow(Row, table=True):
    """Instances moving to another version of their process, a few per job run: what is left, what
    moved, what could not and why."""

    __tablename__ = "migration_batch"
    id: str = Field(primary_key=True, max_length=36)
    process_key: str = Field(max_length=200)
    target_definition_id: str = Field(foreign_key="process_definition.id")
    target_version: int
    mapping: dict[str, str] = _json(nullable=False)  # renamed element ids: old -> new
    reason: str = _text()
    started_by: str = Field(max_length=64)
    created_at: datetime = _ts(index=True)
    finished_at: datetime | None = _ts(nullable=True)
    total: int = 0
    pending: list[str] = _json(nullable=False)  # instance ids still to move
    migrated: list[str] = _json(nullable=False)  # instance ids moved
    skipped: dict[str, list[str]] = _json(nullable=False)  # instance id -> why it could not move
