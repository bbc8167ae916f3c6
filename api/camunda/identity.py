"""/engine-rest/user and /engine-rest/group: opsflow's users and groups (engine/services/groups.py) as
Camunda's identity service shows them: a user's profile (its display name as first name), groups with
their English (else Chinese) name and type `WORKFLOW`. Reading them needs any signed-in caller, as
Camunda's task lists do to show candidates; changing them is the native API's (/api/v1/users, /groups).
"""

from functools import partial
from typing import Annotated

from fastapi import Query

from api.camunda.dto import CountResultDto
from api.camunda.dto_history import GroupDto, UserProfileDto
from api.camunda.errors import camunda_router, invalid
from api.camunda.queries import GroupQueryDto, UserQueryDto
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.views import GroupView, UserView

user_router = camunda_router("/user", "user")
group_router = camunda_router("/group", "group")


@user_router.get("", response_model=list[UserProfileDto])
def query_users(
    q: Annotated[UserQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[UserProfileDto]:
    paging = q.paging(firstResult, maxResults)
    users = _users(engine, q)
    if any(s.descending for s in paging.sorting):
        users.reverse()
    return [_profile(u) for u in users[paging.offset : paging.offset + paging.limit]]


@user_router.get("/count", response_model=CountResultDto)
def count_users(
    q: Annotated[UserQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    q.paging(0, 0)
    return CountResultDto(count=len(_users(engine, q)))


@user_router.get("/{user_id}/profile", response_model=UserProfileDto)
def get_profile(user_id: str, engine: EngineDep, principal: PrincipalDep) -> UserProfileDto:
    found = [u for u in engine.identity.list_users() if u.name == user_id]
    if not found:
        raise invalid(f"User with id {user_id} does not exist", status=404)
    return _profile(found[0])


@group_router.get("", response_model=list[GroupDto])
def query_groups(
    q: Annotated[GroupQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[GroupDto]:
    paging = q.paging(firstResult, maxResults)
    groups = [_group(g) for g in _groups(engine, q)]
    for s in reversed(paging.sorting):
        groups.sort(key=partial(_sort_value, key=s.key), reverse=s.descending)
    return groups[paging.offset : paging.offset + paging.limit]


@group_router.get("/count", response_model=CountResultDto)
def count_groups(
    q: Annotated[GroupQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    q.paging(0, 0)
    return CountResultDto(count=len(_groups(engine, q)))


@group_router.get("/{group_id}", response_model=GroupDto)
def get_group(group_id: str, engine: EngineDep, principal: PrincipalDep) -> GroupDto:
    found = [g for g in engine.groups.list_groups() if g.id == group_id]
    if not found:
        raise invalid(f"Group with id {group_id} does not exist", status=404)
    return _group(found[0])


def _users(engine: ProcessEngine, q: UserQueryDto) -> list[UserView]:
    users = [u for u in engine.identity.list_users() if not u.disabled]
    if q.id is not None:
        users = [u for u in users if u.name == q.id]
    if q.idIn is not None:
        users = [u for u in users if u.name in q.idIn]
    if q.memberOfGroup is not None:
        users = [u for u in users if q.memberOfGroup in u.groups]
    return users


def _groups(engine: ProcessEngine, q: GroupQueryDto) -> list[GroupView]:
    groups = engine.groups.list_groups()
    if q.id is not None:
        groups = [g for g in groups if g.id == q.id]
    if q.idIn is not None:
        groups = [g for g in groups if g.id in q.idIn]
    if q.name is not None:
        groups = [g for g in groups if q.name in (g.name_en, g.name_zh)]
    if q.member is not None:
        groups = [g for g in groups if q.member in g.members]
    return groups


def _profile(user: UserView) -> UserProfileDto:
    return UserProfileDto(id=user.name, firstName=user.display_name or user.name, lastName="", email=None)


def _sort_value(group: GroupDto, key: str) -> str:
    return str(getattr(group, key) or "")


def _group(group: GroupView) -> GroupDto:
    return GroupDto(id=group.id, name=group.name_en or group.name_zh or group.id, type="WORKFLOW")
