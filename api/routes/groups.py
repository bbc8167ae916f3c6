"""Groups and their members (admins change them; everyone signed in may read them)."""

from fastapi import APIRouter, Response, status

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import CreateGroup, UpdateGroup
from engine.views import GroupView

router = APIRouter(prefix="/api/v1/groups", tags=["groups"], route_class=Route)


@router.get("", response_model=list[GroupView])
def list_groups(engine: EngineDep, _: PrincipalDep) -> list[GroupView]:
    """Every group and its members."""
    return engine.groups.list_groups()


@router.post("", response_model=GroupView, status_code=status.HTTP_201_CREATED)
def create_group(body: CreateGroup, engine: EngineDep, principal: PrincipalDep) -> GroupView:
    return engine.groups.create_group(
        body.id, name_zh=body.name_zh, name_en=body.name_en, principal=principal
    )


@router.get("/{group_id}", response_model=GroupView)
def get_group(group_id: str, engine: EngineDep, _: PrincipalDep) -> GroupView:
    return engine.groups.get_group(group_id)


@router.patch("/{group_id}", response_model=GroupView)
def update_group(group_id: str, body: UpdateGroup, engine: EngineDep, principal: PrincipalDep) -> GroupView:
    return engine.groups.update_group(group_id, principal=principal, **body.model_dump(exclude_unset=True))


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_group(group_id: str, engine: EngineDep, principal: PrincipalDep) -> None:
    """Delete a group and its memberships (the groups that exist from the start cannot be deleted)."""
    engine.groups.delete_group(group_id, principal=principal)


@router.put("/{group_id}/members/{user}", response_model=GroupView)
def add_member(group_id: str, user: str, engine: EngineDep, principal: PrincipalDep) -> GroupView:
    return engine.groups.add_member(group_id, user, principal=principal)


@router.delete("/{group_id}/members/{user}", response_model=GroupView)
def remove_member(group_id: str, user: str, engine: EngineDep, principal: PrincipalDep) -> GroupView:
    return engine.groups.remove_member(group_id, user, principal=principal)
