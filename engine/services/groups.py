"""Groups of people and their members: data that admins manage (Camunda's identity groups). Tasks are
offered to groups, and permissions are given by membership (engine.permissions). The platform's groups
and the policy's lanes exist from the start (`ensure`) and cannot be deleted."""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from engine import events
from engine.bpmn.assignment import offer_warnings
from engine.bpmn.parser import ParsedProcess
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.permissions import can_manage_users
from engine.policy import GroupSpec
from engine.services.identity import is_valid_name
from engine.storage.tables import GroupRow, MembershipRow, UserRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import GroupView, Principal

T = TypeVar("T")
GROUP_ID_RULE = "a group id is 1-64 letters, digits, '.', '_' or '-'"


class GroupService:
    def __init__(
        self, tx: Transactions, builtin: Iterable[GroupSpec], forget_principals: Callable[[], None]
    ) -> None:
        self._tx = tx
        self._builtin = {g.id: g for g in builtin}
        self._forget_principals = forget_principals  # memberships are part of every cached principal

    @property
    def builtin(self) -> list[str]:
        return list(self._builtin)

    def ensure_builtin(self) -> None:
        """Create the groups that exist from the start, where missing (names of existing ones are kept)."""

        def ensure(uow: UnitOfWork) -> None:
            present = set(
                uow.session.exec(select(GroupRow.id).where(col(GroupRow.id).in_(self._builtin))).all()
            )
            uow.session.add_all(
                GroupRow(id=g.id, name_zh=g.name_zh, name_en=g.name_en, created_at=utcnow())
                for g in self._builtin.values()
                if g.id not in present
            )

        try:
            self._tx.write(ensure)
        except IntegrityError:  # another server process starting at the same moment created them
            self._tx.write(ensure)

    # --- reading --------------------------------------------------------------------------------

    def list_groups(self) -> list[GroupView]:
        return self._tx.read(lambda uow: _views(uow.session, None))

    def get_group(self, group_id: str) -> GroupView:
        def get(uow: UnitOfWork) -> GroupView:
            found = _views(uow.session, [group_id])
            if not found:
                raise NotFound(f"group {group_id} not found")
            return found[0]

        return self._tx.read(get)

    # --- changing ---------------------------------------------------------------------------------

    def create_group(
        self, group_id: str, *, name_zh: str = "", name_en: str = "", principal: Principal
    ) -> GroupView:
        _require_admin(principal)
        if not is_valid_name(group_id):
            raise InvalidInput(GROUP_ID_RULE)

        def create(uow: UnitOfWork) -> GroupView:
            session = uow.session
            if session.get(GroupRow, group_id) is not None:
                raise Conflict(f"group {group_id} already exists")
            session.add(
                GroupRow(
                    id=group_id, name_zh=name_zh or group_id, name_en=name_en or group_id, created_at=utcnow()
                )
            )
            session.flush()
            events.record(session, events.GROUP_CREATED, actor=principal.name, details={"group": group_id})
            return _views(session, [group_id])[0]

        return self._tx.write(create)

    def update_group(
        self, group_id: str, *, name_zh: str | None = None, name_en: str | None = None, principal: Principal
    ) -> GroupView:
        _require_admin(principal)

        def update(uow: UnitOfWork) -> GroupView:
            session = uow.session
            group = _group(session, group_id)
            if name_zh is not None:
                group.name_zh = name_zh
            if name_en is not None:
                group.name_en = name_en
            session.add(group)
            session.flush()
            events.record(
                session,
                events.GROUP_UPDATED,
                actor=principal.name,
                details={"group": group_id, "name_zh": group.name_zh, "name_en": group.name_en},
            )
            return _views(session, [group_id])[0]

        return self._tx.write(update)

    def delete_group(self, group_id: str, *, principal: Principal) -> None:
        _require_admin(principal)
        if group_id in self._builtin:
            raise Conflict(f"group {group_id} exists from the start and cannot be deleted")

        def delete(uow: UnitOfWork) -> None:
            session = uow.session
            _group(session, group_id)
            session.execute(sa.delete(MembershipRow).where(col(MembershipRow.group_id) == group_id))
            session.execute(sa.delete(GroupRow).where(col(GroupRow.id) == group_id))
            events.record(session, events.GROUP_DELETED, actor=principal.name, details={"group": group_id})

        self._changing_members(delete)

    def add_member(self, group_id: str, user: str, *, principal: Principal) -> GroupView:
        _require_admin(principal)

        def add(uow: UnitOfWork) -> GroupView:
            session = uow.session
            _group(session, group_id)
            user_id = _user_id(session, user)
            if session.get(MembershipRow, (user_id, group_id)) is None:
                session.add(MembershipRow(user_id=user_id, group_id=group_id))
                session.flush()
                events.record(
                    session,
                    events.MEMBER_ADDED,
                    actor=principal.name,
                    details={"group": group_id, "user": user},
                )
            return _views(session, [group_id])[0]

        return self._changing_members(add)

    def remove_member(self, group_id: str, user: str, *, principal: Principal) -> GroupView:
        _require_admin(principal)

        def remove(uow: UnitOfWork) -> GroupView:
            session = uow.session
            _group(session, group_id)
            user_id = _user_id(session, user)
            result = session.execute(
                sa.delete(MembershipRow).where(
                    col(MembershipRow.user_id) == user_id, col(MembershipRow.group_id) == group_id
                )
            )
            removed = cast("sa.CursorResult[Any]", result).rowcount  # a DML statement's result
            if removed:
                events.record(
                    session,
                    events.MEMBER_REMOVED,
                    actor=principal.name,
                    details={"group": group_id, "user": user},
                )
            return _views(session, [group_id])[0]

        return self._changing_members(remove)

    def _changing_members(self, work: Callable[[UnitOfWork], T]) -> T:
        try:
            return self._tx.write(work)
        finally:
            self._forget_principals()  # a removed member loses the group's rights at once


def member_counts(session: Session, group_ids: Iterable[str]) -> dict[str, int]:
    """group id -> how many enabled users it has, for the given ids that exist."""
    ids = set(group_ids)
    if not ids:
        return {}
    rows = session.execute(
        sa.select(col(GroupRow.id), sa.func.count(col(UserRow.id)))
        .select_from(GroupRow)
        .outerjoin(MembershipRow, col(MembershipRow.group_id) == GroupRow.id)
        .outerjoin(UserRow, (col(UserRow.id) == MembershipRow.user_id) & col(UserRow.disabled_at).is_(None))
        .where(col(GroupRow.id).in_(ids))
        .group_by(GroupRow.id)
    ).all()
    return {group_id: count for group_id, count in rows}


def unoffered_tasks(session: Session, processes: list[ParsedProcess]) -> list[Problem]:
    """Deploy warnings: user tasks the groups and users of today could not be offered (once each)."""
    tasks = {
        (process.resource_name, element_id): entry
        for process in processes
        for element_id, entry in process.catalog.items()
        if entry.type == "userTask"
    }
    written = [e.assignment for e in tasks.values()]
    groups = {g for w in written for g in (w.candidate_groups or [w.lane_group]) if g}
    named = {u for w in written for u in [*w.candidate_users, w.assignee] if u}
    users = (
        set(session.exec(select(UserRow.name).where(col(UserRow.name).in_(named))).all()) if named else set()
    )
    members = member_counts(session, groups)
    return [
        warning
        for (filename, element_id), entry in sorted(tasks.items(), key=lambda t: (t[0][0], t[1].line or 0))
        for warning in offer_warnings(
            entry.assignment, {"file": filename, "line": entry.line, "element_id": element_id}, members, users
        )
    ]


def _require_admin(principal: Principal) -> None:
    if not can_manage_users(principal):
        raise Forbidden("only admins manage groups")


def _group(session: Session, group_id: str) -> GroupRow:
    group = session.get(GroupRow, group_id)
    if group is None:
        raise NotFound(f"group {group_id} not found")
    return group


def _user_id(session: Session, name: str) -> str:
    user_id = session.exec(select(UserRow.id).where(UserRow.name == name)).first()
    if user_id is None:
        raise NotFound(f"user {name} not found")
    return user_id


def _views(session: Session, group_ids: list[str] | None) -> list[GroupView]:
    query = (
        sa.select(col(GroupRow.id), col(GroupRow.name_zh), col(GroupRow.name_en), col(UserRow.name))
        .select_from(GroupRow)
        .outerjoin(MembershipRow, col(MembershipRow.group_id) == GroupRow.id)
        .outerjoin(UserRow, col(UserRow.id) == MembershipRow.user_id)
        .order_by(GroupRow.id, UserRow.name)
    )
    if group_ids is not None:
        query = query.where(col(GroupRow.id).in_(group_ids))
    views: dict[str, GroupView] = {}
    for group_id, name_zh, name_en, member in session.execute(query).all():
        view = views.setdefault(group_id, GroupView(group_id, name_zh, name_en, []))
        if member is not None:
            view.members.append(member)
    return list(views.values())
