"""Users, their groups and bearer tokens (stored as SHA-256 hashes: tokens are random, so a fast
hash suffices).

Every authenticated request needs its token's principal, so each process keeps the principals of the
tokens it has just seen for `principal_cache_seconds` (OPSFLOW_AUTH_CACHE_SECONDS, default 1 s; 0 turns the
cache off). A token revoked through this process (sign-out, API key revocation) is refused at once; one
revoked through another server process is refused there within that time. Expiry is checked on every
request. Anything that changes which tokens are valid, which groups a user is in, or whether a user
is disabled must call `forget_principals()` after it commits (GroupService does, for memberships).
"""

import hashlib
import secrets
import threading
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlmodel import Session, col, select

from engine import events, signin_throttle
from engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from engine.storage.tables import (
    GroupRow,
    MembershipRow,
    OpenTaskRow,
    TaskCandidateRow,
    TokenRow,
    UserRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.types import JsonObject
from engine.views import Principal, UserView

_hasher = PasswordHasher()

_TOKEN, _USER, _MEMBER = TokenRow.__table__, UserRow.__table__, MembershipRow.__table__
# Every authenticated request runs this: one Core statement (built once, its compiled form cached) on a
# bare connection, no ORM session. One row per group of the token's user (one row with group NULL if none).
_AUTHENTICATE = (
    sa.select(
        _TOKEN.c.user_id,
        _TOKEN.c.kind,
        _TOKEN.c.scopes,
        _TOKEN.c.expires_at,
        _TOKEN.c.revoked_at,
        _USER.c.name,
        _USER.c.disabled_at,
        _MEMBER.c.group_id,
        _TOKEN.c.id,
        _TOKEN.c.last_used_at,
    )
    .select_from(
        _TOKEN.join(_USER, _USER.c.id == _TOKEN.c.user_id).outerjoin(_MEMBER, _MEMBER.c.user_id == _USER.c.id)
    )
    .where(_TOKEN.c.token_hash == sa.bindparam("token_hash"))
)
# A user and their groups in one statement (GET /api/v1/me).
_USER_WITH_GROUPS = (
    sa.select(_USER.c.name, _USER.c.display_name, _USER.c.disabled_at, _MEMBER.c.group_id)
    .select_from(_USER.outerjoin(_MEMBER, _MEMBER.c.user_id == _USER.c.id))
    .where(_USER.c.name == sa.bindparam("name"))
    .order_by(_MEMBER.c.group_id)
)
USER_NAME_RULE = "a user name is 1-64 letters, digits, '.', '_' or '-'"


#: An API key's last use is recorded at most this often (a write per request would cost too much).
LAST_USED_PRECISION = timedelta(minutes=1)

#: Cached principals per process at most (valid tokens only; past this the cache starts afresh).
MAX_CACHED_PRINCIPALS = 10_000


def _password_key(name: str, password: str) -> str:
    """The cache key of a name and password (a digest: the cache never holds a password)."""
    return "basic:" + hashlib.sha256(f"{name}\0{password}".encode()).hexdigest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class IdentityService:
    def __init__(
        self, tx: Transactions, token_ttl_days: int, *, principal_cache_seconds: float = 1.0
    ) -> None:
        self._tx = tx
        self._ttl = timedelta(days=token_ttl_days)
        self._cache_seconds = principal_cache_seconds
        # token hash -> (principal, token expiry, monotonic time until which the entry is trusted)
        self._principals: dict[str, tuple[Principal, datetime | None, float]] = {}
        self._forgotten = 0  # counts forget_principals(): a lookup that overlapped one is not cached
        self._lock = threading.Lock()

    def create_user(
        self,
        name: str,
        groups: list[str],
        *,
        display_name: str = "",
        password: str | None = None,
        actor: str | None = None,
        exist_ok: bool = False,
    ) -> UserView:
        """A user in the given groups (which must exist)."""
        if not is_valid_name(name):
            raise InvalidInput(USER_NAME_RULE)

        def create(uow: UnitOfWork) -> UserView:
            session = uow.session
            existing = _user_by_name(session, name)
            if existing is not None:
                if not exist_ok:
                    raise Conflict(f"user {name} already exists")
                return _view(session, existing)
            require_groups(session, groups)
            password_hash = _hasher.hash(password) if password else None
            user = add_user(
                session, name, groups, display_name=display_name, password_hash=password_hash, actor=actor
            )
            return _view(session, user)

        return self._tx.write(create)

    def update_user(
        self,
        name: str,
        *,
        actor: str,
        display_name: str | None = None,
        password: str | None = None,
        groups: list[str] | None = None,
        disabled: bool | None = None,
    ) -> UserView:
        """Change what is given (None: leave it). A disabled user cannot sign in: their tokens are
        revoked and the tasks they had claimed are offered again. A new password revokes their
        sessions too."""

        def update(uow: UnitOfWork) -> UserView:
            session = uow.session
            user = _user_by_name(session, name)
            if user is None:
                raise NotFound(f"user {name} not found")
            changed: JsonObject = {}
            if display_name is not None:
                user.display_name = changed["display_name"] = display_name
            if password is not None:
                user.password_hash = _hasher.hash(password)
                changed["password"] = "reset"
                _revoke_tokens(session, user.id, kind="session")
            if groups is not None:
                require_groups(session, groups)
                session.exec(sa.delete(MembershipRow).where(col(MembershipRow.user_id) == user.id))
                session.add_all(MembershipRow(user_id=user.id, group_id=g) for g in sorted(set(groups)))
                changed["groups"] = sorted(set(groups))
            if disabled is not None and disabled != (user.disabled_at is not None):
                user.disabled_at = utcnow() if disabled else None
                changed["disabled"] = disabled
                if disabled:
                    _revoke_tokens(session, user.id)
                    changed["unclaimed_tasks"] = _give_up_claims(session, name)
            session.add(user)
            session.flush()
            events.record(session, events.USER_UPDATED, actor=actor, details={"user": name, **changed})
            return _view(session, user)

        try:
            return self._tx.write(update)
        finally:
            self.forget_principals()

    def issue_token(self, name: str, *, label: str = "") -> str:
        def issue(uow: UnitOfWork) -> str:
            user = _user_by_name(uow.session, name)
            if user is None:
                raise NotFound(f"user {name} not found")
            if user.disabled_at is not None:
                raise Conflict(f"user {name} is disabled")
            return self.add_token(uow.session, user.id, label=label)

        return self._tx.write(issue)

    def add_token(self, session: Session, user_id: str, *, label: str) -> str:
        """A new session token of the user, added to the caller's transaction."""
        token = "opf_" + secrets.token_urlsafe(32)
        now = utcnow()
        session.add(
            TokenRow(
                id=str(uuid.uuid4()),
                user_id=user_id,
                token_hash=hash_token(token),
                label=label,
                created_at=now,
                expires_at=now + self._ttl,
            )
        )
        return token

    def sign_in(self, name: str, password: str, *, client: str | None = None) -> str:
        """A token for the right password. Wrong ones are throttled per name and client address
        (engine/signin_throttle.py), so that nobody can lock the owner of a name out."""

        def check(uow: UnitOfWork) -> bool:
            session = uow.session
            signin_throttle.refuse_if_throttled(session, name, client)
            user = _user_by_name(session, name)
            try:
                ok = bool(user and user.password_hash and _hasher.verify(user.password_hash, password))
            except VerifyMismatchError:
                ok = False
            ok = ok and user is not None and user.disabled_at is None  # refused like a wrong password
            if not ok:
                signin_throttle.record_failure(session, name, client)
            return ok

        if not self._tx.write(check):  # the failure is committed before the answer
            raise Unauthenticated("wrong user name or password")
        return self.issue_token(name, label="sign-in")

    def authenticate(self, token: str) -> Principal:
        token_hash = hash_token(token)
        cached = self._cached(token_hash)
        if cached is not None:
            return cached
        forgotten = self._forgotten
        with self._tx.engine.connect() as conn:
            rows = conn.execute(_AUTHENTICATE, {"token_hash": token_hash}).all()
        if not rows:
            raise Unauthenticated("invalid or expired token")
        user_id, kind, scopes, expires_at, revoked_at, name, disabled_at, _, token_id, last_used_at = rows[0]
        now = utcnow()
        if revoked_at is not None or (expires_at is not None and expires_at < now):
            raise Unauthenticated("invalid or expired token")
        if disabled_at is not None:
            raise Unauthenticated(f"user {name} is disabled")
        if kind == "api_key" and (last_used_at is None or last_used_at < now - LAST_USED_PRECISION):
            self._tx.write(lambda uow: _mark_used(uow.session, token_id, now))
        principal = Principal(
            user_id,
            name,
            frozenset(row.group_id for row in rows if row.group_id),
            frozenset(scopes) if kind == "api_key" and scopes is not None else None,
        )
        if self._cache_seconds > 0:
            with self._lock:
                if forgotten == self._forgotten:  # else a revocation may have committed after our read
                    if len(self._principals) >= MAX_CACHED_PRINCIPALS:
                        self._principals.clear()
                    fresh_until = time.monotonic() + self._cache_seconds
                    self._principals[token_hash] = (principal, expires_at, fresh_until)
        return principal

    def authenticate_password(self, name: str, password: str, *, client: str | None = None) -> Principal:
        """The principal of a user name and password sent with each request (HTTP Basic, as Camunda's
        clients do), throttled like sign_in and kept as briefly as a token's principal, so that the
        password hash is not checked on every request."""
        key = _password_key(name, password)
        cached = self._cached(key)
        if cached is not None:
            return cached
        forgotten = self._forgotten

        def check(uow: UnitOfWork) -> str | None:
            session = uow.session
            signin_throttle.refuse_if_throttled(session, name, client)
            user = _user_by_name(session, name)
            try:
                ok = bool(user and user.password_hash and _hasher.verify(user.password_hash, password))
            except VerifyMismatchError:
                ok = False
            if not ok or user is None or user.disabled_at is not None:
                signin_throttle.record_failure(session, name, client)
                return None
            return user.id

        user_id = self._tx.write(check)  # a failure is committed before the answer
        if user_id is None:
            raise Unauthenticated("wrong user name or password")
        groups = self._tx.read(lambda uow: _groups(uow.session, user_id))
        principal = Principal(user_id, name, frozenset(groups), None)
        if self._cache_seconds > 0:
            with self._lock:
                if forgotten == self._forgotten and len(self._principals) < MAX_CACHED_PRINCIPALS:
                    self._principals[key] = (principal, None, time.monotonic() + self._cache_seconds)
        return principal

    def cached_password_principal(self, name: str, password: str) -> Principal | None:
        """`authenticate_password` from the cache only, without I/O (None: call it)."""
        return self._cached(_password_key(name, password))

    def cached_principal(self, token: str) -> Principal | None:
        """The principal of a token authenticated moments ago, without touching the database (None: call
        `authenticate`). Lets the HTTP layer skip a thread hand-off for most requests."""
        return self._cached(hash_token(token))

    def _cached(self, token_hash: str) -> Principal | None:
        entry = self._principals.get(token_hash)
        if entry is None:
            return None
        principal, expires_at, fresh_until = entry
        if time.monotonic() >= fresh_until or (expires_at is not None and expires_at < utcnow()):
            return None
        return principal

    def forget_principals(self) -> None:
        """Drop every cached principal: call it after committing a change to tokens, users or groups.
        (Revocations are rare, so forgetting all of them keeps this simple.)"""
        with self._lock:
            self._forgotten += 1
            self._principals.clear()

    def revoke_token(self, token: str) -> None:
        def revoke(uow: UnitOfWork) -> None:
            row = uow.session.exec(select(TokenRow).where(TokenRow.token_hash == hash_token(token))).first()
            if row is not None and row.revoked_at is None:
                row.revoked_at = utcnow()
                uow.session.add(row)

        try:
            self._tx.write(revoke)
        finally:
            self.forget_principals()  # refused at once by this process (forgetting too much is harmless)

    def get_user(self, name: str) -> UserView:
        with self._tx.engine.connect() as conn:
            rows = conn.execute(_USER_WITH_GROUPS, {"name": name}).all()
        if not rows:
            raise NotFound(f"user {name} not found")
        first = rows[0]
        groups = [row.group_id for row in rows if row.group_id]
        return UserView(first.name, first.display_name, groups, first.disabled_at is not None)

    def list_users(self) -> list[UserView]:
        def list_all(uow: UnitOfWork) -> list[UserView]:
            users = uow.session.exec(select(UserRow).order_by(UserRow.name)).all()
            return [_view(uow.session, u) for u in users]

        return self._tx.read(list_all)


def users_with_groups(session: Session, names: set[str]) -> dict[str, set[str]]:
    """name -> groups, for the given names of users that exist and are not disabled."""
    rows = session.exec(
        select(UserRow.name, MembershipRow.group_id)
        .join(MembershipRow, col(MembershipRow.user_id) == UserRow.id, isouter=True)
        .where(col(UserRow.name).in_(names), col(UserRow.disabled_at).is_(None))
    ).all()
    found: dict[str, set[str]] = {}
    for name, group in rows:
        found.setdefault(name, set()).update({group} if group else set())
    return found


def is_valid_name(name: str) -> bool:
    """User and group names: 1-64 letters, digits, '.', '_' or '-'."""
    return 0 < len(name) <= 64 and name.replace("_", "").replace("-", "").replace(".", "").isalnum()


def add_user(
    session: Session,
    name: str,
    groups: list[str],
    *,
    display_name: str = "",
    password_hash: str | None = None,
    external_id: str | None = None,
    actor: str | None = None,
) -> UserRow:
    """A new user in existing groups, in the caller's transaction (the name is checked and free)."""
    user = UserRow(
        id=str(uuid.uuid4()),
        name=name,
        display_name=display_name or name,
        created_at=utcnow(),
        password_hash=password_hash,
        external_id=external_id,
    )
    session.add(user)
    session.flush()
    session.add_all(MembershipRow(user_id=user.id, group_id=g) for g in sorted(set(groups)))
    events.record(
        session, events.USER_CREATED, actor=actor, details={"user": name, "groups": sorted(set(groups))}
    )
    session.flush()
    return user


def require_groups(session: Session, groups: list[str]) -> None:
    known = set(session.exec(select(GroupRow.id).where(col(GroupRow.id).in_(set(groups)))).all())
    unknown = sorted(set(groups) - known)
    if unknown:
        raise InvalidInput(
            f"there is no group {', '.join(unknown)}; an admin creates groups first (opsflow group add)"
        )


def _revoke_tokens(session: Session, user_id: str, *, kind: str | None = None) -> None:
    query = sa.update(TokenRow).where(col(TokenRow.user_id) == user_id, col(TokenRow.revoked_at).is_(None))
    if kind is not None:
        query = query.where(col(TokenRow.kind) == kind)
    session.execute(query.values(revoked_at=utcnow()))


def _give_up_claims(session: Session, name: str) -> int:
    """A disabled user's claimed tasks are offered again: delegated ones go back to their owner,
    the others are unclaimed (index rows only: a claim is not workflow state)."""
    session.execute(
        sa.update(OpenTaskRow)
        .where(
            col(OpenTaskRow.assignee) == name,
            col(OpenTaskRow.owner).is_not(None),
            col(OpenTaskRow.owner) != name,
        )
        .values(assignee=OpenTaskRow.owner, delegation="resolved")
    )
    claimed = session.exec(select(OpenTaskRow.id).where(OpenTaskRow.assignee == name)).all()
    if claimed:
        session.execute(
            sa.update(OpenTaskRow)
            .where(col(OpenTaskRow.id).in_(claimed))
            .values(assignee=None, claimed_at=None, owner=None, delegation=None)
        )
        session.execute(
            sa.update(TaskCandidateRow).where(col(TaskCandidateRow.task_id).in_(claimed)).values(open=True)
        )
    return len(claimed)


def _user_by_name(session: Session, name: str) -> UserRow | None:
    return session.exec(select(UserRow).where(UserRow.name == name)).first()


def _groups(session: Session, user_id: str) -> list[str]:
    return sorted(session.exec(select(MembershipRow.group_id).where(MembershipRow.user_id == user_id)).all())


def _view(session: Session, user: UserRow) -> UserView:
    return UserView(user.name, user.display_name, _groups(session, user.id), user.disabled_at is not None)


def _mark_used(session: Session, token_id: str, now: datetime) -> None:
    session.execute(sa.update(TokenRow).where(col(TokenRow.id) == token_id).values(last_used_at=now))
