"""Request bodies of the native API (responses are the engine's own read models)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from engine.views import InstanceSummaryView, TaskView

#: Integers the databases can hold (PostgreSQL INTEGER): anything bigger is a client's mistake.
DB_INT_MAX = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=DB_INT_MAX, description="how many items to skip")]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Version = Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description="a version; the latest when absent")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartInstance(Strict):
    process_key: str = Field(min_length=1, max_length=200)
    business_key: str | None = Field(default=None, min_length=1, max_length=200)
    variables: dict[str, Any] = Field(default_factory=dict, description="the start form's data")


class CompleteTask(Strict):
    data: dict[str, Any] = Field(default_factory=dict, description="the task form's data")


class SaveDraft(Strict):
    data: dict[str, Any]


class AssignTask(Strict):
    user: str = Field(min_length=1, max_length=64)


class CancelInstance(Strict):
    reason: str = Field(default="", max_length=2000)


class RetryInstance(Strict):
    variables: dict[str, Any] = Field(default_factory=dict, description="corrected process data")


class SuspendInstance(Strict):
    reason: str = Field(default="", max_length=1000)


class AnswerMessage(Strict):
    message: str = Field(min_length=1, max_length=200, description="the message the instance waits for")
    payload: dict[str, Any] = Field(default_factory=dict, description="what the answer would have carried")
    reason: str = Field(min_length=1, max_length=1000, description="why it is answered by hand")


class ChangeVariables(Strict):
    variables: dict[str, Any] = Field(
        min_length=1, description="the variables to change, with their new values"
    )
    reason: str = Field(min_length=1, max_length=1000)


class MoveToken(Strict):
    skip: str | None = Field(default=None, max_length=200, description="an open step to count as done")
    back_to: str | None = Field(default=None, max_length=200, description="an earlier step to open again")
    reason: str = Field(min_length=1, max_length=1000)


class InstanceCriteria(Strict):
    """Which instances (every criterion given must hold), as the instance list filters them."""

    version: int | None = Field(default=None, ge=1, le=DB_INT_MAX, description="the version they are on")
    business_key: str | None = Field(default=None, max_length=200)
    status: Literal["running", "suspended"] | None = None
    stage: str | None = Field(default=None, max_length=64)
    holder: str | None = Field(default=None, max_length=64)
    overdue: bool | None = None
    started_after: datetime | None = None
    started_before: datetime | None = None


class MigrateInstance(Strict):
    target_version: int = Field(ge=1, le=DB_INT_MAX)
    mapping: dict[str, str] = Field(default_factory=dict, description="renamed element ids: old -> new")
    reason: str = Field(default="", max_length=1000)


class MigrationRequest(Strict):
    process_key: str = Field(min_length=1, max_length=200)
    target_version: int = Field(ge=1, le=DB_INT_MAX)
    mapping: dict[str, str] = Field(default_factory=dict, description="renamed element ids: old -> new")
    where: InstanceCriteria = Field(default_factory=InstanceCriteria)
    reason: str = Field(default="", max_length=1000)


class SignIn(Strict):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class CreateUser(Strict):
    name: str = Field(min_length=1, max_length=64)
    groups: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("groups", "roles"),  # `roles`: the name before groups were data
        description="ids of existing groups",
    )
    display_name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=200)


class UpdateUser(Strict):
    """What to change; what is left out stays as it is."""

    display_name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=200, description="a new password")
    groups: list[str] | None = Field(default=None, description="every group the user is in from now on")
    disabled: bool | None = Field(default=None, description="a disabled user cannot sign in")


class CreateGroup(Strict):
    id: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(default="", max_length=200)
    name_en: str = Field(default="", max_length=200)


class UpdateGroup(Strict):
    name_zh: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"


class Page(BaseModel):
    total: int
    offset: int
    limit: int


class TaskPage(Page):
    items: list[TaskView]


class InstancePage(Page):
    items: list[InstanceSummaryView]
