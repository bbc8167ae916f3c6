"""Inbox and task actions."""

from typing import Literal

from fastapi import APIRouter

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import AssignTask, CompleteTask, Limit, Offset, SaveDraft, TaskPage
from engine.views import InstanceDetailView, TaskDetailView, TaskView

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"], route_class=Route)


@router.get("", response_model=TaskPage, summary="My inbox")
def inbox(
    engine: EngineDep,
    principal: PrincipalDep,
    scope: Literal["mine", "offered", "all"] = "all",
    process: str | None = None,
    stage: str | None = None,
    instance: str | None = None,
    business_key: str | None = None,
    overdue: bool | None = None,
    sort: Literal["created", "-created", "due", "-due"] = "created",
    offset: Offset = 0,
    limit: Limit = 50,
) -> TaskPage:
    """`mine`: claimed by me; `offered`: unclaimed tasks offered to me by my roles and teams; `all`: both."""
    page = engine.tasks.inbox(
        principal=principal,
        scope=scope,
        process_key=process,
        stage=stage,
        instance_id=instance,
        business_key=business_key,
        overdue=overdue,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    return TaskPage(items=page.items, total=page.total, offset=page.offset, limit=page.limit)


@router.get("/{task_id}", response_model=TaskDetailView)
def get_task(task_id: str, engine: EngineDep, principal: PrincipalDep) -> TaskDetailView:
    """The task, its form, its data so far and its instance's context."""
    return engine.tasks.get_task(task_id, principal=principal)


@router.post("/{task_id}/claim", response_model=TaskView)
def claim(task_id: str, engine: EngineDep, principal: PrincipalDep) -> TaskView:
    return engine.tasks.claim(task_id, principal=principal)


@router.post("/{task_id}/unclaim", response_model=TaskView)
def unclaim(task_id: str, engine: EngineDep, principal: PrincipalDep) -> TaskView:
    return engine.tasks.unclaim(task_id, principal=principal)


@router.post("/{task_id}/assign", response_model=TaskView)
def assign(task_id: str, body: AssignTask, engine: EngineDep, principal: PrincipalDep) -> TaskView:
    return engine.tasks.assign(task_id, body.user, principal=principal)


@router.post("/{task_id}/delegate", response_model=TaskView)
def delegate(task_id: str, body: AssignTask, engine: EngineDep, principal: PrincipalDep) -> TaskView:
    """Hand the task to `user` for now (Camunda's delegation): its holder becomes its owner and gets it
    back when the delegate resolves it."""
    return engine.tasks.delegate(task_id, body.user, principal=principal)


@router.post("/{task_id}/resolve", response_model=TaskView)
def resolve(task_id: str, body: SaveDraft, engine: EngineDep, principal: PrincipalDep) -> TaskView:
    """The delegate gives the task back to its owner, with `data` as its draft."""
    return engine.tasks.resolve(task_id, body.data, principal=principal)


@router.put("/{task_id}/draft", response_model=TaskView)
def save_draft(task_id: str, body: SaveDraft, engine: EngineDep, principal: PrincipalDep) -> TaskView:
    return engine.tasks.save_draft(task_id, body.data, principal=principal)


@router.post("/{task_id}/complete", response_model=InstanceDetailView)
def complete(
    task_id: str, body: CompleteTask, engine: EngineDep, principal: PrincipalDep
) -> InstanceDetailView:
    """Validates the data against the task's form (422 lists every offending field), then completes."""
    return engine.tasks.complete(task_id, body.data, principal=principal)
