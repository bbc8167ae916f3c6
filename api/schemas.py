"""Request bodies of the native API (responses are the engine's own read models)."""

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from engine.views import InstanceView, TaskView

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


class SignIn(Strict):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class CreateUser(Strict):
    name: str = Field(min_length=1, max_length=64)
    roles: list[str] = Field(min_length=1)
    display_name: str = Field(default="", max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=200)


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
    items: list[InstanceView]
